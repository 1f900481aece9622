"""The report's words and tables, shared by `report.html` and `summary.md`. Built from the analysis as it is.

The headline itself is written by the analysis (`helmholtz.analysis.headline`), so `helmholtz analyze --json` and
the report say the same thing. Here: the recipe, and every table as (header, rows) of plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from helmholtz.analysis.analyze import Analysis
from helmholtz.analysis.bits import paper_arithmetic
from helmholtz.analysis.headline import ci_pp, pp, short
from helmholtz.analysis.observations import REFERENCE

Table = tuple[tuple[str, ...], list[list[str]]]


def num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def headline(a: Analysis) -> str:
    return a.headline


def _ranges(seeds: list[int]) -> str:
    """'0–6, 9': runs of consecutive seeds as ranges."""
    runs: list[list[int]] = []
    for s in sorted(seeds):
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def seeds_text(spec: Mapping[str, Any], trained: Iterable[int] = ()) -> str:
    """The seeds of the sweep: the spec's, or, where the runs in the store have others (an adaptive sweep adds seeds
    where a verdict is open; an unfinished one has fewer), those trained beside the spec's."""
    asked, have = sorted(spec.get("seeds", [])), sorted(set(trained))
    if not have or have == asked:
        return ", ".join(str(s) for s in asked)
    return f"{_ranges(have)} trained (the spec's: {_ranges(asked)})"


def recipe_lines(spec: Mapping[str, Any] | None, seeds_run: Iterable[int] = ()) -> list[tuple[str, str]]:
    """The training recipe and data of the sweep as (name, value) rows; ``seeds_run``: the seeds of its runs."""
    if not spec:
        return [("recipe", "not recorded (no sweep spec: results imported from a table)")]
    o, d = spec.get("options", {}), spec.get("data", {})
    from helmholtz.train.spec import DEFAULT_LR, DEFAULT_LR_DECAY  # pure Python, no torch

    lr = o.get("lr") if o.get("lr") is not None else DEFAULT_LR.get(o.get("optimizer"), "default")
    decay = o.get("lr_decay") if o.get("lr_decay") is not None else DEFAULT_LR_DECAY.get(o.get("optimizer"), "default")
    return [
        ("recipe", str(o.get("recipe") or "paper")),
        ("dataset", f"{d.get('dataset')} (hash {d.get('data_hash') or '—'})"),
        ("subset", f"train {d.get('train_size') or 'all'}, test {d.get('test_size') or 'all'}, "
                   f"validation {d.get('val_fraction')} of train, split seed {d.get('split_seed')}"),
        ("codec", _grid_text(spec)),
        ("architectures", ", ".join(spec.get("archs", []))),
        ("seeds", seeds_text(spec, seeds_run)),
        ("optimizer", f"{o.get('optimizer')}, lr {lr}, decay {decay}/step"
                      + (f", momentum {o.get('momentum')} (Nesterov)" if o.get("optimizer") == "sgd" else "")
                      + (f", schedule {o.get('schedule')}" if o.get("schedule") else "")),
        ("epochs", f"at most {o.get('epochs')}, early stopping patience {o.get('patience')} on validation accuracy"),
        ("batch / width", f"batch {o.get('batch_size')}, width ×{o.get('width')}"),
        ("regularisation", f"weight decay {o.get('weight_decay')}, label smoothing {o.get('label_smoothing')}, "
                           f"augmentation {'on' if o.get('augment') else 'off'}"),
        ("precision", f"{o.get('precision')}{', torch.compile' if o.get('compile') else ''}"),
    ]


def _grid_text(spec: Mapping[str, Any]) -> str:
    """'jpeg: levels 5, 10, 20; webp: levels 10, 50; and the original' — every codec of the sweep with its levels."""
    from helmholtz.sweep.spec import SweepSpec

    try:
        s = SweepSpec.from_dict(dict(spec))
    except Exception:  # an imported or foreign spec: show what it says
        return str(spec.get("codec"))
    parts = [f"{c}: levels {', '.join(str(v) for v in s.levels_of(c))}" for c in s.codecs]
    return "; ".join(parts or ["none"]) + ("; and the original" if s.has_reference else "")


