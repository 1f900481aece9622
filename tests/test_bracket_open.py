"""A bracket that stands with an open level inside it: an inconclusive level followed by one that drops decides
N_approx (`found`, the open level named with the seeds that would place it); the adaptive sweep narrows it only
with the runs a training-budget check leaves of its budget."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from helmholtz.adaptive.plan import Budget, decide
from helmholtz.analysis import analyze
from helmholtz.analysis.observations import Observations
from helmholtz.analysis.simulate import Truth, simulate

QUIET = dict(seed_sd=0.002, cell_sd=0.001, rho=0.95)


def _lower_per_seed(obs: Observations, losses: dict[str, tuple[int, ...]]) -> Observations:
    """Lower each named level's accuracy by flipping that many correct items to wrong, a count per seed."""
    cells = dict(obs.cells)
    for m in obs.models:
        for key, counts in losses.items():
            c = cells[(m, key)]
            corr = c.correct.copy()
            for row, n in zip(corr, counts, strict=True):
                row[np.flatnonzero(row)[:n]] = False
            cells[(m, key)] = replace(c, correct=corr, acc=corr.mean(axis=1))
    return replace(obs, cells=cells)


def _open_q20():
    # q 20 loses 0.25, 0.8 and 1.5 pp in its three seeds (4,000 items): inconclusive, and seeds would place it;
    # q 10 loses 4 pp in every seed: it drops. q 50 holds.
    obs = simulate(Truth("flat"), levels=(10, 20, 50, None), seeds=3, n_items=4000, **QUIET)
    return _lower_per_seed(obs, {"20": (10, 32, 60), "10": (160, 160, 160)})


def test_an_open_level_followed_by_a_drop_is_a_bracket_that_stands():
    a = analyze(_open_q20(), n_boot=800, model="A")
    na = a.n_approx
    v20 = next(v for v in na.verdicts if v.level == "20")
    assert v20.verdict == "inconclusive" and v20.more_seeds is not None and v20.ci[1] > 0   # no margin level
    assert na.status == "found" and na.level == "50" and na.boundary == ("50", "10")
    assert na.open_levels == ("20",) and na.margin_levels == ()
    assert "q 50 holds and q 10 drops" in na.decide and "q 20 (" in na.decide and "would place it" in na.decide
    # N_approx is the last level shown to hold, never the open one
    assert a.headline.startswith("A needs ≈ 2 bits/pixel (q 50")


def test_without_a_drop_below_the_open_level_stays_undecided():
    obs = _open_q20()
    cells = {k: c for k, c in obs.cells.items() if k[1] != "10"}
    no_q10 = replace(obs, cells=cells, levels=tuple(lv for lv in obs.levels if lv.key != "10"))
    na = analyze(no_q10, n_boot=800, model="A").n_approx
    assert na.status == "undecided" and na.open_level == "20" and na.open_levels == ()


def test_the_planner_narrows_the_open_level_only_with_what_the_check_leaves():
    obs = _open_q20()
    planned = sum(c.n for c in obs.cells.values())
    free = decide(obs, budget=Budget(max_runs=planned + 40), planned_runs=planned, mean_run_s=None, spent_s=0.0,
                  headline="A")
    assert free.decided and free.runs and {r.level for r in free.runs} <= {20, None}
    assert "open inside the bracket" in free.reason
    # the same budget with 40 runs kept for the training-budget check: nothing left to narrow, the sweep stops
    kept = decide(obs, budget=Budget(max_runs=planned + 40), planned_runs=planned, mean_run_s=None, spent_s=0.0,
                  headline="A", reserve_runs=40)
    assert kept.decided and kept.stop and any("q 20" in o and "kept for the training-budget check" in o
                                              for o in kept.open)


