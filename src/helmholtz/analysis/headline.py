"""The headline: one honest paragraph from the analysis' statuses and verdicts, never from point estimates alone.

Forms of its first clause, by N_approx's status:
- found: "A needs ≈ 1.2 bits/pixel (q 20; CI 0.79–1.5); collapse at 0.9 bits/pixel [0.7, 1.1]" — or, without a
  collapse, "no collapse within the grid: accuracy falls smoothly, 2.1 pp per halving of the bits [1.5, 2.8]";
  with a level at the margin, "…; q 25 (−0.9 pp [−1.7, −0.2]) loses about δ itself: the boundary sits there
  within the noise, which no number of seeds narrows; q 50 holds and q 5 drops";
- holds_everywhere: "A holds down to the lowest level tried, 0.4 bits/pixel: the task needs at most that";
- undecided: "A: undecided between q 10 and q 20: 4 more seeds at q 10 and the original would decide".
With several codecs, then N_approx per codec and each codec's BD-rate against the first ("AVIF keeps A's accuracy at
38 % [29, 46] fewer bits than JPEG; WebP 21 % [12, 30] fewer"). Then the model verdict at the pre-set level, then
the warnings (under-trained, chance level, few seeds, too little overlap between codec curves, …).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helmholtz.analysis.observations import REFERENCE

if TYPE_CHECKING:
    from helmholtz.analysis.collapse import Collapse
    from helmholtz.analysis.compare import Comparison
    from helmholtz.analysis.result import Analysis
    from helmholtz.analysis.tolerance import Tolerance
    from helmholtz.analysis.verdicts import NApprox


def short(x: float | None) -> str:
    """Two significant digits without exponent notation: 0.54, 4.2, 33, 130."""
    if x is None:
        return "—"
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.2g}"


def pp(x: float | None, *, sign: bool = True) -> str:
    """A difference of accuracy fractions in percentage points: +1.2 pp."""
    if x is None:
        return "—"
    return f"{100 * x:+.1f} pp" if sign else f"{100 * x:.1f} pp"


def ci_pp(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"


def bits_range(ci: tuple[float, float] | None) -> str:
    if ci is None:
        return ""
    lo, hi = ci
    return short(lo) if short(lo) == short(hi) else f"{short(lo)}–{short(hi)}"


def n_approx_text(a: Analysis, na: NApprox | None = None) -> str:
    na = na or a.n_approx
    if na is None:
        if not a.obs.codecs():
            return "no N_approx yet: only the original has finished runs, no compressed level to compare it with"
        return "no N_approx: the headline architecture has no usable reference"
    obs, unit = a.obs, a.obs.unit
    who = na.model
    if na.status == "undecided":
        if na.boundary is None:
            return f"{who}: undecided — {na.decide}"
        hold, drop = (obs.level(k).display for k in na.boundary)
        return f"{who}: undecided between {hold} and {drop}: {na.decide}"
    if na.status == "holds_everywhere":
        return (f"{who} holds down to the lowest level tried, {na.display} = {short(na.bits)} {unit}: the task needs "
                "at most that")
    margin = f": {na.decide}" if na.margin_levels or na.open_levels else ""
    if na.level == REFERENCE:
        first = obs.level(na.boundary[1]).display if na.boundary else "the first level"
        if na.open_levels:      # no compressed level shown to hold, none shown to be at δ: only a bracket
            return f"{who}: the boundary lies between the original and {first}{margin}"
        if margin:
            return f"{who} needs about the original's bits{margin}"
        return f"{who} needs the original's bits: already {first} drops by more than δ"
    ci = f"; CI {bits_range(na.ci_bits)}" if na.ci_bits else ""
    return f"{who} needs ≈ {short(na.bits)} {unit} ({na.display}{ci}){margin}"


def collapse_text(a: Analysis, col: Collapse | None = None) -> str:
    col = col or a.collapse
    if col is None:
        return ""
    unit = a.obs.unit
    if col.detected:
        ci = f" [{short(col.ci_bits[0])}, {short(col.ci_bits[1])}]" if col.ci_bits else ""
        return f"collapse at {short(col.bits)} {unit}{ci}"
    if col.slope_pp_per_halving is None:
        return ""
    lo, hi = col.slope_ci or (None, None)
    if col.n_levels < 5:
        return f"too few levels ({col.n_levels}) to tell a collapse from a smooth decline"
    if lo is not None and lo <= 0 <= hi:
        return ("no collapse within the grid: accuracy does not change measurably with the bits "
                f"({col.slope_pp_per_halving:.1f} pp per halving [{lo:.1f}, {hi:.1f}])")
    return (f"no collapse within the grid: accuracy falls smoothly, {col.slope_pp_per_halving:.1f} pp per halving "
            f"of the bits [{lo:.1f}, {hi:.1f}]")


def comparison_text(c: Comparison | None, *, tolerance: Tolerance) -> str:
    if c is None:
        return ""
    head = f"{c.a} vs {c.b} at {c.display}: {c.verdict}"
    if c.ci is None:
        return f"{head} ({pp(c.diff)}; {c.reason})" if c.diff is not None else f"{head} ({c.reason})"
    what = {"equivalent": f"within ±{tolerance.text}", "superior": f"{c.a} is better", "inferior": f"{c.a} is worse",
            "non-inferior": f"{c.a} is at most {tolerance.text} worse"}.get(c.verdict, "")
    text = f"{head} ({pp(c.diff)}, 90% CI {ci_pp(c.ci)}{'; ' + what if what else ''})"
    if c.verdict == "inconclusive":
        text += (f"; {c.seeds_to_decide} more seeds would decide" if c.seeds_to_decide is not None
                 else "; seeds alone cannot decide it (the difference sits at the margin)")
    return text


def codec_title(codec: str) -> str:
    """The registry's name of a codec ('JPEG', 'WebP', 'AVIF'); the name itself for an unknown one."""
    from helmholtz.codecs.registry import CODECS

    return CODECS[codec].title if codec in CODECS else codec


