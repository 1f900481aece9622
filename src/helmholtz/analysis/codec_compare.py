"""Codecs compared for one task: BD-rate and BD-accuracy between the accuracy-vs-measured-bits curves of a
multi-codec sweep, with joint bootstrap intervals. Pure numpy/scipy, no torch.

For each architecture and each pair of codecs (A, the one listed first in the sweep, against B), the curve of a
codec is its levels' measured payload bits (per pixel or per second, `LevelInfo.bits`) and the architecture's
mean test accuracy at each level; the original is not on either curve. `analysis.bdrate` gives:

- **BD-rate**: the percentage of bits B needs relative to A at equal accuracy, over the accuracy range both curves
  cover (−38 % = B keeps the accuracy with 38 % fewer bits);
- **BD-accuracy**: the accuracy B gains over A at equal bits, over the bit range both cover (a fraction).

The intervals come from the one paired bootstrap (`analysis.bootstrap`): draw b of every level of both curves is
read off the same seed and item weights (`PairedBootstrap.cell(...).draws(0.975)`), so each draw is a joint draw of
both curves and the 2.5–97.5 % quantiles of the per-draw deltas are a joint two-sided 95 % interval. A delta over
cells with fewer than 3 seeds has no interval. ``overlap`` is the share of the joint accuracy range both curves
cover (BD-rate's); below 75 % (or when some draws do not overlap at all) the comparison carries a warning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np

from helmholtz.analysis.bdrate import MIN_OVERLAP, Method, bd_accuracy, bd_rate
from helmholtz.analysis.bootstrap import MIN_SEEDS, PairedBootstrap
from helmholtz.analysis.observations import Observations

#: share of bootstrap draws that must give a finite delta for its interval to be reported
MIN_FINITE = 0.95


@dataclass(frozen=True)
class CodecComparison:
    """B against A for one architecture. ``bd_rate`` in percent (negative: B needs fewer bits); ``bd_accuracy``
    a fraction (positive: B is more accurate at equal bits); ``*_ci`` two-sided 95 %; None where not computable."""

    model: str
    a: str
    b: str
    bd_rate: float | None
    bd_rate_ci: tuple[float, float] | None
    bd_accuracy: float | None
    bd_accuracy_ci: tuple[float, float] | None
    overlap: float | None              # share of the joint accuracy range both curves cover (BD-rate's)
    n_levels: tuple[int, int]          # levels on each curve
    method: str
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("bd_rate_ci", "bd_accuracy_ci", "n_levels"):
            d[key] = None if d[key] is None else list(d[key])
        return d


def _curve(obs: Observations, boot: PairedBootstrap, model: str, codec: str, draws: bool
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(bits, mean accuracy, draws × levels or None) of one architecture's curve for one codec."""
    levels = [lv for lv in obs.family(codec) if lv.bits is not None and obs.cell(model, lv.key) is not None]
    bits = np.array([lv.bits for lv in levels], dtype=float)
    acc = np.array([obs.cell(model, lv.key).mean for lv in levels], dtype=float)
    if not draws or any(obs.cell(model, lv.key).n < MIN_SEEDS for lv in levels):
        return bits, acc, None
    return bits, acc, np.stack([boot.cell(model, lv.key).draws(0.975) for lv in levels], axis=1)


