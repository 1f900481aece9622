"""`run_until_decided`: a sweep that trains until the answer is decided or the budget is spent.

The sweep runs its grid (or a coarse default grid), then, each time every planned run has finished, asks
`plan.decide` for the next step and records it in the store's plan table *before* training it. Because a decision
is taken only when the previous step is complete, and is a pure function of the stored results, the spec and the
budget, a sweep killed at any moment resumes exactly where it stopped: the re-run trains the recorded step's
missing runs and then decides as the first run would have. With the Ray engine the driver decides and the tasks
train. The store also keeps the budget and the final state (meta keys ``adaptive`` and ``adaptive_result``), which
the report shows as a timeline.

A sweep of several codecs decides on its first codec (the headline's): the boundary of its N_approx is bisected in
that codec's level space (`CodecSpec.between`); the other codecs keep their starting grid (their coarse default
grid when no levels are given).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from helmholtz.adaptive.plan import Budget, decide
from helmholtz.analysis.budget import BUDGET_DIR
from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP, Tolerance
from helmholtz.errors import ConfigError

#: what one run of the training-budget check costs in the run budget: it trains twice the epochs
CHECK_COST = 2
#: the coarse starting grid per codec: the original plus about four levels spread over the measured bits, with the
#: paper's pre-set comparison level (JPEG q 25; for MP3, 40 kbps is Q 0.75 on 16..112 kbps)
COARSE_LEVELS: dict[str, tuple[int, ...]] = {"jpeg": (5, 25, 50, 90), "mp3": (16, 40, 64, 112)}


def coarse_levels(codec: str) -> tuple[int | None, ...]:
    """The starting grid of an adaptive sweep without --levels: four levels spread over the codec's default grid."""
    if codec in COARSE_LEVELS:
        return (*COARSE_LEVELS[codec], None)
    from helmholtz.codecs.registry import get_codec

    grid = get_codec(codec).default_levels
    picks = sorted({grid[round(i * (len(grid) - 1) / 3)] for i in range(4)})
    return (*picks, None)


def parse_duration(text: str | None) -> float | None:
    """'30m', '2h', '90s', '45' (minutes) → seconds; None stays None."""
    if text is None:
        return None
    t = text.strip().lower()
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    try:
        value = float(t[:-1]) * units[t[-1]] if t and t[-1] in units else float(t) * 60.0
    except ValueError:
        raise ConfigError(f"--max-time got {text!r}; expected a duration like 30m, 2h or 90s",
                          fix="e.g. --max-time 30m") from None
    if not value > 0:       # also NaN
        raise ConfigError(f"--max-time must be positive; got {text!r}", fix="e.g. --max-time 30m")
    if not value <= MAX_TIME_S:      # also inf
        raise ConfigError(f"--max-time got {text!r}; at most {MAX_TIME_S // 86400:.0f} days",
                          fix="e.g. --max-time 30m, or leave it out: --max-runs is the budget")
    return value


#: the longest --max-time accepted (30 days), in seconds
MAX_TIME_S = 30 * 86400.0


def compare_point(spec, compare_level: str | None = None) -> tuple[str, int | None] | None:
    """The (codec, level) of the headline comparison in ``spec``'s grid: ``compare_level`` (a level label, 'none'
    for the original) when given, else the paper's pre-set level (JPEG q 25; MP3 at Q 0.75 of the grid's bitrates);
    None when the grid lacks it."""
    from helmholtz.analysis.observations import PAPER_Q_AUDIO, PAPER_QUALITY
    from helmholtz.codecs.registry import REFERENCE, get_codec, level_label

    labels = {level_label(c, lv, check=False): (c, lv) for c, lv in spec.points}
    if compare_level is not None:
        wanted = str(compare_level).strip().lower()
        return labels.get(REFERENCE if wanted in ("none", "orig", "original") else wanted)
    codec = get_codec(spec.codec)
    levels = sorted(lv for lv in spec.levels_of(spec.codec) if lv is not None)
    if not codec.paper or not levels:
        return None
    if codec.level_kind == "quality":
        return (spec.codec, PAPER_QUALITY) if PAPER_QUALITY in levels else None
    lo, hi = levels[0], levels[-1]
    at = [lv for lv in levels if hi > lo and abs((hi - lv) / (hi - lo) - PAPER_Q_AUDIO) < 1e-9]
    return (spec.codec, at[0]) if at else None


