"""N_approx statuses, the fixed-sequence walk, degenerate sweeps, chance level, epochs and censoring."""

from __future__ import annotations

import numpy as np
import pytest

from helmholtz.analysis import analyze
from helmholtz.analysis.epochs import summarise_cell, under_trained_warning
from helmholtz.analysis.observations import REFERENCE, Cell, Observations, RunInfo, run_info
from helmholtz.analysis.simulate import Truth, simulate

QUIET = dict(seed_sd=0.002, cell_sd=0.001, rho=0.95)   # seeds that agree on most items


def _drop_cells(obs: Observations, keep) -> Observations:
    from dataclasses import replace

    cells = {k: c for k, c in obs.cells.items() if keep(*k)}
    levels = tuple(lv for lv in obs.levels if any(k[1] == lv.key for k in cells))
    return replace(obs, cells=cells, levels=levels, runs=tuple(r for r in obs.runs if keep(r.model, r.level)))


def test_a_sharp_knee_with_quiet_seeds_is_found_between_q20_and_q10():
    obs = simulate(Truth("knee", step_pp=5), seeds=5, n_items=4000, **QUIET)
    a = analyze(obs, n_boot=800)
    assert a.n_approx.status == "found" and a.n_approx.level == "20"
    assert a.n_approx.boundary == ("20", "10")
    lo, hi = a.n_approx.ci_bits
    assert lo <= obs.level("20").bits <= hi
    verdicts = {v.level: v.verdict for v in a.n_approx.verdicts}
    assert verdicts["90"] == verdicts["25"] == "holds" and verdicts["10"] == verdicts["1"] == "drops"
    assert a.collapse.detected and a.headline.startswith(f"{a.headline_model} needs ≈ 1.2 bits/pixel (q 20")


def test_the_fixed_sequence_stops_at_the_first_level_that_does_not_hold():
    # q 50 drops (a local dip), q 20 and below would hold: N_approx must stop above q 50, never skip it
    def acc(mi, bits):
        return 0.80 - (0.04 if abs(bits - 1.994) < 0.01 else 0.0)

    truth = Truth("flat")
    object.__setattr__(truth, "accuracy", acc) if False else None
    obs = simulate(Truth("flat"), levels=(10, 20, 50, 90, None), seeds=5, n_items=4000, **QUIET)
    # lower q 50's accuracy in every seed by 4 pp: flip 160 correct items to wrong
    from dataclasses import replace

    cells = dict(obs.cells)
    for m in obs.models:
        c = cells[(m, "50")]
        corr = c.correct.copy()
        for row in corr:
            row[np.flatnonzero(row)[:160]] = False
        cells[(m, "50")] = replace(c, correct=corr, acc=corr.mean(axis=1))
    a = analyze(replace(obs, cells=cells), n_boot=800)
    assert a.n_approx.status == "found" and a.n_approx.level == "90" and a.n_approx.boundary == ("90", "50")
    assert {v.level: v.verdict for v in a.n_approx.verdicts}["20"] == "holds"   # tested, but after the stop


def test_every_level_holding_is_a_bound_not_a_knee():
    a = analyze(simulate(Truth("flat"), seeds=8, n_items=4000, **QUIET), n_boot=800)
    assert a.n_approx.status == "holds_everywhere" and a.n_approx.level == "1"
    assert "holds down to the lowest level tried" in a.headline and "at most" in a.headline


def test_an_undecided_boundary_says_what_would_decide_it():
    obs = simulate(Truth("knee"), seeds=3, n_items=1500, seed_sd=0.015, cell_sd=0.006, rng_seed=2)
    a = analyze(obs, n_boot=800)
    assert a.n_approx.status == "undecided"
    assert "would decide" in a.n_approx.decide or "margin" in a.n_approx.decide
    assert "undecided between" in a.headline


def test_one_level_only_the_original():
    obs = _drop_cells(simulate(Truth("flat"), seeds=3, n_items=500), lambda m, lv: lv == REFERENCE)
    a = analyze(obs, n_boot=200)
    assert a.n_approx is None and not a.n_approx_all
    assert "holds down" not in a.headline
    assert a.headline.startswith("No N_approx yet: only the original has finished runs")


def test_one_seed_gives_no_interval_and_no_verdict():
    a = analyze(simulate(Truth("knee"), seeds=1, n_items=1000), n_boot=200)
    assert all(c.ci is None and "too few for an interval" in c.text for c in a.cells)
    assert all(v.verdict == "inconclusive" and "too few seeds" in v.reason for v in a.n_approx.verdicts)
    assert a.n_approx.status == "undecided"
    assert any("few seeds" in w for w in a.warnings)


