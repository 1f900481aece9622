"""How many more seeds would decide an open verdict, from the observed paired variance.

A verdict compares one-sided 95 % bounds of a paired difference with margins (±δ, 0). With n seeds the bounds are
about d ± h(n), h(n)² = (t_{0.95,n−1}·s/√n)² + (z_{0.95}·σ_items)², where s is the sample sd of the per-seed paired
differences and σ_items the spread the test items add (both from the bootstrap). Assuming the difference stays at
its estimate d, the answer is the smallest n whose bounds would decide. Seeds cannot shrink the item part: when it
alone keeps the bounds across a margin, no number of seeds decides, and the answer is None.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from helmholtz.analysis.bootstrap import MIN_SEEDS, Draws

#: the largest total seed count we extrapolate to; beyond it the difference sits at a margin
MAX_SEEDS = 200


@functools.lru_cache(maxsize=8)
def _t_quantiles(q: float) -> np.ndarray:
    """t_{q, n−1} for n = 0..MAX_SEEDS (entries 0 and 1 use one degree of freedom)."""
    from scipy import stats

    return stats.t.ppf(q, np.maximum(np.arange(MAX_SEEDS + 1) - 1, 1))


def predicted_bounds(d: float, seed_sd: float, item_sd: float, n: int, *, q: float = 0.95) -> tuple[float, float]:
    """The one-sided bounds at quantile q that n seeds would give, if the estimate and spreads stay as observed."""
    from scipy.special import ndtri

    t = float(_t_quantiles(q)[min(n, MAX_SEEDS)])
    h = float(np.hypot(t * seed_sd / np.sqrt(n), float(ndtri(q)) * item_sd))
    return d - h, d + h


def more_seeds(draws: Draws, decided: Callable[[float, float], bool]) -> int | None:
    """Additional seeds (beyond the ones the difference has) after which ``decided(lo, hi)`` is expected to hold.

    None when no count up to `MAX_SEEDS` would do (the difference sits at a margin, or the test set is too small),
    or when fewer than two seeds leave the seed spread unknown.
    """
    if draws.n < 2:
        return None
    for n in range(max(draws.n + 1, MIN_SEEDS), MAX_SEEDS + 1):
        if decided(*predicted_bounds(draws.point, draws.seed_sd, draws.item_sd, n)):
            return n - draws.n
    return None
