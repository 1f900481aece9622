"""BD-rate and BD-accuracy against known answers: identical curves, the same curve at half the bits, straight lines
in log-bits, the ``bjontegaard`` package's documented examples (example_usage.py of FAU-LMS/bjontegaard), and the
monotone fit on noisy curves; bootstrap draws give the same numbers as one curve at a time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helmholtz.analysis.bdrate import _isotonic, bd_accuracy, bd_rate
from helmholtz.errors import ConfigError

RATE = np.array([0.4, 0.8, 1.6, 3.2, 6.4])  # bits per pixel
ACC = np.array([0.62, 0.71, 0.78, 0.82, 0.84])

# FAU-LMS/bjontegaard example_usage.py: test cases 1–3 (rate, PSNR of anchor and test)
EXAMPLES = [
    ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851],
     [9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987]),
    ([82472.76, 26875.24, 9487.76, 4593.6], [43.825, 41.404, 40.037, 38.615],
     [99896.96, 33952.04, 9787.8, 4469.0], [44.731, 41.875, 40.121, 38.651]),
    ([82472.76, 26875.24, 9487.76, 4593.6, 3600, 2900], [43.825, 41.404, 40.037, 38.615, 36.5, 35.1],
     [99896.96, 33952.04, 9787.8, 4469.0, 4040, 3300], [44.731, 41.875, 40.121, 38.651, 37, 36.5]),
]
# what bjontegaard 1.3.0 returns for them: (BD-rate %, BD-PSNR dB) with pchip and with akima
EXPECTED = [
    {"pchip": (-4.417485350589045, 0.11969278542479489), "akima": (-4.425245156997493, 0.11940927028529469)},
    {"pchip": (-4.47218200276197, 0.08887484704747745), "akima": (-4.0857609404152395, 0.08990284924945707)},
    {"pchip": (-2.9528024116427964, 0.08953590194998828), "akima": (-2.52692018696532, 0.050889305024889205)},
]


@pytest.mark.parametrize("method", ["pchip", "akima"])
def test_identical_curves_give_zero(method):
    r, a = bd_rate(RATE, ACC, RATE, ACC, method=method), bd_accuracy(RATE, ACC, RATE, ACC, method=method)
    assert r.value == pytest.approx(0.0, abs=1e-12) and a.value == pytest.approx(0.0, abs=1e-12)
    assert r.overlap_fraction == 1.0 and r.warning is None and not r.monotone_adjusted
    assert (r.lo, r.hi) == (ACC.min(), ACC.max())


@pytest.mark.parametrize("method", ["pchip", "akima"])
@pytest.mark.parametrize(("factor", "want"), [(0.5, -50.0), (2.0, 100.0), (0.8, -20.0)])
def test_the_same_curve_at_a_fraction_of_the_bits(method, factor, want):
    assert bd_rate(RATE, ACC, RATE * factor, ACC, method=method).value == pytest.approx(want, abs=1e-9)


def test_bd_accuracy_of_straight_lines_in_log_bits():
    rate = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    acc_a = 0.5 + 0.1 * np.log10(rate)
    shifted = bd_accuracy(rate, acc_a, 2 * rate, acc_a)  # B needs twice the bits: 0.1·log10 2 less at equal bits
    assert shifted.value == pytest.approx(-0.1 * math.log10(2), abs=1e-12)
    assert shifted.overlap_fraction == pytest.approx(math.log10(8) / math.log10(32))
    assert bd_accuracy(rate, acc_a, rate, acc_a + 0.02).value == pytest.approx(0.02, abs=1e-12)


@pytest.mark.parametrize("case", range(3))
@pytest.mark.parametrize("method", ["pchip", "akima"])
def test_bjontegaard_documented_examples(case, method):
    got_rate = bd_rate(*EXAMPLES[case], method=method).value
    got_psnr = bd_accuracy(*EXAMPLES[case], method=method).value  # BD-PSNR: PSNR in place of accuracy
    want_rate, want_psnr = EXPECTED[case][method]
    assert got_rate == pytest.approx(want_rate, abs=1e-9) and got_psnr == pytest.approx(want_psnr, abs=1e-9)


@pytest.mark.parametrize("case", range(3))
@pytest.mark.parametrize("method", ["pchip", "akima"])
def test_equals_the_bjontegaard_package(case, method):
    bd = pytest.importorskip("bjontegaard")
    assert bd_rate(*EXAMPLES[case], method=method).value == pytest.approx(
        float(bd.bd_rate(*EXAMPLES[case], method=method, min_overlap=0)), abs=1e-10)
    assert bd_accuracy(*EXAMPLES[case], method=method).value == pytest.approx(
        float(bd.bd_psnr(*EXAMPLES[case], method=method, min_overlap=0)), abs=1e-10)


def test_isotonic_fit_known_answers():
    np.testing.assert_allclose(_isotonic(np.array([1.0, 3.0, 2.0, 4.0])), [1.0, 2.5, 2.5, 4.0])
    np.testing.assert_allclose(_isotonic(np.array([3.0, 2.0, 1.0])), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(_isotonic(np.array([1.0, 2.0, 2.0, 5.0])), [1.0, 2.0, 2.0, 5.0])
    np.testing.assert_allclose(_isotonic(np.array([0.7, 0.8, 0.78, 0.82])), [0.7, 0.79, 0.79, 0.82])


def test_non_monotone_curve_is_fitted_monotone_before_inverting():
    noisy = np.array([0.62, 0.74, 0.72, 0.82, 0.84])  # a dip at 1.6 bpp: seed noise
    fitted = np.array([0.62, 0.73, 0.73, 0.82, 0.84])
    # the pooled pair (0.8 and 1.6 bpp at 0.73) becomes one point at their geometric-mean bits
    merged_rate = np.array([0.4, math.sqrt(0.8 * 1.6), 3.2, 6.4])
    merged_acc = np.array([0.62, 0.73, 0.82, 0.84])
    r = bd_rate(RATE, noisy, RATE * 0.7, ACC)
    assert r.monotone_adjusted and r.warning is None
    assert r.value == pytest.approx(bd_rate(RATE, fitted, RATE * 0.7, ACC).value, abs=1e-12)
    assert r.value == pytest.approx(bd_rate(merged_rate, merged_acc, RATE * 0.7, ACC).value, abs=1e-12)
    # the same noisy curve against itself, or at half the bits, keeps the exact answers
    assert bd_rate(RATE, noisy, RATE, noisy).value == pytest.approx(0.0, abs=1e-12)
    assert bd_rate(RATE, noisy, RATE / 2, noisy).value == pytest.approx(-50.0, abs=1e-9)
    # BD-accuracy needs no inverse: it keeps the dip
    assert not bd_accuracy(RATE, noisy, RATE, ACC).monotone_adjusted
    assert bd_accuracy(RATE, noisy, RATE, noisy + 0.01).value == pytest.approx(0.01, abs=1e-12)


def test_flat_or_disjoint_curves_give_nan_with_a_warning():
    flat = bd_rate(RATE, np.full(5, 0.8), RATE, ACC)
    assert math.isnan(flat.value) and "flat" in flat.warning
    falling = bd_rate(RATE, ACC[::-1].copy(), RATE, ACC)  # more bits, lower accuracy everywhere: flat after the fit
    assert math.isnan(falling.value) and falling.monotone_adjusted
    apart = bd_rate(RATE, ACC, RATE, ACC + 0.5)
    assert math.isnan(apart.value) and apart.overlap_fraction == 0.0 and "do not overlap" in apart.warning
    far = bd_accuracy(RATE, ACC, RATE * 1000, ACC)
    assert math.isnan(far.value) and far.warning


def test_small_overlap_warns_but_computes():
    r = bd_rate(RATE, ACC, RATE, ACC + 0.15)
    assert not math.isnan(r.value) and r.overlap_fraction < 0.75 and "less than 75%" in r.warning
    assert bd_rate(RATE, ACC, RATE, ACC + 0.15, min_overlap=0.1).warning is None


@pytest.mark.parametrize("method", ["pchip", "akima"])
def test_bootstrap_draws_equal_one_curve_at_a_time(method):
    rng = np.random.default_rng(0)
    draws_a = ACC + rng.normal(0, 0.02, (40, 5))
    draws_b = ACC + 0.01 + rng.normal(0, 0.02, (40, 5))
    rates_b = RATE * 0.8
    many_r = bd_rate(RATE, draws_a, rates_b, draws_b, method=method)
    many_a = bd_accuracy(RATE, draws_a, rates_b, draws_b, method=method)
    assert many_r.value.shape == many_a.value.shape == (40,) and many_r.lo.shape == (40,)
    for d in range(40):
        one_r = bd_rate(RATE, draws_a[d], rates_b, draws_b[d], method=method)
        one_a = bd_accuracy(RATE, draws_a[d], rates_b, draws_b[d], method=method)
        np.testing.assert_allclose(many_r.value[d], one_r.value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(many_a.value[d], one_a.value, rtol=1e-12, atol=1e-12)
        assert many_r.monotone_adjusted[d] == one_r.monotone_adjusted
    broadcast = bd_accuracy(RATE, ACC, rates_b, draws_b, method=method)  # a 1-D anchor against draws
    assert broadcast.value.shape == (40,)


def test_order_of_the_levels_does_not_matter_and_two_points_are_a_line():
    order = [3, 0, 4, 2, 1]
    assert bd_rate(RATE[order], ACC[order], RATE * 0.5, ACC).value == pytest.approx(-50.0)
    two = bd_rate([1.0, 4.0], [0.6, 0.8], [0.5, 2.0], [0.6, 0.8], method="akima")
    assert two.value == pytest.approx(-50.0)


@pytest.mark.parametrize(("args", "match"), [
    (([1.0], [0.5], RATE, ACC), "at least 2"),
    ((RATE, ACC[:4], RATE, ACC), "5 accuracies"),
    ((-RATE, ACC, RATE, ACC), "positive"),
    ((RATE, np.where(ACC > 0.8, np.nan, ACC), RATE, ACC), "NaN"),
    ((np.array([1.0, 1.0, 2.0, 3.0, 4.0]), ACC, RATE, ACC), "same bits"),
    ((RATE, np.zeros((3, 5)) + ACC, RATE, np.zeros((4, 5)) + ACC), "draws"),
])
def test_bad_inputs_are_config_errors(args, match):
    with pytest.raises(ConfigError, match=match):
        bd_rate(*args)
    with pytest.raises(ConfigError, match="method"):
        bd_rate(RATE, ACC, RATE, ACC, method="cubic")
