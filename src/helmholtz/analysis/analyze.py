"""Everything the report shows, computed once from plain rows: cells, fits, knees, bits, complexity, recommendation.

`analyze` is the one entry point the report (and anyone scripting) calls. It takes the rows of a results store
(`Store.runs()`, `Store.levels()`, `Store.spec()`) and works on a partial grid: a sweep still running, or one that
was interrupted, is analysed on the runs it has, and the summary says how many are missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from helmholtz.analysis.bits import BitsAtLevel, bits_at_level
from helmholtz.analysis.complexity import ModelComparison, compare_models, params_level
from helmholtz.analysis.fit import LogFit, fit_log_curve
from helmholtz.analysis.knee import BEST, KneeEstimate, knees
from helmholtz.analysis.recommend import Recommendation, recommend
from helmholtz.analysis.stats import CellStats, EpochMetric, cell_stats, epoch_metric
from helmholtz.analysis.table import Grid, arch_params, build_grid, done_runs
from helmholtz.errors import ConfigError, StoreError


@dataclass(frozen=True)
class Analysis:
    """The analysis of one sweep. `knee` is the headline N_approx (the envelope curve, see `knee.py`)."""

    grid: Grid
    spec: dict[str, Any] | None
    archs: dict[str, int | None]                 # architecture → parameter count, smallest first
    cells: tuple[CellStats, ...]
    tolerance_pp: float
    epoch_metric: EpochMetric
    fits: dict[str, LogFit]                      # per architecture, over its compressed levels
    fit_notes: dict[str, str]                    # why an architecture has no fit
    knees: dict[str, KneeEstimate]               # per architecture and 'best'
    knee: KneeEstimate | None
    level_bits: tuple[BitsAtLevel, ...]          # measured bits of every level in walk order
    knee_bits: BitsAtLevel | None
    knee_comparison: ModelComparison | None      # smallest vs largest architecture at the knee
    params_label: str | None                     # level of accuracy vs parameters (Fig. 6/9)
    params_comparison: ModelComparison | None
    recommendation: Recommendation | None
    n_done: int
    n_failed: int
    n_expected: int | None                       # levels × archs × seeds of the spec; None without a spec

    @property
    def partial(self) -> bool:
        return self.n_expected is not None and self.n_done < self.n_expected

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["partial"] = self.partial
        return d


def _expected(spec: Mapping[str, Any] | None) -> int | None:
    if not spec:
        return None
    try:
        return len(spec["levels"]) * len(spec["archs"]) * len(spec["seeds"])
    except (KeyError, TypeError):
        return None


def _fits(cells: Sequence[CellStats], archs: Sequence[str]) -> tuple[dict[str, LogFit], dict[str, str]]:
    fits, notes = {}, {}
    for arch in archs:
        pts = [(c.Q, c.acc.mean) for c in cells if c.arch == arch and c.Q is not None]
        try:
            fits[arch] = fit_log_curve([q for q, _ in pts], [m for _, m in pts])
        except ConfigError:
            notes[arch] = f"{len(pts)} compressed level(s) with runs: the fit needs at least two"
    return fits, notes


def analyze(*, runs: Sequence[Mapping[str, Any]], levels: Sequence[Mapping[str, Any]],
            spec: Mapping[str, Any] | None = None, tolerance_pp: float = 1.0, params_at: str | None = None,
            n_boot: int = 1000, seed: int = 0) -> Analysis:
    """Analyse a sweep's rows. `tolerance_pp` is δ of the knee rule in percentage points; `params_at` picks the level
    of accuracy vs parameters (default: the paper's q 25 / Q 0.75 if in the grid, else the knee).

    Raises StoreError when there is no finished run, ConfigError for a bad δ or level.
    """
    if not tolerance_pp >= 0:
        raise ConfigError(f"--tolerance must be ≥ 0 percentage points; got {tolerance_pp}", fix="e.g. --tolerance 1.0")
    done = done_runs(runs)
    n_failed = sum(1 for r in runs if r.get("status") == "failed")
    if not done:
        raise StoreError(f"no finished runs to analyse ({n_failed} failed)", where="results store",
                         fix="run `helmholtz sweep ...` into this directory first, or wait for its first run")
    grid = build_grid(runs=done, levels=levels, spec=spec)
    cells = cell_stats(done, grid)
    sizes = arch_params(done)
    metric = epoch_metric(cells)
    fits, fit_notes = _fits(cells, list(sizes))
    all_knees = knees(cells, grid, tolerance_pp=tolerance_pp, n_boot=n_boot, seed=seed)
    knee = all_knees.get(BEST)
    level_bits = tuple(bits_at_level(lv.stats, label=lv.label, codec=grid.codec, level=lv.level)
                       for lv in grid.levels)
    knee_bits = next((b for b in level_bits if knee and b.label == knee.knee_label), None)
    knee_label = knee.knee_label if knee else None
    p_label = params_level(grid, knee_label=knee_label, requested=params_at)
    return Analysis(
        grid=grid, spec=dict(spec) if spec else None, archs=sizes, cells=tuple(cells), tolerance_pp=float(tolerance_pp),
        epoch_metric=metric, fits=fits, fit_notes=fit_notes, knees=all_knees, knee=knee, level_bits=level_bits,
        knee_bits=knee_bits,
        knee_comparison=compare_models(cells, grid, label=knee_label, tolerance_pp=tolerance_pp, metric=metric)
        if knee_label else None,
        params_label=p_label,
        params_comparison=compare_models(cells, grid, label=p_label, tolerance_pp=tolerance_pp, metric=metric),
        recommendation=recommend(cells, grid, knee_label=knee_label, tolerance_pp=tolerance_pp, metric=metric)
        if knee_label else None,
        n_done=len(done), n_failed=n_failed, n_expected=_expected(spec),
    )
