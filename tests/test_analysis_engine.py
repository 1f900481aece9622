"""The statistics engine against oracles: Student-t bounds, pairing over seeds and items, clipping, determinism,
the verdict rules, and the power estimate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from helmholtz.analysis.bootstrap import PairedBootstrap, kappa
from helmholtz.analysis.compare import tost_verdict
from helmholtz.analysis.observations import REFERENCE, Cell, LevelInfo, Observations
from helmholtz.analysis.power import more_seeds
from helmholtz.analysis.tolerance import Tolerance
from helmholtz.errors import ConfigError


def _levels(*keys):
    out = []
    for i, k in enumerate(keys):
        bits = 8.0 / (2**i)
        out.append(LevelInfo(key=k, codec="none" if k == REFERENCE else "jpeg", level=None if k == REFERENCE else int(k),
                             display=k, bits=bits, bits_total=bits, raw_bits=8.0))
    return tuple(out)


def obs_from_acc(table: dict[tuple[str, str], list[float]], *, n_test=None, keys=(REFERENCE, "20"), n_classes=10):
    cells = {k: Cell(model=k[0], level=k[1], seeds=tuple(range(len(v))), acc=np.array(v, float), correct=None,
                     n_test=n_test) for k, v in table.items()}
    models = tuple(sorted({k[0] for k in table}))
    return Observations(levels=_levels(*keys), models=models, params={m: i + 1 for i, m in enumerate(models)},
                        cells=cells, n_classes=n_classes)


def test_kappa_reproduces_the_student_t_bound_without_item_noise():
    # per-seed differences with known mean and sd: the calibrated bootstrap's one-sided 95 % bounds must equal the
    # t bounds mean ± t_{0.95,n−1}·s/√n (up to Monte-Carlo error), which a plain bootstrap undercuts badly at n = 4
    ref = [0.80, 0.81, 0.79, 0.82]
    lvl = [0.79, 0.795, 0.775, 0.80]
    obs = obs_from_acc({("A", REFERENCE): ref, ("A", "20"): lvl})
    d = PairedBootstrap(obs, n_boot=40_000, seed=1).diff(("A", "20"), ("A", REFERENCE))
    per = np.array(lvl) - np.array(ref)
    half = stats.t.ppf(0.95, 3) * per.std(ddof=1) / 2
    lo, hi = d.interval(0.90)
    assert d.point == pytest.approx(per.mean())
    assert lo == pytest.approx(per.mean() - half, abs=0.12 * half)
    assert hi == pytest.approx(per.mean() + half, abs=0.12 * half)
    # the uncalibrated Gaussian-multiplier seed part (κ = 1) would be far narrower: the calibration matters
    raw = np.quantile(d.seed, [0.05, 0.95])
    assert raw[1] - raw[0] < 0.75 * (hi - lo)
    # κ = (t_{q,n−1}/z_q)·√(n/(n−1)) for Gaussian multipliers: 4 seeds → (2.353/1.645)·√(4/3); 30 seeds → near 1
    assert kappa(4, 0.95) == pytest.approx(2.3534 / 1.6449 * np.sqrt(4 / 3), rel=1e-3)
    assert kappa(30, 0.95) == pytest.approx(1.0479, abs=0.01) and kappa(1, 0.95) == 1.0


def test_pairing_over_seeds_decides_what_an_unpaired_bootstrap_cannot():
    # a large seed effect shared by both levels (seed 2 is lucky everywhere) and a true loss of 3 pp at "20"
    shared = np.array([0.00, 0.06, -0.05, 0.03, -0.04])
    ref = 0.80 + shared
    lvl = 0.77 + shared + np.array([0.002, -0.001, 0.001, -0.002, 0.0])
    obs = obs_from_acc({("A", REFERENCE): list(ref), ("A", "20"): list(lvl)})
    boot = PairedBootstrap(obs, n_boot=4000, seed=0)
    lo, hi = boot.diff(("A", "20"), ("A", REFERENCE)).interval(0.90)
    assert hi < -0.01                       # paired: clearly below −δ → "drops" is decidable
    # unpaired: the two cells drawn independently (two bootstraps), as a Welch-style analysis would
    other = PairedBootstrap(obs, n_boot=4000, seed=99)
    unpaired = boot.cell("A", "20").draws(0.95) - other.cell("A", REFERENCE).draws(0.95)
    u_lo, u_hi = np.quantile(unpaired, [0.05, 0.95])
    assert u_lo < -0.01 < u_hi              # unpaired: cannot tell a drop beyond δ


def test_pairing_over_items_shrinks_a_difference_to_the_items_that_differ():
    # two cells that agree on every item but 30 of 2000 (the level gets them wrong): per-cell intervals are wide
    # (binomial, ±2 pp), the paired difference is tight around −1.5 pp
    rng = np.random.default_rng(0)
    base = np.repeat(rng.random((1, 2000)) < 0.8, 3, axis=0)      # three seeds that agree item for item
    worse = base.copy()
    flip = np.flatnonzero(base[0])[:30]
    worse[:, flip] = False
    cells = {("A", REFERENCE): Cell("A", REFERENCE, (0, 1, 2), base.mean(1), base, 2000),
             ("A", "20"): Cell("A", "20", (0, 1, 2), worse.mean(1), worse, 2000)}
    obs = Observations(levels=_levels(REFERENCE, "20"), models=("A",), params={"A": 1}, cells=cells, n_classes=10)
    boot = PairedBootstrap(obs, n_boot=2000, seed=0)
    d = boot.diff(("A", "20"), ("A", REFERENCE))
    c_lo, c_hi = boot.cell("A", REFERENCE).interval(0.95)
    lo, hi = d.interval(0.95)
    assert obs.paired_items
    assert c_hi - c_lo > 0.025              # a cell alone: the test set's sampling error
    assert hi - lo < 0.015                  # the difference: only the 30 items that differ vary (±2·√30/2000)
    assert lo < -0.015 < hi


def test_cell_intervals_stay_within_zero_and_one():
    obs = obs_from_acc({("A", REFERENCE): [0.999, 1.0, 0.995], ("A", "20"): [0.001, 0.0, 0.01]}, n_test=200)
    boot = PairedBootstrap(obs, n_boot=2000, seed=0)
    for level in (REFERENCE, "20"):
        lo, hi = boot.cell("A", level).interval(0.95)
        assert 0.0 <= lo <= hi <= 1.0


def test_the_same_seed_gives_the_same_draws_whatever_the_cell_order():
    table = {("A", REFERENCE): [0.8, 0.82, 0.79], ("A", "20"): [0.78, 0.8, 0.77], ("F", REFERENCE): [0.7, 0.72, 0.71]}
    a = PairedBootstrap(obs_from_acc(table, n_test=1000), n_boot=500, seed=3)
    b = PairedBootstrap(obs_from_acc(dict(reversed(table.items())), n_test=1000), n_boot=500, seed=3)
    assert np.array_equal(a.diff(("A", "20"), ("A", REFERENCE)).draws(0.95),
                          b.diff(("A", "20"), ("A", REFERENCE)).draws(0.95))
    c = PairedBootstrap(obs_from_acc(table, n_test=1000), n_boot=500, seed=4)
    assert not np.array_equal(a.cell("F", REFERENCE).draws(0.95), c.cell("F", REFERENCE).draws(0.95))


def test_fallback_without_items_adds_the_binomial_variance_of_the_test_set():
    # identical seeds (no seed spread): the only uncertainty is the test set's, √(p(1−p)/n) per cell
    obs = obs_from_acc({("A", REFERENCE): [0.8] * 4, ("A", "20"): [0.8] * 4}, n_test=1000)
    d = PairedBootstrap(obs, n_boot=20_000, seed=0).diff(("A", "20"), ("A", REFERENCE))
    sd = np.sqrt(2 * 0.8 * 0.2 / 1000)     # two independent cells
    assert d.draws(0.95).std() == pytest.approx(sd, rel=0.05)
    assert not obs.paired_items


def test_cells_without_common_seeds_cannot_be_differenced():
    cells = {("A", REFERENCE): Cell("A", REFERENCE, (0, 1, 2), np.array([0.8] * 3), None, 100),
             ("A", "20"): Cell("A", "20", (5, 6, 7), np.array([0.8] * 3), None, 100)}
    obs = Observations(levels=_levels(REFERENCE, "20"), models=("A",), params={"A": 1}, cells=cells)
    with pytest.raises(ConfigError, match="share no seed"):
        PairedBootstrap(obs, n_boot=10).diff(("A", "20"), ("A", REFERENCE))


@pytest.mark.parametrize("n_boot", [0, 200_000])
def test_bootstrap_size_is_bounded(n_boot):
    obs = obs_from_acc({("A", REFERENCE): [0.8] * 3})
    with pytest.raises(ConfigError, match="--bootstrap"):
        PairedBootstrap(obs, n_boot=n_boot)


@pytest.mark.parametrize("lo,hi,verdict", [
    (-0.005, 0.004, "equivalent"), (0.002, 0.03, "superior"), (-0.03, -0.002, "inferior"),
    (-0.008, 0.02, "non-inferior"), (-0.02, 0.005, "inconclusive"), (-0.02, -0.0001, "inferior"),
    (0.001, 0.009, "equivalent"),   # within ±δ wins over "superior": practically the same
])
def test_tost_verdicts(lo, hi, verdict):
    assert tost_verdict(lo, hi, Tolerance.of(1.0)) == verdict


def test_power_says_how_many_more_seeds_decide_and_none_at_the_margin():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, 4)
    # a clear −3 pp loss with 1 pp per-seed noise: 4 seeds are not enough at κ, a few more are
    close = obs_from_acc({("A", REFERENCE): list(0.8 + noise * 0), ("A", "20"): list(0.77 + noise)})
    d = PairedBootstrap(close, n_boot=2000, seed=0).diff(("A", "20"), ("A", REFERENCE))
    extra = more_seeds(d, lambda lo, hi: hi < -0.01)
    assert extra is not None and 0 <= extra <= 10
    # a loss of exactly δ can never be shown to be beyond or within δ
    at_margin = obs_from_acc({("A", REFERENCE): [0.8] * 4, ("A", "20"): list(0.79 + np.array([0.01, -0.01, 0.01, -0.01]))})
    d2 = PairedBootstrap(at_margin, n_boot=2000, seed=0).diff(("A", "20"), ("A", REFERENCE))
    assert more_seeds(d2, lambda lo, hi: lo > -0.01 or hi < -0.01) is None
