"""The capacity requirement: the reference algorithm's known answers, one-vs-rest, the geometric variants against
naive oracles, growth with n (random labels ∝ n, separable data flat), the turning point, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helmholtz.capacity.progression import (
    compare_with_knee,
    growth_exponent,
    requirement_progression,
    turning_point,
)
from helmholtz.capacity.requirement import (
    bits_from_changes,
    capacity_requirement,
    count_changes,
    energies,
    nearest_neighbours,
    pca_reduce,
)
from helmholtz.errors import ConfigError, DataError

XOR = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]])


def _req(x, y, **kw):
    r = capacity_requirement(np.asarray(x), np.asarray(y), **kw)
    return r.changes, r.estimated_bits, r.max_bits


def _with_changes(changes: int, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n two-feature points whose energies (x0 + x1) are distinct and increasing and whose labels, in that order,
    switch exactly ``changes`` times; rows shuffled so the sort has work to do."""
    rng = np.random.default_rng(seed)
    switch_at = np.sort(rng.choice(np.arange(1, n), size=changes, replace=False))
    labels = np.zeros(n, dtype=int)
    for s in switch_at:
        labels[s:] ^= 1
    e = np.arange(n, dtype=float) + rng.uniform(0.1, 0.9, n)
    split = rng.uniform(-5, 5, n)
    x = np.stack([e / 2 + split, e / 2 - split], axis=1)
    order = rng.permutation(n)
    return x[order], labels[order]


# ---------------------------------------------------------------- the reference's known answers (DESIGN.md table)


def test_xor_and_and():
    assert _req(XOR, [-1, 1, 1, -1]) == (2, 4, 8)          # xor: 2 changes, 4 bits, max 8
    assert _req(XOR, [0, 0, 0, 1]) == (1, 2, 4)            # AND: 1 change, 2 bits, max 4
    assert _req(XOR, [1, 0, 0, 1]) == (2, 4, 8)            # nxor


@pytest.mark.parametrize(("changes", "n", "estimated", "maximum"), [
    (6, 7, 6, 24),          # the reference's 7-point random set
    (26, 100, 10, 104),     # xor_100
    (30, 100, 10, 120),     # circle_100
    (39, 100, 12, 156),     # spiral_100
    (2586, 10000, 24, 10344),  # circle_10000
])
def test_point_sets_with_the_reference_tables_change_counts(changes, n, estimated, maximum):
    x, y = _with_changes(changes, n)
    assert _req(x, y) == (changes, estimated, maximum)


def test_bits_match_the_references_floating_point_log2():
    d = 3
    for c in range(0, 5000):
        ref_est = 0 if c == 0 else math.ceil(math.log(c + 1) / math.log(2)) * d
        assert bits_from_changes([c], d) == (ref_est, c * (d + 1) + c), c


def test_the_sort_is_stable_and_ties_keep_the_data_order():
    x = np.zeros((100, 3))                        # every energy ties
    y = np.array([0] * 50 + [1] * 50)
    assert _req(x, y)[0] == 1
    assert _req(x, y[::-1].copy())[0] == 1
    alternating = np.arange(100) % 2
    assert _req(x, alternating)[0] == 99


def test_sigdigits_truncates_like_the_reference():
    x = np.array([[0.123], [0.5], [0.129]])
    y = np.array([0, 1, 0])
    assert _req(x, y)[0] == 1                     # sorted 0.123, 0.129, 0.5 → labels 0, 0, 1
    np.testing.assert_allclose(energies(x, sigdigits=1), [0.1, 0.5, 0.1])
    x2 = np.array([[0.129], [0.121], [0.5]])
    y2 = np.array([0, 1, 0])
    # exact: 0.121(1) 0.129(0) 0.5(0) → 1 change; truncated to 0.12 both tie, stable: 0.129(0) 0.121(1) 0.5(0) → 2
    assert _req(x2, y2)[0] == 1 and _req(x2, y2, sigdigits=2)[0] == 2


