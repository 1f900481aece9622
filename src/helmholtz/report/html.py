"""`report.html`: one self-contained file that opens offline.

Figures are embedded as base64 PNG data URIs, the style sheet is inline, and there is no script and no external URL,
so the file can be mailed, archived or opened on an air-gapped machine. Every number comes from the `Analysis`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from helmholtz.analysis.analyze import Analysis
from helmholtz.report.figures import FigureFiles
from helmholtz.report.summary import (
    CODECS_NOTE,
    Table,
    bits_table,
    cell_table,
    codec_table,
    collapse_table,
    comparison_table,
    epoch_table,
    matrix_table,
    n_approx_table,
    napprox_by_codec_table,
    recipe_lines,
    recipe_short,
    recommendation_lines,
    verdict_table,
)

#: section ids, in page order (tests check that each is present)
SECTIONS = ("summary", "figures", "napprox", "levels", "collapse", "models", "recommendation", "cells", "epochs",
            "bits", "method", "recipe", "spec", "provenance")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.headline{font-size:1.15em;background:#eef5ff;
padding:.8em 1em;border-left:4px solid #3a78c2}.flag{color:#a33}figure{margin:1em 0}figure img{max-width:100%;
border:1px solid #eee}.warn li{color:#8a4b00}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.note{color:#555;
font-size:.9em}
"""


def _table(table: Table | tuple[Sequence[str], Sequence[Sequence[Any]]]) -> str:
    header, rows = table
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_FLAGS = ("too few", "at chance", "inconclusive", "drops", "inferior", "censored")


def _cell(value: Any) -> str:
    text = escape(str(value))
    return f'<span class="flag">{text}</span>' if any(f in str(value) for f in _FLAGS) else text


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{escape(title)}</h2>\n{body}\n</section>'


def _figures(figs: Sequence[FigureFiles]) -> str:
    out = []
    for f in figs:
        data = base64.b64encode(f.png_bytes).decode("ascii")
        out.append(f'<figure><img alt="{escape(f.title)}" src="data:image/png;base64,{data}">'
                   f"<figcaption>{escape(f.title)} — also as {escape(f.svg.name)} and {escape(f.png.name)}"
                   "</figcaption></figure>")
    return "\n".join(out)


def _summary(a: Analysis) -> str:
    warn = "".join(f"<li>{escape(w)}</li>" for w in a.warnings)
    notes = "".join(f"<li>{escape(n)}</li>" for n in a.notes)
    return (f'<p class="headline">{escape(a.headline)}</p>'
            f"<p class=note>{escape(recipe_short(a.obs.spec, a.obs.seeds))}.</p>"
            + (f"<h3>Warnings</h3><ul class=warn>{warn}</ul>" if warn else "")
            + (f"<ul>{notes}</ul>" if notes else ""))


def _method(a: Analysis) -> str:
    items = (
        f"Every interval and verdict comes from one two-stage paired bootstrap ({a.n_boot} draws, seed {a.seed}): "
        "seeds first, with the same seed weights for every cell (seed s is used at every level and architecture), "
        "then test items, with the same item weights for every cell, so every difference is paired. The seed stage is "
        "calibrated for small seed counts (it reproduces Student-t bounds), and a cell or difference needs ≥ 3 seeds "
        "for an interval or a verdict."
        + ("" if a.obs.paired_items else " This sweep has no per-item predictions: differences are paired over seeds "
           "only and the test set's binomial variance is added per cell."),
        f"Level verdicts against each architecture's own original at margin δ = {a.tolerance.text}: holds when "
        "the one-sided 95 % lower bound of the difference is above −δ, drops when the upper bound is below −δ, else "
        "inconclusive. Levels are tested from the most bits to the fewest, stopping at the first that does not hold "
        "(fixed-sequence testing: the family-wise error stays at 5 % without a multiplicity correction). N_approx is "
        "the fewest-bits level of the unbroken run of holds; its CI is the bootstrap range of that boundary.",
        "Collapse: a hinge (flat down to b*, then linear in log₂ bits) against the paper's smooth curve "
        "a + c·log₂ bits, by weighted least squares; a collapse is claimed only when a parametric bootstrap under the "
        "smooth curve gives p < 0.01, the hinge falls by at least δ, and ≥ 5 levels with ≥ 2 on each side of b*. "
        "R² and Kneedle are not evidence of a knee.",
        "Architectures are compared by an equivalence test (TOST at ±δ, the one-sided 95 % bounds): equivalent, "
        "superior, inferior, non-inferior, or inconclusive — a non-significant difference is never 'matches'. The "
        "headline comparison is at a level fixed in advance (the paper's q 25 / Q 0.75, or --compare-at).",
        "Epochs to converge use the paper's full 10-epoch window only; a shorter or still-rising history is "
        "censored (≥ N). A run whose best validation epoch is its last, stopped by the cap, was still improving.",
    )
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _models(a: Analysis) -> str:
    if not a.comparisons:
        return "<p>Fewer than two architectures: nothing to compare.</p>"
    where = a.obs.level(a.compare_level).display if a.compare_level else "no pre-set level in this grid"
    audio = ("<p class=note>Audio parameter counts use a correct per-channel BatchNorm (64 parameters); the paper's "
             "Keras models normalised over the 94-row frequency axis (376), so each count here is 312 lower than the "
             "paper's.</p>" if a.obs.modality == "audio" else "")
    return (f"<p class=note>{escape(a.pair[0])} − {escape(a.pair[1])} at every level; the headline comparison is at "
            f"{escape(where)}.</p>" + _table(comparison_table(a)) + audio)


