"""Would longer training change the answer? The training-budget check: the same verdicts at two epoch budgets.

Runs of the same cells at a longer budget (twice the epoch cap, the same seeds) are a second recipe: they never mix
with the first in one verdict. Each budget is analysed on its own, and every level verdict that both budgets can
give (the model has the level and its reference at both), and the headline comparison at its pre-set level where
both budgets have it, is compared ("non-inferior" agrees with "superior" and with "equivalent", which imply it):

- **budget-robust**: every shared verdict is the same ("the same verdicts at 12 epochs");
- **budget-sensitive**: some differ, and the text names them ("at 12 epochs A at q 5 holds (drops at 6)").

An inconclusive verdict at either budget is not a disagreement: it is reported as open ("A at q 25 is open at
12 epochs"), since "not shown to differ" is not "the same".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helmholtz.analysis.bootstrap import N_BOOT, PairedBootstrap
from helmholtz.analysis.compare import Comparison, compare
from helmholtz.analysis.observations import Observations
from helmholtz.analysis.tolerance import Tolerance
from helmholtz.analysis.verdicts import LevelVerdict, level_verdict, pp_interval, reference_of

#: the folder, inside an adaptive sweep's, of its own training-budget check (a sweep of its own: one spec per
#: folder); `helmholtz report` of the sweep compares its verdicts with it
BUDGET_DIR = "budget-2x"


@dataclass(frozen=True)
class BudgetCheck:
    """The verdicts of the primary budget against those of each longer one."""

    primary: int                                   # the epoch budget the answer is drawn from
    budgets: tuple[int, ...]                       # the longer budgets checked against it
    same: tuple[tuple[int, str, str, str], ...]    # (budget, model, level display, verdict) agreeing
    differ: tuple[tuple[int, str, str, str, str], ...]  # (budget, model, display, verdict there, verdict primary)
    open: tuple[tuple[int, str, str], ...]         # (budget, model, display) inconclusive at one of the two
    status: str                                    # "robust" | "sensitive" | "open"
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"primary_epochs": self.primary, "checked_epochs": list(self.budgets), "status": self.status,
                "text": self.text,
                "differ": [{"epochs": b, "model": m, "level": lv, "verdict": v, "primary_verdict": p}
                           for b, m, lv, v, p in self.differ],
                "same": [{"epochs": b, "model": m, "level": lv, "verdict": v} for b, m, lv, v in self.same],
                "open": [{"epochs": b, "model": m, "level": lv} for b, m, lv in self.open]}


#: comparison verdicts that differ in words but not in claim: "superior" and "equivalent" each imply "non-inferior"
COMPATIBLE = frozenset({frozenset({"non-inferior", "superior"}), frozenset({"non-inferior", "equivalent"})})


def _verdicts(obs: Observations, *, tolerance: Tolerance, n_boot: int, seed: int,
              comparison: tuple[tuple[str, str], str] | None = None) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(model, level key) → (verdict, display, numbers) for every level with its model's reference, and ('A vs F',
    level key) → the same for ``comparison`` ((a, b), level key), the headline comparison; the numbers are the difference and its interval when there is one ('−2.2 pp [−3.8, −0.5], 3 seeds')."""
    boot = PairedBootstrap(obs, n_boot=n_boot, seed=seed)
    out = {}
    for model in obs.models:
        for codec in obs.codecs():
            ref, _ = reference_of(obs, model, obs.family(codec))
            if ref is None:
                continue
            for lv in obs.family(codec):
                if lv.key != ref and obs.cell(model, lv.key) is not None:
                    v = level_verdict(boot, model, lv, ref, tolerance)
                    out[(model, lv.key)] = (v.verdict, lv.display, _numbers(v))
    if comparison is not None:    # the headline comparison, at its one pre-set level (never every level: one
        (a, b), key = comparison  # false claim among many would read as a budget-sensitive answer)
        c = compare(boot, a, b, key, tolerance=tolerance) if obs.has_level(key) else None
        if c is not None:
            out[(f"{a} vs {b}", key)] = (c.verdict, c.display, _numbers(c))
    return out


def _numbers(v: LevelVerdict | Comparison) -> str:
    if v.diff is None or v.ci is None:
        return f"{v.n_seeds} seed{'s' if v.n_seeds != 1 else ''}"
    return f"{pp_interval(v.diff, v.ci)}, {v.n_seeds} seeds".replace("-", "−")


def budget_check(by_budget: Mapping[int, Observations], *, tolerance: Tolerance, n_boot: int = N_BOOT,
                 seed: int = 0, comparison: tuple[tuple[str, str], str] | None = None) -> BudgetCheck | None:
    """Compare the verdicts of the smallest budget in ``by_budget`` (epochs → observations) with each longer one,
    and the headline ``comparison`` ((a, b), level key) where both budgets have it; None with fewer than two
    budgets."""
    if len(by_budget) < 2:
        return None
    primary, *longer = sorted(by_budget)
    base = _verdicts(by_budget[primary], tolerance=tolerance, n_boot=n_boot, seed=seed, comparison=comparison)
    same, differ, open_ = [], [], []
    numbers_of: dict[tuple[int, str, str], str] = {}       # an open pair's verdicts and numbers, for the text
    for b in longer:
        other = _verdicts(by_budget[b], tolerance=tolerance, n_boot=n_boot, seed=seed, comparison=comparison)
        for key in sorted(set(base) & set(other)):
            (v0, display, _), (v1, _, numbers) = base[key], other[key]
            if "inconclusive" in (v0, v1):
                open_.append((b, key[0], display))
                numbers_of[(b, key[0], display)] = f"{v0} at {primary}, {v1} at {b} ({numbers})"
            elif v0 == v1 or frozenset((v0, v1)) in COMPATIBLE:
                same.append((b, key[0], display, v0))
            else:
                differ.append((b, key[0], display, v1, v0))
    budgets = tuple(longer)
    at = " and ".join(f"{b}" for b in budgets) + " epochs"
    if differ:
        status = "sensitive"
        parts = [f"{m} at {d} {v} ({p} at {primary})" for _, m, d, v, p in differ]
        text = f"budget-sensitive: at {at} " + "; ".join(parts) + " — the answer depends on the training budget"
    elif same:
        status = "robust"
        text = f"budget-robust: the same verdicts at {at} ({len(same)} compared)"
        if open_:
            text += "; open at one budget: " + ", ".join(f"{m} at {d}" for _, m, d in open_)
    else:
        status = "open"
        text = (f"budget check: no verdict is decided at both {primary} and {at}, so it confirms nothing and "
                "contradicts nothing yet (" + "; ".join(f"{m} at {d}: {numbers_of[(b, m, d)]}" for b, m, d in open_)
                + "); more seeds at the longer budget would decide it")
    return BudgetCheck(primary=primary, budgets=budgets, same=tuple(same), differ=tuple(differ),
                       open=tuple(open_), status=status, text=text)
