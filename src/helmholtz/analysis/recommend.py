"""The recommendation: how far to compress the training data, and how small a model to train on it.

The level is the knee N_approx of the envelope curve (the most compression at which some architecture is still
within δ of the best cell, by the walk rule of `knee.py`, so a lucky mean past the collapse is never recommended).
At that level we take the smallest architecture whose mean test accuracy is within δ of the best overall cell.
Savings are stated against training the largest architecture on the uncompressed original: storage (bytes),
bits per pixel (kbps), parameters, epochs and wall time — each None when the sweep lacks what it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from helmholtz.analysis.bits import BitsAtLevel, bits_at_level
from helmholtz.analysis.stats import CellStats, EpochMetric, Interval, find_cell
from helmholtz.analysis.table import REFERENCE, Grid


@dataclass(frozen=True)
class Savings:
    """Recommended cell against the baseline (largest architecture on the original). Ratios are baseline / ours."""

    storage_ratio: float | None       # bytes of the raw original / bytes of the compressed files
    payload_ratio: float | None       # raw bits / entropy-coded payload bits
    params_ratio: float | None
    epochs_baseline: float | None
    epochs_ours: float | None
    epochs_saved: float | None        # fraction of the baseline's epochs not needed (0.35 = 35 % fewer)
    wall_baseline_s: float | None
    wall_ours_s: float | None
    wall_saved: float | None          # fraction of the baseline's training time not needed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Recommendation:
    """The level and architecture to train with, its accuracy, its bits, and the savings."""

    label: str
    Q: float | None
    arch: str
    n_params: int | None
    acc: Interval
    tolerance_pp: float
    best_arch: str                    # the best overall cell
    best_label: str
    best_acc: float
    baseline_arch: str | None         # largest architecture on the original, when the sweep has it
    baseline_acc: Interval | None
    bits: BitsAtLevel
    savings: Savings
    epoch_metric: EpochMetric
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _saved(base: float | None, ours: float | None) -> float | None:
    return None if base is None or ours is None or base == 0 else 1.0 - ours / base


def recommend(cells: Sequence[CellStats], grid: Grid, *, knee_label: str, tolerance_pp: float,
              metric: EpochMetric) -> Recommendation | None:
    """Smallest architecture within δ of the best cell at the knee level; None when the sweep has no cells."""
    if not cells:
        return None
    best = max(cells, key=lambda c: c.acc.mean)
    delta = tolerance_pp / 100
    here = [c for c in cells if c.label == knee_label]
    ok = [c for c in here if c.acc.mean >= best.acc.mean - delta] or sorted(here, key=lambda c: -c.acc.mean)[:1]
    assert ok, "the knee is a level of the curve, so it has at least one cell"
    pick = ok[0]                              # cells come smallest architecture first
    notes = []
    if pick.flagged:
        notes.append(f"{pick.arch} at {grid.name(pick.label)} has one seed (n<2): run more seeds for a CI")
    largest = max((c.arch for c in cells if c.n_params is not None), default=None,
                  key=lambda a: next(c.n_params for c in cells if c.arch == a))
    base = find_cell(cells, largest, REFERENCE) if largest is not None else None
    if base is None:
        notes.append("no baseline: the sweep has no run of the largest architecture on the original ('none'), "
                     "so epochs and time savings are not stated")
    lv = grid.get(pick.label)
    bits = bits_at_level(lv.stats if lv else None, label=pick.label, codec=grid.codec, level=pick.level)
    if lv is not None and lv.stats is None and not lv.is_reference:
        notes.append(f"no measured bits stored for {grid.name(pick.label)} yet")
    e_base, e_ours = (None if c is None or c.epochs(metric) is None else c.epochs(metric).mean for c in (base, pick))
    w_base, w_ours = (None if c is None or c.wall_s is None else c.wall_s.mean for c in (base, pick))
    savings = Savings(
        storage_ratio=bits.compression_ratio, payload_ratio=bits.payload_ratio,
        params_ratio=(base.n_params / pick.n_params) if base and base.n_params and pick.n_params else None,
        epochs_baseline=e_base, epochs_ours=e_ours, epochs_saved=_saved(e_base, e_ours),
        wall_baseline_s=w_base, wall_ours_s=w_ours, wall_saved=_saved(w_base, w_ours),
    )
    return Recommendation(
        label=pick.label, Q=pick.Q, arch=pick.arch, n_params=pick.n_params, acc=pick.acc,
        tolerance_pp=float(tolerance_pp), best_arch=best.arch, best_label=best.label, best_acc=best.acc.mean,
        baseline_arch=largest if base is not None else None, baseline_acc=base.acc if base else None,
        bits=bits, savings=savings, epoch_metric=metric, notes=tuple(notes),
    )