def test_the_budget_check_of_a_focused_grid_trains_only_cells_the_answer_has(tmp_path):
    # the focused start trains F at the comparison level only: the check retrains A's boundary (the original, the
    # last level that holds, the first that drops) and both comparison cells, never an F original it has no twin of
    from helmholtz.adaptive.loop import CHECK_COST, budget_check_runs
    from helmholtz.analysis.observations import RunInfo
    from helmholtz.sweep.spec import make_sweep_spec
    from test_sweep_resume import TINY, write_npz

    full = simulate(Truth("knee", step_pp=5), levels=(5, 25, None), seeds=6, n_items=4000, **QUIET)
    cells = {k: c for k, c in full.cells.items() if k[0] == "A" or k == ("F", "25")}
    runs = tuple(RunInfo(model=m, level=key, seed=s, epochs_run=3, epoch_cap=3, best_epoch=3,
                         epochs_to_converge=None, censored=True, censored_at=None, still_improving=True)
                 for (m, key), c in cells.items() for s in c.seeds)
    obs = replace(full, cells=cells, runs=runs)
    data = write_npz(tmp_path / "d.npz")
    spec = make_sweep_spec(str(data), modality="image", codec="jpeg", levels=[5, 25, None], archs=["A", "F"],
                           seeds=3, options=replace(TINY, epochs=3))
    longer, keep, n, why = budget_check_runs(spec, obs, headline="A")
    from types import SimpleNamespace

    kept = {(a, lv) for c, lv in longer.points for a in longer.archs
            if keep(SimpleNamespace(arch=a, codec=None if lv is None else c, level=lv))}
    assert kept == {("A", None), ("A", 25), ("A", 5), ("F", 25)} and longer.seeds == (0, 1, 2)
    assert n == 12 and longer.options.epochs == 6 and "12 runs at 6 epochs" in why
    assert CHECK_COST * n == 24


def test_the_demos_hold_the_cpu_kernels_to_avx2_and_restore_the_environment(monkeypatch):
    import os

    from helmholtz.demos import DEMO_KERNELS, pinned_kernels
    from helmholtz.provenance import host_info

    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")       # a user's own choice wins
    with pinned_kernels() as kernels:
        assert kernels == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}
        assert host_info()["kernel_caps"] == "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX512_CORE"
    assert "ATEN_CPU_CAPABILITY" not in os.environ and os.environ["ONEDNN_MAX_CPU_ISA"] == "AVX512_CORE"
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    assert "kernel_caps" not in host_info() and set(DEMO_KERNELS) == {"ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA"}


def test_a_difference_interval_never_leaves_plus_minus_100_pp():
    # three seeds that disagree wildly (one model at chance in one seed, as the audio demo's F): the t-calibrated
    # seed stage alone would put the upper bound of A − F above +100 pp
    from helmholtz.analysis.bootstrap import PairedBootstrap

    obs = simulate(Truth("flat"), levels=(25, None), seeds=3, n_items=600, **QUIET)
    cells = dict(obs.cells)
    f = cells[("F", "25")]
    corr = f.correct.copy()
    corr[1:] = False                       # F right on nothing in seeds 1 and 2
    cells[("F", "25")] = replace(f, correct=corr, acc=corr.mean(axis=1))
    boot = PairedBootstrap(replace(obs, cells=cells), n_boot=400, seed=0)
    d = boot.diff(("A", "25"), ("F", "25"))
    lo, hi = d.interval(0.95)
    assert d.point > 0.5 and lo >= -1.0 and hi <= 1.0
    assert d.draws(0.975).max() <= 1.0


def test_a_run_that_learned_nothing_beside_seeds_that_did_is_named():
    from helmholtz.analysis.analyze import failed_runs

    obs = replace(simulate(Truth("flat"), levels=(10, None), seeds=3, n_items=2000, **QUIET), n_classes=10)
    assert failed_runs(obs) == [] and not any("learned nothing" in w for w in analyze(obs, n_boot=200).warnings)
    c = obs.cells[("F", "10")]
    corr = c.correct.copy()
    corr[2] = np.arange(corr.shape[1]) % 10 == 0                      # seed 2: one item in ten, chance on 10 classes
    broken = replace(obs, cells={**obs.cells, ("F", "10"): replace(c, correct=corr, acc=corr.mean(axis=1))})
    (named,) = failed_runs(broken)
    assert named.startswith(f"F seed {c.seeds[2]} at q 10 (10.0%; the other seeds ")
    assert any("learned nothing while their cell's other seeds did" in w for w in analyze(broken, n_boot=200).warnings)


def test_the_check_is_kept_back_only_while_it_can_still_be_paid():
    from helmholtz.adaptive.loop import CHECK_COST, check_reserve

    assert check_reserve(None, 3, planned_runs=15, max_runs=48) == 0                    # no check owed
    assert check_reserve(12, 3, planned_runs=23, max_runs=48) == CHECK_COST * 15          # fits: kept, one cell spare
    assert check_reserve(12, 3, planned_runs=24, max_runs=48) == CHECK_COST * 15          # just fits (24 + 24 = 48)
    assert check_reserve(12, 3, planned_runs=25, max_runs=48) == 0                        # can never be paid
    assert check_reserve(12, 3, planned_runs=19, max_runs=33) == 0                        # the audio demo's case