def recipe_short(spec: Mapping[str, Any] | None, seeds_run: Iterable[int] = ()) -> str:
    """The recipe in one line, for the terminal; ``seeds_run``: the seeds of its runs (see `seeds_text`)."""
    if not spec:
        return "recipe: not recorded (results imported from a table)"
    o, d = spec.get("options", {}), spec.get("data", {})
    lr = o.get("lr") if o.get("lr") is not None else {"sgd": 0.01, "adadelta": 1.0, "adam": 1e-3}.get(o.get("optimizer"))
    name = f"{o.get('recipe') or 'paper'} "
    return (f"recipe: {name}{o.get('optimizer')} lr {lr}, batch {o.get('batch_size')}, at most {o.get('epochs')} "
            f"epochs (patience {o.get('patience')}), width ×{o.get('width')}, {d.get('train_size') or 'all'} "
            f"training items of {d.get('dataset')}, seeds {seeds_text(spec, seeds_run)}")


def _ci(ci: tuple[float, float] | None) -> str:
    return "—" if ci is None else ci_pp(ci)


def verdict_table(a: Analysis) -> Table:
    """Every level of every architecture against its reference (the compression effect)."""
    unit = a.obs.unit
    rows = []
    for na in a.n_approx_all:
        codec = f" ({na.codec})" if len(a.obs.codecs()) > 1 else ""
        for v in na.verdicts:
            more = "" if v.more_seeds is None else f"{v.more_seeds} more"
            rows.append([f"{v.model}{codec}", v.display, short(v.bits), v.verdict, pp(v.diff), _ci(v.ci),
                         str(v.n_seeds), v.reason or more])
    return (("model", "level", f"{unit}", "verdict", "diff to original", "90% CI (pp)", "seeds", "note / to decide"),
            rows)


def matrix_table(a: Analysis) -> Table:
    """The train × test-level matrix: each cell against the model trained at its test level."""
    m, obs = a.matrix, a.obs
    rows = []
    for c in (m.cells if m is not None else ()):
        if c.verdict == "matched":
            continue
        rows.append([c.model, obs.level(c.train).display, obs.level(c.test).display, num(c.acc, 4), pp(c.diff),
                     _ci(c.ci), c.verdict, str(c.n_seeds), c.reason])
    for s in (m.serving if m is not None else ()):
        lowest = obs.level(s.lowest).display if s.lowest else "—"
        stop = f"; stops at {obs.level(s.stopped_at).display} ({s.stop_verdict})" if s.stopped_at else ""
        rows.append([s.model, obs.level(s.train).display, "serves down to", lowest, "", "", "", "", stop.lstrip("; ")])
    return (("model", "trained at", "tested at", "acc", "diff to matched", "90% CI (pp)", "verdict", "seeds", "note"),
            rows)


def n_approx_table(a: Analysis) -> Table:
    unit = a.obs.unit
    rows = [[x.model, x.codec, x.status, x.display, short(x.bits), short(x.bits_total),
             "—" if x.ci_bits is None else f"{short(x.ci_bits[0])}–{short(x.ci_bits[1])}",
             "—" if x.compression_ratio is None else f"{x.compression_ratio:.1f}×", x.decide or "—"]
            for x in a.n_approx_all]
    return (("model", "codec", "status", "N_approx", f"payload {unit}", f"whole file {unit}", f"95% CI ({unit})",
             "raw / file", "what would decide or narrow it"), rows)


def collapse_table(a: Analysis) -> Table:
    unit = a.obs.unit
    rows = [[c.model, c.codec, "yes" if c.detected else "no", short(c.bits),
             "—" if c.ci_bits is None else f"{short(c.ci_bits[0])}–{short(c.ci_bits[1])}",
             "—" if c.p_value is None else f"{c.p_value:.3f}",
             "—" if c.slope_pp_per_halving is None else f"{c.slope_pp_per_halving:.2f}",
             "—" if c.slope_ci is None else f"[{c.slope_ci[0]:.2f}, {c.slope_ci[1]:.2f}]", c.reason]
            for c in a.collapses]
    return (("model", "codec", "collapse", f"b* ({unit})", "95% CI", "p (hinge vs smooth)", "smooth: pp per halving",
             "95% CI", "reading"), rows)