def test_the_sum_of_uint8_pixels_is_exact():
    x = np.full((3, 28, 28, 1), 255, dtype=np.uint8)
    x[1] = 254
    np.testing.assert_array_equal(energies(x), [255 * 784, 254 * 784, 255 * 784])


# ---------------------------------------------------------------- more than two classes: one-vs-rest


def test_one_vs_rest_on_three_classes_by_hand():
    x = np.arange(6.0)[:, None]
    r = capacity_requirement(x, np.array([0, 0, 1, 1, 2, 2]))
    assert r.scheme == "one-vs-rest" and r.classes == 3
    assert r.per_class_changes == (1, 2, 1)       # 0|rest: 1, 1|rest: 2, 2|rest: 1 → twice the 2 switches
    d = 1
    assert r.changes == 4 and r.estimated_bits == (1 + 2 + 1) * d and r.max_bits == 4 * (d + 1) + 4


def test_count_changes_matches_a_naive_loop():
    rng = np.random.default_rng(1)
    for k in (2, 3, 10):
        ys = rng.integers(0, k, size=(500, 4))
        got = count_changes(ys, k)
        for col in range(4):
            seq = ys[:, col]
            if k == 2:
                assert got[col, 0] == sum(a != b for a, b in zip(seq, seq[1:], strict=False))
            else:
                for c in range(k):
                    b = seq == c
                    assert got[col, c] == sum(p != q for p, q in zip(b, b[1:], strict=False))


# ---------------------------------------------------------------- the geometric variants


def test_nearest_neighbours_match_a_naive_search():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((300, 5)).astype(np.float32)
    dist = ((z[:, None, :].astype(np.float64) - z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(dist, np.inf)
    np.testing.assert_array_equal(nearest_neighbours(z), dist.argmin(1))


def test_pca_keeps_distances_when_it_keeps_every_dimension():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 6))
    z = pca_reduce(x, 6, seed=0)
    d0 = np.linalg.norm(x[:, None] - x[None], axis=-1)
    d1 = np.linalg.norm(z[:, None].astype(np.float64) - z[None], axis=-1)
    np.testing.assert_allclose(d0, d1, atol=1e-4)
    low = np.column_stack([rng.standard_normal(200) * 10, rng.standard_normal((200, 19)) * 0.01])
    top = pca_reduce(low, 1, seed=0)[:, 0]
    assert abs(np.corrcoef(top, low[:, 0])[0, 1]) > 0.999   # the first component is the high-variance axis


def test_nn_counts_items_whose_neighbour_has_another_label():
    x = np.array([[0.0], [0.1], [5.0], [5.1], [10.0], [10.1]])
    assert capacity_requirement(x, [0, 0, 1, 1, 0, 0], method="nn").changes == 0
    assert capacity_requirement(x, [0, 1, 0, 1, 0, 1], method="nn").changes == 6
    # three classes, one-vs-rest: the pair (0, 1) at 0.0/0.1 mismatches twice, each a change for classes 0 and 1
    r = capacity_requirement(x, [0, 1, 2, 2, 1, 1], method="nn")
    assert r.per_class_changes == (2, 2, 0) and r.changes == 4


def test_projection_reports_the_median_direction_and_its_spread():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((400, 8))
    r = capacity_requirement(x, rng.integers(0, 2, 400), method="projection", projections=9, seed=1)
    s = r.spread
    assert s["projections"] == 9 and s["changes"]["min"] <= r.changes <= s["changes"]["max"]
    assert r.changes == s["changes"]["median"]
    again = capacity_requirement(x, rng.integers(0, 2, 400), method="projection", projections=9, seed=2)
    assert again.params["seed"] == 2


# ---------------------------------------------------------------- growth with n


def test_random_labels_need_capacity_in_proportion_to_n():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8000, 10))
    y = rng.integers(0, 2, 8000)
    for method in ("energy", "projection", "nn"):
        p = requirement_progression(x, y, method=method, seed=0)
        assert [s.n for s in p.steps] == [400, 800, 1600, 3200, 6400, 8000]
        assert p.exponent > 0.9, (method, p.exponent)
        assert all(0.4 < s.change_rate < 0.6 for s in p.steps), method      # about one change per two items
        assert p.steps[-1].max_bits > 15 * p.steps[0].max_bits
        assert "in proportion to n" in p.verdict


