"""Per-cell statistics over seeds: mean and 95 % t-interval of test accuracy, epochs to converge and training time.

A cell is one (architecture, level) of the grid; its runs differ only in the seed. With fewer than two seeds there
is no spread to estimate, so the interval is None and the cell is flagged 'n<2' wherever it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from helmholtz.analysis.table import Grid, arch_params, level_label

#: which per-run number stands for "epochs" in the complexity findings
EpochMetric = Literal["epochs_to_converge", "best_epoch"]

#: the run columns summarised per cell
METRICS = ("test_acc", "epochs_to_converge", "best_epoch", "wall_s")


@dataclass(frozen=True)
class Interval:
    """Mean of n values with its two-sided confidence interval [lo, hi]; lo/hi are None when n < 2."""

    mean: float
    lo: float | None
    hi: float | None
    n: int
    sd: float | None                  # sample standard deviation (ddof 1); None when n < 2

    @property
    def flagged(self) -> bool:
        """True when the interval could not be estimated (fewer than two values)."""
        return self.lo is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def t_interval(values: Iterable[float], *, confidence: float = 0.95) -> Interval | None:
    """Student-t interval for the mean of `values` (the seeds of one cell). None when there are no values."""
    x = np.asarray([float(v) for v in values if v is not None], dtype=float)
    if x.size == 0:
        return None
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean=mean, lo=None, hi=None, n=1, sd=None)
    sd = float(x.std(ddof=1))
    half = float(sps.t.ppf(0.5 + confidence / 2, df=x.size - 1)) * sd / math.sqrt(x.size)
    return Interval(mean=mean, lo=mean - half, hi=mean + half, n=int(x.size), sd=sd)


def welch_interval(a: Iterable[float], b: Iterable[float], *, confidence: float = 0.95) -> Interval | None:
    """Interval for mean(a) − mean(b) without assuming equal variances (Welch–Satterthwaite degrees of freedom).

    `n` is the smaller sample size; lo/hi are None when either side has fewer than two values.
    """
    xa = np.asarray([float(v) for v in a if v is not None], dtype=float)
    xb = np.asarray([float(v) for v in b if v is not None], dtype=float)
    if xa.size == 0 or xb.size == 0:
        return None
    diff = float(xa.mean() - xb.mean())
    n = int(min(xa.size, xb.size))
    if n < 2:
        return Interval(mean=diff, lo=None, hi=None, n=n, sd=None)
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Interval(mean=diff, lo=diff, hi=diff, n=n, sd=0.0)
    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = float(sps.t.ppf(0.5 + confidence / 2, df=df)) * se
    return Interval(mean=diff, lo=diff - half, hi=diff + half, n=n, sd=se)


@dataclass(frozen=True)
class CellStats:
    """One (architecture, level) cell: test accuracy, epochs and training time over its seeds."""

    arch: str
    label: str                        # level label: 'none' or the JPEG quality / MP3 kbps as text
    level: int | None
    Q: float | None                   # quantization axis; None for the original
    n_params: int | None
    acc: Interval                     # test accuracy, a fraction in [0, 1]
    epochs_to_converge: Interval | None  # paper heuristic (None when no run of the cell converged by it)
    best_epoch: Interval | None       # epoch of the best validation accuracy (early stopping)
    wall_s: Interval | None           # training time of a run, seconds
    seeds: tuple[int, ...]
    samples: dict[str, tuple[float, ...]]  # per-seed values of each metric column (test_acc, epochs, wall_s)

    @property
    def acc_values(self) -> tuple[float, ...]:
        """One test accuracy per seed, in `seeds` order (the bootstrap resamples these)."""
        return self.samples["test_acc"]

    @property
    def n(self) -> int:
        return self.acc.n

    @property
    def flagged(self) -> bool:
        """'n<2': a single seed, so no interval."""
        return self.acc.n < 2

    def epochs(self, metric: EpochMetric) -> Interval | None:
        return self.epochs_to_converge if metric == "epochs_to_converge" else self.best_epoch

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["flagged"] = self.flagged
        return d


def cell_stats(runs: Sequence[Mapping[str, Any]], grid: Grid, *, confidence: float = 0.95) -> list[CellStats]:
    """Statistics of every (architecture, level) cell that has at least one finished run.

    Ordered by architecture size (smallest first), then by the grid's walk order (original first, then rising Q).
    """
    params = arch_params(runs)
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in runs:
        groups.setdefault((str(r["arch"]), level_label(r.get("level"))), []).append(r)
    out = []
    for arch in params:
        for lv in grid.levels:
            rows = sorted(groups.get((arch, lv.label), ()), key=lambda r: int(r.get("seed", 0)))
            if not rows:
                continue

            samples = {name: tuple(float(r[name]) for r in rows if r.get(name) is not None) for name in METRICS}
            acc = t_interval(samples["test_acc"], confidence=confidence)
            assert acc is not None  # done_runs keeps only rows with a test accuracy
            out.append(CellStats(
                arch=arch, label=lv.label, level=lv.level, Q=lv.Q, n_params=params[arch], acc=acc,
                epochs_to_converge=t_interval(samples["epochs_to_converge"], confidence=confidence),
                best_epoch=t_interval(samples["best_epoch"], confidence=confidence),
                wall_s=t_interval(samples["wall_s"], confidence=confidence),
                seeds=tuple(int(r.get("seed", 0)) for r in rows), samples=samples,
            ))
    return out


def epoch_metric(cells: Sequence[CellStats]) -> EpochMetric:
    """The paper's epochs-to-converge heuristic when most cells have it; otherwise the best (early-stopping) epoch.

    The heuristic needs a 10-epoch window after convergence, so short CPU-sized runs (the demo) often lack it.
    """
    have = sum(c.epochs_to_converge is not None for c in cells)
    return "epochs_to_converge" if cells and have * 2 >= len(cells) else "best_epoch"


def find_cell(cells: Sequence[CellStats], arch: str, label: str) -> CellStats | None:
    return next((c for c in cells if c.arch == arch and c.label == label), None)
