"""Model comparisons: is the smaller architecture as good as the larger one? An equivalence test, never a shrug.

The paper claims that at the right compression a smaller model matches or beats a larger one. "Matches" needs an
equivalence test: two one-sided tests (TOST) at ±δ on the paired bootstrap difference d = acc(a) − acc(b) at one
level. With the one-sided 95 % bounds [lo, hi] (a two-sided 90 % interval), the verdict is, in this order:

- **equivalent**: −δ < lo and hi < δ (the difference is within ±δ);
- **superior**: lo > 0 (a is better);
- **inferior**: hi < 0 (a is worse);
- **non-inferior**: lo > −δ (a is at most δ worse, and may be better; not shown to be within δ);
- **inconclusive**: none of these. A non-significant difference is inconclusive, never "matches"; the comparison
  then says how many more seeds (in both cells) would decide it, from the observed paired variance.

The headline comparison is made at a level fixed before looking at the data: the paper's (JPEG q 25, audio Q 0.75)
when the grid has it, or the one the user names (``--compare-at``). Every level is still shown in the table.
A recommendation that combines a smaller model with a compressed level splits its effect in two, each with its own
interval: compression (the model at the level against its own original) and architecture (the two models on the
original), so that "A at q 20 instead of F on the original" says which part came from which choice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from helmholtz.analysis.bootstrap import MIN_SEEDS, Draws, PairedBootstrap
from helmholtz.analysis.observations import PAPER_Q_AUDIO, PAPER_QUALITY, REFERENCE, Observations
from helmholtz.analysis.power import more_seeds
from helmholtz.analysis.tolerance import Tolerance
from helmholtz.analysis.verdicts import at_chance
from helmholtz.errors import ConfigError

CompareVerdict = Literal["equivalent", "superior", "inferior", "non-inferior", "inconclusive"]


def tost_verdict(lo: float, hi: float, tolerance: Tolerance) -> CompareVerdict:
    """The verdict of one-sided 95 % bounds [lo, hi] of a − b at margin δ (order as in the module docstring)."""
    if -tolerance.fraction < lo and hi < tolerance.fraction:
        return "equivalent"
    if lo > 0:
        return "superior"
    if hi < 0:
        return "inferior"
    if lo > -tolerance.fraction:
        return "non-inferior"
    return "inconclusive"


@dataclass(frozen=True)
class Comparison:
    """Architecture a against architecture b at one level."""

    level: str
    display: str
    a: str
    b: str
    verdict: CompareVerdict
    diff: float | None                 # acc(a) − acc(b), a fraction
    ci: tuple[float, float] | None     # one-sided 95 % bounds (two-sided 90 %)
    n_seeds: int
    seeds_to_decide: int | None        # more seeds (in both cells) that would decide an inconclusive verdict
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_pair(obs: Observations, requested: tuple[str, str] | None = None) -> tuple[str, str] | None:
    """(smaller, larger): the smallest and the largest architecture by parameters, or the user's pair."""
    if requested is not None:
        for name in requested:
            if name not in obs.models:
                raise ConfigError(f"--compare: {name!r} is not an architecture of this sweep",
                                  fix=f"pick two of {', '.join(obs.models)}")
        if requested[0] == requested[1]:
            raise ConfigError("--compare needs two different architectures", fix="e.g. --compare A,F")
        return requested
    return (obs.models[0], obs.models[-1]) if len(obs.models) >= 2 else None


def paper_level(obs: Observations) -> str | None:
    """The paper's pre-set comparison level when the grid has it: JPEG q 25, or the MP3 level at Q 0.75 (the
    paper's codecs, `CodecSpec.paper`, are the only ones with a Q axis)."""
    from helmholtz.codecs.registry import CODECS

    for lv in obs.levels:
        spec = CODECS.get(lv.codec)
        if spec is None or not spec.paper or lv.Q is None:
            continue
        if spec.level_kind == "quality" and lv.level == PAPER_QUALITY:
            return lv.key
        if spec.level_kind == "bitrate" and abs(lv.Q - PAPER_Q_AUDIO) < 1e-9:
            return lv.key
    return None