def test_two_seeds_never_print_an_interval():
    a = analyze(simulate(Truth("knee"), seeds=2, n_items=1000), n_boot=200)
    assert all(c.ci is None for c in a.cells)
    assert all(c.ci is None for c in a.comparisons)


def test_everything_at_chance_draws_no_knee_verdict_or_recommendation():
    obs = simulate(Truth("flat", base=0.10), seeds=3, n_items=2000, n_classes=10)
    a = analyze(obs, n_boot=300)
    assert all(c.at_chance for c in a.cells)
    assert a.headline_model is None and a.n_approx is None and a.recommendation is None
    assert a.headline.startswith("No answer: nothing was learned")
    assert all(c.verdict == "inconclusive" for c in a.comparisons)


def test_a_model_at_one_level_only_gets_no_n_approx_not_holds_everywhere():
    """A focused sweep trains its comparison model at the pre-set level only: nothing was compared for it, so it has no
    N_approx (the report once listed it as 'holds_everywhere' at that level, a claim no data made)."""
    obs = _drop_cells(simulate(Truth("knee", step_pp=5), seeds=3, n_items=1000, **QUIET),
                      lambda m, lv: m == "F" or lv == "25")
    a = analyze(obs, n_boot=200)
    assert {x.model for x in a.n_approx_all} == {"F"}
    assert [x["model"] for x in a.to_json()["n_approx_by_model"]] == ["F"]


def test_without_an_original_the_highest_bits_level_is_the_reference_and_it_says_so():
    obs = _drop_cells(simulate(Truth("knee", step_pp=5), seeds=5, n_items=4000, **QUIET), lambda m, lv: lv != REFERENCE)
    a = analyze(obs, n_boot=500)
    assert a.n_approx.reference == "90"
    assert any("no original in this sweep" in n for n in a.notes)
    assert a.n_approx.level == "20"


def test_the_recommendation_splits_compression_and_architecture_effects():
    # A is 3 pp worse than F everywhere: it must not be recommended over F; F at its N_approx is, with its own
    # compression effect and no architecture effect
    a = analyze(simulate(Truth("knee_gap", gap_pp=3, step_pp=5), seeds=5, n_items=4000, **QUIET), n_boot=800)
    r = a.recommendation
    assert r is not None and r.model == "F" and r.architecture is None
    assert r.compression.ci[0] < 0.0 < r.compression.ci[1] or abs(r.compression.diff) < 0.01
    # equal models: the smaller A is recommended, and the architecture effect has its own interval
    b = analyze(simulate(Truth("knee", step_pp=5), seeds=8, n_items=4000, **QUIET), n_boot=800)
    assert b.recommendation.model == "A" and b.recommendation.baseline == "F"
    assert b.recommendation.architecture is not None and b.recommendation.architecture.ci is not None


def _run(best, ran, cap, history=None):
    row = {"arch": "A", "level_label": REFERENCE, "seed": 0, "best_epoch": best, "epochs_run": ran,
           "spec_json": f'{{"options": {{"epochs": {cap}}}}}'}
    return run_info(row, history)


def test_run_epochs_are_censored_and_still_improving_from_the_history():
    rising = [0.5 + 0.05 * e for e in range(5)]              # 5 epochs, best at the last, cap 5
    r = _run(5, 5, 5, rising)
    assert r.censored and r.epochs_to_converge is None and r.still_improving
    flat = [0.8] * 15
    r2 = _run(1, 15, 200, flat)
    assert not r2.censored and r2.epochs_to_converge == 1 and not r2.still_improving
    # early-stopped at its best epoch below the cap is not "still improving"
    r3 = _run(5, 5, 50, rising)
    assert not r3.still_improving
    # a store row without history (old stores) never claims convergence
    assert _run(3, 5, 5).censored


def test_epoch_summary_is_a_median_with_censoring_shown():
    def info(etc, censored_at=None, improving=False):
        return RunInfo(model="A", level="20", seed=0, epochs_run=20, epoch_cap=20, best_epoch=10,
                       epochs_to_converge=etc, censored=etc is None, censored_at=censored_at,
                       still_improving=improving)

    exact = summarise_cell([info(4), info(6), info(8)], model="A", level="20", display="q 20")
    assert exact.median == 6 and not exact.median_is_bound and exact.text == "6"
    mostly = summarise_cell([info(4), info(None, 12, True), info(None, 12, True)], model="A", level="20", display="")
    assert mostly.median == 12 and mostly.median_is_bound and mostly.text == "≥ 12 (2 of 3 censored)"
    assert mostly.still_improving == 2


