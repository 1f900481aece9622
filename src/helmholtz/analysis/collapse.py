"""Collapse or smooth decline? A hinge against the paper's smooth curve, on accuracy vs log₂(measured bits).

Two models are fitted (weighted least squares, weights 1/variance of each level's mean from the bootstrap) to the
mean accuracy of one architecture at each level of one codec, the original included, against x = log₂(bits):

- **smooth**: y = a + c·x — the paper's Fig. 3 curve, accuracy linear in the log of the information left;
- **hinge**: y = a + c·min(0, x − x*) — flat down to b* = 2^x*, then falling linearly in log₂ bits. The break x*
  is searched over the whole measured range, so the hinge contains the flat and the smooth line as its end cases and
  never fits worse: the improvement ΔSSE = SSE(smooth) − SSE(hinge) ≥ 0 is the test statistic.

Pre-registered criterion (fixed before any data; tested on simulations in tests/test_analysis_simulated.py): a
collapse is claimed only when all of these hold —

1. at least 5 levels (the original included) and at least 2 on each side of b*;
2. a parametric bootstrap under the smooth model (its fit plus the joint bootstrap noise of the level means, so the
   seeds' and items' correlation across levels is kept) makes an improvement as large as the observed one in fewer
   than 1 % of draws (p < 0.01);
3. the hinge falls as the bits fall (c > 0) by at least δ between b* and the lowest level.

The CI of b* is the 2.5–97.5 % range of the hinge's break refitted to each bootstrap draw. Without a collapse the
smooth fit's slope is reported as "c pp per halving of the bits" with its bootstrap interval. R² and Kneedle are not
evidence of a knee and take no part.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from helmholtz.analysis.bootstrap import PairedBootstrap
from helmholtz.analysis.observations import REFERENCE
from helmholtz.analysis.tolerance import Tolerance

#: significance level of the collapse test (pre-registered)
ALPHA = 0.01
#: fewest levels (the original included) the test is run on
MIN_LEVELS = 5
#: candidate breaks between the lowest and the highest measured bits
_N_BREAKS = 97


@dataclass(frozen=True)
class Collapse:
    """The collapse test of one architecture with one codec."""

    model: str
    codec: str
    detected: bool
    bits: float | None                 # b*: where the hinge breaks (only when detected)
    ci_bits: tuple[float, float] | None
    p_value: float | None
    slope_pp_per_halving: float | None  # smooth fit: accuracy lost per halving of the bits, percentage points
    slope_ci: tuple[float, float] | None
    drop_pp: float | None              # the hinge's fall from b* to the lowest level, percentage points
    n_levels: int
    reason: str                        # why there is no test, or what the test says

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fit2(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares of y = a + c·z for every row of y (B × L) and every basis row of z (K × L), in
    closed form: (a, c, SSE), each B × K. A basis without spread (z constant) fits the mean with c = 0."""
    s0 = w.sum()
    s1 = z @ w                                           # K
    s2 = (z**2) @ w                                      # K
    t0 = y @ w                                           # B
    t1 = (y * w) @ z.T                                   # B × K
    det = s0 * s2 - s1**2
    ok = det > 1e-12 * max(1.0, float(np.max(np.abs(s2))) * s0)
    c = np.where(ok, (s0 * t1 - s1 * t0[:, None]) / np.where(ok, det, 1.0), 0.0)
    a = (t0[:, None] - c * s1) / s0
    sse = ((y**2) @ w)[:, None] - a * t0[:, None] - c * t1
    return a, c, np.maximum(sse, 0.0)


