"""N_approx: per-level verdicts against the reference, tested in a fixed sequence, and the bits the task needs.

For one architecture and one codec:

- **Reference**: the architecture's own original (uncompressed) data; without an original in the sweep, its
  highest-bits level (and the result says so). Never "the best level": the best of noisy means is biased upward.
- **Verdict of a level**, from the paired difference d = acc(level) − acc(reference) and its one-sided 95 % bounds:
  *holds* when the lower bound is above −δ; *drops* when the upper bound is below −δ; otherwise *inconclusive*.
  A difference over fewer than 3 seeds is inconclusive ("too few seeds"); so is one whose reference is at chance.
- **Fixed-sequence testing**: the levels are tested from the most bits to the fewest and the procedure stops at the
  first level that does not hold. Each test is at α = 5 %; because a level is only tested when every level before it
  held, the family-wise error stays at 5 % without a multiplicity correction (Maurer, Hothorn & Lehmacher 1995).
- **N_approx** is the fewest-bits level of the unbroken run of "holds" (the reference itself when the first level
  does not hold). Status: ``found`` when the first level that does not hold *drops* (the boundary is bracketed);
  ``holds_everywhere`` when every level holds (the task needs at most the lowest level's bits: a bound, not a knee);
  ``undecided`` when an inconclusive level sits at the boundary — then `decide` says what would decide it.
- **At the margin**: on a smooth decline some level loses about δ itself, and no number of seeds decides on which
  side of δ it lies. Such a level — its 90 % interval inside (−2δ, 0), so it certainly loses accuracy and certainly
  less than 2δ, and no affordable seed count (`power.more_seeds`) decides it — *is* the boundary, to the precision
  the data allows. The walk passes it (and any further such levels) to the next level: when that one drops, the
  status is ``found``, bracketed by the last level that holds and the level that drops, with the margin levels
  named (``margin_levels``). N_approx stays the last level shown to hold: the claim is never "holds" for a level
  that was not shown to hold. Without a dropping level below, the status stays ``undecided``.
- **Open inside the bracket**: the same holds for any inconclusive levels followed by one that drops: the boundary
  is bracketed (``found``) by the last level that holds and that drop, whatever the open levels between them turn
  out to be; they are named (``open_levels``, with the seeds that would place each), and narrowing them is work
  for a budget that has runs left, not a condition of the answer. The claims are the fixed sequence's "holds" and
  one "drops" (the first decided level below the open ones), each at α = 5 %.
- **CI in bits**: in each bootstrap draw the same walk is made on the drawn differences (holds ⇔ d_b > −δ); the
  2.5–97.5 % quantiles of the boundary's bits over the draws, widened to include the estimate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import takewhile
from typing import Any, Literal

import numpy as np

from helmholtz.analysis.bootstrap import MIN_SEEDS, PairedBootstrap
from helmholtz.analysis.observations import REFERENCE, LevelInfo, Observations
from helmholtz.analysis.power import more_seeds
from helmholtz.analysis.tolerance import Tolerance

LevelVerdictName = Literal["holds", "drops", "inconclusive"]
Status = Literal["found", "holds_everywhere", "undecided"]


def chance_threshold(n_classes: int | None, n_test: int | None) -> float | None:
    """Accuracy at or below which a cell counts as chance: 1/classes plus two standard errors of that rate."""
    if not n_classes or n_classes < 2:
        return None
    p0 = 1.0 / n_classes
    se = np.sqrt(p0 * (1 - p0) / n_test) if n_test else 0.0
    return float(p0 + 2 * se)


def at_chance(obs: Observations, model: str, level: str) -> bool:
    cell = obs.cell(model, level)
    if cell is None:
        return False
    threshold = chance_threshold(obs.n_classes, cell.n_test)
    return threshold is not None and cell.mean <= threshold


@dataclass(frozen=True)
class LevelVerdict:
    """One level of one architecture against its reference."""

    model: str
    level: str
    display: str
    codec: str
    bits: float | None
    verdict: LevelVerdictName
    diff: float | None                 # acc(level) − acc(reference), a fraction (−0.012 = −1.2 pp)
    ci: tuple[float, float] | None     # the one-sided 95 % bounds (a two-sided 90 % interval)
    n_seeds: int                       # seeds the two cells have in common
    reference: str
    reason: str = ""                   # why there is no statistical verdict, when there is none
    more_seeds: int | None = None      # for an inconclusive verdict: seeds (in both cells) that would decide it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NApprox:
    """The bits one architecture needs with one codec."""

    model: str
    codec: str
    status: Status
    level: str | None                  # N_approx's level key (the reference when the first level does not hold)
    display: str
    bits: float | None                 # measured payload bits per pixel / kbps at N_approx
    bits_total: float | None
    compression_ratio: float | None    # raw / whole file
    ci_bits: tuple[float, float] | None
    reference: str
    reference_note: str
    boundary: tuple[str, str] | None   # (last level that holds, first that does not)
    open_level: str | None             # the inconclusive level at the boundary (status undecided)
    decide: str                        # what would decide (undecided) or narrow (found) the answer
    verdicts: tuple[LevelVerdict, ...] = field(default=())
    draws_holding: float | None = None # share of bootstrap draws whose boundary is at or below N_approx
    margin_levels: tuple[str, ...] = ()  # levels between the boundary's two that lose about δ itself (found)
    open_levels: tuple[str, ...] = ()    # other inconclusive levels between them (found): seeds would place them

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdicts"] = [v.to_dict() for v in self.verdicts]
        return d


def reference_of(obs: Observations, model: str, family: tuple[LevelInfo, ...]) -> tuple[str | None, str]:
    """(reference level key, note). The original when the model has it, else the family's highest-bits level."""
    if obs.cell(model, REFERENCE) is not None:
        return REFERENCE, ""
    have = [lv for lv in family if obs.cell(model, lv.key) is not None]
    if not have:
        return None, ""
    return have[0].key, (f"no original in this sweep: {have[0].display}, the highest-bits level, is the reference, "
                         "so N_approx is relative to it")


