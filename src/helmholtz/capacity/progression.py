"""How the requirement grows with the amount of data, and where it turns across compression levels — numpy only.

Progression: the requirement of nested subsets (5, 10, 20, 40, 80, 100 % of the training items, drawn by one seeded
permutation and kept in the data's order, so 100 % is the data exactly as given). Label changes that keep growing in
proportion to n mean the method sees the labels as random — the network would have to memorise them; changes that
flatten mean structure a network can learn. The growth is summarised by the exponent b of changes ∝ n^b (least
squares in log–log over the steps): about 1 for random labels, about 0 for separable data.

Turning point: across compression levels the requirement first falls (the codec removes noise the labels do not
depend on) and then rises (it removes content). Walking the levels from the most bits to the fewest, the turn is the
last level before the first one whose requirement rises more than ``tolerance`` (relative) above the lowest seen so
far — the same walk as the accuracy knee in `helmholtz.analysis.knee`, with "lower is better".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from helmholtz.capacity.requirement import Method, Requirement, as_features, capacity_requirement
from helmholtz.errors import ConfigError

FRACTIONS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)

#: growth exponents b (changes ∝ n^b) read as "proportional to n" and as "flat"
PROPORTIONAL_B, FLAT_B = 0.8, 0.3


@dataclass(frozen=True)
class Progression:
    """The requirement of nested subsets of the data, and how it grows."""

    method: str
    steps: tuple[Requirement, ...]
    fractions: tuple[float, ...]
    exponent: float | None            # b in changes ∝ n^b (log of changes + 1); None with fewer than two sizes
    verdict: str

    def to_dict(self) -> dict:
        return {
            "method": self.method, "exponent": self.exponent, "verdict": self.verdict,
            "steps": [{"fraction": f, **s.to_dict()} for f, s in zip(self.fractions, self.steps, strict=True)],
        }


def growth_exponent(n: Sequence[int], changes: Sequence[int]) -> float | None:
    """Slope of log(changes + 1) against log(n) by least squares; None when fewer than two distinct sizes."""
    ns = np.asarray(n, dtype=np.float64)
    if len(np.unique(ns)) < 2:
        return None
    cs = np.asarray(changes, dtype=np.float64) + 1.0
    return float(np.polyfit(np.log(ns), np.log(cs), 1)[0])


def growth_verdict(exponent: float | None) -> str:
    """Words for a growth exponent, with the thresholds stated."""
    if exponent is None:
        return "one size only: no growth measured"
    if exponent >= PROPORTIONAL_B:
        return f"grows in proportion to n (b = {exponent:.2f} ≥ {PROPORTIONAL_B}): the labels look random to this method; a network would have to memorise them"
    if exponent <= FLAT_B:
        return f"flattens (b = {exponent:.2f} ≤ {FLAT_B}): structure that a network can learn"
    return f"grows sub-linearly (b = {exponent:.2f}): part structure, part memorisation"


def requirement_progression(
    x: np.ndarray,
    y: np.ndarray,
    *,
    fractions: Sequence[float] = FRACTIONS,
    method: Method = "energy",
    seed: int = 0,
    **kwargs,
) -> Progression:
    """`capacity_requirement` on nested subsets of (x, y): for each fraction f, the first ⌈f·N⌉ items of one seeded
    permutation, kept in the data's order. ``kwargs`` go to `capacity_requirement` (sigdigits, projections, nn_dims)."""
    flat, labels = as_features(x, y)
    fr = tuple(float(f) for f in fractions)
    if not fr or any(not 0.0 < f <= 1.0 for f in fr):
        raise ConfigError(f"fractions must lie in (0, 1]; got {list(fr)}", where="--fractions", fix="e.g. 0.05,0.1,0.2,0.4,0.8,1")
    n = len(labels)
    n_classes = int(labels.max()) + 1
    perm = np.random.default_rng([seed, 0xF4AC]).permutation(n)
    steps = []
    for f in fr:
        m = max(2, int(np.ceil(f * n))) if n >= 2 else n
        idx = np.sort(perm[:m])
        steps.append(capacity_requirement(flat[idx], labels[idx], method=method, seed=seed, n_classes=n_classes, **kwargs))
    b = growth_exponent([s.n for s in steps], [s.changes for s in steps])
    return Progression(method=method, steps=tuple(steps), fractions=fr, exponent=b, verdict=growth_verdict(b))