def test_separable_data_needs_a_flat_requirement():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 8000)
    x = rng.standard_normal((8000, 3)) + 40.0 * y[:, None]        # two far blobs
    for method in ("energy", "projection", "nn"):
        p = requirement_progression(x, y, method=method, seed=0)
        assert max(s.changes for s in p.steps) <= 1, method
        assert p.exponent < 0.2 and "flattens" in p.verdict, (method, p.exponent)
        assert len({s.max_bits for s in p.steps}) == 1


def test_progression_subsets_are_nested_and_the_last_step_is_the_whole_data():
    x, y = _with_changes(30, 100)
    p = requirement_progression(x, y, fractions=(0.5, 1.0))
    assert p.steps[-1].changes == capacity_requirement(x, y).changes == 30
    assert growth_exponent([10], [3]) is None
    with pytest.raises(ConfigError, match="fractions must lie in"):
        requirement_progression(x, y, fractions=(0.0, 1.0))


# ---------------------------------------------------------------- the turning point


def test_turning_point_of_a_curve_that_falls_then_rises():
    bits = [8.0, 4.2, 2.0, 1.2, 0.8, 0.5]     # original, q90, q50, q20, q10, q5
    req = [100, 96, 95, 96, 120, 150]
    t = turning_point(bits, req)
    assert t.found and t.index == 3 and t.rise_index == 4 and t.lowest == 95
    # the levels may come in any order: the walk sorts them by bits
    perm = [5, 2, 0, 4, 1, 3]
    t2 = turning_point([bits[i] for i in perm], [req[i] for i in perm])
    assert perm[t2.index] == 3


def test_turning_point_tolerance_and_flat_curves():
    bits = [8.0, 4.0, 2.0, 1.0]
    assert turning_point(bits, [100, 101, 101.5, 101.9]).found is False            # within 2 %
    t = turning_point(bits, [100, 101, 101.5, 101.9], tolerance=0.01)
    assert t.found and t.index == 1 and t.rise_index == 2          # +1 % is not more than 1 %, +1.5 % is
    flat = turning_point(bits, [5, 5, 5, 5])
    assert not flat.found and flat.index == 3 and flat.rise_index is None
    with pytest.raises(ConfigError, match="one requirement per level"):
        turning_point(bits, [1, 2])


def test_compare_with_knee_says_how_many_levels_apart():
    t = turning_point([8.0, 4.0, 2.0, 1.0], [10, 10, 30, 40])
    assert t.index == 1
    assert "agrees with" in compare_with_knee(t, 1)
    assert "is next to" in compare_with_knee(t, 2) and "more bits than" in compare_with_knee(t, 2)
    assert "fewer bits than" in compare_with_knee(turning_point([8.0, 4.0, 2.0, 1.0], [10, 9, 9, 40]), 1)
    assert "disagrees" in compare_with_knee(t, 3)
    assert compare_with_knee(t, None) == "no trained knee to compare with"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("x", "y", "kw", "err", "match"), [
    (np.zeros((0, 2)), [], {}, DataError, "at least one item"),
    (np.zeros((3, 2)), [0, 1], {}, DataError, "one per item"),
    (np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1], {}, DataError, "NaN"),
    (np.zeros((3, 2)), [0, 1, 0], {"method": "magic"}, ConfigError, "method must be one of"),
    (np.zeros((3, 2)), [0, 1, 0], {"method": "projection", "projections": 0}, ConfigError, "projections must be"),
    (np.zeros((3, 2)), [0, 1, 0], {"method": "nn", "nn_dims": 0}, ConfigError, "nn_dims must be"),
    (np.zeros((1, 2)), [0], {"method": "nn"}, DataError, "at least 2 items"),
])
def test_bad_input_raises_typed_errors(x, y, kw, err, match):
    with pytest.raises(err, match=match):
        capacity_requirement(x, np.asarray(y), **kw)