def level_verdict(boot: PairedBootstrap, model: str, lv: LevelInfo, ref: str, tolerance: Tolerance) -> LevelVerdict:
    obs = boot.obs
    base = dict(model=model, level=lv.key, display=lv.display, codec=lv.codec, bits=lv.bits, reference=ref)
    n = boot.common_seeds((model, lv.key), (model, ref))
    if n == 0:
        return LevelVerdict(**base, verdict="inconclusive", diff=None, ci=None, n_seeds=0,
                            reason="no seed in common with the reference")
    d = boot.diff((model, lv.key), (model, ref))
    if at_chance(obs, model, ref):
        return LevelVerdict(**base, verdict="inconclusive", diff=d.point, ci=None, n_seeds=n,
                            reason="the reference is at chance: the model learned nothing to lose")
    verdict, ci, reason = margin_verdict(d, n, tolerance)
    if ci is None:
        return LevelVerdict(**base, verdict=verdict, diff=d.point, ci=None, n_seeds=n, reason=reason,
                            more_seeds=MIN_SEEDS - n)
    extra = None
    if verdict == "inconclusive":
        extra = more_seeds(d, lambda lo_, hi_: lo_ > -tolerance.fraction or hi_ < -tolerance.fraction)
    return LevelVerdict(**base, verdict=verdict, diff=d.point, ci=ci, n_seeds=n, more_seeds=extra)


def margin_verdict(d, n: int, tolerance: Tolerance) -> tuple[LevelVerdictName, tuple[float, float] | None, str]:
    """The one rule for "does this difference stay within δ": (verdict, one-sided 95 % bounds, reason). Holds when
    the lower bound is above −δ, drops when the upper is below −δ, else inconclusive; under `MIN_SEEDS` common
    seeds there is no interval and the verdict is inconclusive."""
    if n < MIN_SEEDS:
        return "inconclusive", None, f"n = {n}, too few seeds for a verdict (needs ≥ {MIN_SEEDS})"
    lo, hi = d.interval(0.90)
    verdict: LevelVerdictName = ("holds" if lo > -tolerance.fraction else "drops" if hi < -tolerance.fraction
                                 else "inconclusive")
    return verdict, (lo, hi), ""