def comparison_table(a: Analysis) -> Table:
    """The architecture effect at every level (smaller − larger)."""
    rows = []
    for c in a.comparisons:
        mark = " (pre-set)" if c.level == a.compare_level else ""
        more = "" if c.seeds_to_decide is None or c.verdict != "inconclusive" else f"{c.seeds_to_decide} more seeds"
        rows.append([c.display + mark, f"{c.a} − {c.b}", c.verdict, pp(c.diff), _ci(c.ci), str(c.n_seeds),
                     c.reason or more])
    return (("level", "difference", "verdict (TOST ±δ)", "diff", "90% CI (pp)", "seeds", "note / to decide"), rows)


def cell_table(a: Analysis) -> Table:
    rows = [[c.model, c.display, short(c.bits), f"{100 * c.acc:.1f}%",
             "—" if c.ci is None else f"[{100 * c.ci[0]:.1f}, {100 * c.ci[1]:.1f}]",
             str(c.n) + ("" if c.ci else " (too few for an interval)"), "at chance" if c.at_chance else ""]
            for c in a.cells]
    return (("model", "level", a.obs.unit, "test accuracy (mean of seeds)", "95% CI", "seeds", "flag"), rows)


def epoch_table(a: Analysis) -> Table:
    rows = [[e.model, e.display, e.text, num(e.best_epoch_median), num(e.epochs_run_median),
             f"{e.still_improving} of {e.n}"] for e in a.epochs]
    return (("model", "level", "epochs to converge (median)", "best epoch (median)", "epochs run (median)",
             "still improving at the cap"), rows)


def bits_table(a: Analysis) -> Table:
    unit = a.obs.unit
    rows = []
    for lv in a.obs.levels:
        paper, table = paper_arithmetic(lv.codec, lv.level)
        q = "ref" if lv.is_reference else "—" if lv.Q is None else f"{lv.Q:.2f}"
        rows.append([lv.display, q, num(lv.bits), num(lv.bits_total),
                     num(lv.raw_bits), num(lv.compression_ratio), num(lv.fidelity_db), num(paper), num(table)])
    return (("level", "Q", f"payload {unit}", f"whole file {unit}", f"raw {unit}", "raw / file", "fidelity dB",
             "paper bits left", "table bits left"), rows)


def codec_table(a: Analysis) -> Table:
    """BD-rate and BD-accuracy of every pair of codecs, per architecture (B against A, on measured payload bits)."""
    from helmholtz.analysis.headline import codec_title

    def pct(x: float | None, ci: tuple[float, float] | None) -> tuple[str, str]:
        return ("—" if x is None else f"{x:+.1f} %"), ("—" if ci is None else f"[{ci[0]:+.1f}, {ci[1]:+.1f}]")

    rows = []
    for c in a.codec_comparisons:
        rate, rate_ci = pct(c.bd_rate, c.bd_rate_ci)
        acc = "—" if c.bd_accuracy is None else pp(c.bd_accuracy)
        acc_ci = _ci(c.bd_accuracy_ci)
        rows.append([c.model, f"{codec_title(c.b)} vs {codec_title(c.a)}", rate, rate_ci, acc, acc_ci,
                     "—" if c.overlap is None else f"{c.overlap:.0%}", f"{c.n_levels[0]} / {c.n_levels[1]}",
                     c.warning or ""])
    return (("model", "B vs A", "BD-rate (bits B needs vs A)", "95% CI", "BD-accuracy (B − A)", "95% CI (pp)",
             "overlap", "levels A / B", "note"), rows)


def napprox_by_codec_table(a: Analysis) -> Table:
    """N_approx of every architecture with every codec, side by side (several codecs)."""
    from helmholtz.analysis.headline import codec_title, n_approx_short

    codecs = a.obs.codecs()
    by = {(x.model, x.codec): x for x in a.n_approx_all}
    rows = [[m, *(n_approx_short(by[(m, c)], a.obs.unit) if (m, c) in by else "—" for c in codecs)]
            for m in a.obs.models]
    return (("model", *(f"N_approx {codec_title(c)}" for c in codecs)), rows)