def _ci(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if len(finite) < MIN_FINITE * len(values) or not len(finite):
        return None
    lo, hi = np.quantile(finite, [0.025, 0.975])
    return float(lo), float(hi)


def _number(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def compare_pair(obs: Observations, boot: PairedBootstrap, model: str, a: str, b: str, *,
                 method: Method = "pchip", draws: bool = True) -> CodecComparison:
    """BD-rate and BD-accuracy of codec ``b`` against codec ``a`` for ``model``, with joint bootstrap CIs."""
    ra, ya, da = _curve(obs, boot, model, a, draws)
    rb, yb, db = _curve(obs, boot, model, b, draws)
    base = dict(model=model, a=a, b=b, n_levels=(len(ra), len(rb)), method=method)
    if len(ra) < 2 or len(rb) < 2:
        return CodecComparison(**base, bd_rate=None, bd_rate_ci=None, bd_accuracy=None, bd_accuracy_ci=None,
                               overlap=None, warning=f"{model}: a BD comparison needs ≥ 2 levels with finished runs "
                                                     f"on each curve ({a} has {len(ra)}, {b} has {len(rb)})")
    rate, accuracy = bd_rate(ra, ya, rb, yb, method=method), bd_accuracy(ra, ya, rb, yb, method=method)
    rate_ci = acc_ci = None
    notes = []
    if da is not None and db is not None:
        rate_draws, acc_draws = bd_rate(ra, da, rb, db, method=method), bd_accuracy(ra, da, rb, db, method=method)
        rate_ci, acc_ci = _ci(np.asarray(rate_draws.value)), _ci(np.asarray(acc_draws.value))
        nan = int(np.isnan(np.asarray(rate_draws.value)).sum())
        if rate_ci is None and np.isfinite(rate.value):
            notes.append(f"BD-rate has no value in {nan} of {len(da)} bootstrap draws (the accuracy ranges stop "
                         "overlapping, or a curve is flat): no interval")
    else:
        notes.append(f"fewer than {MIN_SEEDS} seeds in some level: no interval")
    return CodecComparison(**base, bd_rate=_number(rate.value), bd_rate_ci=rate_ci,
                           bd_accuracy=_number(accuracy.value), bd_accuracy_ci=acc_ci,
                           overlap=float(rate.overlap_fraction),
                           warning="; ".join(_overlap_notes(rate, accuracy) + notes) or None)


def _overlap_notes(rate, accuracy) -> list[str]:
    """One short clause per delta that rests on too little shared range (or has none)."""
    parts = []
    if not np.isfinite(rate.value):
        parts.append("BD-rate undefined: the accuracy ranges do not overlap, or a curve is flat after the monotone fit")
    elif rate.overlap_fraction < MIN_OVERLAP:
        parts.append(f"BD-rate over only {rate.overlap_fraction:.0%} of the joint accuracy range")
    if not np.isfinite(accuracy.value):
        parts.append("BD-accuracy undefined: the bit ranges do not overlap")
    elif accuracy.overlap_fraction < MIN_OVERLAP:
        parts.append(f"BD-accuracy over only {accuracy.overlap_fraction:.0%} of the joint bit range")
    if parts:
        parts[-1] += " (add levels so the curves overlap)"
    return parts


def compare_codecs(obs: Observations, boot: PairedBootstrap, *, method: Method = "pchip",
                   draws: bool = True) -> tuple[CodecComparison, ...]:
    """Every pair of the sweep's codecs (the earlier-listed one as A) for every architecture; () for one codec."""
    codecs = obs.codecs()
    return tuple(compare_pair(obs, boot, m, a, b, method=method, draws=draws)
                 for m in obs.models for a, b in combinations(codecs, 2))


# ---------------------------------------------------------------- words


def _title(codec: str) -> str:
    from helmholtz.codecs.registry import CODECS

    return CODECS[codec].title if codec in CODECS else codec


def _percent_text(c: CodecComparison) -> tuple[str, list[str]]:
    """('38 % [29, 46] fewer', qualifiers): the BD-rate as bits saved (or needed extra), its interval in the same
    direction when the interval does not cross 0; else the interval spelt out as inconclusive."""
    r = c.bd_rate
    fewer = r < 0
    main = f"{abs(r):.0f} %"
    extra: list[str] = []
    if c.bd_rate_ci is None:
        extra.append("no interval")
    else:
        lo, hi = c.bd_rate_ci
        if hi < 0 or lo > 0:
            a, b = sorted((abs(lo), abs(hi)))
            main += f" [{a:.0f}, {b:.0f}]"
        else:
            extra.append(f"95% CI from {abs(lo):.0f} % fewer to {hi:.0f} % more: inconclusive")
    if c.overlap is not None and c.overlap < MIN_OVERLAP:
        extra.append(f"over only {c.overlap:.0%} of the accuracy range")
    return f"{main} {'fewer' if fewer else 'more'}", extra


def headline_text(comparisons: tuple[CodecComparison, ...], *, model: str | None, first: str | None) -> str:
    """'AVIF keeps A's accuracy at 38 % [29, 46] fewer bits than JPEG; JPEG XL 21 % [12, 30] fewer' for the
    headline architecture, every codec against the sweep's first (intervals that cross 0 are called
    inconclusive, small overlaps are named); '' when there is nothing to say."""
    rows = [c for c in comparisons if c.model == model and c.a == first and c.bd_rate is not None]
    if not rows:
        return ""
    parts = []
    for i, c in enumerate(rows):
        main, extra = _percent_text(c)
        more = f" ({'; '.join(extra)})" if extra else ""
        if i:
            parts.append(f"{_title(c.b)} {main}{more}")
        elif c.bd_rate < 0:
            parts.append(f"{_title(c.b)} keeps {model}'s accuracy at {main} bits than {_title(c.a)}{more}")
        else:
            parts.append(f"{_title(c.b)} needs {main} bits than {_title(c.a)} for {model}'s accuracy{more}")
    return "BD-rate on measured payload bits, 95% CI: " + "; ".join(parts)


def overlap_warnings(comparisons: tuple[CodecComparison, ...], *, model: str | None) -> list[str]:
    """The headline architecture's comparisons that rest on too little overlap (or could not be computed)."""
    out = []
    for c in comparisons:
        if c.model == model and c.warning and (c.overlap is None or c.overlap < MIN_OVERLAP or c.bd_rate is None):
            out.append(f"{_title(c.b)} vs {_title(c.a)} ({c.model}): {c.warning}")
    return out


__all__ = ["CodecComparison", "compare_codecs", "compare_pair", "headline_text", "overlap_warnings"]