def question_grid(spec, compare_level: str | None = None):
    """The starting grid that serves the adaptive sweep's two questions, as a filter of ``spec``'s runs: the first
    architecture (the headline's) at every level, for its N_approx, and the other architectures only at the
    comparison level, the one cell each that the comparison pairs with the headline's (their originals serve no
    question the sweep decides: only the recommendation's effect split, which the report gives when they exist).
    None — the whole grid — when the sweep has one architecture or its grid lacks the comparison level."""
    point = compare_point(spec, compare_level)
    if len(spec.archs) < 2 or point is None:
        return None
    head = spec.archs[0]

    def keep(run) -> bool:
        return run.arch == head or (run.codec, run.level) == point

    return keep


def check_reserve(check_runs: int | None, seeds: int, *, planned_runs: int, max_runs: int) -> int:
    """The runs an adaptive sweep keeps back for the training-budget check it owes (``check_runs`` runs, each counted
    `CHECK_COST` times), plus one boundary cell (``seeds`` runs) to spare; nothing when no check is owed, or when the
    check no longer fits the budget at all — then narrowing may use what is left (measured: the audio demo kept 30
    runs for a 24-run-equivalent check that the 14 runs left could never pay, and left two levels open)."""
    if check_runs is None or planned_runs + CHECK_COST * check_runs > max_runs:
        return 0
    return CHECK_COST * (check_runs + seeds)


def make_planner(budget: Budget, *, tolerance_pp: float = DEFAULT_TOLERANCE_PP,
                 compare_level: str | None = None, headline: str | None = None, keep=None, budget_check: bool = False
                 ) -> Callable[[Any, Any, Callable[[dict[str, Any]], None]], bool]:
    """The `run_sweep` planner of an adaptive sweep (see the module docstring); ``headline`` fixes the architecture
    whose N_approx is decided (a focused grid's first), ``keep`` is the grid's filter (`question_grid`).
    ``budget_check``: once the answer is decided, the training-budget check it owes is paid for first — narrowing
    (seeds inside the bracket, bisection) gets only the runs the check leaves of the budget."""

    def planner(store, spec, emit) -> bool:
        from helmholtz.analysis.observations import read_store
        from helmholtz.sweep.runner import all_runs

        obs, runs = read_store(store)
        done = [r for r in runs if r.get("status") == "done" and r.get("wall_s") is not None]
        spent = sum(float(r["wall_s"]) for r in done)
        planned = len(all_runs(spec, store, keep))
        reserve = 0
        if budget_check and budget.max_runs is not None:
            owed = budget_check_runs(spec, obs, tolerance_pp=tolerance_pp, compare_level=compare_level,
                                     headline=headline)
            # one boundary cell more than the check has now: narrowing that shows a level inside the bracket to
            # hold makes it the last level that holds, and the check then retrains it too (measured: a 48-run demo
            # narrowed into q 15 with 24 runs kept, and its check grew from 12 runs to 15, past the budget)
            reserve = check_reserve(owed[2] if owed is not None else None, len(owed[0].seeds) if owed else 0,
                                    planned_runs=planned, max_runs=budget.max_runs)
        d = decide(obs, budget=budget, planned_runs=planned, mean_run_s=spent / len(done) if done else None,
                   spent_s=spent, tolerance_pp=tolerance_pp, compare_level=compare_level, headline=headline,
                   reserve_runs=reserve)
        emit({"event": "decision", "state": d.state, "reason": d.reason, "n_runs": len(d.runs),
              "decided": d.decided, "open": list(d.open)})
        if d.runs:
            store.put_plan_step(kind=d.kind, reason=d.reason, runs=[r.to_dict() for r in d.runs], state=d.state)
            return True
        store.set_meta("adaptive_result", {"decided": d.decided, "state": d.state, "open": list(d.open),
                                           "runs": planned, "training_s": spent})
        return False

    return planner