def n_approx_short(na: NApprox, unit: str) -> str:
    """One codec's N_approx in a few words: '1.2 bits/pixel (q 20)', '≤ 0.4 …', 'the original's bits', or
    'undecided (holds down to q 90 so far; CI 0.54–8 bits/pixel)'."""
    if na.status == "undecided":
        so_far = [] if na.level == REFERENCE else [f"holds down to {na.display} so far"]
        ci = [f"CI {bits_range(na.ci_bits)} {unit}"] if na.ci_bits else []
        return "undecided" + (f" ({'; '.join(so_far + ci)})" if so_far or ci else "")
    if na.level == REFERENCE:
        return "the original's bits"
    bound = "≤ " if na.status == "holds_everywhere" else ""
    return f"{bound}{short(na.bits)} {unit} ({na.display})"


def codecs_text(a: Analysis) -> str:
    """With several codecs: N_approx of the headline architecture per codec, then the BD-rates against the first."""
    codecs = a.obs.codecs()
    if len(codecs) < 2 or a.headline_model is None:
        return ""
    from helmholtz.analysis.codec_compare import headline_text

    per = [x for x in a.n_approx_all if x.model == a.headline_model]
    text = (f"N_approx per codec ({a.headline_model}): "
            + ", ".join(f"{codec_title(x.codec)} {n_approx_short(x, a.obs.unit)}" for x in per))
    bd = headline_text(a.codec_comparisons, model=a.headline_model, first=codecs[0])
    return text + (f". {bd}" if bd else "")


def serving_text(a: Analysis) -> str:
    """The matrix's line: how far down a model trained at N_approx, and one trained on the original, serve."""
    m, na = a.matrix, a.n_approx
    if m is None or a.headline_model is None:
        return ""
    obs = a.obs

    def show(key: str | None) -> str:
        return obs.level(key).display if key and obs.has_level(key) else str(key)

    parts = []
    trains = ([na.level] if na is not None and na.level and na.level != obs.levels[0].key else []) + [obs.levels[0].key]
    for t in trains:
        s = next((x for x in m.serving if x.model == a.headline_model and x.train == t), None)
        if s is None:
            continue
        what = f"trained at {show(t)}" if t != obs.levels[0].key else f"trained on {show(t)}"
        if s.lowest is None:
            served = f"does not serve even {show(obs.levels[0].key)} within {a.tolerance.text}"
        elif s.lowest == obs.levels[0].key:
            served = f"serves no compressed test level within {a.tolerance.text}"
        else:
            served = f"serves test data down to {show(s.lowest)} within {a.tolerance.text}"
        if s.stopped_at is not None:
            served += f" (at {show(s.stopped_at)}: {s.stop_verdict})"
        parts.append(f"{a.headline_model} {what} {served}")
    return "; ".join(parts)


def headline(a: Analysis) -> str:
    parts = []
    chance_all = a.cells and all(c.at_chance for c in a.cells)
    if chance_all or a.headline_model is None:
        parts.append("no answer: " + ("nothing was learned (every cell is at chance)" if chance_all
                                      else "no architecture has a usable reference"))
    else:
        first = n_approx_text(a)
        col = collapse_text(a)
        parts.append(first + (f"; {col}" if col else ""))
        several = codecs_text(a)
        if several:
            parts.append(several)
        served = serving_text(a)
        if served:
            parts.append(served)
        cmp = comparison_text(a.headline_comparison, tolerance=a.tolerance)
        if cmp:
            parts.append(cmp)
        elif a.pair and a.compare_level is None:
            parts.append(f"{a.pair[0]} vs {a.pair[1]}: no pre-set comparison level in this grid (the paper's q 25 / "
                         "Q 0.75 is missing); pass --compare-at")
    check = a.budget_check
    if check is not None and check.status != "sensitive":       # a sensitive check leads the warnings instead
        parts.append(f"training budget: {check.text.removeprefix('budget check: ')}")
    names = tuple(a.obs.models)
    # a sentence starts upper case, except with a model's name ('mynet:make' stays as the user spelled it)
    text = ". ".join(p if p.startswith(names) else p[0].upper() + p[1:] for p in parts) + "."
    if a.warnings:
        text += " Warnings: " + "; ".join(a.warnings) + "."
    return text
