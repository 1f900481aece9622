"""Epochs, honestly: the paper's epochs-to-converge on full windows, censoring shown, and still-improving runs.

- `epochs_to_converge` uses the paper's full 10-epoch window only (`train.convergence.convergence`, recomputed from
  the stored validation history). A run that ends before a full window qualifies is "≥ N (censored)", never a number.
- A run whose best validation epoch is its last, and that the epoch cap stopped, was **still improving**.
- A cell's summary is the median over its runs, with censored runs counted at their lower bound: when more than half
  are censored the median itself is only a bound ("≥ N"). No t-intervals of epoch counts; no value is dropped — the
  summary says how many runs had none.
- When more than a quarter of the runs were still improving at the cap, the analysis warns that the curve may
  reflect the training budget rather than the data — unless a training-budget check is attached
  (`analysis.budget`): then its statement (robust, sensitive or open) answers the question the warning asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from helmholtz.analysis.observations import Observations, RunInfo

#: share of still-improving runs above which the headline carries the under-trained warning
UNDER_TRAINED_SHARE = 0.25
#: how that warning begins (a training-budget check, when attached, replaces it)
UNDER_TRAINED = "under-trained:"


@dataclass(frozen=True)
class EpochSummary:
    """Epochs of one (model, level) cell."""

    model: str
    level: str
    display: str
    n: int                            # runs
    median: float | None              # median epochs to converge (a lower bound when `median_is_bound`)
    median_is_bound: bool
    censored: int                     # runs without a full converged window
    still_improving: int              # runs whose best epoch was the last, stopped by the cap
    best_epoch_median: float | None   # median epoch of the best validation accuracy (early stopping)
    epochs_run_median: float | None

    @property
    def text(self) -> str:
        if self.median is None:
            return "—"
        m = f"{self.median:g}"
        out = f"≥ {m}" if self.median_is_bound else m
        if self.censored:
            out += f" ({self.censored} of {self.n} censored)"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text}


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def summarise_cell(runs: Sequence[RunInfo], *, model: str, level: str, display: str) -> EpochSummary:
    values, bound = [], []
    for r in runs:
        if r.epochs_to_converge is not None:
            values.append(float(r.epochs_to_converge))
            bound.append(False)
        elif r.censored_at is not None:
            values.append(float(r.censored_at))
            bound.append(True)
    censored = sum(r.censored for r in runs)
    med = _median(values)
    # exact when the censored runs cannot move it: the median with them at +∞ is the same number
    upper = _median([np.inf if b else v for v, b in zip(values, bound, strict=True)])
    is_bound = med is not None and upper != med
    return EpochSummary(
        model=model, level=level, display=display, n=len(runs), median=med, median_is_bound=bool(is_bound),
        censored=censored, still_improving=sum(r.still_improving for r in runs),
        best_epoch_median=_median([r.best_epoch for r in runs if r.best_epoch is not None]),
        epochs_run_median=_median([r.epochs_run for r in runs if r.epochs_run is not None]),
    )


def epoch_summaries(obs: Observations) -> tuple[EpochSummary, ...]:
    """One summary per cell that has runs with epoch information, in the observations' order."""
    out = []
    for model in obs.models:
        for lv in obs.levels:
            runs = [r for r in obs.runs if r.model == model and r.level == lv.key]
            if runs:
                out.append(summarise_cell(runs, model=model, level=lv.key, display=lv.display))
    return tuple(out)


def under_trained(obs: Observations) -> tuple[int, int]:
    """(runs still improving at the epoch cap, runs with epoch information)."""
    known = [r for r in obs.runs if r.epochs_run is not None and r.epoch_cap is not None]
    return sum(r.still_improving for r in known), len(known)


def under_trained_warning(obs: Observations) -> str | None:
    improving, total = under_trained(obs)
    if total and improving > UNDER_TRAINED_SHARE * total:
        return (f"{UNDER_TRAINED} {improving} of {total} runs were still improving at the epoch cap, so the curve "
                "may reflect the training budget rather than the data; a training-budget check (--budget-check on "
                "an adaptive sweep, or the same cells at twice the epochs) tells whether the verdicts change")
    return None