def _boundary_bits(boot: PairedBootstrap, obs: Observations, model: str, ref: str, walk: list[LevelInfo],
                   tolerance: Tolerance) -> np.ndarray | None:
    """Bits of the boundary in every bootstrap draw (the walk on drawn differences), or None without bits."""
    ref_bits = obs.level(ref).bits
    if ref_bits is None or any(lv.bits is None for lv in walk):
        return None
    if not walk:
        return np.full(boot.n_boot, ref_bits)
    holds = np.stack([boot.diff((model, lv.key), (model, ref)).draws(0.975) > -tolerance.fraction
                      for lv in walk])
    broken = ~holds
    first = np.where(broken.any(axis=0), broken.argmax(axis=0), len(walk))   # index of the first failing level
    bits = np.array([ref_bits, *(lv.bits for lv in walk)], dtype=float)
    return bits[first]          # first − 1 + 1: position 0 is the reference


def at_margin(v: LevelVerdict, tolerance: Tolerance) -> bool:
    """The level loses about δ itself: its 90 % interval inside (−2δ, 0) and no affordable seed count decides it."""
    return (v.verdict == "inconclusive" and v.ci is not None and v.more_seeds is None
            and -2 * tolerance.fraction < v.ci[0] and v.ci[1] < 0)


def pp_interval(diff: float, ci: tuple[float, float]) -> str:
    """'-0.6 pp [-1.2, +0.0]': a difference (a fraction) and its interval in percentage points."""
    return f"{100 * diff:+.1f} pp [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"


def margin_text(margins: tuple[LevelVerdict, ...]) -> str:
    """'q 25 loses about δ itself (−0.9 pp [−1.7, −0.2]): the boundary sits there within the noise'."""
    if not margins:
        return ""
    each = ", ".join(f"{v.display} ({pp_interval(v.diff, v.ci)})"
                     for v in margins if v.diff is not None and v.ci is not None)
    one = len(margins) == 1
    return (f"{each} lose{'s' if one else ''} about δ itself: the boundary sits "
            f"{'there' if one else 'among them'} within the noise, which no number of seeds narrows")


def open_text(inside: tuple[LevelVerdict, ...]) -> str:
    """'q 15 is open (−0.6 pp [−1.2, −0.0]; 1 more seed would place it)': inconclusive levels inside a bracket."""
    each = ", ".join(f"{v.display} ({pp_interval(v.diff, v.ci)}"
                     + (f"; {_n_seeds(v.more_seeds)} would place it)" if v.more_seeds is not None else ")")
                     for v in inside if v.diff is not None and v.ci is not None)
    return f"{each} {'is' if len(inside) == 1 else 'are'} still open inside the bracket" if each else ""


def _decide_text(obs: Observations, status: Status, open_v: LevelVerdict | None, boundary: tuple[str, str] | None,
                 ref: str, margins: tuple[LevelVerdict, ...] = (), inside: tuple[LevelVerdict, ...] = ()) -> str:
    if status == "found" and inside and boundary is not None:
        hold, below = (obs.level(k).display for k in boundary)
        said = "; ".join(t for t in (margin_text(margins), open_text(inside)) if t)
        return f"{below} drops; {said}" if boundary[0] == ref else f"{hold} holds and {below} drops; {said}"
    if margins and boundary is not None:      # margins come with a stop below them: a drop, or a decidable level
        hold, below = (obs.level(k).display for k in boundary)
        if status == "found":
            return f"{margin_text(margins)}; {hold} holds and {below} drops"
        if open_v is not None and open_v.more_seeds is not None:
            return (f"{margin_text(margins)}; {_n_seeds(open_v.more_seeds)} at {below} and "
                    f"{obs.level(ref).display} would show whether {below} drops")
    if status == "undecided" and open_v is not None:
        where = f"{open_v.display} and {obs.level(ref).display}"
        if open_v.reason and open_v.more_seeds is None:
            return open_v.reason
        if open_v.more_seeds is not None:
            return f"{_n_seeds(open_v.more_seeds)} at {where} would decide"
        return (f"{open_v.display} loses about the margin δ: no affordable number of seeds decides it (the boundary "
                f"is near {open_v.display}; more test items or a larger --tolerance would)")
    if status == "found" and boundary is not None:
        hold, drop = (obs.level(k).display for k in boundary)
        return f"the boundary lies between {hold} and {drop}"
    return ""


