"""epochs_to_converge against hand-computed histories, and early stopping with patience (Algorithm 7.1)."""

from __future__ import annotations

import random

import pytest

from helmholtz.errors import ConfigError
from helmholtz.train.convergence import EarlyStopping, convergence, epochs_to_converge


def test_empty_history_is_none():
    assert epochs_to_converge([]) is None


def test_flat_history_converges_at_epoch_one():
    assert epochs_to_converge([0.5] * 30) == 1


def test_step_history_hand_computed():
    # 5 epochs at 0.5 then 15 at 0.9: max 0.9, target 0.891. Window from epoch 5 = (0.5 + 9·0.9)/10 = 0.86 (no);
    # from epoch 6 = 0.9 (yes).
    assert epochs_to_converge([0.5] * 5 + [0.9] * 15) == 6


def test_linear_ramp_hand_computed():
    # 0.1, 0.2, … 1.0, then 10 epochs at 1.0; target 0.99. Window from epoch i (1-based, i ≤ 10) averages
    # 0.1·i … 1.0 and then 1.0s: mean = (sum_{j=i..10} 0.1j + (i−1)·1.0)/10. i=9: (0.9+1.0+8)/10 = 0.99 (not >),
    # i=10: (1.0 + 9)/10 = 1.0 > 0.99.
    hist = [round(0.1 * j, 10) for j in range(1, 11)] + [1.0] * 10
    assert epochs_to_converge(hist) == 10


def test_a_run_shorter_than_the_window_is_censored_not_converged():
    # the wave-1 rule let the window shrink at the end, so a still-rising 5-epoch run read "converged at epoch 5"
    assert epochs_to_converge([0.2, 0.4, 0.6, 0.7, 0.8]) is None
    c = convergence([0.2, 0.4, 0.6, 0.7, 0.8])
    assert c.censored and c.epoch is None and c.censored_at == 1
    assert epochs_to_converge([0.8] * 9) is None            # 9 epochs: still no full window


def test_a_still_rising_long_run_is_censored_where_its_windows_end():
    hist = [0.1 * j for j in range(1, 13)]                  # 12 epochs, rising to the last
    c = convergence(hist)
    # full windows start at epochs 1..3, none qualifies; the window from epoch 4 is not complete yet
    assert (c.epoch, c.censored, c.censored_at) == (None, True, 4)
    assert convergence([0.5] * 10) == convergence([0.5] * 10, window=10)
    assert convergence([0.5] * 10).epoch == 1 and not convergence([0.5] * 10).censored


def test_strictly_exceeds_and_custom_window():
    assert epochs_to_converge([0.99, 1.0], window=1) == 2  # 0.99 is not > 0.99·1.0
    assert epochs_to_converge([0.99, 1.0], window=2) == 1  # mean 0.995 > 0.99
    assert epochs_to_converge([0.6, 0.8, 0.79, 0.8], window=2, frac=0.98) == 2  # 0.795 > 0.784
    assert epochs_to_converge([0.6, 0.8, 0.79, 0.8], window=3, frac=0.999) is None  # last full window: 0.797


def test_no_epoch_qualifies_is_none():
    assert epochs_to_converge([0.1, 1.0, 0.1], window=2) is None
    assert epochs_to_converge([0.0, 0.0], window=1) is None


def test_matches_a_naive_oracle_on_random_histories():
    rng = random.Random(0)

    def naive(h, window, frac):
        best = max(h)
        for i in range(1, len(h) - window + 2):
            seg = h[i - 1 : i - 1 + window]
            if sum(seg) / window > frac * best:
                return i
        return None

    for _ in range(300):
        h = [rng.random() for _ in range(rng.randint(1, 40))]
        w, f = rng.randint(1, 12), rng.choice([0.9, 0.95, 0.99])
        assert epochs_to_converge(h, window=w, frac=f) == naive(h, w, f)


def test_bad_window_or_frac():
    with pytest.raises(ConfigError, match="window must be ≥ 1"):
        epochs_to_converge([0.5], window=0)
    with pytest.raises(ConfigError, match=r"frac must be in \(0, 1\]"):
        epochs_to_converge([0.5], frac=1.5)


def test_early_stopping_patience_counts_epochs_without_improvement():
    stopper = EarlyStopping(patience=2)
    seen = []
    for epoch, acc in enumerate([0.5, 0.6, 0.6, 0.7, 0.69, 0.7, 0.9], start=1):
        seen.append(stopper.update(acc, epoch))
        if stopper.should_stop:
            break
    # 0.6 again is not an improvement (1 bad); 0.7 at epoch 4 resets; 0.69 and 0.7 (equal, not better) are two
    # bad epochs in a row → stop after epoch 6, never seeing the 0.9
    assert seen == [True, True, False, True, False, False]
    assert (stopper.best, stopper.best_epoch, epoch) == (0.7, 4, 6)


def test_early_stopping_constant_history_stops_after_patience_plus_one():
    stopper = EarlyStopping(patience=3)
    epoch = 0
    while not stopper.should_stop:
        epoch += 1
        stopper.update(0.25, epoch)
    assert epoch == 4 and stopper.best_epoch == 1


def test_early_stopping_rejects_bad_patience():
    with pytest.raises(ConfigError, match="patience must be ≥ 1"):
        EarlyStopping(0)
