"""Sweeps with a known truth: the simulation harness that measures the statistics' operating characteristics.

A simulated sweep has per-item correctness for every (model, level, seed) cell, generated from a true accuracy
curve plus the three sources of noise a real sweep has:

- a **seed effect shared across levels** (sd ``seed_sd``): seed s initialises and shuffles the same way at every
  level, so a lucky seed is lucky everywhere — what pairing over seeds removes;
- a **level-specific seed effect** (sd ``cell_sd``): what pairing cannot remove;
- **item-level noise**: one fixed test set whose items have a latent easiness shared by every cell (correlation
  ``rho``), so two cells agree on most items — what pairing over items exploits. Correct on item i ⇔
  ρ·e_i + √(1−ρ²)·u_{c,s,i} > Φ⁻¹(1 − p_{c,s}).

The bits axis is real: JPEG scan bits per pixel measured on Fashion-MNIST (`FMNIST_SCAN_BPP`, interpolated in
log–log for other qualities), so the curves live on the axis the analysis uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from helmholtz.analysis.observations import REFERENCE, Cell, LevelInfo, Observations, RunInfo, sort_levels
from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP, Tolerance

#: δ of the harness (the analysis' default, 1 pp)
_DEFAULT = Tolerance.of(DEFAULT_TOLERANCE_PP)

#: measured on the Fashion-MNIST training split (simplejpeg/libjpeg-turbo 3.1, scan bits per pixel; see README)
FMNIST_SCAN_BPP: dict[int, float] = {1: 0.40, 5: 0.538, 10: 0.792, 20: 1.192, 25: 1.361, 30: 1.51, 50: 1.994,
                                     75: 2.794, 90: 4.19, 95: 5.543, 100: 7.6}
#: the header of a 28×28 grayscale JPEG, bits per pixel (whole file − scan)
HEADER_BPP = 3.37
RAW_BPP = 8.0
SIM_LEVELS: tuple[int | None, ...] = (1, 5, 10, 20, 25, 30, 50, 75, 90, None)

TruthKind = Literal["flat", "smooth", "knee", "knee_gap"]


def jpeg_bits(quality: int) -> float:
    """Scan bits per pixel at JPEG quality q on Fashion-MNIST (measured anchors, log–log interpolation between)."""
    qs = np.array(sorted(FMNIST_SCAN_BPP), dtype=float)
    bs = np.array([FMNIST_SCAN_BPP[int(q)] for q in qs])
    return float(np.exp(np.interp(np.log(quality), np.log(qs), np.log(bs))))


@dataclass(frozen=True)
class Truth:
    """A true accuracy curve against measured bits, per model.

    flat: ``base`` everywhere. smooth: falls ``slope_pp`` per halving of the bits below the original, no change
    point. knee: ``base`` down to ``knee_bits``, then falls ``slope_pp`` per halving plus a step of ``step_pp``.
    knee_gap: the knee, with the first model ``gap_pp`` below the others at every level.
    """

    kind: TruthKind
    base: float = 0.80
    knee_bits: float = 1.19           # q 20 on Fashion-MNIST
    slope_pp: float = 3.0
    step_pp: float = 3.0
    gap_pp: float = 0.0

    def accuracy(self, model_index: int, bits: float) -> float:
        x = np.log2(bits)
        if self.kind == "flat":
            acc = self.base
        elif self.kind == "smooth":
            acc = self.base - self.slope_pp / 100 * (np.log2(RAW_BPP) - x)
        else:
            below = max(0.0, np.log2(self.knee_bits) - x)
            acc = self.base - (self.slope_pp * below + (self.step_pp if below > 1e-9 else 0.0)) / 100
        if self.kind == "knee_gap" and model_index == 0:
            acc -= self.gap_pp / 100
        return float(acc)


def _level(q: int | None) -> LevelInfo:
    if q is None:
        return LevelInfo(key=REFERENCE, codec="none", level=None, display="the original", bits=RAW_BPP,
                         bits_total=RAW_BPP, raw_bits=RAW_BPP)
    b = jpeg_bits(q)
    return LevelInfo(key=str(q), codec="jpeg", level=q, display=f"q {q}", bits=b, bits_total=b + HEADER_BPP,
                     raw_bits=RAW_BPP, Q=(100 - q) / 100)


def true_n_approx(truth: Truth, levels: Sequence[int | None], *, model_index: int, tolerance: Tolerance) -> str:
    """The level key the fixed-sequence rule would find with infinite data (the reference if none holds)."""
    infos = sort_levels(_level(q) for q in levels)
    ref = truth.accuracy(model_index, RAW_BPP)
    last = REFERENCE
    for lv in infos:
        if lv.is_reference:
            continue
        if truth.accuracy(model_index, lv.bits) - ref > -tolerance.fraction:
            last = lv.key
        else:
            break
    return last


def simulate(truth: Truth, *, levels: Sequence[int | None] = SIM_LEVELS, models: Sequence[str] = ("A", "F"),
             seeds: int | Sequence[int] = 5, n_items: int = 2000, seed_sd: float = 0.015, cell_sd: float = 0.005,
             rho: float = 0.85, n_classes: int = 10, rng_seed: int = 0, epochs: int = 20,
             item_seed: int | None = None) -> Observations:
    """Observations of one simulated sweep. ``seeds`` is a count (0..n−1) or a list; the same ``rng_seed`` gives
    the same sweep, and the per-seed effects depend only on (rng_seed, model, seed), so adding seeds or levels to a
    simulated sweep keeps the runs it already had (the adaptive sweep's tests rely on this)."""
    from scipy.special import ndtri

    seed_list = list(range(seeds)) if isinstance(seeds, int) else sorted(seeds)
    infos = sort_levels(_level(q) for q in levels)
    easy = np.random.default_rng([rng_seed, 0 if item_seed is None else item_seed, 7]).standard_normal(n_items)
    cells, runs = {}, []
    params = {m: 10_000 * (i + 1) for i, m in enumerate(models)}
    for mi, m in enumerate(models):
        for lv in infos:
            accs, rows = [], []
            for s in seed_list:
                shared = np.random.default_rng([rng_seed, 1, mi, s]).normal(0.0, seed_sd)
                own = np.random.default_rng([rng_seed, 2, mi, s, _stable(lv.key)])
                p = np.clip(truth.accuracy(mi, lv.bits) + shared + own.normal(0.0, cell_sd), 0.001, 0.999)
                u = own.standard_normal(n_items)
                correct = rho * easy + np.sqrt(1 - rho**2) * u > ndtri(1 - p)
                rows.append(correct)
                accs.append(correct.mean())
                runs.append(RunInfo(model=m, level=lv.key, seed=s, epochs_run=epochs, epoch_cap=epochs,
                                    best_epoch=epochs // 2, epochs_to_converge=max(1, epochs // 2 - 5),
                                    censored=False, censored_at=None, still_improving=False))
            cells[(m, lv.key)] = Cell(model=m, level=lv.key, seeds=tuple(seed_list), acc=np.array(accs),
                                      correct=np.stack(rows), n_test=n_items)
    return Observations(levels=infos, models=tuple(models), params=params, cells=cells, runs=tuple(runs),
                        unit="bits/pixel", modality="image", n_classes=n_classes)


def _stable(key: str) -> int:
    return int.from_bytes(key.encode()[:8].ljust(8, b"\0"), "little")


@dataclass(frozen=True)
class Setting:
    """One row of the operating-characteristics table: a truth and the sweep's size and noise."""

    name: str
    truth: Truth
    seeds: int = 5
    seed_sd: float = 0.015
    cell_sd: float = 0.005
    n_items: int = 2000
    levels: tuple[int | None, ...] = SIM_LEVELS


@dataclass(frozen=True)
class OC:
    """Operating characteristics of the analysis on one setting, over ``sims`` simulated sweeps."""

    name: str
    sims: int
    collapse_rate: float              # share of (sweep, model) collapse tests that claimed a collapse
    status: dict[str, float]          # share of each N_approx status (model F, the larger)
    right: float                      # share of decided sweeps whose bracket holds the true N_approx: it is
    #                                   N_approx itself, or one of the open / margin levels between it and the drop
    ci_covers: float                  # share whose N_approx CI (bits) contains the true N_approx's bits
    equivalent: float                 # share of "equivalent" at the comparison level (A vs F)
    compare: dict[str, float]         # share of each comparison verdict there
    exact: float = float("nan")       # share of decided sweeps whose N_approx is the true one (a narrowed bracket)


def operating_characteristics(setting: Setting, *, sims: int, n_boot: int = 1000, tolerance: Tolerance = _DEFAULT,
                              compare_level: str = "25", first_seed: int = 0) -> OC:
    """Run the analysis' parts on ``sims`` simulated sweeps of ``setting`` and count what they claim."""
    from helmholtz.analysis.bootstrap import PairedBootstrap
    from helmholtz.analysis.collapse import collapse_test
    from helmholtz.analysis.compare import compare
    from helmholtz.analysis.verdicts import n_approx

    t = setting.truth
    truth_key = true_n_approx(t, setting.levels, model_index=1, tolerance=tolerance)
    truth_bits = _level(None if truth_key == REFERENCE else int(truth_key)).bits
    collapses = statuses_n = right = exact = decided = covers = 0
    statuses: dict[str, int] = {}
    verdicts: dict[str, int] = {}
    for i in range(sims):
        obs = simulate(t, levels=setting.levels, seeds=setting.seeds, n_items=setting.n_items,
                       seed_sd=setting.seed_sd, cell_sd=setting.cell_sd, rng_seed=first_seed + i)
        boot = PairedBootstrap(obs, n_boot=n_boot, seed=i)
        collapses += sum(collapse_test(boot, m, "jpeg", tolerance=tolerance).detected for m in obs.models)
        na = n_approx(boot, "F", "jpeg", tolerance=tolerance)
        statuses[na.status] = statuses.get(na.status, 0) + 1
        statuses_n += 1
        if na.status != "undecided":
            decided += 1
            right += truth_key in (na.level, *na.open_levels, *na.margin_levels)
            exact += na.level == truth_key
        if na.ci_bits is not None and na.ci_bits[0] - 1e-9 <= truth_bits <= na.ci_bits[1] + 1e-9:
            covers += 1
        cmp = compare(boot, "A", "F", compare_level, tolerance=tolerance)
        verdicts[cmp.verdict] = verdicts.get(cmp.verdict, 0) + 1
    return OC(
        name=setting.name, sims=sims, collapse_rate=collapses / (sims * 2),
        status={k: v / statuses_n for k, v in sorted(statuses.items())}, right=right / decided if decided else float("nan"),
        exact=exact / decided if decided else float("nan"),
        ci_covers=covers / sims, equivalent=verdicts.get("equivalent", 0) / sims,
        compare={k: v / sims for k, v in sorted(verdicts.items())},
    )


@dataclass(frozen=True)
class LevelPower:
    """How often one level's verdict against its reference says what, over ``sims`` simulated sweeps in which the
    level truly differs by ``true_diff``; the engine beside two oracles.

    The **z oracle** knows the estimator's true sd (the spread of the point estimate over the simulations): its
    one-sided bound d̂ − z·σ is the most powerful test there is, a ceiling no test that estimates σ can reach with few
    seeds. The **t oracle** is the textbook paired t-test over the seeds' paired differences (it estimates σ, as the
    engine must, but from the seeds alone)."""

    true_diff: float
    sims: int
    holds: float                      # engine: share of "holds"
    drops: float                      # engine: share of "drops"
    z_holds: float
    z_drops: float
    t_holds: float
    t_drops: float
    covers: float                     # engine: share of two-sided 95 % intervals covering true_diff
    mean_width: float                 # engine: mean width of the 90 % interval the verdicts use
    t_width: float                    # t oracle: the same


def level_power(true_diff: float, *, sims: int, seeds: int = 5, n_items: int = 2000, seed_sd: float = 0.015,
                cell_sd: float = 0.005, rho: float = 0.85, base: float = 0.85, tolerance: Tolerance = _DEFAULT,
                n_boot: int = 400, first_seed: int = 0) -> LevelPower:
    """Verdicts on one level (q 90 of arch A) that truly differs from the original by ``true_diff`` (a fraction),
    with a fresh test set per simulated sweep (the target is the population difference)."""
    from scipy import stats

    from helmholtz.analysis.bootstrap import PairedBootstrap

    # a step just below the original: q 90 (4.19 bits) sits under knee_bits 6, the original (8) above it
    truth = Truth("knee", base=base, knee_bits=6.0, slope_pp=0.0, step_pp=-100 * true_diff)
    z, t = stats.norm.ppf(0.95), stats.t.ppf(0.95, seeds - 1)
    points, verdicts, t_verdicts, covers, widths, t_widths = [], [], [], 0, [], []
    for i in range(sims):
        obs = simulate(truth, levels=(90, None), models=("A",), seeds=seeds, n_items=n_items, seed_sd=seed_sd,
                       cell_sd=cell_sd, rho=rho, rng_seed=first_seed + i, item_seed=first_seed + i)
        d = PairedBootstrap(obs, n_boot=n_boot, seed=i).diff(("A", "90"), ("A", REFERENCE))
        lo, hi = d.interval(0.90)
        verdicts.append("holds" if lo > -tolerance.fraction else "drops" if hi < -tolerance.fraction
                        else "inconclusive")
        lo95, hi95 = d.interval(0.95)
        covers += lo95 <= true_diff <= hi95
        widths.append(hi - lo)
        half = t * d.seed_sd / np.sqrt(seeds)
        t_verdicts.append("holds" if d.point - half > -tolerance.fraction
                          else "drops" if d.point + half < -tolerance.fraction else "")
        t_widths.append(2 * half)
        points.append(d.point)
    sd = float(np.std(points, ddof=1))
    pts = np.array(points)
    share = lambda xs, v: float(np.mean([x == v for x in xs]))   # noqa: E731
    return LevelPower(
        true_diff=true_diff, sims=sims, holds=share(verdicts, "holds"), drops=share(verdicts, "drops"),
        z_holds=float(np.mean(pts - z * sd > -tolerance.fraction)),
        z_drops=float(np.mean(pts + z * sd < -tolerance.fraction)),
        t_holds=share(t_verdicts, "holds"), t_drops=share(t_verdicts, "drops"), covers=covers / sims,
        mean_width=float(np.mean(widths)), t_width=float(np.mean(t_widths)),
    )