@dataclass(frozen=True)
class TurningPoint:
    """Where the requirement turns across compression levels (indices refer to the caller's arrays)."""

    index: int                        # the turning level (the last level before the requirement rises)
    bits: float
    requirement: float
    lowest: float                     # the lowest requirement on the walk up to the rise
    found: bool                       # False: no rise within the grid; the level with the fewest bits is a bound
    rise_index: int | None            # the first level past the turn (its requirement is > tolerance above lowest)
    tolerance: float
    order: tuple[int, ...]            # the walk: indices from the most bits to the fewest
    rule: str

    def to_dict(self) -> dict:
        d = asdict(self)
        d["order"] = list(self.order)
        return d


TURN_RULE = ("walk the levels from the most bits to the fewest; the turn is the last level before the first whose "
             "requirement rises more than the tolerance (relative) above the lowest so far")


def turning_point(levels_bits: Sequence[float], requirement: Sequence[float], *, tolerance: float = 0.02) -> TurningPoint:
    """The training-free estimate of where the requirement turns: ``levels_bits`` are the levels' bits (per pixel
    or per second; the original with its raw bits), ``requirement`` one number per level (e.g. `max_bits` or
    `changes` at 100 % of the data). Ties in bits keep the given order. ``tolerance`` is relative (0.02 = 2 %)."""
    bits = np.asarray(levels_bits, dtype=np.float64)
    req = np.asarray(requirement, dtype=np.float64)
    if bits.ndim != 1 or req.shape != bits.shape or len(bits) == 0:
        raise ConfigError(f"need one requirement per level; got {len(bits)} levels and {req.size} values",
                          where="turning_point", fix="pass two equal-length sequences")
    if not (np.isfinite(bits).all() and np.isfinite(req).all()):
        raise ConfigError("bits and requirements must be finite", where="turning_point", fix="drop levels without stats")
    if tolerance < 0:
        raise ConfigError(f"tolerance must be ≥ 0; got {tolerance}", where="turning_point", fix="e.g. 0.02")
    order = np.argsort(-bits, kind="stable")
    lowest = req[order[0]]
    for pos in range(1, len(order)):
        value = req[order[pos]]
        if value > lowest * (1.0 + tolerance):
            i = int(order[pos - 1])
            return TurningPoint(index=i, bits=float(bits[i]), requirement=float(req[i]), lowest=float(lowest),
                                found=True, rise_index=int(order[pos]), tolerance=tolerance,
                                order=tuple(int(o) for o in order), rule=TURN_RULE)
        lowest = min(lowest, value)
    i = int(order[-1])
    return TurningPoint(index=i, bits=float(bits[i]), requirement=float(req[i]), lowest=float(lowest), found=False,
                        rise_index=None, tolerance=tolerance, order=tuple(int(o) for o in order), rule=TURN_RULE)


def compare_with_knee(turn: TurningPoint, knee_index: int | None) -> str:
    """One honest sentence on whether the training-free turn agrees with the trained knee N_approx, counted in
    grid steps along the same walk (``knee_index`` indexes the same level arrays; None = no knee found)."""
    pos = {idx: p for p, idx in enumerate(turn.order)}
    if knee_index is None or knee_index not in pos:
        return "no trained knee to compare with"
    steps = pos[knee_index] - pos[turn.index]
    where = "at the same level as" if steps == 0 else (
        f"{abs(steps)} level{'s' if abs(steps) > 1 else ''} {'above (more bits than)' if steps > 0 else 'below (fewer bits than)'}")
    bound = "" if turn.found else " (the requirement never rose on this grid, so the turn is only a bound)"
    verdict = "agrees with" if steps == 0 else ("is next to" if abs(steps) == 1 else "disagrees with")
    return f"the training-free turn {verdict} the trained knee: it lies {where} the knee{bound}"
