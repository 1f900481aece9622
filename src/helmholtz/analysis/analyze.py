"""`analyze`: everything the report says, from one `Observations` and one paired bootstrap.

Order of work: the bootstrap draws (`bootstrap.py`) → per-cell accuracy with its interval → per architecture and
codec, the level verdicts and N_approx (`verdicts.py`) and the collapse test (`collapse.py`) → the model comparison
at every level and at the pre-set level (`compare.py`) → the recommendation with its two effects → epochs
(`epochs.py`) → with several codecs, BD-rate and BD-accuracy between them (`codec_compare.py`) → warnings → the
headline (`headline.py`). `Analysis.to_json()` is the stable machine-readable form (`helmholtz report --json`,
`helmholtz analyze --json`).

The headline reports the architecture with the best accuracy on the original (or ``model=``) and the first codec of
the sweep, then (several codecs) the N_approx of every codec and each codec's BD-rate against the first; every
architecture's and codec's N_approx is in the tables and the JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from helmholtz.analysis.bootstrap import MIN_SEEDS, N_BOOT, PairedBootstrap
from helmholtz.analysis.codec_compare import CodecComparison, compare_codecs, overlap_warnings
from helmholtz.analysis.collapse import Collapse, collapse_test
from helmholtz.analysis.compare import (
    Comparison,
    Recommendation,
    compare,
    compare_at,
    default_pair,
    recommend,
)
from helmholtz.analysis.epochs import EpochSummary, epoch_summaries, under_trained_warning
from helmholtz.analysis.fit import LogFit, fit_log_curve
from helmholtz.analysis.observations import REFERENCE, Observations
from helmholtz.analysis.verdicts import NApprox, at_chance, chance_threshold, n_approx
from helmholtz.errors import ConfigError

#: the largest margin δ accepted, in percentage points
MAX_TOLERANCE_PP = 50.0


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
    tolerance_pp: float
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
            "tolerance_pp": self.tolerance_pp, "n_boot": self.n_boot, "seed": self.seed,
            "paired_items": self.obs.paired_items, "unit": self.obs.unit,
            "n_done": self.obs.n_done, "n_failed": self.obs.n_failed, "n_expected": self.obs.n_expected,
        }


def _na_short(x: NApprox) -> dict[str, Any]:
    return {"model": x.model, "codec": x.codec, "status": x.status, "level": x.level, "bits": x.bits,
            "ci_bits": list(x.ci_bits) if x.ci_bits else None, "decide": x.decide}


def _cells(obs: Observations, boot: PairedBootstrap) -> tuple[CellSummary, ...]:
    out = []
    for model in obs.models:
        for lv in obs.levels:
            c = obs.cell(model, lv.key)
            if c is None:
                continue
            ci = boot.cell(model, lv.key).interval(0.95) if c.n >= MIN_SEEDS else None
            out.append(CellSummary(model=model, level=lv.key, display=lv.display, bits=lv.bits, acc=c.mean, ci=ci,
                                   n=c.n, at_chance=at_chance(obs, model, lv.key)))
    return tuple(out)


def _headline_model(obs: Observations, requested: str | None) -> str | None:
    if requested is not None:
        if requested not in obs.models:
            raise ConfigError(f"--model {requested!r} is not an architecture of this sweep",
                              fix=f"pick one of {', '.join(obs.models)}")
        return requested
    ref = [(obs.cell(m, REFERENCE) or _first_cell(obs, m), m) for m in obs.models]
    ok = [(c.mean, m) for c, m in ref if c is not None and not at_chance(obs, m, c.level)]
    return max(ok, key=lambda t: (t[0], -obs.models.index(t[1])))[1] if ok else None


def _first_cell(obs: Observations, model: str):
    return next((obs.cell(model, lv.key) for lv in obs.levels if obs.cell(model, lv.key) is not None), None)


def _fits(obs: Observations) -> dict[str, LogFit]:
    fits = {}
    for model in obs.models:
        pts = [(lv.Q, obs.cell(model, lv.key).mean) for lv in obs.levels
               if lv.Q is not None and obs.cell(model, lv.key) is not None]
        if len({q for q, _ in pts}) >= 3:
            fits[model] = fit_log_curve([q for q, _ in pts], [m for _, m in pts])
    return fits


def _recommendation(boot: PairedBootstrap, obs: Observations, nas: dict[str, NApprox], pair, delta: float,
                    head: str | None) -> Recommendation | None:
    if head is None or REFERENCE not in {lv.key for lv in obs.levels}:
        return None
    baseline = obs.models[-1]
    decided = {m: x for m, x in nas.items() if x.status in ("found", "holds_everywhere") and x.level != REFERENCE}
    for m in obs.models[:-1]:
        cmp = compare(boot, m, baseline, REFERENCE, delta=delta)
        if m in decided and cmp is not None and cmp.verdict in ("equivalent", "superior", "non-inferior"):
            return recommend(boot, model=m, level=decided[m].level, baseline=baseline)
    if head in decided:
        return recommend(boot, model=head, level=decided[head].level, baseline=head)
    return None


def _warnings(obs: Observations, cells: tuple[CellSummary, ...], head: str | None) -> list[str]:
    out = []
    if cells and all(c.at_chance for c in cells):
        thr = chance_threshold(obs.n_classes, next(iter(obs.cells.values())).n_test)
        out.append(f"nothing learned: every cell is at or below chance ({100 / obs.n_classes:.1f}% on "
                   f"{obs.n_classes} classes, threshold {100 * thr:.1f}%); no knee, verdict or recommendation")
    else:
        for m in obs.models:
            ref = obs.cell(m, REFERENCE)
            if ref is not None and at_chance(obs, m, REFERENCE):
                out.append(f"{m} is at chance on the original ({100 * ref.mean:.1f}%): no verdict is drawn from it")
        chance_cells = [c for c in cells if c.at_chance and c.level != REFERENCE]
        if chance_cells:
            out.append("at chance: " + ", ".join(f"{c.model} at {c.display}" for c in chance_cells))
    if obs.n_classes is None:
        out.append("the number of classes is unknown, so cells are not checked against chance")
    few = [c for c in cells if c.n < MIN_SEEDS]
    if few:
        ns = sorted({c.n for c in few})
        out.append(f"few seeds: {len(few)} of {len(cells)} cells have n = {'/'.join(map(str, ns))}, too few for "
                   f"intervals or verdicts; run ≥ {MIN_SEEDS} seeds (5 or more to decide close calls)")
    trained = under_trained_warning(obs)
    if trained:
        out.insert(0, trained)
    out.extend(obs.notes)
    if obs.n_expected is not None and obs.n_done < obs.n_expected:
        out.append(f"partial sweep: {obs.n_done} of {obs.n_expected} runs finished; numbers will move as runs arrive")
    if obs.n_failed:
        out.append(f"{obs.n_failed} run(s) failed and are left out")
    return out


def analyze(obs: Observations, *, tolerance_pp: float = 1.0, n_boot: int = N_BOOT, seed: int = 0,
            model: str | None = None, compare_pair: tuple[str, str] | None = None,
            compare_level: str | None = None, codec_intervals: bool = True) -> Analysis:
    """Analyse `obs`. ``tolerance_pp`` is the margin δ in percentage points; ``model`` picks the headline
    architecture; ``compare_pair`` the two architectures compared (default: smallest and largest);
    ``compare_level`` the pre-set level of the headline comparison (default: the paper's, when in the grid);
    ``codec_intervals=False`` skips the bootstrap of the BD deltas (the adaptive sweep's decisions need none)."""
    if not (isinstance(tolerance_pp, (int, float)) and 0 < tolerance_pp <= MAX_TOLERANCE_PP):
        raise ConfigError(f"--tolerance must be a margin in (0, {MAX_TOLERANCE_PP:g}] percentage points; got "
                          f"{tolerance_pp}", fix="e.g. --tolerance 1.0")
    delta = tolerance_pp / 100
    boot = PairedBootstrap(obs, n_boot=n_boot, seed=seed)
    cells = _cells(obs, boot)
    head = _headline_model(obs, model)
    codecs = obs.codecs()
    all_na = tuple(x for m in obs.models for c in codecs if (x := n_approx(boot, m, c, delta=delta)) is not None)
    primary = codecs[0] if codecs else None
    by_model = {x.model: x for x in all_na if x.codec == primary}
    na = by_model.get(head) if head else None
    collapses = tuple(collapse_test(boot, m, c, delta=delta) for m in obs.models for c in codecs)
    col = next((c for c in collapses if c.model == head and c.codec == primary), None) if head else None
    pair = default_pair(obs, compare_pair)
    level = compare_at(obs, compare_level)
    comparisons = tuple(x for lv in obs.levels if pair for x in [compare(boot, *pair, lv.key, delta=delta)]
                        if x is not None)
    head_cmp = next((c for c in comparisons if c.level == level), None) if level else None
    rec = _recommendation(boot, obs, by_model, pair, delta, head)
    notes = []
    if na is not None and na.reference_note:
        notes.append(na.reference_note)
    bd = compare_codecs(obs, boot, draws=codec_intervals) if len(codecs) > 1 else ()
    warnings = _warnings(obs, cells, head) + overlap_warnings(bd, model=head)
    result = Analysis(
        obs=obs, tolerance_pp=float(tolerance_pp), n_boot=n_boot, seed=seed, cells=cells, headline_model=head,
        n_approx=na, n_approx_all=all_na, collapse=col, collapses=collapses, pair=pair, compare_level=level,
        comparisons=comparisons, headline_comparison=head_cmp, recommendation=rec, epochs=epoch_summaries(obs),
        fits=_fits(obs), warnings=tuple(warnings), notes=tuple(notes), codec_comparisons=bd,
    )
    from helmholtz.analysis.headline import headline

    return _with_headline(result, headline(result))


def _with_headline(a: Analysis, text: str) -> Analysis:
    from dataclasses import replace

    return replace(a, headline=text)


__all__ = ["Analysis", "CellSummary", "analyze"]