def compare_at(obs: Observations, requested: str | None) -> str | None:
    """The headline comparison's level: ``requested`` (a level key, 'none' for the original), else the paper's."""
    if requested is None:
        return paper_level(obs)
    wanted = str(requested).strip().lower()
    wanted = REFERENCE if wanted in ("none", "orig", "original") else wanted
    if not obs.has_level(wanted):
        raise ConfigError(f"--compare-at {requested!r} is not a level of this sweep",
                          fix=f"pick one of: {', '.join(lv.key for lv in obs.levels)}")
    return wanted


def compare(boot: PairedBootstrap, a: str, b: str, level: str, *, tolerance: Tolerance) -> Comparison | None:
    """TOST of a against b at ``level``; None when either cell is missing."""
    obs = boot.obs
    if obs.cell(a, level) is None or obs.cell(b, level) is None:
        return None
    display = obs.level(level).display
    n = boot.common_seeds((a, level), (b, level))
    base = dict(level=level, display=display, a=a, b=b, n_seeds=n)
    if n == 0:
        return Comparison(**base, verdict="inconclusive", diff=None, ci=None, seeds_to_decide=None,
                          reason="the two cells share no seed")
    d = boot.diff((a, level), (b, level))
    chance = [m for m in (a, b) if at_chance(obs, m, level)]
    if chance:
        return Comparison(**base, verdict="inconclusive", diff=d.point, ci=None, seeds_to_decide=None,
                          reason=f"{' and '.join(chance)} at chance at {display}: no verdict is drawn from it")
    if n < MIN_SEEDS:
        return Comparison(**base, verdict="inconclusive", diff=d.point, ci=None, seeds_to_decide=MIN_SEEDS - n,
                          reason=f"n = {n}, too few seeds for a verdict (needs ≥ {MIN_SEEDS})")
    lo, hi = d.interval(0.90)
    verdict = tost_verdict(lo, hi, tolerance)
    more = None
    if verdict == "inconclusive":
        more = more_seeds(d, lambda lo_, hi_: tost_verdict(lo_, hi_, tolerance) != "inconclusive")
    return Comparison(**base, verdict=verdict, diff=d.point, ci=(lo, hi), seeds_to_decide=more)


@dataclass(frozen=True)
class Effect:
    """One part of a recommendation's effect: a paired difference with its 95 % interval."""

    what: str
    diff: float
    ci: tuple[float, float] | None     # two-sided 95 %; None with fewer than 3 seeds
    n_seeds: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _effect(what: str, d: Draws) -> Effect:
    return Effect(what=what, diff=d.point, ci=d.interval(0.95) if d.n >= MIN_SEEDS else None, n_seeds=d.n)


@dataclass(frozen=True)
class Recommendation:
    """Use ``model`` at ``level`` instead of ``baseline`` on the original, with each effect's share."""

    model: str
    level: str
    display: str
    baseline: str
    compression: Effect                # model at level − model on the original
    architecture: Effect | None        # model − baseline, both on the original (None when they are the same)
    total: Effect                      # model at level − baseline on the original
    params_ratio: float | None         # baseline / model parameters
    storage_ratio: float | None        # original bits / level bits (whole file)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recommend(boot: PairedBootstrap, *, model: str, level: str, baseline: str) -> Recommendation | None:
    """The effects of choosing ``model`` at ``level`` over ``baseline`` on the original (None without the cells)."""
    obs = boot.obs
    cells = [(model, level), (model, REFERENCE), (baseline, REFERENCE)]
    if any(obs.cell(*c) is None for c in cells):
        return None
    lv, ref = obs.level(level), obs.level(REFERENCE)
    pa, pb = obs.params.get(model), obs.params.get(baseline)
    return Recommendation(
        model=model, level=level, display=lv.display, baseline=baseline,
        compression=_effect(f"{model}: {lv.display} vs the original", boot.diff((model, level), (model, REFERENCE))),
        architecture=None if model == baseline else _effect(
            f"{model} vs {baseline} on the original", boot.diff((model, REFERENCE), (baseline, REFERENCE))),
        total=_effect(f"{model} at {lv.display} vs {baseline} on the original",
                      boot.diff((model, level), (baseline, REFERENCE))),
        params_ratio=(pb / pa) if pa and pb else None,
        storage_ratio=(ref.bits_total / lv.bits_total) if ref.bits_total and lv.bits_total else None,
    )
