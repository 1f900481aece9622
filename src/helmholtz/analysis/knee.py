"""The knee N_approx: the most compression a task takes before its accuracy collapses (paper Sec. 4, Fig. 3).

Primary rule (tolerance δ, default 1 percentage point). The levels are walked in order of rising Q (falling quality),
starting at the level with the best mean accuracy; the knee is the last level before the first one that falls more
than δ below that best. We do not use the literal reading "the highest-Q level anywhere within δ of the best": a
noisy lucky mean at a very low quality, past the collapse, could then be called the knee. If no level after the best
falls more than δ below it, the curve is flat over the grid: there is no knee within the grid, accuracy holds down to
the lowest level, and that lowest level is reported as a bound (`found` is False).

Uncertainty: a bootstrap over seeds. Each draw resamples the seeds of every (architecture, level) cell with
replacement, recomputes the mean curve and its knee; the 2.5–97.5 % quantiles of the knee over B draws (default
1000, seeded) give a CI over the grid's levels. A cell with one seed cannot vary, so it adds no spread ('n<2').

Secondary rule: the Kneedle point (maximum curvature) of the mean curve over the compressed levels, with `kneed`.

A curve is one architecture, or 'best': at each level the best architecture's mean (the envelope), which answers
"how many bits does the task need with any of the models tried". The original ('none') takes part in the walk as the
highest-quality point; when even the best compressed level falls more than δ below it, the knee is the original.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from helmholtz.analysis.stats import CellStats
from helmholtz.analysis.table import Grid
from helmholtz.errors import ConfigError

#: name of the envelope curve (the best architecture at each level)
BEST = "best"


def knee_indices(means: np.ndarray, *, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Knee of each row of `means` (draws × levels, levels in walk order) by the primary rule.

    `tolerance` is δ as a fraction (0.01 = 1 pp). Returns (knee index per row, found per row); a row without a
    level more than δ below its best has its last level as the knee and found False.
    """
    m = np.atleast_2d(np.asarray(means, dtype=float))
    cols = np.arange(m.shape[1])
    best = m.argmax(axis=1)                      # ties → the higher-quality level
    below = (m < m.max(axis=1, keepdims=True) - tolerance) & (cols[None, :] > best[:, None])
    found = below.any(axis=1)
    first = below.argmax(axis=1)
    return np.where(found, first - 1, m.shape[1] - 1), found


@dataclass(frozen=True)
class KneeEstimate:
    """The knee of one curve with its bootstrap CI over the grid's levels, and the Kneedle point."""

    curve: str                        # architecture name, or 'best' (the envelope)
    labels: tuple[str, ...]           # the curve's levels in walk order (original first, then rising Q)
    Q: tuple[float | None, ...]
    means: tuple[float, ...]          # mean test accuracy per level
    tolerance_pp: float               # δ in percentage points
    best_label: str                   # level with the best mean
    best_mean: float
    knee_label: str                   # N_approx: the lowest quality within δ (walk rule)
    knee_Q: float | None
    found: bool                       # False: no knee within the grid; knee_label is the lowest level, a bound
    ci_labels: tuple[str, str]        # 2.5 % and 97.5 % bootstrap quantiles of the knee, as levels (higher quality first)
    ci_Q: tuple[float | None, float | None]
    flat_share: float                 # share of bootstrap draws with no knee within the grid
    distribution: dict[str, float]    # share of bootstrap draws per knee level
    n_boot: int
    seed: int
    kneedle_label: str | None         # secondary rule; None when Kneedle finds no knee
    kneedle_Q: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kneedle(Q: Sequence[float], means: Sequence[float]) -> float | None:
    """Kneedle point (maximum curvature) of accuracy vs Q, a concave decreasing curve; None when there is none."""
    q = np.asarray(Q, dtype=float)
    y = np.asarray(means, dtype=float)
    if q.size < 3 or np.ptp(y) == 0.0:
        return None
    from kneed import KneeLocator

    order = np.argsort(q)
    with warnings.catch_warnings():
        # kneed warns (and divides by zero) on curves without a knee; "no knee" is a result, not a problem
        warnings.simplefilter("ignore")
        knee = KneeLocator(q[order], y[order], curve="concave", direction="decreasing").knee
    return None if knee is None else float(knee)


