"""The one statistical engine: a two-stage paired bootstrap over seeds and test items. Pure numpy/scipy.

Every interval, verdict and CI of the analysis comes from here. A quantity (a cell's accuracy, or the paired
difference of two cells over their common seeds) is, in draw b, ``point + κ·seed_part[b] + item_part[b]``:

1. **seeds**: ``seed_part[b] = Σ_s g[b,s]·(x_s − x̄)/n`` over the *original* per-seed values x_s (accuracies, or
   paired differences), with standard-normal multipliers g shared by every cell, so two quantities are jointly
   distributed as in the data (paired over seeds). Its sd is s·√(n−1)/n, and κ = (t_{q,n−1}/z_q)·√(n/(n−1)) makes
   its q-quantile exactly the Student-t bound t_{q,n−1}·s/√n;
2. **test items**: the same Poisson(1) item weights for every cell and seed (paired over items); the item part is
   the deviation of the item-resampled seed mean, scaled to the **item main effect** only. In a crossed design the
   run × item residual already sits in the seed-to-seed spread s², so resampling items again would count it twice
   (Owen 2007, the pigeonhole bootstrap): the scale is √(max(0, s²_item − MS_resid/S) / s²_item), an unbiased moment
   estimate. Measured on simulated knees (5 seeds, 2000 items): 95 % intervals covered 99.9 % and were 1.50× a
   paired t-interval before, 95.0 % and 1.01× after (tests/test_analysis_simulated.py).

The one-sided bound is then about d − √((t·s/√n)² + (z·σ_item)²), which is what `power.predicted_bounds` assumes.

Without per-item predictions (old stores, accuracy-only tables) the item stage is replaced by the binomial variance
of the test set, drawn once per cell (shared by the cell's seeds: they were evaluated on the same items) and
independent between cells; differences are then paired over seeds only.

Vectorised: the item stage is one matrix product per chunk of draws, (cells·seeds × items) @ (items × draws).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from helmholtz.analysis.observations import Observations
from helmholtz.errors import ConfigError

#: default number of bootstrap draws
N_BOOT = 2000
#: a cell or a difference needs this many seeds for an interval or a verdict
MIN_SEEDS = 3


@lru_cache(maxsize=4096)
def kappa(n: int, q: float) -> float:
    """Calibration of the seed stage for n seeds at quantile q; 1 for n < 2.

    The seed part of a draw is Σ g_s (x_s − x̄)/n with g_s ~ N(0, 1) shared by all cells: it is normal with sd
    s·√(n−1)/n, so κ = (t_{q,n−1}/z_q)·√(n/(n−1)) makes its q-quantile exactly t_{q,n−1}·s/√n (the Student-t bound)."""
    if n < 2:
        return 1.0
    from scipy import stats

    return float(stats.t.ppf(q, n - 1) / stats.norm.ppf(q) * np.sqrt(n / (n - 1)))


def item_main_share(rows: np.ndarray) -> float:
    """sd ratio √(σ̂²_item / s²_item) of a (seeds × items) table of per-item values (correctness, or a paired
    difference of it): the part of the item stage's variance that is the item main effect.

    The variance over items of the seed-averaged values, s²_item, estimates σ²_item + σ²_resid/S (crossed two-way
    layout, unbiased moments); the run × item residual σ²_resid/S is already in every run's accuracy, so in the seed
    part, and resampling items on top of it would count it twice. Removed: σ̂²_item = max(0, s²_item − MS_resid/S)."""
    s, n_items = rows.shape
    if s < 2 or n_items < 2:
        return 1.0
    by_item = rows.mean(axis=0)
    s2_item = float(np.var(by_item, ddof=1))
    if s2_item <= 0:
        return 1.0
    resid = rows - rows.mean(axis=1, keepdims=True) - by_item[None, :] + by_item.mean()
    ms_resid = float(np.sum(resid**2)) / ((s - 1) * (n_items - 1))
    return float(np.sqrt(max(0.0, s2_item - ms_resid / s) / s2_item))


@dataclass(frozen=True, eq=False)
class Draws:
    """The bootstrap of one quantity: a cell's accuracy or a paired difference between two cells.

    A draw is point + κ·(seed part) + (item-main part): the seed part is Σ g_s (x_s − x̄)/n over the ORIGINAL
    per-seed values x with Gaussian multipliers g shared by every cell; the item part is the item-resampled
    deviation scaled down to the item main effect."""

    point: float                      # the estimate: mean over seeds (of the difference, for a pair)
    item: np.ndarray                  # (B,) point + item-main deviation of the item-resampled values
    seed: np.ndarray                  # (B,) point + uncalibrated seed part (κ = 1)
    per_seed: np.ndarray              # (n,) the per-seed values (accuracy, or paired difference)
    clip: tuple[float, float] | None = None   # the quantity's range: [0, 1] for an accuracy, [−1, 1] for a difference

    @property
    def n(self) -> int:
        return len(self.per_seed)

    def draws(self, q: float) -> np.ndarray:
        """B draws calibrated for quantile q (0.95 for one-sided 95 % bounds, 0.975 for two-sided 95 % CIs)."""
        out = self.item + kappa(self.n, q) * (self.seed - self.point)
        return np.clip(out, *self.clip) if self.clip is not None else out

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided percentile interval at ``level`` (0.90: the one-sided 95 % bounds the verdicts use)."""
        q = 0.5 + level / 2
        lo, hi = np.quantile(self.draws(q), [1 - q, q])
        return float(lo), float(hi)

    @property
    def seed_sd(self) -> float:
        """Sample standard deviation of the per-seed values (the paired seed-to-seed spread)."""
        return float(np.std(self.per_seed, ddof=1)) if self.n > 1 else 0.0

    @property
    def item_sd(self) -> float:
        """Spread the test items' main effect adds (the run × item residual, already in seed_sd, removed)."""
        return float(np.std(self.item, ddof=1))


