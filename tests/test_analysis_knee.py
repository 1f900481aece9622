"""The knee N_approx: the walk rule on hand-made curves, its bootstrap CI, Kneedle, bits at the knee, the
recommendation. Oracles: curves whose knee is known by construction, and hand arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from helmholtz.analysis import analyze
from helmholtz.analysis.knee import estimate_knee, knee_indices, kneedle
from helmholtz.analysis.synthetic import synthetic_rows
from helmholtz.errors import ConfigError, StoreError
from helmholtz.report.summary import headline, knee_text

LEVELS = [1, 5, 10, 15, 20, 25, 50, 75, 100, None]


def step_curve(knee_q: int, *, top: float = 0.9, drop: float = 0.04):
    """Accuracy flat at `top` down to quality `knee_q`, then falling `drop` per quality step below it."""
    return lambda arch, q: top if q is None or q >= knee_q else top - drop * (1 + LEVELS.index(knee_q) - LEVELS.index(q))


# ----------------------------------------------------------------- the walk rule
@pytest.mark.parametrize(("means", "knee", "found"), [
    ([0.90, 0.90, 0.90, 0.85, 0.50], 2, True),      # drop after the third level
    ([0.88, 0.90, 0.90, 0.70], 2, True),            # the best is not the first level: walk from the best
    ([0.90, 0.895, 0.893, 0.891], 3, False),        # flat within δ: no knee, the last level is a bound
    ([0.90, 0.90, 0.70, 0.895], 1, True),           # noise past the collapse does not pass (literal rule: 3)
    ([0.90, 0.70, 0.70], 0, True),                  # even the first step falls: the knee is the first level
])
def test_walk_rule(means, knee, found):
    k, f = knee_indices(np.array([means]), tolerance=0.01)
    assert (int(k[0]), bool(f[0])) == (knee, found)


def test_walk_rule_vectorised_rows_are_independent():
    rows = np.array([[0.9, 0.9, 0.5], [0.9, 0.5, 0.5], [0.9, 0.9, 0.9]])
    k, f = knee_indices(rows, tolerance=0.01)
    assert k.tolist() == [1, 0, 2] and f.tolist() == [True, True, False]


def test_tolerance_moves_the_knee():
    m = np.array([[0.90, 0.895, 0.88, 0.80]])
    assert knee_indices(m, tolerance=0.01)[0][0] == 1
    assert knee_indices(m, tolerance=0.03)[0][0] == 2


# ----------------------------------------------------------------- the knee on sweeps, with its CI
def test_known_knee_found_with_tight_ci():
    runs, levels = synthetic_rows(step_curve(20), levels=LEVELS, archs={"A": 1, "F": 2}, seeds=3,
                                  noise_sd=0.001)
    res = analyze(runs=runs, levels=levels, n_boot=300)
    k = res.knee
    assert (k.knee_label, k.found, k.curve) == ("20", True, "best")
    assert k.knee_Q == pytest.approx(0.8)
    assert k.ci_labels == ("20", "20") and k.distribution == {"20": 1.0}
    assert res.knees["A"].knee_label == "20" and res.knees["F"].knee_label == "20"
    assert knee_text(res).startswith("N_approx ≈ q 20 (CI q 20)")


def _ci_width(k) -> float:
    return (k.ci_Q[1] or 0.0) - (k.ci_Q[0] or 0.0)


def test_noisy_curve_has_a_wider_ci_than_the_same_curve_with_little_noise():
    curve = step_curve(20, drop=0.015)
    widths = {}
    for sd in (0.001, 0.02):
        runs, levels = synthetic_rows(curve, levels=LEVELS, archs={"A": 1}, seeds=5, noise_sd=sd, rng_seed=7)
        widths[sd] = _ci_width(analyze(runs=runs, levels=levels, n_boot=1000).knee)
    assert widths[0.001] == 0.0
    assert widths[0.02] > widths[0.001]


def test_flat_curve_reports_no_knee_and_the_lowest_level_as_bound():
    runs, levels = synthetic_rows(lambda a, q: 0.9, levels=LEVELS, archs={"A": 1}, seeds=2, noise_sd=0.001)
    res = analyze(runs=runs, levels=levels, n_boot=200)
    assert res.knee.found is False and res.knee.knee_label == "1"
    assert res.knee.flat_share == 1.0
    assert "no knee within the grid: accuracy holds down to the lowest level, q 1" in headline(res)


def test_bootstrap_is_reproducible_with_its_seed():
    runs, levels = synthetic_rows(step_curve(20, drop=0.01), levels=LEVELS, archs={"A": 1}, seeds=3,
                                  noise_sd=0.01, rng_seed=3)
    a = analyze(runs=runs, levels=levels, n_boot=300, seed=5).knee
    b = analyze(runs=runs, levels=levels, n_boot=300, seed=5).knee
    assert a.distribution == b.distribution and a.ci_labels == b.ci_labels
    assert sum(a.distribution.values()) == pytest.approx(1.0)


def test_knee_at_the_original_when_every_compressed_level_falls():
    runs, levels = synthetic_rows(lambda a, q: 0.9 if q is None else 0.8, levels=[50, 100, None], archs={"A": 1},
                                  seeds=2)
    res = analyze(runs=runs, levels=levels, n_boot=50)
    assert res.knee.knee_label == "none"
    assert "above the grid's best quality" in headline(res)


def test_estimate_knee_rejects_bad_options():
    vals = {"A": {"20": [0.9]}}
    with pytest.raises(ConfigError, match="--tolerance"):
        estimate_knee(vals, labels=["20"], Q=[0.8], curve="A", tolerance_pp=-1)
    with pytest.raises(ConfigError, match="B ≥ 1"):
        estimate_knee(vals, labels=["20"], Q=[0.8], curve="A", n_boot=0)
    with pytest.raises(ConfigError, match="no finished runs"):
        estimate_knee({"A": {}}, labels=["20"], Q=[0.8], curve="A")


def test_analyze_without_finished_runs_is_a_store_error():
    with pytest.raises(StoreError, match="no finished runs"):
        analyze(runs=[{"status": "failed", "arch": "A", "level": 5, "test_acc": None}], levels=[])


# ----------------------------------------------------------------- Kneedle
def test_kneedle_agrees_with_the_known_knee_on_a_textbook_curve():
    q = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99])
    acc = np.where(q <= 0.8, 0.9, 0.9 - (q - 0.8) * 3.0)     # flat, then a straight fall from Q = 0.8
    assert kneedle(q, acc) == pytest.approx(0.8)
    assert kneedle(q, np.full(q.size, 0.9)) is None            # flat: no knee
    assert kneedle(q[:2], acc[:2]) is None                     # too few points


def test_kneedle_on_a_sweep_matches_the_walk_rule():
    runs, levels = synthetic_rows(step_curve(20, drop=0.1), levels=LEVELS, archs={"A": 1}, seeds=2)
    k = analyze(runs=runs, levels=levels, n_boot=50).knee
    assert k.kneedle_label == "20" and k.kneedle_Q == pytest.approx(0.8)


# ----------------------------------------------------------------- bits and the recommendation
def test_bits_at_the_knee_are_the_measured_level_stats_and_the_papers_arithmetic():
    runs, levels = synthetic_rows(step_curve(25), levels=LEVELS, archs={"A": 1}, seeds=2)
    res = analyze(runs=runs, levels=levels, n_boot=50)
    row = next(lv for lv in levels if lv["level"] == 25)
    b = res.knee_bits
    assert b.label == "25" and b.unit == "bits/pixel"
    assert b.payload == pytest.approx(row["bits_payload"]) and b.total == pytest.approx(row["bits_total"])
    assert b.compression_ratio == pytest.approx(8 * 784 / 8 / row["bytes_total_mean"])
    assert b.paper_bits_left == pytest.approx(1.4, abs=0.05)   # the paper's Sec. 4.1: 1.4 bits left at q = 25


def test_audio_bits_are_in_kbps():
    levels_kbps = [8, 16, 32, 64, 128, 160, None]
    curve = lambda a, b: 0.8 if b is None or b >= 32 else 0.5      # noqa: E731
    runs, levels = synthetic_rows(curve, levels=levels_kbps, archs={"A": 1}, seeds=2, codec="mp3")
    res = analyze(runs=runs, levels=levels, n_boot=50)
    assert res.knee.knee_label == "32" and res.grid.name("32") == "32 kbps"
    assert res.knee_bits.unit == "kbps" and res.knee_bits.payload == pytest.approx(32.0)
    assert res.knee_bits.paper_bits_left is None


def test_recommendation_is_the_smallest_arch_within_delta_at_the_knee_with_savings():
    def acc(arch, q):
        top = {"A": 0.895, "C": 0.899, "F": 0.90}[arch]
        return step_curve(20, top=top)(arch, q)

    runs, levels = synthetic_rows(
        acc, levels=LEVELS, archs={"A": 100, "C": 200, "F": 400}, seeds=2,
        epochs=lambda a, q: 20 if q is None else 13, wall_s=lambda a, q: 100.0 if a == "F" else 40.0)
    r = analyze(runs=runs, levels=levels, n_boot=50).recommendation
    assert (r.label, r.arch, r.baseline_arch) == ("20", "A", "F")
    s = r.savings
    assert s.params_ratio == pytest.approx(4.0)
    assert s.epochs_saved == pytest.approx(1 - 13 / 20) and s.wall_saved == pytest.approx(0.6)
    row = next(lv for lv in levels if lv["level"] == 20)
    assert s.storage_ratio == pytest.approx(row["compression_ratio"])


def test_recommendation_without_the_original_has_no_baseline():
    runs, levels = synthetic_rows(step_curve(20), levels=[5, 20, 50], archs={"A": 1, "F": 2}, seeds=2)
    r = analyze(runs=runs, levels=levels, n_boot=50).recommendation
    assert r.baseline_arch is None and r.savings.epochs_saved is None
    assert any("no baseline" in n for n in r.notes)


def test_only_the_original_has_runs_so_there_is_no_knee_yet():
    runs, levels = synthetic_rows(lambda a, q: 0.9, levels=[None], archs={"A": 1}, seeds=2)
    res = analyze(runs=runs, levels=levels, spec={"codec": "jpeg", "levels": [5, 50, None]}, n_boot=20)
    assert res.knee.knee_label == "none" and not res.knee.found
    assert headline(res).startswith("no knee yet: no compressed level has a finished run")
