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

from dataclasses import replace

from helmholtz.analysis.bootstrap import MIN_SEEDS, N_BOOT, PairedBootstrap
from helmholtz.analysis.codec_compare import compare_codecs, overlap_warnings
from helmholtz.analysis.collapse import collapse_test
from helmholtz.analysis.compare import (
    Recommendation,
    compare,
    compare_at,
    default_pair,
    recommend,
)
from helmholtz.analysis.epochs import UNDER_TRAINED, epoch_summaries, under_trained_warning
from helmholtz.analysis.fit import LogFit, fit_log_curve
from helmholtz.analysis.headline import headline
from helmholtz.analysis.observations import REFERENCE, Observations
from helmholtz.analysis.result import Analysis, CellSummary
from helmholtz.analysis.tolerance import Tolerance, check_tolerance
from helmholtz.analysis.verdicts import NApprox, at_chance, chance_threshold, n_approx
from helmholtz.errors import ConfigError


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


def _recommendation(boot: PairedBootstrap, obs: Observations, nas: dict[str, NApprox], pair, tolerance: Tolerance,
                    head: str | None) -> Recommendation | None:
    if head is None or REFERENCE not in {lv.key for lv in obs.levels}:
        return None
    baseline = obs.models[-1]
    decided = {m: x for m, x in nas.items() if x.status in ("found", "holds_everywhere") and x.level != REFERENCE}
    for m in obs.models[:-1]:
        cmp = compare(boot, m, baseline, REFERENCE, tolerance=tolerance)
        if m in decided and cmp is not None and cmp.verdict in ("equivalent", "superior", "non-inferior"):
            return recommend(boot, model=m, level=decided[m].level, baseline=baseline)
    if head in decided:
        return recommend(boot, model=head, level=decided[head].level, baseline=head)
    return None


def failed_runs(obs: Observations) -> list[str]:
    """The runs at chance in a cell whose other seeds are above it, as text ('F seed 2 at 40 kbps (8.3%; the other
    seeds 70.1%, 71.2%)'). A cell at chance as a whole is not listed here (the chance warnings say it)."""
    out = []
    displays = {lv.key: lv.display for lv in obs.levels}
    for (model, key), cell in obs.cells.items():
        threshold = chance_threshold(obs.n_classes, cell.n_test)
        if threshold is None or cell.n < 2:
            continue
        low = cell.acc <= threshold
        if low.any() and not low.all():
            others = ", ".join(f"{100 * a:.1f}%" for a in cell.acc[~low])
            out += [f"{model} seed {s} at {displays.get(key, key)} ({100 * a:.1f}%; the other seeds {others})"
                    for s, a, bad in zip(cell.seeds, cell.acc, low, strict=True) if bad]
    return out


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
        failed = failed_runs(obs)
        if failed:
            out.append("runs that learned nothing while their cell's other seeds did (a failed optimisation, not an "
                       "effect of the level; they pull their cell's mean down and widen its interval): "
                       + "; ".join(failed) + " — rerun those cells with a lower --lr or with --grad-clip, or add seeds")
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
    tolerance = Tolerance.of(tolerance_pp)
    boot = PairedBootstrap(obs, n_boot=n_boot, seed=seed)
    cells = _cells(obs, boot)
    head = _headline_model(obs, model)
    codecs = obs.codecs()
    all_na = tuple(x for m in obs.models for c in codecs
                   if (x := n_approx(boot, m, c, tolerance=tolerance)) is not None)
    primary = codecs[0] if codecs else None
    by_model = {x.model: x for x in all_na if x.codec == primary}
    na = by_model.get(head) if head else None
    collapses = tuple(collapse_test(boot, m, c, tolerance=tolerance) for m in obs.models for c in codecs)
    col = next((c for c in collapses if c.model == head and c.codec == primary), None) if head else None
    pair = default_pair(obs, compare_pair)
    level = compare_at(obs, compare_level)
    comparisons = tuple(x for lv in obs.levels if pair
                        for x in [compare(boot, *pair, lv.key, tolerance=tolerance)] if x is not None)
    head_cmp = next((c for c in comparisons if c.level == level), None) if level else None
    rec = _recommendation(boot, obs, by_model, pair, tolerance, head)
    notes = []
    if na is not None and na.reference_note:
        notes.append(na.reference_note)
    bd = compare_codecs(obs, boot, draws=codec_intervals) if len(codecs) > 1 else ()
    warnings = _warnings(obs, cells, head) + overlap_warnings(bd, model=head)
    result = Analysis(
        obs=obs, tolerance=tolerance, n_boot=n_boot, seed=seed, cells=cells, headline_model=head,
        n_approx=na, n_approx_all=all_na, collapse=col, collapses=collapses, pair=pair, compare_level=level,
        comparisons=comparisons, headline_comparison=head_cmp, recommendation=rec, epochs=epoch_summaries(obs),
        fits=_fits(obs), warnings=tuple(warnings), notes=tuple(notes), codec_comparisons=bd,
        matrix=_matrix(obs, na, tolerance=tolerance, n_boot=n_boot, seed=seed),
    )
    return replace(result, headline=headline(result))


def _matrix(obs: Observations, na, *, tolerance: Tolerance, n_boot: int, seed: int):
    """The train × test-level matrix, with the serving walk of the headline model trained at N_approx."""
    from helmholtz.analysis.matrix import build_matrix

    trained = {na.model: (na.level,)} if na is not None and na.level else None
    return build_matrix(obs, tolerance=tolerance, n_boot=n_boot, seed=seed, trained_at=trained,
                        codec=na.codec if na is not None else None)


def with_budget_check(result: Analysis, by_budget: dict[int, Observations]) -> Analysis:
    """``result`` (the analysis of the smallest budget in ``by_budget``) with the training-budget check attached:
    a budget-sensitive answer leads the warnings and the headline; a robust one is a note."""
    from helmholtz.analysis.budget import budget_check

    c = result.headline_comparison
    check = budget_check(by_budget, tolerance=result.tolerance, n_boot=result.n_boot, seed=result.seed,
                         comparison=((c.a, c.b), c.level) if c is not None else None)
    if check is None:
        return result
    # the check answers what the under-trained warning asks ("would longer training change this?"): it replaces it
    kept = tuple(w for w in result.warnings if not w.startswith(UNDER_TRAINED))
    warnings = ((check.text,) if check.status == "sensitive" else ()) + kept
    notes = result.notes + (() if check.status == "sensitive" else (check.text,))
    result = replace(result, budget_check=check, warnings=warnings, notes=notes)
    return replace(result, headline=headline(result))


__all__ = ["Analysis", "CellSummary", "analyze", "check_tolerance", "with_budget_check"]