def _fit(a: Analysis) -> str:
    if not a.fits:
        return ""
    rows = [[m, f"{f.a:.4f}", f"{f.c:.4f}", "—" if f.r2 is None else f"{f.r2:.3f}", f"{100 * f.rmse:.2f}", str(f.n)]
            for m, f in a.fits.items()]
    return ("<h3>The paper's curve on the Q axis (Fig. 3)</h3><p class=note>accuracy = a + c·ln(100 − Q%), least "
            "squares over the compressed levels: the shadow curve of the accuracy figure, shown for comparison; a "
            "good fit is not evidence of a knee.</p>"
            + _table((("model", "a", "c", "R²", "RMSE (pp)", "levels"), rows)))


def codecs_html(a: Analysis) -> str:
    """The codecs compared: N_approx per codec and the BD table (a multi-codec sweep's section)."""
    return (_table(napprox_by_codec_table(a)) + _table(codec_table(a)) + f"<p class=note>{escape(CODECS_NOTE)}</p>")


def timeline_html(adaptive: Mapping[str, Any]) -> str:
    """The adaptive sweep's decisions in order: the starting grid, each step's runs and why, and how it ended."""
    steps, budget, result = adaptive.get("steps") or [], adaptive.get("budget") or {}, adaptive.get("result")
    limits = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in budget.items() if v is not None) or "none"
    rows = [["0", "initial grid", str(adaptive.get("grid_runs", "—")), "the grid given (or the coarse default)", "—"]]
    rows += [[str(st["step"]), st["kind"], str(len(st["runs"])), st["reason"], st.get("state") or "—"] for st in steps]
    end = ""
    if result:
        how = "decided" if result.get("decided") else "stopped undecided"
        opens = "".join(f"<li>{escape(o)}</li>" for o in result.get("open") or [])
        end = (f"<p>{escape(how)} after {result.get('runs')} runs ({result.get('training_s', 0) / 60:.1f} min of "
               f"training): {escape(result.get('state', ''))}</p>" + (f"<p>Still open:</p><ul>{opens}</ul>" if opens else ""))
    return (f"<p class=note>Budget: {escape(limits)}. Each step was decided from the results stored before it, and "
            "recorded before it was trained.</p>"
            + _table((("step", "kind", "runs", "why", "state before the step"), rows)) + end)


def _provenance(meta: Mapping[str, Any]) -> str:
    rows = [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in meta.items()]
    return _table((("", ""), rows))


def render_html(a: Analysis, figures: Sequence[FigureFiles], *, meta: Mapping[str, Any],
                extra: Sequence[tuple[str, str, str]] = ()) -> str:
    """The whole report page. `meta` holds provenance rows; `extra` adds (id, title, html) sections: 'codecs'
    (the codecs compared) after N_approx, every other one (the adaptive sweep's timeline, capacity) before
    'method'."""
    spec = a.obs.spec
    sections = {
        "summary": ("Summary", _summary(a)),
        "figures": ("Figures", _figures(figures)),
        "napprox": ("N_approx: the bits the task needs", _table(n_approx_table(a))),
        "levels": ("Each level against the original (compression effect)", _table(verdict_table(a))),
        "collapse": ("Collapse or smooth decline", _table(collapse_table(a)) + _fit(a)),
        "models": ("Architectures compared (architecture effect)", _models(a)),
        "recommendation": ("Recommendation", "<ul>" + "".join(f"<li>{escape(x)}</li>"
                                                               for x in recommendation_lines(a)) + "</ul>"),
        "cells": ("Cells: mean over seeds with 95% bootstrap interval", _table(cell_table(a))),
        "epochs": ("Epochs", _table(epoch_table(a))),
        "bits": ("Bits per level: measured, and the paper's arithmetic", _table(bits_table(a))),
        "method": ("How these numbers are decided", _method(a)),
        "recipe": ("Recipe", _table((("", ""), recipe_lines(spec, a.obs.seeds)))),
        "spec": ("Sweep spec", f"<pre>{escape(json.dumps(spec, indent=2, sort_keys=True))}</pre>" if spec
                 else "<p>Imported results: no sweep spec.</p>"),
        "provenance": ("Code, libraries and hardware", _provenance(meta)),
    }
    order = list(SECTIONS)
    if a.matrix is not None and a.matrix.cells:
        sections["matrix"] = ("Train level × test level (deploying on other data)", _table(matrix_table(a)) + (
            "<p class=\"note\">Each cell: models trained at the row's level, tested on the column's test split, minus "
            "the models trained and tested at the column's level; paired over seeds and test items, verdicts at "
            f"δ = {a.tolerance.text} by the N_approx rule. The walk down the test levels stops at the first that "
            "does not hold.</p>"))
        order.insert(order.index("levels") + 1, "matrix")
    for sid, title, body in extra:
        sections[sid] = (title, body)
        # the codecs compared belong beside N_approx; other additions (timeline, capacity) before 'method'
        order.insert(order.index("napprox") + 1 if sid == "codecs" else order.index("method"), sid)
    body = "\n".join(_section(sid, *sections[sid]) for sid in order)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Helmholtz report</title><style>{_CSS}</style></head>\n<body>\n<h1>Helmholtz report</h1>\n"
            f"{body}\n</body></html>\n")
