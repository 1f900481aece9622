"""Measured effective capacity: a perceptron lands near Cover's 2(d + 1) and never above what a linear program can
separate; the search brackets a known threshold; a starved budget measures less; errors; an architecture smoke."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from helmholtz.capacity import memorise  # noqa: E402
from helmholtz.capacity.memorise import (  # noqa: E402
    RECIPES,
    Budget,
    RecipeSpec,
    Trial,
    get_recipe,
    measure_effective_capacity,
    random_labels,
)
from helmholtz.errors import ConfigError, DataError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

D = 20                                      # perceptron inputs
COVER = 2 * (D + 1)                         # Cover (1965): an affine perceptron fits half of all labelings of 2(d+1) points
COVER_TOLERANCE = 0.2                       # the mean over seeds must land within ±20 % of it
WELL_TRAINED = RecipeSpec("adam-constant", "adamw", 0.05, "constant")


def _gaussian(seed: int, n: int = 10 * D) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, D)).astype(np.float32)


def _lp_separable(x: np.ndarray, y: np.ndarray) -> bool:
    """Oracle: is there an affine w·x + b with sign = label for every point (a feasible linear program)?"""
    from scipy.optimize import linprog

    s = 2.0 * y - 1.0
    a = -(s[:, None] * np.hstack([x, np.ones((len(x), 1))]))
    res = linprog(np.zeros(x.shape[1] + 1), A_ub=a, b_ub=-np.ones(len(x)), bounds=[(None, None)] * (x.shape[1] + 1),
                  method="highs")
    return res.status == 0


def _lp_limit(x: np.ndarray, y: np.ndarray) -> int:
    """The largest n whose first n points are linearly separable (separability only gets lost as n grows)."""
    n = D + 1
    while n < len(x) and _lp_separable(x[: n + 1], y[: n + 1]):
        n += 1
    return n


def _perceptron() -> nn.Module:
    return nn.Linear(D, 2)                  # two logits: the sign of their difference is one affine threshold


@pytest.mark.slow
def test_a_well_trained_perceptron_memorises_about_cover_s_2d_points():
    measured, limits = [], []
    for seed in (0, 1, 2):
        x = _gaussian(seed)
        r = measure_effective_capacity(_perceptron, x, n_classes=2, recipe=WELL_TRAINED, budget=Budget(epochs=1000),
                                       n_start=D, rel_tol=0.05, seed=seed, mec_bits=D + 1)
        limit = _lp_limit(x, random_labels(len(x), 2, seed=seed))
        assert r.bound == "bracketed" and r.n_memorised <= limit, (seed, r.n_memorised, limit)
        assert r.effective_bits == r.n_memorised and r.ratio == pytest.approx(r.n_memorised / (D + 1))
        measured.append(r.n_memorised)
        limits.append(limit)
    mean = float(np.mean(measured))
    assert abs(mean - COVER) <= COVER_TOLERANCE * COVER, (measured, limits)
    assert abs(np.mean(limits) - COVER) <= COVER_TOLERANCE * COVER, limits   # the oracle agrees with Cover too


def test_a_starved_budget_realises_less():
    x = _gaussian(0)
    starved = measure_effective_capacity(_perceptron, x, n_classes=2, recipe="paper", budget=Budget(epochs=3),
                                         n_start=D, seed=0)
    assert starved.n_memorised < 0.6 * COVER


def test_the_search_brackets_a_known_threshold(monkeypatch):
    calls: list[int] = []

    def fake_fit(make_model, x, y, *, recipe, budget, threshold, seed):
        calls.append(len(y))
        return Trial(n=len(y), fits=len(y) <= 300, train_acc=1.0 if len(y) <= 300 else 0.5, epochs=1, seconds=0.0)

    monkeypatch.setattr(memorise, "fit_random_labels", fake_fit)
    x = np.zeros((5000, 2), dtype=np.float32)
    r = measure_effective_capacity(_perceptron, x, n_classes=10, n_start=64, rel_tol=0.05)
    assert r.bound == "bracketed" and r.n_memorised <= 300 < r.n_failed and r.n_failed / r.n_memorised <= 1.05
    assert r.effective_bits == pytest.approx(r.n_memorised * math.log2(10))
    assert calls[:4] == [64, 128, 256, 512] and len(set(calls)) == len(calls)      # doubling, no trial twice
    assert [t.n for t in r.trials] == sorted(calls)
    top = measure_effective_capacity(_perceptron, x[:200], n_classes=10, n_start=64)
    assert top.bound == "at least" and top.n_memorised == 200 and top.n_failed is None
    none = measure_effective_capacity(_perceptron, np.zeros((5000, 2), np.float32), n_classes=10, n_start=1000,
                                      rel_tol=0.05)
    assert none.bound == "bracketed" and none.n_memorised <= 300 < none.n_failed          # halving first
    monkeypatch.setattr(memorise, "fit_random_labels",
                        lambda *a, **k: Trial(n=len(k.get("y", a[2])), fits=False, train_acc=0.0, epochs=1, seconds=0))
    below = measure_effective_capacity(_perceptron, x, n_classes=10, n_start=16)
    assert below.bound == "below" and below.n_memorised == 0 and below.effective_bits == 0


def test_labels_are_nested_and_the_budget_raises_short_epochs():
    assert np.array_equal(random_labels(50, 3, seed=1), random_labels(80, 3, seed=1)[:50])
    b = Budget(epochs=10, min_steps=100)
    assert b.epochs_for(64, 128) == 100 and b.epochs_for(12800, 128) == 10
    assert "at least 100 steps" in b.text()
    assert get_recipe("PAPER") is RECIPES["paper"] and "Nesterov" in RECIPES["paper"].text()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: Budget(epochs=0), "needs ≥ 1 epoch"),
    (lambda: Budget(epochs=1, seconds=0), "time budget must be positive"),
    (lambda: Budget(epochs=1, min_steps=-1), "min_steps must be"),
    (lambda: get_recipe("sgd-magic"), "recipe must be one of"),
    (lambda: measure_effective_capacity(_perceptron, np.zeros((10, D)), n_classes=1), "need ≥ 2 classes"),
    (lambda: measure_effective_capacity(_perceptron, np.zeros((10, D)), n_classes=2, threshold=0), "threshold must be"),
])
def test_bad_settings_raise_config_error(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_too_few_items_raise_data_error():
    with pytest.raises(DataError, match="at least 2 items"):
        measure_effective_capacity(_perceptron, np.zeros((1, D)), n_classes=2)


def test_an_architecture_on_a_tiny_dataset():
    from helmholtz.capacity.measure import downsample, measure_arch
    from helmholtz.capacity.mec import mec_bits
    from helmholtz.data.dataset import RawData, make_dataset

    rng = np.random.default_rng(0)
    raw = RawData(x_train=rng.integers(0, 256, (300, 8, 8, 1), dtype=np.uint8), y_train=rng.integers(0, 4, 300),
                  x_test=None, y_test=None, class_names=("a", "b", "c", "d"), format="npz")
    ds = make_dataset(raw, name="tiny", source="memory")
    r = measure_arch(ds, arch="F", width=0.125, recipe="fast", budget=Budget(epochs=2), factor=2, n_start=8,
                     max_items=64, dropout=False)
    assert r.arch == "F" and r.classes == 4 and r.mec_bits == mec_bits("F", input_shape=(1, 4, 4), n_classes=4, width=0.125).mec_bits
    assert r.ratio == pytest.approx(r.effective_bits / r.mec_bits) and "4×4" in r.notes["input"]
    assert r.notes["dropout"] == "off (p = 0)"
    assert set(r.to_dict()) >= {"arch", "mec_bits", "effective_bits", "n_memorised", "classes", "ratio"}
    assert r.to_dict()["bits_per_param"] == pytest.approx(r.effective_bits / r.params)
    x = np.arange(2 * 1 * 4 * 6, dtype=np.float32).reshape(2, 1, 4, 6)
    assert downsample(x, 2).shape == (2, 1, 2, 3) and downsample(x, 2)[0, 0, 0, 0] == pytest.approx((0 + 1 + 6 + 7) / 4)
    with pytest.raises(ConfigError, match="leaves nothing"):
        downsample(x, 5)