def _linear(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, c, sse = _fit2(x[None, :], y, w)
    return a[:, 0], c[:, 0], sse[:, 0]


def _hinge(x: np.ndarray, y: np.ndarray, w: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best hinge per row of y: (SSE, break x*, slope c)."""
    z = np.minimum(0.0, x[None, :] - breaks[:, None])    # K × L
    _, c, sse = _fit2(z, y, w)
    best = np.argmin(sse, axis=1)
    rows = np.arange(y.shape[0])
    return sse[rows, best], breaks[best], c[rows, best]


def collapse_test(boot: PairedBootstrap, model: str, codec: str, *, tolerance: Tolerance) -> Collapse:
    obs = boot.obs
    levels = [lv for lv in (obs.level(REFERENCE) if obs.has_level(REFERENCE) else None, *obs.family(codec))
              if lv is not None and obs.cell(model, lv.key) is not None]
    base = dict(model=model, codec=codec, n_levels=len(levels))
    empty = dict(bits=None, ci_bits=None, p_value=None, drop_pp=None)
    if any(lv.bits is None or lv.bits <= 0 for lv in levels):
        return Collapse(**base, **empty, detected=False, slope_pp_per_halving=None, slope_ci=None,
                        reason="no measured bits for every level: the collapse test needs them")
    x = np.log2([lv.bits for lv in levels])
    draws = np.stack([boot.cell(model, lv.key).draws(0.975) for lv in levels], axis=1)   # B × L, joint
    y = np.array([obs.cell(model, lv.key).mean for lv in levels])
    var = draws.var(axis=0, ddof=1)
    w = 1.0 / np.maximum(var, max(float(np.median(var)) * 1e-3, 1e-12))
    lin_a, lin_c, lin_sse = _linear(x, y[None, :], w)
    slopes = _linear(x, draws, w)[1]
    slope = float(lin_c[0]) * 100
    slope_ci = tuple(float(v) * 100 for v in np.quantile(slopes, [0.025, 0.975]))
    smooth = dict(slope_pp_per_halving=slope, slope_ci=slope_ci)
    if len(levels) < MIN_LEVELS or np.ptp(x) == 0:
        return Collapse(**base, **empty, **smooth, detected=False,
                        reason=f"{len(levels)} levels: too few to tell a collapse from a smooth decline "
                               f"(the test needs ≥ {MIN_LEVELS}, the original included)")
    breaks = np.linspace(x.min(), x.max(), _N_BREAKS)
    h_sse, h_x, h_c = _hinge(x, y[None, :], w, breaks)
    gain = float(lin_sse[0] - h_sse[0])
    null = (lin_a[0] + lin_c[0] * x)[None, :] + (draws - y[None, :])   # smooth truth + the data's own noise
    null_gain = _linear(x, null, w)[2] - _hinge(x, null, w, breaks)[0]
    p = float((1 + np.sum(null_gain >= gain - 1e-15)) / (len(null_gain) + 1))
    xb, c = float(h_x[0]), float(h_c[0])
    drop = c * (xb - x.min()) * 100
    below, above = int(np.sum(x < xb - 1e-9)), int(np.sum(x >= xb - 1e-9))
    detected = p < ALPHA and c > 0 and drop >= tolerance.pp and below >= 2 and above >= 2
    ci = None
    if detected:
        b_x = _hinge(x, draws, w, breaks)[1]
        ci = tuple(float(2.0**v) for v in np.quantile(b_x, [0.025, 0.975]))
        reason = f"the hinge fits clearly better than the smooth curve (p = {p:.3f} < {ALPHA})"
    elif p >= ALPHA:
        reason = f"the hinge does not fit clearly better than the smooth curve (p = {p:.2f} ≥ {ALPHA})"
    else:
        reason = (f"the hinge fits better (p = {p:.3f}) but is not a collapse: it "
                  + ("does not fall as the bits fall" if c <= 0 else
                     f"falls only {drop:.1f} pp (< δ)" if drop < tolerance.pp
                     else "has too few levels on one side"))
    return Collapse(**base, detected=detected, bits=float(2.0**xb) if detected else None, ci_bits=ci, p_value=p,
                    drop_pp=drop if detected else None, **smooth, reason=reason)