CODECS_NOTE = ("Each codec's curve is the architecture's mean test accuracy at each of its levels against the "
               "measured payload bits of that level (the original is on no curve). BD-rate: the percentage of bits "
               "B needs relative to A at equal accuracy, averaged over the accuracy range both curves cover "
               "(negative: B saves bits); accuracy is made monotone (isotonic) before it is inverted. BD-accuracy: "
               "the accuracy B gains at equal bits, over the bit range both cover. PCHIP interpolation in log bits. "
               "The 95% intervals come from the paired bootstrap: every draw resamples the seeds and test items of "
               "every level of both curves jointly. Overlap: the share of the joint accuracy range both curves "
               "cover; below 75% the delta rests on a small range.")


def recommendation_lines(a: Analysis) -> list[str]:
    r = a.recommendation
    if r is None:
        return ["No recommendation: it needs a decided N_approx (found or holds everywhere) at a compressed level"
                + (" and a smaller model shown at least non-inferior to the largest on the original" if a.pair else "")
                + "."]

    def eff(e) -> str:
        ci = "n < 3, no interval" if e.ci is None else f"95% CI {ci_pp(e.ci)}"
        return f"{e.what}: {pp(e.diff)} ({ci})"

    out = [f"Use {r.model} at {r.display} instead of {r.baseline} on the original"
           + (f" ({r.params_ratio:.1f}× fewer parameters" if r.params_ratio and r.params_ratio > 1 else " (")
           + (f"{', ' if r.params_ratio and r.params_ratio > 1 else ''}{r.storage_ratio:.1f}× less storage)"
              if r.storage_ratio else ")"),
           "Compression effect — " + eff(r.compression)]
    if r.architecture is not None:
        out.append("Architecture effect — " + eff(r.architecture))
    out.append("Both together — " + eff(r.total))
    return [line.replace(" ()", "") for line in out]


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*|#"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md(text: str) -> str:
    """``text`` as Markdown shows it literally: Markdown's marks and HTML escaped, so a label such as
    ``<img src=x onerror=…>``, ``[x](javascript:…)`` or ``a|b`` is text, never live HTML, a link or an extra table
    column. An underscore inside a word (N_approx) is no emphasis in CommonMark and stays as it is."""
    text = _LONE_UNDERSCORE.sub(r"\\_", str(text).translate(_MD_SPECIAL))
    return text.replace("](", "]\\(")   # no inline link or image; a bare [1.3, 1.5] is no link and stays readable


def md_table(table: Table) -> str:
    header, rows = table
    lines = ["| " + " | ".join(map(md, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(md, r)) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(a: Analysis, *, figures: Sequence[str] = ()) -> str:
    """`summary.md`: the headline, the findings and the tables, readable in any Markdown viewer."""
    parts = ["# Helmholtz summary", "", md(a.headline), "", md(recipe_short(a.obs.spec, a.obs.seeds)), ""]
    if a.warnings:
        parts += ["## Warnings", ""] + [f"- {md(w)}" for w in a.warnings] + [""]
    parts += ["## N_approx", "", md_table(n_approx_table(a)), ""]
    if a.codec_comparisons:
        parts += ["## Codecs compared", "", md_table(napprox_by_codec_table(a)), "", md_table(codec_table(a)), "",
                  md(CODECS_NOTE), ""]
    parts += ["## Levels against the original", "",
              md_table(verdict_table(a)), "", "## Collapse or smooth decline", "", md_table(collapse_table(a)), ""]
    if a.comparisons:
        parts += [f"## {md(a.pair[0])} against {md(a.pair[1])} at every level", "", md_table(comparison_table(a)),
                  ""]
    parts += ["## Recommendation", ""] + [f"- {md(line)}" for line in recommendation_lines(a)] + [""]
    parts += ["## Cells", "", md_table(cell_table(a)), "", "## Epochs", "", md_table(epoch_table(a)), "",
              "## Measured bits per level", "", md_table(bits_table(a)), ""]
    if figures:
        parts += ["## Figures", ""] + [f"![{name}]({name}.png)" for name in figures] + [""]
    return "\n".join(parts)


__all__ = ["REFERENCE", "headline", "recipe_lines", "recipe_short", "render_markdown", "seeds_text"]
