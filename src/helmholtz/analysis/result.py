"""What an analysis found: `Analysis` (every verdict, interval and the headline) and its JSON contract. Pure data.

`analyze.py` computes it, `headline.py` words it, the report draws it; keeping the data here lets each of them import
it without importing the others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from helmholtz.analysis.budget import BudgetCheck
from helmholtz.analysis.codec_compare import CodecComparison
from helmholtz.analysis.collapse import Collapse
from helmholtz.analysis.compare import Comparison, Recommendation
from helmholtz.analysis.epochs import EpochSummary
from helmholtz.analysis.fit import LogFit
from helmholtz.analysis.observations import Observations
from helmholtz.analysis.tolerance import Tolerance
from helmholtz.analysis.verdicts import NApprox


@dataclass(frozen=True)
class CellSummary:
    """One (model, level) cell: mean test accuracy over its seeds and its 95 % interval (≥ 3 seeds only)."""

    model: str
    level: str
    display: str
    bits: float | None
    acc: float
    ci: tuple[float, float] | None     # two-sided 95 %, within [0, 1]; None with fewer than 3 seeds
    n: int
    at_chance: bool

    @property
    def text(self) -> str:
        if self.ci is None:
            return f"{100 * self.acc:.1f}% (n = {self.n}, too few for an interval)"
        return f"{100 * self.acc:.1f}% [{100 * self.ci[0]:.1f}, {100 * self.ci[1]:.1f}] n = {self.n}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text}


@dataclass(frozen=True)
class Analysis:
    """The analysis of one sweep (or one imported table)."""

    obs: Observations
    tolerance: Tolerance                      # the margin δ (JSON: "tolerance_pp", percentage points)
    n_boot: int
    seed: int
    cells: tuple[CellSummary, ...]
    headline_model: str | None
    n_approx: NApprox | None
    n_approx_all: tuple[NApprox, ...]
    collapse: Collapse | None
    collapses: tuple[Collapse, ...]
    pair: tuple[str, str] | None
    compare_level: str | None
    comparisons: tuple[Comparison, ...]
    headline_comparison: Comparison | None
    recommendation: Recommendation | None
    epochs: tuple[EpochSummary, ...]
    fits: dict[str, LogFit]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    headline: str = field(default="")
    codec_comparisons: tuple[CodecComparison, ...] = ()   # BD-rate/BD-accuracy between codecs, several codecs only
    budget_check: BudgetCheck | None = None   # the same verdicts at a longer training budget? (tables with epochs)
    matrix: Any = None                        # `analysis.matrix.Matrix`: train × test level, when cross-evaluated

    @property
    def tolerance_pp(self) -> float:
        """δ in percentage points, as the JSON and the API's keywords name it."""
        return self.tolerance.pp

    @property
    def partial(self) -> bool:
        return self.obs.n_expected is not None and self.obs.n_done < self.obs.n_expected

    def to_json(self) -> dict[str, Any]:
        """The stable JSON contract (differences are accuracy fractions: −0.012 means −1.2 pp)."""
        na = self.n_approx
        col = self.collapse
        return {
            "headline": self.headline,
            "n_approx": None if na is None else {
                "status": na.status, "level": na.level, "bits": na.bits,
                "ci_bits": list(na.ci_bits) if na.ci_bits else None, "model": na.model, "codec": na.codec,
                "display": na.display, "bits_total": na.bits_total, "compression_ratio": na.compression_ratio,
                "reference": na.reference, "boundary": list(na.boundary) if na.boundary else None,
                "decide": na.decide,
            },
            "n_approx_by_model": [_na_short(x) for x in self.n_approx_all],
            "collapse": None if col is None else {
                "detected": col.detected, "bits": col.bits, "ci_bits": list(col.ci_bits) if col.ci_bits else None,
                "model": col.model, "codec": col.codec, "p_value": col.p_value,
                "slope_pp_per_halving": col.slope_pp_per_halving,
                "slope_ci": list(col.slope_ci) if col.slope_ci else None, "reason": col.reason,
            },
            "levels": [
                {"model": v.model, "level": v.level, "codec": v.codec, "bits": v.bits, "verdict": v.verdict,
                 "diff": v.diff, "ci": list(v.ci) if v.ci else None, "n_seeds": v.n_seeds,
                 "more_seeds": v.more_seeds, "reason": v.reason}
                for x in self.n_approx_all for v in x.verdicts
            ],
            "comparisons": [
                {"level": c.level, "a": c.a, "b": c.b, "verdict": c.verdict, "diff": c.diff,
                 "ci": list(c.ci) if c.ci else None, "seeds_to_decide": c.seeds_to_decide, "n_seeds": c.n_seeds,
                 "reason": c.reason}
                for c in self.comparisons
            ],
            "compare_at": self.compare_level,
            "recommendation": None if self.recommendation is None else self.recommendation.to_dict(),
            "epochs": [
                {"model": e.model, "level": e.level, "median": e.median, "median_is_bound": e.median_is_bound,
                 "censored": e.censored, "still_improving": e.still_improving, "n": e.n, "text": e.text}
                for e in self.epochs
            ],
            "codecs": [c.to_dict() for c in self.codec_comparisons],
            "cells": [{"model": c.model, "level": c.level, "acc": c.acc, "ci": list(c.ci) if c.ci else None,
                       "n": c.n, "at_chance": c.at_chance} for c in self.cells],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "budget_check": None if self.budget_check is None else self.budget_check.to_json(),
            "matrix": None if self.matrix is None else self.matrix.to_dict(),
            "tolerance_pp": self.tolerance.pp, "n_boot": self.n_boot, "seed": self.seed,
            "paired_items": self.obs.paired_items, "unit": self.obs.unit,
            "n_done": self.obs.n_done, "n_failed": self.obs.n_failed, "n_expected": self.obs.n_expected,
        }


def _na_short(x: NApprox) -> dict[str, Any]:
    return {"model": x.model, "codec": x.codec, "status": x.status, "level": x.level, "bits": x.bits,
            "ci_bits": list(x.ci_bits) if x.ci_bits else None, "decide": x.decide}
