"""`helmholtz plan`: the adaptive planner for training loops that run elsewhere (ask and tell).

The user trains in their own loop (a cluster, another framework), writes the results so far in the table format of
`helmholtz analyze`, and asks what to train next. The answer is the next step of the same decision procedure as
`helmholtz sweep --until-decided` (`plan.decide`, not a copy): the runs (model, level, seed) and why each is
needed, or that the answer is decided, or what is still open and what closing it would cost under the run budget.

The table's levels are read as levels of ``codec`` (JPEG quality, MP3 bitrate, …): the planner bisects in that
codec's level space. With no table yet, the step is the starting grid: the question grid of the adaptive sweep
(the first architecture at every level, the others only at the pre-set comparison level).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from helmholtz.adaptive.loop import coarse_levels, question_grid, starting_grid
from helmholtz.adaptive.plan import Budget, Run, decide
from helmholtz.analysis.observations import REFERENCE, Observations, sort_levels
from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP
from helmholtz.errors import ConfigError, DataError


@dataclass(frozen=True)
class Step:
    """What to train next, for an external loop."""

    runs: tuple[Run, ...]
    reasons: tuple[str, ...]           # one per run: the open part of the answer it serves
    decided: bool
    state: str
    open: tuple[str, ...]
    runs_so_far: int
    max_runs: int | None
    codec: str

    def to_json(self) -> dict[str, Any]:
        return {"decided": self.decided, "state": self.state, "open": list(self.open),
                "runs_so_far": self.runs_so_far, "max_runs": self.max_runs, "codec": self.codec,
                "runs": [{"model": r.arch, "level": REFERENCE if r.level is None else r.level, "seed": r.seed,
                          "reason": why} for r, why in zip(self.runs, self.reasons, strict=True)]}

    def to_csv(self) -> str:
        lines = ["model,level,seed,reason"]
        for r, why in zip(self.runs, self.reasons, strict=True):
            lines.append(",".join((r.arch, REFERENCE if r.level is None else str(r.level), str(r.seed),
                                   '"' + why.replace('"', '""') + '"')))
        return "\n".join(lines) + "\n"


def _as_codec(obs: Observations, codec: str, path: Path) -> Observations:
    """The table's free level labels read as levels of ``codec`` (so bisection has a level space)."""
    from helmholtz.codecs.registry import get_codec

    spec = get_codec(codec)
    levels = []
    for lv in obs.levels:
        if lv.is_reference:
            levels.append(lv)
            continue
        try:
            number = int(lv.key)
            spec.check(number, where=f"{path}: level {lv.key}")
        except ValueError:
            raise DataError(f"level {lv.key!r} is not a {spec.title} level", where=str(path),
                            fix=f"write {spec.title} levels as numbers (e.g. 5, 25, 90) and 'none' for the original, "
                                "or pass the codec the table was made with (--codec)") from None
        levels.append(replace(lv, codec=codec, level=number, display=spec.display(number)))
    return replace(obs, levels=sort_levels(levels))


def starting_step(*, codec: str, levels: tuple[int | None, ...] | None, archs: tuple[str, ...],
                  seeds: int | tuple[int, ...], max_runs: int | None, compare_level: str | None = None) -> Step:
    """The first step with no results yet: the adaptive sweep's question grid."""
    from helmholtz.codecs.registry import get_codec
    from helmholtz.sweep.spec import make_sweep_spec

    spec_codec = get_codec(codec)
    grid = levels if levels is not None else coarse_levels(codec)
    spec = make_sweep_spec("external", modality=spec_codec.modality, codec=codec, levels=list(grid),
                           archs=archs, seeds=seeds)
    focused = question_grid(spec, compare_level) is not None
    runs = [Run(a, lv, s, None if lv is None else c) for a, c, lv, s in starting_grid(spec, compare_level=compare_level)]
    if max_runs is not None and len(runs) > max_runs:
        raise ConfigError(f"--max-runs {max_runs} is smaller than the starting grid's {len(runs)} runs",
                          fix=f"raise --max-runs to at least {len(runs)}, or start from fewer levels or seeds")
    why = "the starting grid: " + ("the first architecture at every level, the others at the comparison level "
                                   "and the original" if focused else "every architecture at every level")
    return Step(tuple(runs), (why,) * len(runs), False, "no results yet", (), 0, max_runs, codec)


def next_step(path: str | os.PathLike, *, codec: str, max_runs: int | None, tolerance_pp: float = DEFAULT_TOLERANCE_PP,
              compare_level: str | None = None, headline: str | None = None) -> Step:
    """The next step for the results in the table at ``path`` (the `helmholtz analyze` format). ``headline`` is the
    architecture whose N_approx is decided; by default the one with the most levels in the table, which is the
    first architecture of the starting grid."""
    from helmholtz.analysis.byo import read_table

    path = Path(path)
    obs = _as_codec(read_table(path), codec, path)
    so_far = sum(c.n for c in obs.cells.values())
    if headline is None:
        # the starting grid's headline: the architecture trained at the most levels (the first of --archs there)
        counts = {m: sum(1 for (mm, _) in obs.cells if mm == m) for m in obs.models}
        headline = max(obs.models, key=lambda m: counts[m]) if counts else None
    d = decide(obs, budget=Budget(max_runs=max_runs), planned_runs=so_far, mean_run_s=None, spent_s=0.0,
               tolerance_pp=tolerance_pp, compare_level=compare_level, headline=headline)
    runs = tuple(replace(r, codec=None) if r.level is None else r for r in d.runs)
    return Step(runs, d.why, d.decided, d.state, d.open, so_far, max_runs, codec)


def plan(results: str | os.PathLike | None = None, *, codec: str = "jpeg", levels: Any = None, archs: Any = "A,F",
         seeds: Any = 3, max_runs: int | None = None, tolerance_pp: float = DEFAULT_TOLERANCE_PP, compare_level: str | None = None,
         model: str | None = None) -> Step:
    """`helmholtz plan` (`helmholtz.api.plan`): the next step for the table ``results``, or without one the
    starting grid (``levels``, default the codec's coarse grid; ``archs``; ``seeds``). Everything is checked
    before the table is read."""
    from helmholtz.analysis.byo import check_table
    from helmholtz.analysis.tolerance import check_tolerance
    from helmholtz.checks import check_int
    from helmholtz.sweep.parse import arch_list, level_values, seed_list

    check_table(results)
    check_tolerance(tolerance_pp)
    if max_runs is not None:
        check_int(max_runs, option="--max-runs", lo=1, example=80)
    if results is None:
        grid = level_values(levels)
        return starting_step(codec=codec, levels=None if grid is None else tuple(grid), archs=arch_list(archs),
                             seeds=seed_list(seeds), max_runs=max_runs, compare_level=compare_level)
    return next_step(results, codec=codec, max_runs=max_runs, tolerance_pp=tolerance_pp,
                     compare_level=compare_level, headline=model.strip().upper() if model else None)