def _bootstrap_means(values: Sequence[Sequence[Sequence[float]]], *, n_boot: int,
                     rng: np.random.Generator) -> np.ndarray:
    """draws × archs × levels means, each cell's seeds resampled with replacement; NaN where a cell is empty."""
    n_arch, n_lvl = len(values), len(values[0])
    out = np.full((n_boot, n_arch, n_lvl), np.nan)
    for i, row in enumerate(values):
        for j, cell in enumerate(row):
            x = np.asarray(cell, dtype=float)
            if x.size:
                out[:, i, j] = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    return out


def estimate_knee(values: Mapping[str, Mapping[str, Sequence[float]]], *, labels: Sequence[str],
                  Q: Sequence[float | None], curve: str, tolerance_pp: float = 1.0, n_boot: int = 1000,
                  seed: int = 0) -> KneeEstimate:
    """Knee of the curve made of `values` (architecture → level label → test accuracy per seed).

    With several architectures the curve is their envelope (best mean at each level). `labels`/`Q` give the walk
    order; levels without any value are left out. Raises ConfigError for a bad δ or B, or a curve without levels.
    """
    if not tolerance_pp >= 0:
        raise ConfigError(f"--tolerance must be ≥ 0 percentage points; got {tolerance_pp}", fix="e.g. --tolerance 1.0")
    if n_boot < 1:
        raise ConfigError(f"the bootstrap needs B ≥ 1 draws; got {n_boot}", fix="e.g. n_boot=1000")
    keep = [i for i, lab in enumerate(labels) if any(len(v.get(lab, ())) for v in values.values())]
    if not keep:
        raise ConfigError(f"curve {curve!r} has no finished runs", where="knee", fix="wait for the sweep to store runs")
    labs = [labels[i] for i in keep]
    qs = [Q[i] for i in keep]
    cells = [[list(v.get(lab, ())) for lab in labs] for v in values.values()]
    point = np.array([[np.mean(c) if c else np.nan for c in row] for row in cells])
    curve_means = np.nanmax(point, axis=0)
    delta = tolerance_pp / 100.0
    (k,), (found,) = knee_indices(curve_means[None, :], tolerance=delta)

    rng = np.random.default_rng(seed)
    boot = np.nanmax(_bootstrap_means(cells, n_boot=n_boot, rng=rng), axis=1)
    ks, founds = knee_indices(boot, tolerance=delta)
    lo, hi = (int(np.quantile(ks, p, method="inverted_cdf")) for p in (0.025, 0.975))
    counts = np.bincount(ks, minlength=len(labs)) / n_boot
    compressed = [(q, m) for q, m in zip(qs, curve_means, strict=True) if q is not None]
    kq = kneedle([q for q, _ in compressed], [m for _, m in compressed])
    kl = next((lab for lab, q in zip(labs, qs, strict=True) if q is not None and kq is not None
               and abs(q - kq) < 1e-9), None)
    best = int(np.argmax(curve_means))
    return KneeEstimate(
        curve=curve, labels=tuple(labs), Q=tuple(qs), means=tuple(map(float, curve_means)),
        tolerance_pp=float(tolerance_pp), best_label=labs[best], best_mean=float(curve_means[best]),
        knee_label=labs[k], knee_Q=qs[k], found=bool(found), ci_labels=(labs[lo], labs[hi]), ci_Q=(qs[lo], qs[hi]),
        flat_share=float(1.0 - founds.mean()),
        distribution={lab: float(c) for lab, c in zip(labs, counts, strict=True) if c > 0},
        n_boot=int(n_boot), seed=int(seed), kneedle_label=kl, kneedle_Q=kq,
    )


def knees(cells: Sequence[CellStats], grid: Grid, *, tolerance_pp: float = 1.0, n_boot: int = 1000,
          seed: int = 0) -> dict[str, KneeEstimate]:
    """The knee of every architecture's curve and of the envelope ('best'), from per-cell seed values."""
    by_arch: dict[str, dict[str, list[float]]] = {}
    for c in cells:
        by_arch.setdefault(c.arch, {})[c.label] = list(c.acc_values)
    if not by_arch:
        return {}
    opts = dict(labels=grid.labels, Q=[lv.Q for lv in grid.levels], tolerance_pp=tolerance_pp,
                n_boot=n_boot, seed=seed)
    out = {arch: estimate_knee({arch: vals}, curve=arch, **opts) for arch, vals in by_arch.items()}
    out[BEST] = estimate_knee(by_arch, curve=BEST, **opts)
    return out
