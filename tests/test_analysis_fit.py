"""The Fig. 3 fit recovers known a and c; numpy's polyfit on the same design is the second oracle."""

from __future__ import annotations

import numpy as np
import pytest

from helmholtz.analysis import analyze
from helmholtz.analysis.fit import fit_log_curve, information_term
from helmholtz.analysis.simulate import Truth, simulate
from helmholtz.errors import ConfigError

Q = np.array([0.0, 0.25, 0.5, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99])


def test_fit_recovers_known_a_and_c_from_noisy_data():
    a, c = 0.31, 0.12
    rng = np.random.default_rng(0)
    acc = a + c * np.log(100 - 100 * Q) + rng.normal(0, 0.003, Q.size)
    fit = fit_log_curve(Q, acc)
    assert fit.a == pytest.approx(a, abs=0.02) and fit.c == pytest.approx(c, abs=0.005)
    assert fit.r2 > 0.99
    assert np.allclose(fit.residuals, acc - fit.predict(Q))
    slope, intercept = np.polyfit(np.log(100 - 100 * Q), acc, 1)
    assert (fit.a, fit.c) == (pytest.approx(intercept), pytest.approx(slope))


def test_fit_is_exact_without_noise():
    acc = 0.2 + 0.15 * np.log(100 - 100 * Q)
    fit = fit_log_curve(Q, acc)
    assert fit.a == pytest.approx(0.2) and fit.c == pytest.approx(0.15)
    assert fit.r2 == pytest.approx(1.0) and fit.rmse == pytest.approx(0.0, abs=1e-12)


def test_audio_q_of_one_is_capped_not_infinite():
    x = information_term([0.0, 0.5, 1.0])
    assert np.all(np.isfinite(x)) and x[-1] == pytest.approx(np.log(1.0))
    fit = fit_log_curve([0.0, 0.5, 1.0], [0.8, 0.7, 0.2])
    assert np.isfinite(fit.a) and np.isfinite(fit.c)


def test_flat_data_has_no_r2():
    fit = fit_log_curve([0.0, 0.5, 0.9], [0.8, 0.8, 0.8])
    assert fit.c == pytest.approx(0.0, abs=1e-12) and fit.r2 is None


def test_fit_needs_two_levels():
    with pytest.raises(ConfigError, match="at least two distinct compressed levels"):
        fit_log_curve([0.5], [0.8])
    with pytest.raises(ConfigError, match="equal length"):
        fit_log_curve([0.1, 0.5], [0.8])


def test_analyze_fits_each_arch_on_compressed_levels_only():
    # a sweep whose compressed levels lie on a + c·ln(q) exactly; the original (0.5, off the curve) is not fitted
    from dataclasses import replace

    a, c = 0.3, 0.12
    qs = (1, 5, 10, 25, 50, 75)
    obs = simulate(Truth("flat"), levels=(*qs, None), seeds=3, n_items=200)
    cells = {}
    for (m, lv), cell in obs.cells.items():
        mean = 0.5 if lv == "none" else a + c * np.log(int(lv))
        cells[(m, lv)] = replace(cell, acc=np.full(cell.n, mean), correct=None)
    res = analyze(replace(obs, cells=cells), n_boot=50)
    for arch in ("A", "F"):
        fit = res.fits[arch]
        assert fit.n == len(qs)
        assert fit.a == pytest.approx(a) and fit.c == pytest.approx(c)


def test_analyze_draws_no_paper_curve_from_too_few_levels():
    res = analyze(simulate(Truth("flat"), levels=(20, 50, None), seeds=3, n_items=200), n_boot=20)
    assert res.fits == {}          # two compressed levels: a two-parameter fit would be exact (R² 1.00) and say nothing
