"""The noise of real runs, measured from stored observations, in the simulation harness' own terms.

The harness (`analysis.simulate`) draws a run's per-item correctness from three sources: a seed effect shared by
every level (sd ``seed_sd``, cancelled by pairing over seeds), a level-specific seed effect (``cell_sd``) and per-run
item noise on a fixed test set whose items share a latent easiness (correlation ``rho``). This module reads the same
three quantities off a real sweep, so the harness can be run at the noise users meet, not only at round numbers:

- **churn**: the share of test items on which two seeds of the same cell disagree (one right, one wrong). Per run,
  the item noise adds the variance E[q(1−q)]/n to the accuracy, and two independent runs disagree on an item with
  probability 2·q(1−q), so that variance is churn/(2n);
- **paired spread**: the variance of a seed's paired difference to its reference, 2·cell_sd² + 2·churn/(2n), gives
  cell_sd² = (var − churn/n)/2, the median over every (model, level) pair with ≥ 2 seeds (one diverged run inflates
  one pair's variance tenfold; the median keeps it from setting the noise of all);
- **seed spread**: the variance of a cell's per-seed accuracy, seed_sd² + cell_sd² + churn/(2n), gives seed_sd
  (the median over cells, likewise);
- **rho**: the latent correlation of the simulator that reproduces the measured churn at the measured accuracy.

Pure numpy/scipy, like the rest of the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helmholtz.analysis.observations import Observations
from helmholtz.errors import DataError


@dataclass(frozen=True)
class Noise:
    """Noise of one sweep, in the harness' terms (fractions, not pp)."""

    n_items: int                      # test items per run
    accuracy: float                   # mean accuracy over the cells measured
    churn: float                      # share of items two seeds of one cell disagree on
    paired_sd: float                  # sd of one seed's paired difference to its reference (median over pairs)
    seed_sd: float                    # the seed effect shared across levels
    cell_sd: float                    # the level-specific seed effect
    rho: float                        # the simulator's latent correlation that gives this churn
    pairs: int                        # (model, level) pairs the paired spread is pooled over
    cells: int                        # cells the churn and the seed spread are pooled over


def churn_of(rho: float, p: float, *, n: int = 200_000, seed: int = 0) -> float:
    """Churn the simulator gives at latent correlation ``rho`` and accuracy ``p``: P(two runs disagree on an item)."""
    from scipy.special import ndtr, ndtri

    e = np.random.default_rng(seed).standard_normal(n)
    if rho >= 1:
        return 0.0
    q = ndtr((rho * e - ndtri(1 - p)) / np.sqrt(1 - rho**2))       # P(correct | item easiness e)
    return float(np.mean(2 * q * (1 - q)))


def rho_for_churn(churn: float, p: float) -> float:
    """The latent correlation whose churn at accuracy p is ``churn`` (bisection; churn falls as rho rises)."""
    lo, hi = 0.0, 0.999
    if churn >= churn_of(lo, p):
        return lo
    if churn <= churn_of(hi, p):
        return hi
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if churn_of(mid, p) > churn else (lo, mid)
    return (lo + hi) / 2


def measured_noise(obs: Observations) -> Noise:
    """The harness' noise parameters measured on ``obs`` (needs per-item predictions and ≥ 2 seeds in some cell)."""
    if not obs.paired_items:
        raise DataError("measuring the noise needs per-item predictions, and these runs have none — fix: measure it "
                        "on a sweep that stored them (every sweep since per-item storage does)")
    churns, accs, seed_vars, n_items = [], [], [], None
    for cell in obs.cells.values():
        if cell.n < 2 or cell.correct is None:
            continue
        n_items = cell.correct.shape[1]
        rows = cell.correct.astype(float)
        pairs = [np.mean(rows[i] != rows[j]) for i in range(cell.n) for j in range(i + 1, cell.n)]
        churns.append(float(np.mean(pairs)))
        accs.append(cell.mean)
        seed_vars.append(float(np.var(cell.acc, ddof=1)))
    if not churns:
        raise DataError("measuring the noise needs a cell with ≥ 2 seeds, and every cell here has one — fix: run "
                        "more seeds")
    paired_vars = []
    for (model, level), cell in obs.cells.items():
        ref = obs.cells.get((model, "none"))
        if level == "none" or ref is None:
            continue
        common = sorted(set(cell.seeds) & set(ref.seeds))
        if len(common) < 2:
            continue
        d = [cell.acc[cell.seeds.index(s)] - ref.acc[ref.seeds.index(s)] for s in common]
        paired_vars.append(float(np.var(d, ddof=1)))
    churn, p = float(np.mean(churns)), float(np.mean(accs))
    item_var = churn / (2 * n_items)                  # one run's item-noise variance of its accuracy
    paired_var = float(np.median(paired_vars)) if paired_vars else float("nan")
    cell_var = max(0.0, (paired_var - 2 * item_var) / 2) if paired_vars else 0.0
    seed_var = max(0.0, float(np.median(seed_vars)) - cell_var - item_var)
    return Noise(n_items=n_items, accuracy=p, churn=churn, paired_sd=float(np.sqrt(paired_var)),
                 seed_sd=float(np.sqrt(seed_var)), cell_sd=float(np.sqrt(cell_var)), rho=rho_for_churn(churn, p),
                 pairs=len(paired_vars), cells=len(churns))
