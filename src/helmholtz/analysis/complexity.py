"""Complexity findings (paper Sec. 5.5): epochs vs Q (Fig. 5/8), accuracy vs parameters (Fig. 6/9), small vs large.

The paper's claim: once compression has removed the noise, a smaller model reaches the same accuracy, in fewer
epochs. We test it at one level: the smallest architecture against the largest, as a difference of mean test
accuracies with a Welch CI over seeds, and the same for epochs. The verdict is read off the numbers as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from helmholtz.analysis.stats import CellStats, EpochMetric, Interval, find_cell, welch_interval
from helmholtz.analysis.table import Grid
from helmholtz.errors import ConfigError

Verdict = Literal["beats", "matches", "falls short of"]

#: the paper's level for accuracy vs parameters: images q = 25 (Fig. 6), audio Q = 0.75 (Fig. 9)
PAPER_PARAMS_QUALITY = 25
PAPER_PARAMS_Q_AUDIO = 0.75


def params_level(grid: Grid, *, knee_label: str | None, requested: str | None = None) -> str:
    """The level for accuracy vs parameters: `requested` if given, else the paper's (q 25 / Q 0.75) when the grid
    has it, else the knee, else the original. Raises ConfigError for a requested level not in the grid."""
    if requested is not None:
        wanted = str(requested).strip().lower()
        wanted = "none" if wanted in ("none", "orig", "original") else wanted
        if grid.get(wanted) is None:
            raise ConfigError(f"--level {requested!r} is not a level of this sweep; it has {', '.join(grid.labels)}",
                              fix=f"pick one of: {', '.join(grid.labels)}")
        return wanted
    for lv in grid.compressed:
        paper = (lv.Q is not None and abs(lv.Q - PAPER_PARAMS_Q_AUDIO) < 1e-9) if grid.codec == "mp3" \
            else lv.level == PAPER_PARAMS_QUALITY
        if paper:
            return lv.label
    return knee_label if knee_label is not None else grid.levels[0].label


def cells_at(cells: Sequence[CellStats], label: str) -> list[CellStats]:
    """The cells of one level, smallest architecture first (accuracy vs parameters, Fig. 6/9)."""
    return [c for c in cells if c.label == label]


@dataclass(frozen=True)
class ModelComparison:
    """Smallest vs largest architecture at one level: accuracy and epochs, with Welch CIs of the differences."""

    label: str                        # the level compared at
    small: str
    large: str
    small_params: int | None
    large_params: int | None
    param_ratio: float | None         # large / small parameters
    acc_small: Interval
    acc_large: Interval
    acc_diff: Interval | None         # small − large test accuracy (fraction), Welch CI
    verdict: Verdict                  # 'beats' only when the whole CI is above 0; 'matches' within δ
    tolerance_pp: float
    epoch_metric: EpochMetric
    epochs_small: Interval | None
    epochs_large: Interval | None
    epoch_diff: Interval | None       # small − large epochs, Welch CI
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pp(x: float) -> str:
    return f"{100 * x:+.1f} pp"


def _ci_text(iv: Interval | None, fmt) -> str:
    if iv is None or iv.flagged:
        return "no CI: n<2"
    return f"95% CI {fmt(iv.lo)} to {fmt(iv.hi)}"


def compare_models(cells: Sequence[CellStats], grid: Grid, *, label: str, tolerance_pp: float,
                   metric: EpochMetric) -> ModelComparison | None:
    """Does the smallest architecture match or beat the largest at `label`? None with fewer than two archs there."""
    here = [c for c in cells_at(cells, label) if c.n_params is not None] or cells_at(cells, label)
    if len(here) < 2:
        return None
    small, large = here[0], here[-1]
    diff = welch_interval(small.acc_values, large.acc_values)
    assert diff is not None
    delta = tolerance_pp / 100
    if diff.lo is not None and diff.lo > 0:
        verdict: Verdict = "beats"
    elif diff.mean >= -delta:
        verdict = "matches"
    else:
        verdict = "falls short of"
    ratio = (large.n_params / small.n_params) if small.n_params and large.n_params else None
    e_small, e_large = small.epochs(metric), large.epochs(metric)
    e_diff = welch_interval(small.samples.get(metric, ()), large.samples.get(metric, ()))
    size = f" with {ratio:.1f}× fewer parameters" if ratio else ""
    within = ""
    if verdict == "matches":
        # 'matches' is either a difference within δ, or a larger one the seeds cannot tell from zero
        within = f" within {tolerance_pp:g} pp" if abs(diff.mean) <= delta else " (the difference is not significant)"
    sentence = (
        f"At {grid.name(label)} the smallest model {small.arch} {verdict} the largest {large.arch}{within}{size}: "
        f"{100 * small.acc.mean:.1f}% vs {100 * large.acc.mean:.1f}% "
        f"(difference {_pp(diff.mean)}, {_ci_text(diff, _pp)}, Welch, n={small.n} vs {large.n})"
    )
    if e_diff is not None and e_small is not None and e_large is not None:
        what = "epochs to converge" if metric == "epochs_to_converge" else "epochs to its best validation accuracy"
        sentence += (f"; {what}: {e_small.mean:.1f} vs {e_large.mean:.1f} "
                     f"(difference {e_diff.mean:+.1f}, {_ci_text(e_diff, lambda v: f'{v:+.1f}')})")
    return ModelComparison(
        label=label, small=small.arch, large=large.arch, small_params=small.n_params, large_params=large.n_params,
        param_ratio=ratio, acc_small=small.acc, acc_large=large.acc, acc_diff=diff, verdict=verdict,
        tolerance_pp=float(tolerance_pp), epoch_metric=metric, epochs_small=e_small, epochs_large=e_large,
        epoch_diff=e_diff, sentence=sentence + ".",
    )


def epochs_change(cells: Sequence[CellStats], *, arch: str, from_label: str, to_label: str,
                  metric: EpochMetric) -> Interval | None:
    """Welch interval of epochs at `to_label` minus epochs at `from_label` for one architecture (Fig. 5/8 trend)."""
    a, b = find_cell(cells, arch, to_label), find_cell(cells, arch, from_label)
    if a is None or b is None:
        return None
    return welch_interval(a.samples.get(metric, ()), b.samples.get(metric, ()))
