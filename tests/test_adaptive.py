"""The adaptive sweep's decision procedure on simulated sweeps with a known truth, without training: it adds levels
toward the true boundary and seeds to the inconclusive cells, stops when the answer is decided, respects the
budget, and decides the same way twice on the same results."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helmholtz.adaptive.loop import coarse_levels, parse_duration
from helmholtz.adaptive.plan import Budget, Run, decide
from helmholtz.analysis.observations import REFERENCE, Observations
from helmholtz.analysis.simulate import Truth, simulate
from helmholtz.errors import ConfigError

QUIET = dict(seed_sd=0.004, cell_sd=0.002, rho=0.9, n_items=3000)


def observe(truth: Truth, runs: set[tuple[str, int | None, int]], rng_seed: int = 0) -> Observations:
    """The simulated sweep holding exactly ``runs`` (arch, level, seed): simulate the union, keep those cells."""
    levels = sorted({lv for _, lv, _ in runs if lv is not None}) + [None]
    seeds = sorted({s for _, _, s in runs})
    full = simulate(truth, levels=levels, seeds=seeds, rng_seed=rng_seed, **QUIET)
    cells = {}
    for (m, key), cell in full.cells.items():
        level = None if key == REFERENCE else int(key)
        keep = [i for i, s in enumerate(cell.seeds) if (m, level, s) in runs]
        if keep:
            cells[(m, key)] = replace(cell, seeds=tuple(cell.seeds[i] for i in keep), acc=cell.acc[keep],
                                      correct=cell.correct[keep])
    return replace(full, cells=cells, runs=())


def grid(levels, archs=("A", "F"), seeds=3) -> set[tuple[str, int | None, int]]:
    return {(a, lv, s) for lv in levels for a in archs for s in range(seeds)}


def drive(truth: Truth, start: set, *, budget: Budget = Budget(), max_steps: int = 25):
    runs, steps = set(start), []
    for _ in range(max_steps):
        d = decide(observe(truth, runs), budget=budget, planned_runs=len(runs), mean_run_s=10.0,
                   spent_s=10.0 * len(runs))
        steps.append(d)
        if d.stop:
            return runs, steps
        new = {(r.arch, r.level, r.seed) for r in d.runs}
        assert not new & runs, "a decision never plans a run that is already there"
        runs |= new
    raise AssertionError("the procedure did not stop")


def test_it_bisects_toward_the_true_boundary_and_stops_decided():
    truth = Truth("knee", knee_bits=1.19, step_pp=4)          # the truth: holds down to q 20, drops at q 15
    runs, steps = drive(truth, grid(coarse_levels("jpeg")))
    final = steps[-1]
    assert final.decided and not final.open
    levels = sorted({lv for _, lv, _ in runs if lv is not None})
    assert {15, 20} <= set(levels)                            # bisection 5–25 reached the adjacent bracket
    bisections = [d for d in steps if "level" in d.kind]
    assert bisections and all("adding" in d.reason for d in bisections)
    assert "boundary between q 20 and q 15" in final.state or "boundary between q 20 and q 10" in final.state


def test_seeds_go_to_the_inconclusive_cells_and_their_partners():
    # a noisy start with 2 seeds: nothing is decidable, so the first step adds seeds, in pairs of cells
    truth = Truth("knee", step_pp=4)
    start = grid((5, 25, 50, 90, None), seeds=2)
    d = decide(observe(truth, start), budget=Budget(), planned_runs=len(start), mean_run_s=10.0, spent_s=0.0)
    assert "seeds" in d.kind and d.runs
    after = start | {(r.arch, r.level, r.seed) for r in d.runs}
    # every added run has a partner with the same seed: the model's original (a boundary verdict) or the other
    # model at the same level (the comparison), so the differences that need it stay paired
    for r in d.runs:
        other = "F" if r.arch == "A" else "A"
        assert (r.arch, None, r.seed) in after or (other, r.level, r.seed) in after
    assert all(r.seed >= 2 for r in d.runs)                   # fresh seeds, above the ones the sweep has


def test_the_budget_is_respected_and_what_is_open_is_said():
    truth = Truth("knee", step_pp=4)
    start = grid(coarse_levels("jpeg"), seeds=2)
    runs, steps = drive(truth, start, budget=Budget(max_runs=len(start) + 6))
    assert len(runs) <= len(start) + 6
    last = steps[-1]
    assert last.stop and not last.decided
    assert last.open and any("beyond the budget" in o for o in last.open)


def test_time_is_a_guard_that_stops_and_never_chooses_runs():
    truth = Truth("knee", step_pp=4)
    start = grid(coarse_levels("jpeg"), seeds=2)
    obs = observe(truth, start)
    free = decide(obs, budget=Budget(), planned_runs=len(start), mean_run_s=10.0, spent_s=10.0 * len(start))
    # while there is time, a time budget changes nothing, however little of it is left
    tight = decide(obs, budget=Budget(max_time_s=10.0 * len(start) + 1), planned_runs=len(start), mean_run_s=10.0,
                   spent_s=10.0 * len(start))
    assert tight.runs == free.runs and tight.reason == free.reason and free.runs
    # once it is spent, the sweep stops before the next step and says what finishing costs
    out = decide(obs, budget=Budget(max_time_s=10.0 * len(start)), planned_runs=len(start), mean_run_s=10.0,
                 spent_s=10.0 * len(start))
    assert out.stop and out.open[0].startswith("stopped by --max-time")
    assert any("to finish" in o for o in out.open[1:])


@pytest.mark.parametrize("budget", [Budget(), Budget(max_runs=40)])
def test_the_plan_is_the_same_on_a_fast_and_a_slow_machine(budget):
    """Replayed from the same (simulated) results with per-run wall times 100× apart, every step is identical."""
    truth = Truth("knee", step_pp=4)
    start = grid(coarse_levels("jpeg"), seeds=2)

    def replay(run_s: float):
        runs, steps = set(start), []
        for _ in range(25):
            d = decide(observe(truth, runs), budget=budget, planned_runs=len(runs), mean_run_s=run_s,
                       spent_s=run_s * len(runs))
            steps.append((d.runs, d.kind, d.reason, d.state, d.decided))
            if d.stop:
                return steps
            runs |= {(r.arch, r.level, r.seed) for r in d.runs}
        raise AssertionError("the procedure did not stop")

    fast, slow = replay(0.5), replay(50.0)
    assert fast == slow and len(fast) > 1


def test_the_same_results_give_the_same_decision():
    truth = Truth("knee", step_pp=4)
    start = grid((5, 25, 50, 90, None), seeds=3)
    a = decide(observe(truth, start), budget=Budget(), planned_runs=len(start), mean_run_s=5.0, spent_s=1.0)
    b = decide(observe(truth, start), budget=Budget(), planned_runs=len(start), mean_run_s=5.0, spent_s=1.0)
    assert a == b and a.runs


def test_a_model_at_chance_stops_with_the_reason():
    start = grid((5, 25, None), seeds=3)
    d = decide(observe(Truth("flat", base=0.1), start), budget=Budget(), planned_runs=len(start), mean_run_s=1.0,
               spent_s=0.0)
    assert d.stop and not d.decided and "at chance" in d.open[0]


def test_runs_are_plain_data():
    assert Run("A", 15, 3).to_dict() == {"arch": "A", "level": 15, "seed": 3}


@pytest.mark.parametrize("text,seconds", [("30m", 1800), ("2h", 7200), ("90s", 90), ("45", 2700)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "0"])
def test_bad_durations(text):
    with pytest.raises(ConfigError, match="--max-time"):
        parse_duration(text)


def test_coarse_grids_hold_the_paper_comparison_level():
    assert 25 in coarse_levels("jpeg") and None in coarse_levels("jpeg")
    q = [(112 - r) / (112 - 16) for r in coarse_levels("mp3") if r is not None]
    assert 0.75 in q
    webp = coarse_levels("webp")
    assert len(webp) == 5 and webp[-1] is None
    assert np.all(np.diff([x for x in webp if x is not None]) > 0)


def test_the_starting_grid_trains_the_comparison_architecture_only_where_the_comparison_needs_it():
    from types import SimpleNamespace

    from helmholtz.adaptive.loop import compare_point, question_grid, starting_runs
    from helmholtz.demos import demo_spec

    spec = demo_spec()                                          # A and F, q 2/5/25 + original, 3 seeds
    assert spec.n_runs == 24 and compare_point(spec) == ("jpeg", 25)
    keep = question_grid(spec)
    kept = {(a, lv) for _, lv in spec.points for a in spec.archs
            if keep(SimpleNamespace(arch=a, codec="jpeg" if lv is not None else "none", level=lv))}
    assert {lv for a, lv in kept if a == "A"} == {2, 5, 25, None}          # the headline's N_approx: every level
    assert {lv for a, lv in kept if a == "F"} == {25}                      # only the cell the comparison pairs
    assert starting_runs(spec) == 15 and starting_runs(spec, focus=False) == 24
    assert compare_point(spec, "5") == ("jpeg", 5) and compare_point(spec, "none") == ("none", None)


def test_the_audio_comparison_point_is_q_075_of_the_bitrates():
    from helmholtz.adaptive.loop import compare_point, question_grid
    from helmholtz.demos import AUDIO_SIZES, audio_demo_spec

    spec = audio_demo_spec("/nonexistent", AUDIO_SIZES["full"])   # 16/40/112 kbps: 40 is Q 0.75
    assert compare_point(spec) == ("mp3", 40)
    assert question_grid(audio_demo_spec("/nonexistent", AUDIO_SIZES["quick"])) is None    # one architecture


def test_a_focused_decision_decides_the_first_architecture_even_when_another_is_more_accurate():
    # F is 2 pp more accurate everywhere, but the focused sweep asked for A's N_approx: the plan works on A
    truth = Truth("knee_gap", gap_pp=-2.0, step_pp=4)
    start = grid((5, 25, 50, 90, None), archs=("A",), seeds=3) | grid((25, None), archs=("F",), seeds=3)
    d = decide(observe(truth, start), budget=Budget(), planned_runs=len(start), mean_run_s=1.0, spent_s=0.0,
               headline="A")
    assert d.state.startswith("A:")
    assert all(r.arch == "A" or r.level in (25, None) for r in d.runs)


def test_what_the_budget_left_can_close_goes_before_what_it_cannot():
    from helmholtz.adaptive.plan import Item, _closable_first

    boundary = Item("boundary seeds", "A at q 50: 28 more seeds", tuple(Run("A", 50, s) for s in range(12)),
                    total_runs=56)
    comparison = Item("comparison seeds", "A vs F: 4 more seeds", tuple(Run("F", 25, s) for s in range(8)),
                      total_runs=8)
    stuck = Item("boundary seeds", "q 25 loses about δ", (), closable=False)
    # 12 runs left: the comparison (8 in all) fits and goes first; the boundary (56 in all) gets what remains
    assert _closable_first([boundary, comparison, stuck], 12) == [comparison, boundary, stuck]
    # with room for both, or no run budget, the order of priority stands
    assert _closable_first([boundary, comparison], 80) == [boundary, comparison]
    assert _closable_first([boundary, comparison], None) == [boundary, comparison]


def test_a_level_open_inside_the_bracket_that_no_seeds_place_is_said_not_dropped():
    """The audio demo stopped 'decided' with 40 kbps open inside its bracket (−1.4 pp [−7.3, +4.5], 3 seeds) and did
    not say why it spent no more runs there: the stop now names the level, its interval and why."""
    from types import SimpleNamespace

    from helmholtz.adaptive.plan import _boundary_items

    v = SimpleNamespace(level="40", display="40 kbps", diff=-0.014, ci=(-0.073, 0.045), more_seeds=None)
    na = SimpleNamespace(status="found", open_levels=("40",), verdicts=(v,), model="A", reference="none")
    obs = SimpleNamespace(level=lambda key: SimpleNamespace(display="the original"))
    (item,) = _boundary_items(SimpleNamespace(n_approx=na, obs=obs))
    assert not item.closable and not item.runs
    assert item.reason == ("A at 40 kbps against the original: open inside the bracket (-1.4 pp [-7.3, +4.5]); "
                           "no affordable number of seeds places it")


def test_a_decided_answer_is_not_narrowed_by_work_the_budget_cannot_finish(monkeypatch):
    """Narrowing a decided answer with a share of work that cannot finish in the budget buys nothing: the step is
    skipped and the stop says what finishing would cost. An undecided answer still takes the share it can."""
    import helmholtz.adaptive.plan as plan

    obs = observe(Truth("knee", step_pp=4), grid(coarse_levels("jpeg"), seeds=3))
    big = plan.Item("narrowing seeds", "A at q 50 against the original: open inside the bracket, 120 more seeds",
                    tuple(plan.Run("A", 50, s, "jpeg") for s in range(100, 106)), total_runs=240)
    monkeypatch.setattr(plan, "_boundary_items", lambda a: [big])
    monkeypatch.setattr(plan, "_comparison_items", lambda a: [])
    for decided, taken in ((True, 0), (False, 6)):
        monkeypatch.setattr(plan, "answer_decided", lambda a, d=decided: d)
        d = decide(obs, budget=Budget(max_runs=len(obs.runs) + 18), planned_runs=len(obs.runs), mean_run_s=None,
                   spent_s=0.0)
        assert len(d.runs) == taken
        if decided:
            assert d.stop and d.decided and d.open == (f"{big.reason} — 240 more runs beyond the budget",)


def test_a_decided_bracket_is_narrowed_at_the_open_level_the_budget_can_place(monkeypatch):
    """The audio demo's bracket (the original–16 kbps) had two open levels: 112 kbps needed 120 more seeds, 40 kbps
    4. Only the first was ever offered, and the stop spent nothing; now each open level is an item, and the one the
    budget can finish is taken while the other is named with its cost."""
    from types import SimpleNamespace

    import helmholtz.adaptive.plan as plan

    obs = observe(Truth("knee", step_pp=4), grid((5, 25, 90, None), seeds=3))
    far = SimpleNamespace(level="90", display="q 90", more_seeds=120)
    near = SimpleNamespace(level="25", display="q 25", more_seeds=4)
    na = SimpleNamespace(status="found", open_levels=("90", "25"), verdicts=(far, near), model="A",
                         reference=REFERENCE)
    items = plan._boundary_items(SimpleNamespace(n_approx=na, obs=obs))
    assert [it.reason for it in items] == [
        "A at q 90 against the original: open inside the bracket, 120 more seeds",
        "A at q 25 against the original: open inside the bracket, 4 more seeds"]
    assert {(r.arch, r.level) for r in items[1].runs} == {("A", 25), ("A", None)} and items[1].total_runs == 8

    monkeypatch.setattr(plan, "_boundary_items", lambda a: items)
    monkeypatch.setattr(plan, "_comparison_items", lambda a: [])
    monkeypatch.setattr(plan, "answer_decided", lambda a: True)
    d = decide(obs, budget=Budget(max_runs=len(obs.runs) + 18), planned_runs=len(obs.runs), mean_run_s=None,
               spent_s=0.0)
    assert d.runs == items[1].runs and d.reason == items[1].reason
    assert d.open == ("A at q 90 against the original: open inside the bracket, 120 more seeds — 240 more runs "
                      "beyond the budget",)