class PairedBootstrap:
    """Joint bootstrap draws for every cell of `obs`; cells and paired differences are read off them.

    All draws share one seed-weight matrix and one item-weight matrix, so any two quantities (two levels' differences
    to their reference, say) are jointly distributed as they are in the data. Seeded: the same observations and
    ``seed`` give the same draws.
    """

    def __init__(self, obs: Observations, *, n_boot: int = N_BOOT, seed: int = 0, chunk: int = 256) -> None:
        from helmholtz.checks import check_bootstrap, check_seed

        n_boot = check_bootstrap(n_boot)
        seed = check_seed(seed, option="--seed")
        self.obs, self.n_boot = obs, n_boot
        self.keys = sorted(obs.cells)                       # canonical cell order: draws do not depend on dict order
        self.seeds = obs.seeds
        self._seed_col = {s: j for j, s in enumerate(self.seeds)}
        rng = np.random.default_rng(seed)
        self.weights = rng.standard_normal((n_boot, len(self.seeds)))    # seed multipliers, shared by all cells
        self.paired_items = obs.paired_items
        self._values = self._item_stage(rng, chunk)        # key → (B, n_seeds of the cell)

    # ---------------------------------------------------------------- the item stage
    def _item_stage(self, rng: np.random.Generator, chunk: int) -> dict[tuple[str, str], np.ndarray]:
        cells = [self.obs.cells[k] for k in self.keys]
        if self.paired_items:
            rows = np.concatenate([c.correct for c in cells]).astype(np.float32)    # (Σ seeds, items)
            out = np.empty((self.n_boot, rows.shape[0]), dtype=np.float64)
            n_items = rows.shape[1]
            for lo in range(0, self.n_boot, chunk):
                hi = min(self.n_boot, lo + chunk)
                w = rng.poisson(1.0, size=(hi - lo, n_items)).astype(np.float32)
                total = np.maximum(w.sum(axis=1, keepdims=True), 1.0)
                out[lo:hi] = (w @ rows.T) / total
            values, start = {}, 0
            for k, c in zip(self.keys, cells, strict=True):
                values[k] = out[:, start:start + c.n]
                start += c.n
            return values
        values = {}
        for k, c in zip(self.keys, cells, strict=True):
            p = float(np.clip(c.acc.mean(), 0.0, 1.0))
            sd = np.sqrt(p * (1 - p) / c.n_test) if c.n_test else 0.0
            noise = rng.normal(0.0, sd, size=(self.n_boot, 1)) if sd > 0 else np.zeros((self.n_boot, 1))
            values[k] = c.acc[None, :] + noise
        return values

    # ---------------------------------------------------------------- quantities
    def _combine(self, values: np.ndarray, seeds: list[int], point: float, per_seed: np.ndarray, *,
                 clip: tuple[float, float], rows: np.ndarray | None = None) -> Draws:
        g = self.weights[:, [self._seed_col[s] for s in seeds]]
        seed_part = g @ (per_seed - per_seed.mean()) / len(per_seed)
        item = values.mean(axis=1)
        scale = 1.0 if rows is None else item_main_share(rows)
        item_part = scale * (item - item.mean())
        return Draws(point=point, item=point + item_part, seed=point + seed_part, per_seed=per_seed, clip=clip)

    def cell(self, model: str, level: str) -> Draws:
        """The accuracy of one cell."""
        c = self.obs.cells[(model, level)]
        rows = c.correct.astype(np.float64) if self.paired_items else None
        return self._combine(self._values[(model, level)], list(c.seeds), c.mean, c.acc, clip=(0.0, 1.0), rows=rows)

    def diff(self, a: tuple[str, str], b: tuple[str, str]) -> Draws:
        """acc(a) − acc(b) over the seeds both cells have, paired over those seeds (and over items when stored).

        Raises ConfigError when the cells share no seed (a difference then has nothing to pair)."""
        ca, cb = self.obs.cells[a], self.obs.cells[b]
        common = sorted(set(ca.seeds) & set(cb.seeds))
        if not common:
            raise ConfigError(f"cells {a} and {b} share no seed", where="analysis",
                              fix="run both cells with the same seeds")
        ia = [ca.seeds.index(s) for s in common]
        ib = [cb.seeds.index(s) for s in common]
        values = self._values[a][:, ia] - self._values[b][:, ib]
        per_seed = ca.acc[ia] - cb.acc[ib]
        rows = (ca.correct[ia].astype(np.float64) - cb.correct[ib]) if self.paired_items else None
        # a difference of two accuracies lies in [−1, 1]: 3 wildly spread seeds gave "+42.2 pp [−19.3, +102.7]"
        return self._combine(values, common, float(per_seed.mean()), per_seed, clip=(-1.0, 1.0), rows=rows)

    def common_seeds(self, a: tuple[str, str], b: tuple[str, str]) -> int:
        ca, cb = self.obs.cells.get(a), self.obs.cells.get(b)
        return 0 if ca is None or cb is None else len(set(ca.seeds) & set(cb.seeds))