def starting_grid(spec, *, focus: bool = True, compare_level: str | None = None) -> list[tuple[str, str, Any, int]]:
    """The runs (arch, codec, level, seed) of the adaptive sweep's starting grid: the question grid when ``focus``
    (`question_grid`), else every run of ``spec``."""
    from types import SimpleNamespace

    keep = question_grid(spec, compare_level) if focus else None
    return [(a, c, lv, s) for c, lv in spec.points for a in spec.archs for s in spec.seeds
            if keep is None or keep(SimpleNamespace(arch=a, codec=c, level=lv))]


def starting_runs(spec, *, focus: bool = True, compare_level: str | None = None) -> int:
    """How many runs the adaptive sweep's starting grid has (the question grid when ``focus``)."""
    return len(starting_grid(spec, focus=focus, compare_level=compare_level))


def check_adaptive(spec, *, max_runs: int | None, tolerance_pp: float = DEFAULT_TOLERANCE_PP,
                   focus: bool = False, compare_level: str | None = None) -> None:
    """The adaptive sweep's own arguments against the starting grid: callers that prepare data first (the audio
    demo) check them before that work; `run_until_decided` checks them again, at no cost."""
    n = starting_runs(spec, focus=focus, compare_level=compare_level)
    if max_runs is not None and max_runs < n:
        raise ConfigError(f"--max-runs {max_runs} is smaller than the starting grid's {n} runs",
                          fix=f"raise --max-runs to at least {n}, or start from fewer levels or seeds")
    Tolerance.of(tolerance_pp)


def run_until_decided(spec, out_dir: str | os.PathLike, *, max_runs: int | None = None,
                      max_time_s: float | None = None, tolerance_pp: float = DEFAULT_TOLERANCE_PP,
                      compare_level: str | None = None, focus: bool = False, budget_check: bool = False,
                      **sweep_options: Any):
    """Run the sweep ``spec`` adaptively into ``out_dir`` (see the module docstring); returns the `SweepSummary`.
    ``focus`` starts from the question grid (`question_grid`: the first architecture everywhere, the others at the
    comparison level only) and decides the first architecture's N_approx; without it the whole grid
    is the start and the headline is the most accurate architecture on the original. ``sweep_options`` go to
    `helmholtz.sweep.runner.run_sweep` (engine, workers, quiet, dataset, …). ``budget_check``: once decided, train
    the training-budget check the answer owes (`run_budget_check`, into ``out_dir/budget-2x``) within the budget."""
    from helmholtz.sweep.runner import run_sweep

    check_adaptive(spec, max_runs=max_runs, tolerance_pp=tolerance_pp, focus=focus, compare_level=compare_level)
    budget = Budget(max_runs=max_runs, max_time_s=max_time_s)
    keep = question_grid(spec, compare_level) if focus else None
    headline = spec.archs[0] if keep is not None else None
    planner = make_planner(budget, tolerance_pp=tolerance_pp, compare_level=compare_level, headline=headline,
                           keep=keep, budget_check=budget_check)

    def record(store, stored, emit) -> bool:
        meta = {"max_runs": max_runs, "max_time_s": max_time_s, "tolerance_pp": tolerance_pp,
                "compare_at": compare_level}
        if headline:      # a focused start: the report counts its grid and decides the same architecture
            meta = {**meta, "headline": headline, "grid_runs": starting_runs(stored, compare_level=compare_level)}
        store.set_meta("adaptive", meta)
        return planner(store, stored, emit)

    summary = run_sweep(spec, out_dir, planner=record, keep=keep, **sweep_options)
    if budget_check:
        said = run_budget_check(spec, out_dir, max_runs=max_runs, tolerance_pp=tolerance_pp,
                                compare_level=compare_level, headline=headline, **sweep_options)
        if said and not sweep_options.get("quiet"):
            print(said)
    return summary