def _n_seeds(n: int) -> str:
    return f"{n} more seed{'s' if n != 1 else ''}"


def n_approx(boot: PairedBootstrap, model: str, codec: str, *, tolerance: Tolerance) -> NApprox | None:
    """N_approx of one architecture with one codec, or None when the model has no level of that codec to compare
    with its reference (a model trained at one level only, as the comparison model of a focused sweep: nothing was
    compared, so nothing holds)."""
    obs = boot.obs
    family = obs.family(codec)
    ref, note = reference_of(obs, model, family)
    if ref is None:
        return None
    walk = [lv for lv in family if lv.key != ref and obs.cell(model, lv.key) is not None]
    if not walk:
        return None
    verdicts = tuple(level_verdict(boot, model, lv, ref, tolerance) for lv in walk)
    at = next((i for i, v in enumerate(verdicts) if v.verdict != "holds"), len(verdicts))
    last_hold = walk[at - 1] if at > 0 else obs.level(ref)
    stop = verdicts[at] if at < len(verdicts) else None
    margins: tuple[LevelVerdict, ...] = ()
    inside: tuple[LevelVerdict, ...] = ()
    if stop is not None and stop.verdict == "inconclusive":
        run = tuple(takewhile(lambda v: v.verdict == "inconclusive", verdicts[at:]))
        after = verdicts[at + len(run)] if at + len(run) < len(verdicts) else None
        edge = tuple(takewhile(lambda v: at_margin(v, tolerance), run))
        if after is not None and after.verdict == "drops":
            inside, stop = run, after          # bracketed: the open levels lie between a hold and a drop
        elif edge and len(edge) < len(run) and run[len(edge)].more_seeds is not None:
            stop = run[len(edge)]              # decidable: seeds there can bracket the margin levels above it
            margins = edge
    margins = margins or tuple(v for v in inside if at_margin(v, tolerance))
    open_inside = tuple(v for v in inside if not at_margin(v, tolerance))
    if stop is None:
        status: Status = "holds_everywhere"
    elif stop.verdict == "drops":
        status = "found"
    else:
        status = "undecided"
    boundary = (last_hold.key, stop.level) if stop is not None else None
    bits = _boundary_bits(boot, obs, model, ref, walk, tolerance)
    ci = share = None
    if bits is not None and last_hold.bits is not None:
        lo, hi = np.quantile(bits, [0.025, 0.975], method="inverted_cdf")
        ci = (float(min(lo, last_hold.bits)), float(max(hi, last_hold.bits)))
        share = float(np.mean(bits <= last_hold.bits + 1e-12))
    return NApprox(
        model=model, codec=codec, status=status, level=last_hold.key, display=last_hold.display, bits=last_hold.bits,
        bits_total=last_hold.bits_total, compression_ratio=last_hold.compression_ratio, ci_bits=ci, reference=ref,
        reference_note=note, boundary=boundary, open_level=stop.level if status == "undecided" else None,
        decide=_decide_text(obs, status, stop, boundary, ref, margins, open_inside), verdicts=verdicts,
        draws_holding=share, margin_levels=tuple(v.level for v in margins),
        open_levels=tuple(v.level for v in open_inside),
    )