def test_under_trained_warning_when_over_a_quarter_still_improve():
    def info(improving):
        return RunInfo(model="A", level="20", seed=0, epochs_run=5, epoch_cap=5, best_epoch=5 if improving else 2,
                       epochs_to_converge=None, censored=True, censored_at=1, still_improving=improving)

    many = Observations(levels=(), models=(), params={}, cells={}, runs=tuple(info(i < 3) for i in range(8)))
    few = Observations(levels=(), models=(), params={}, cells={}, runs=tuple(info(i < 2) for i in range(8)))
    assert under_trained_warning(many).startswith("under-trained: 3 of 8 runs were still improving")
    assert under_trained_warning(few) is None


def test_cells_read_from_a_store_pair_over_items(tmp_path):
    from helmholtz.report.build import load_observations
    from synthetic_store import write_store

    obs = simulate(Truth("knee"), levels=(10, 20, 50, None), seeds=3, n_items=400)
    write_store(tmp_path / "run", obs)
    back, _ = load_observations(tmp_path / "run")
    assert back.paired_items and back.n_classes == 10
    for key, cell in obs.cells.items():
        assert np.array_equal(back.cells[key].correct, cell.correct)
        assert back.cells[key].acc == pytest.approx(cell.acc)
    assert all(not r.censored for r in back.runs)            # histories were stored and recomputed


def test_a_store_without_predictions_is_analysed_by_the_fallback(tmp_path):
    from helmholtz.analysis.observations import from_store
    from helmholtz.analysis.synthetic import observation_rows

    obs = simulate(Truth("knee"), levels=(10, 20, None), seeds=3, n_items=400)
    runs, levels, _ = observation_rows(obs)
    for r in runs:
        r.pop("predictions")
    old = from_store(spec=None, level_rows=levels, run_rows=runs)
    assert not old.paired_items and any("no per-item predictions" in n for n in old.notes)
    a = analyze(old, n_boot=300)
    assert any("no per-item predictions" in w for w in a.warnings)
    assert a.cells and all(isinstance(c, object) for c in a.cells)


def test_cell_level_chance_flag_uses_two_standard_errors():
    from helmholtz.analysis.verdicts import chance_threshold

    assert chance_threshold(10, 10000) == pytest.approx(0.1 + 2 * np.sqrt(0.09 / 10000))
    assert chance_threshold(None, 100) is None
    cell = Cell("A", REFERENCE, (0,), np.array([0.105]), None, 10000)
    assert cell.mean <= chance_threshold(10, 10000)


def _lower(obs: Observations, losses: dict[str, int]) -> Observations:
    """Lower each named level's accuracy in every seed by flipping that many correct items to wrong."""
    from dataclasses import replace

    cells = dict(obs.cells)
    for m in obs.models:
        for key, n in losses.items():
            c = cells[(m, key)]
            corr = c.correct.copy()
            for row in corr:
                row[np.flatnonzero(row)[:n]] = False
            cells[(m, key)] = replace(c, correct=corr, acc=corr.mean(axis=1))
    return replace(obs, cells=cells)


def test_a_level_that_loses_delta_itself_is_the_boundary_when_the_next_level_drops():
    # q 20 loses exactly δ = 1 pp (40 of 4000 items) in every seed, q 10 loses 4 pp: no seed count decides q 20,
    # and it is the boundary within the noise; q 50 holds and q 10 drops, so the bracket is decided
    obs = simulate(Truth("flat"), levels=(10, 20, 50, 90, None), seeds=5, n_items=4000, **QUIET)
    a = analyze(_lower(obs, {"20": 40, "10": 160}), n_boot=800)
    na = a.n_approx
    v20 = next(v for v in na.verdicts if v.level == "20")
    assert v20.verdict == "inconclusive" and v20.more_seeds is None and v20.ci[0] > -0.02 and v20.ci[1] < 0
    assert na.status == "found" and na.level == "50" and na.boundary == ("50", "10") and na.margin_levels == ("20",)
    assert "q 20 (" in na.decide and "loses about δ itself" in na.decide and "q 50 holds and q 10 drops" in na.decide
    assert a.headline.startswith(f"{a.headline_model} needs ≈ 2 bits/pixel (q 50") and "q 20 (" in a.headline

    # the same margin level with nothing below it stays undecided, and says so
    no_q10 = _drop_cells(_lower(obs, {"20": 40}), lambda m, lv: lv != "10")
    b = analyze(no_q10, n_boot=800).n_approx
    assert b.status == "undecided" and b.margin_levels == () and b.open_level == "20"
    assert "no affordable number of seeds" in b.decide
    # a level that loses 2δ or more is no margin level: it drops
    c = analyze(_lower(obs, {"20": 120, "10": 160}), n_boot=800).n_approx
    assert c.status == "found" and c.boundary == ("50", "20") and c.margin_levels == ()
