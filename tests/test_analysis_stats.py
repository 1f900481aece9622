"""Per-cell statistics, the Q axis and the grid: oracles are scipy's Welch test, coverage by simulation, hand sums."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from helmholtz.analysis.complexity import compare_models, params_level
from helmholtz.analysis.stats import cell_stats, epoch_metric, t_interval, welch_interval
from helmholtz.analysis.synthetic import synthetic_rows
from helmholtz.analysis.table import build_grid, done_runs, quantization_axis
from helmholtz.errors import ConfigError, StoreError

ARCHS = {"A": 700_000, "F": 1_700_000}


# ----------------------------------------------------------------- intervals
def test_t_interval_known_quantile():
    x = [0.80, 0.82, 0.84]
    iv = t_interval(x)
    sd = np.std(x, ddof=1)
    half = 4.302652729911275 * sd / np.sqrt(3)     # t_{0.975, df=2} from tables
    assert iv.mean == pytest.approx(0.82)
    assert (iv.lo, iv.hi) == (pytest.approx(0.82 - half), pytest.approx(0.82 + half))
    assert iv.n == 3 and not iv.flagged


def test_t_interval_covers_the_true_mean_95_percent():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        iv = t_interval(rng.normal(0.7, 0.05, size=4))
        hits += iv.lo <= 0.7 <= iv.hi
    assert 0.935 <= hits / 2000 <= 0.965


def test_t_interval_single_value_is_flagged_and_empty_is_none():
    iv = t_interval([0.9])
    assert iv.mean == 0.9 and iv.lo is None and iv.hi is None and iv.flagged
    assert t_interval([]) is None
    assert t_interval([None, 0.5]).n == 1


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.80, 0.01, 5), rng.normal(0.78, 0.03, 4)
    iv = welch_interval(a, b)
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert iv.mean == pytest.approx(a.mean() - b.mean())
    assert (iv.lo, iv.hi) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_welch_interval_needs_two_per_side():
    iv = welch_interval([0.8], [0.7, 0.72])
    assert iv.mean == pytest.approx(0.8 - 0.71) and iv.flagged
    assert welch_interval([], [0.7]) is None


# ----------------------------------------------------------------- the Q axis and the grid
def test_image_axis_is_100_minus_q_over_100_and_original_has_none():
    assert quantization_axis(100, codec="jpeg", grid_levels=[]) == 0.0
    assert quantization_axis(25, codec="jpeg", grid_levels=[]) == 0.75
    assert quantization_axis(1, codec="jpeg", grid_levels=[]) == 0.99
    assert quantization_axis(None, codec="jpeg", grid_levels=[]) is None


def test_audio_axis_is_linear_from_highest_to_lowest_bitrate():
    grid = [8, 16, 32, 64, 96, 128, 160, None]
    assert quantization_axis(160, codec="mp3", grid_levels=grid) == 0.0
    assert quantization_axis(8, codec="mp3", grid_levels=grid) == 1.0
    assert quantization_axis(64, codec="mp3", grid_levels=grid) == pytest.approx((160 - 64) / 152)


def test_grid_orders_original_first_then_rising_q_and_keeps_spec_levels_without_runs():
    runs, levels = synthetic_rows(lambda a, q: 0.8, levels=[None, 50, 5], archs=ARCHS, seeds=1)
    spec = {"codec": "jpeg", "levels": [5, 20, 50, None], "modality": "image"}
    grid = build_grid(runs=runs, levels=levels, spec=spec)
    assert grid.labels == ("none", "50", "20", "5")
    assert grid.get("none").is_reference and grid.get("none").Q is None
    assert grid.get("20").stats is None and grid.get("50").stats["bits_total"] > 0
    assert grid.name("none") == "the original" and grid.name("20") == "q 20"


def test_grid_rejects_non_integer_level():
    with pytest.raises(StoreError, match="not an integer"):
        build_grid(runs=[{"arch": "A", "level": "high", "test_acc": 0.5}], levels=[])


def test_done_runs_drops_failed_and_unfinished():
    rows = [{"status": "done", "test_acc": 0.5}, {"status": "failed", "test_acc": None}, {"status": "done"}]
    assert len(done_runs(rows)) == 1


# ----------------------------------------------------------------- cells
def test_cell_stats_equal_naive_means_and_order_smallest_arch_first():
    runs, levels = synthetic_rows(lambda a, q: 0.9 if a == "F" else 0.85, levels=[None, 20], archs=ARCHS,
                                  seeds=3, noise_sd=0.01, rng_seed=3)
    grid = build_grid(runs=runs, levels=levels)
    cells = cell_stats(runs, grid)
    assert [(c.arch, c.label) for c in cells] == [("A", "none"), ("A", "20"), ("F", "none"), ("F", "20")]
    for c in cells:
        naive = [r["test_acc"] for r in runs if r["arch"] == c.arch and r["level_label"] == c.label]
        assert c.acc.mean == pytest.approx(np.mean(naive)) and c.n == 3
        assert c.wall_s.mean == 60.0 and c.n_params == ARCHS[c.arch]


def test_cell_with_one_seed_is_flagged_n_lt_2():
    runs, levels = synthetic_rows(lambda a, q: 0.8, levels=[None, 20], archs={"A": 1}, seeds=2)
    runs = [r for r in runs if not (r["level"] == 20 and r["seed"] == 1)]
    cells = cell_stats(runs, build_grid(runs=runs, levels=levels))
    assert [c.flagged for c in cells] == [False, True]


def test_epoch_metric_falls_back_to_best_epoch_when_heuristic_missing():
    runs, levels = synthetic_rows(lambda a, q: 0.8, levels=[None, 20], archs={"A": 1}, seeds=2)
    grid = build_grid(runs=runs, levels=levels)
    assert epoch_metric(cell_stats(runs, grid)) == "epochs_to_converge"
    for r in runs:
        r["epochs_to_converge"] = None
    cells = cell_stats(runs, grid)
    assert epoch_metric(cells) == "best_epoch" and cells[0].epochs_to_converge is None


# ----------------------------------------------------------------- complexity
def test_small_model_matches_large_within_tolerance_and_epoch_difference():
    runs, levels = synthetic_rows(lambda a, q: 0.85 if a == "A" else 0.853, levels=[None, 25], archs=ARCHS,
                                  seeds=4, noise_sd=0.002, epochs=lambda a, q: 8 if a == "A" else 12, rng_seed=4)
    grid = build_grid(runs=runs, levels=levels)
    cmp = compare_models(cell_stats(runs, grid), grid, label="25", tolerance_pp=1.0, metric="epochs_to_converge")
    assert (cmp.small, cmp.large, cmp.verdict) == ("A", "F", "matches")
    assert cmp.param_ratio == pytest.approx(1_700_000 / 700_000)
    assert cmp.epoch_diff.mean == pytest.approx(-4.0)
    assert "within 1 pp" in cmp.sentence and "2.4× fewer parameters" in cmp.sentence


def test_small_model_falls_short_and_beats():
    for small_acc, verdict in ((0.80, "falls short of"), (0.90, "beats")):
        runs, levels = synthetic_rows(lambda a, q, s=small_acc: s if a == "A" else 0.85, levels=[25], archs=ARCHS,
                                      seeds=3, noise_sd=0.002)
        grid = build_grid(runs=runs, levels=levels)
        cmp = compare_models(cell_stats(runs, grid), grid, label="25", tolerance_pp=1.0, metric="best_epoch")
        assert cmp.verdict == verdict


def test_params_level_prefers_the_papers_q25_then_the_knee():
    runs, levels = synthetic_rows(lambda a, q: 0.8, levels=[None, 10, 25, 50], archs={"A": 1}, seeds=1)
    grid = build_grid(runs=runs, levels=levels)
    assert params_level(grid, knee_label="10") == "25"
    assert params_level(grid, knee_label="10", requested="Original") == "none"
    runs, levels = synthetic_rows(lambda a, q: 0.8, levels=[None, 10, 50], archs={"A": 1}, seeds=1)
    assert params_level(build_grid(runs=runs, levels=levels), knee_label="10") == "10"
    with pytest.raises(ConfigError, match="not a level of this sweep"):
        params_level(grid, knee_label="10", requested="33")


def test_params_level_audio_uses_q_075():
    runs, levels = synthetic_rows(lambda a, q: 0.8, levels=[8, 46, 128, 160, None], archs={"A": 1}, seeds=1,
                                  codec="mp3")
    grid = build_grid(runs=runs, levels=levels)
    q46 = grid.get("46").Q
    assert q46 == pytest.approx(0.75)
    assert params_level(grid, knee_label="128") == "46"