def budget_check_runs(spec, obs, *, tolerance_pp: float = DEFAULT_TOLERANCE_PP,
                      compare_level: str | None = None, headline: str | None = None
                      ) -> tuple[Any, Callable[[Any], bool], int, str] | None:
    """The training-budget check an adaptive sweep owes, or None when it owes none: when the answer is decided and
    more than a quarter of the runs were still improving at the cap, the cells at the boundary (the reference, the
    last level that holds, the first that drops) and the comparison cells (both architectures there, with their
    references), trained again at twice the epoch cap with the same first 3 seeds. Returns (the spec of that
    sweep, its filter, its number of runs, why)."""
    from dataclasses import replace

    from helmholtz.adaptive.plan import DECISION_BOOT, DECISION_SEED, answer_decided
    from helmholtz.analysis import analyze
    from helmholtz.analysis.bootstrap import MIN_SEEDS
    from helmholtz.analysis.epochs import UNDER_TRAINED_SHARE, under_trained

    improving, total = under_trained(obs)
    if not total or improving <= UNDER_TRAINED_SHARE * total:
        return None
    model = headline if headline in obs.models else None
    a = analyze(obs, tolerance_pp=tolerance_pp, n_boot=DECISION_BOOT, seed=DECISION_SEED,
                compare_level=compare_level, codec_intervals=False, model=model)
    na = a.n_approx
    if not answer_decided(a) or na is None:
        return None
    cells = {(na.model, na.reference), (na.model, na.level)}
    if na.boundary is not None:
        cells.add((na.model, na.boundary[1]))
    c = a.headline_comparison
    if c is not None:
        cells |= {(c.a, c.level), (c.b, c.level), (c.a, na.reference), (c.b, na.reference)}
    # only cells the answer has: a focused grid trains the comparison architecture at its level alone, and a
    # longer-budget cell without its primary twin would compare with nothing
    cells = {cell for cell in cells if obs.cell(*cell) is not None}
    ref_cell = obs.cell(na.model, na.reference)
    seeds = tuple(ref_cell.seeds[:MIN_SEEDS])
    levels = {key: obs.level(key) for _, key in cells}
    points = {(lv.codec, lv.level) for lv in levels.values()}
    wanted = {(arch, None if levels[key].is_reference else (levels[key].codec, levels[key].level))
              for arch, key in cells}
    epochs = 2 * spec.options.epochs
    options = replace(spec.options, epochs=epochs, patience=max(spec.options.patience, -(-epochs // 4)))
    longer = replace(spec.with_points(sorted(points, key=lambda p: (p[0], -1 if p[1] is None else p[1]))),
                     archs=tuple(sorted({a for a, _ in cells})), seeds=seeds, options=options)

    def keep(run) -> bool:
        point = None if run.level is None else (run.codec, run.level)
        return (run.arch, point) in wanted

    n = len(wanted) * len(seeds)
    why = (f"{improving} of {total} runs were still improving at the {spec.options.epochs}-epoch cap: "
           f"{n} runs at {epochs} epochs check the verdicts at the boundary and the comparison")
    return longer, keep, n, why


def run_budget_check(spec, out_dir: str | os.PathLike, *, max_runs: int | None,
                     tolerance_pp: float = DEFAULT_TOLERANCE_PP, compare_level: str | None = None,
                     headline: str | None = None, **sweep_options: Any) -> str | None:
    """Train the training-budget check an adaptive sweep owes (`budget_check_runs`) into ``out_dir/budget-2x``,
    within the run budget (each run at twice the cap counts twice); returns what was done or why not, or None when
    no check is owed. `helmholtz report` picks the folder up and compares the verdicts (`analysis.budget`)."""
    from pathlib import Path

    from helmholtz.analysis.observations import read_store
    from helmholtz.sweep.runner import run_sweep
    from helmholtz.sweep.store import Store

    out = Path(out_dir)
    with Store(out) as store:
        obs, runs = read_store(store)
        stored = store.spec()
    from helmholtz.sweep.spec import SweepSpec

    base = SweepSpec.from_dict(stored) if stored else spec
    plan = budget_check_runs(base, obs, tolerance_pp=tolerance_pp, compare_level=compare_level, headline=headline)
    if plan is None:
        return None
    longer, keep, n, why = plan
    done = sum(1 for r in runs if r.get("status") == "done")
    target = out / BUDGET_DIR
    if max_runs is not None and done + CHECK_COST * n > max_runs and not (target / "results.sqlite").exists():
        return (f"budget check not run: {why}, which costs {CHECK_COST * n} run-equivalents and {max_runs - done} "
                f"are left of the {max_runs}-run budget; raise --max-runs to {done + CHECK_COST * n} to have it")
    run_sweep(longer, target, keep=keep, **sweep_options)
    return f"budget check: {why} (in {target})"
