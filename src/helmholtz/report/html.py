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
    CELL_HEADER,
    cell_rows,
    findings,
    headline,
    interval_text,
    level_range,
    num,
    pct,
    recipe_lines,
    recipe_short,
)

#: section ids, in page order (tests check that each is present)
SECTIONS = ("summary", "figures", "knee", "cells", "fit", "bits", "complexity", "recommendation", "recipe", "spec",
            "provenance")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.headline{font-size:1.15em;background:#eef5ff;
padding:.8em 1em;border-left:4px solid #3a78c2}.flag{color:#a33}figure{margin:1em 0}figure img{max-width:100%;
border:1px solid #eee}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.note{color:#555;
font-size:.9em}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    text = escape(str(value))
    return f'<span class="flag">{text}</span>' if "n<2" in str(value) else text


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


def _knee(a: Analysis) -> str:
    g = a.grid
    rows = [[name, g.name(k.knee_label), level_range(g, k.ci_labels), "yes" if k.found else "no (bound)",
             pct(k.best_mean), g.name(k.best_label), g.name(k.kneedle_label) if k.kneedle_label else "none found",
             ", ".join(f"{g.name(lab)} {100 * s:.1f}%" for lab, s in k.distribution.items())]
            for name, k in a.knees.items()]
    k = a.knee
    rule = (f"<p class=note>Primary rule: walking from the level with the best mean accuracy towards lower quality, "
            f"N_approx is the last level before the first that falls more than δ = {a.tolerance_pp:g} pp below the "
            "best (not the literal 'any level within δ', which noise past the collapse could satisfy). "
            f"CI: 2.5–97.5 % of the knee over {k.n_boot if k else '—'} bootstrap draws over seeds (seed "
            f"{k.seed if k else '—'}). 'best' is the envelope: the best architecture at each level. "
            "Secondary rule: Kneedle (kneed) on the mean curve.</p>")
    return rule + _table(("curve", "N_approx", "95% CI", "knee found", "best accuracy", "best at", "Kneedle",
                          "bootstrap distribution"), rows)


def _fit(a: Analysis) -> str:
    rows = [[arch, f"{f.a:.4f}", f"{f.c:.4f}", num(f.r2), f"{100 * f.rmse:.2f}", str(f.n),
             ", ".join(f"{100 * r:+.1f}" for r in f.residuals)] for arch, f in a.fits.items()]
    rows += [[arch, "—", "—", "—", "—", "—", note] for arch, note in a.fit_notes.items()]
    return ("<p class=note>The paper's theoretical curve (Fig. 3, Sec. 4.1), accuracy = a + c·ln(100 − Q%), fitted "
            "by least squares to the mean accuracies of the compressed levels (Q% capped at 99). It is the shadow "
            "curve of the accuracy figure.</p>"
            + _table(("arch", "a", "c", "R²", "RMSE (pp)", "levels", "residuals (pp, by rising Q)"), rows))


def _bits(a: Analysis) -> str:
    g = a.grid
    rows = [[g.name(b.label), "ref" if lv.Q is None else f"{lv.Q:.2f}", num(b.payload), num(b.total), num(b.raw),
             num(b.compression_ratio), num(b.payload_ratio), num(b.fidelity_db), num(b.paper_bits_left),
             num(b.table_bits_left)] for b, lv in zip(a.level_bits, g.levels, strict=True)]
    note = ("<p class=note>Measured: the bytes the encoder wrote, mean over the training split; payload is the "
            "entropy-coded JPEG scan (or MP3 frame data) without headers, which dominate small files. Paper "
            "arithmetic (Sec. 4.1, JPEG only): bits left of a 24-bit colour pixel reduced to 16 by 4:2:0, with the "
            "paper's S = 12487 and with the real libjpeg-scaled tables; it assumes colour, the measured bits are per "
            "pixel of the given data.</p>")
    unit = g.bits_unit
    return note + _table(("level", "Q", f"payload {unit}", f"total {unit}", f"raw {unit}", "raw/total",
                          "raw/payload", "fidelity dB", "paper bits left", "table bits left"), rows)


def _complexity(a: Analysis) -> str:
    g = a.grid
    parts = []
    for cmp in (a.knee_comparison, a.params_comparison):
        if cmp is not None and (cmp is a.knee_comparison or a.knee_comparison is None
                                or cmp.label != a.knee_comparison.label):
            parts.append(f"<p>{escape(cmp.sentence)}</p>")
    label = a.params_label
    rows = [[c.arch, f"{c.n_params:,}" if c.n_params else "—", interval_text(c.acc),
             interval_text(c.epochs(a.epoch_metric), percent=False)] for c in a.cells if c.label == label]
    metric = ("epochs to converge (paper heuristic: first epoch whose 10-epoch mean validation accuracy exceeds "
              "0.99 × the best)" if a.epoch_metric == "epochs_to_converge"
              else "epoch of the best validation accuracy (the paper's convergence heuristic was undefined for most "
                   "runs, which are shorter than its 10-epoch window)")
    parts.append(f"<p class=note>Epochs are {escape(metric)}.</p>")
    if g.modality == "audio":
        parts.append("<p class=note>Audio parameter counts use a correct per-channel BatchNorm (64 parameters); the "
                     "paper's Keras models normalised over the 94-row frequency axis (376), so each count here is "
                     "312 lower than the paper's.</p>")
    parts.append(f"<h3>Accuracy vs parameters at {escape(g.name(label) if label else '—')}</h3>")
    parts.append(_table(("arch", "parameters", "test accuracy [95% CI]", "epochs"), rows))
    return "\n".join(parts) or "<p>Fewer than two architectures: nothing to compare.</p>"


def _recommendation(a: Analysis) -> str:
    r = a.recommendation
    if r is None:
        return "<p>No recommendation: no finished runs.</p>"
    g, s = a.grid, r.savings

    def ratio(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}×"

    def saved(x: float | None) -> str:
        return "—" if x is None else f"{100 * x:.0f}% {'fewer' if x >= 0 else 'more'}"

    rows = [
        ("level", f"{g.name(r.label)} (Q {num(r.Q)})"), ("architecture", f"{r.arch} ({r.n_params or '—'} parameters)"),
        ("test accuracy", interval_text(r.acc)), ("best cell", f"{r.best_arch} at {g.name(r.best_label)}: {pct(r.best_acc)}"),
        ("baseline", f"{r.baseline_arch} on the original: {interval_text(r.baseline_acc)}" if r.baseline_arch else "—"),
        ("storage (raw / compressed file)", ratio(s.storage_ratio)), ("bits (raw / payload)", ratio(s.payload_ratio)),
        (f"measured {r.bits.unit}", f"payload {num(r.bits.payload)}, whole file {num(r.bits.total)}, raw {num(r.bits.raw)}"),
        ("parameters (baseline / ours)", ratio(s.params_ratio)),
        ("epochs", f"{num(s.epochs_ours)} vs {num(s.epochs_baseline)}: {saved(s.epochs_saved)}"),
        ("training time (s)", f"{num(s.wall_ours_s)} vs {num(s.wall_baseline_s)}: {saved(s.wall_saved)}"),
    ]
    notes = "".join(f"<p class=note>{escape(n)}</p>" for n in r.notes)
    return (f"<p class=note>The knee level, and the smallest architecture there within {r.tolerance_pp:g} pp of the "
            "best cell; savings against the largest architecture trained on the original.</p>"
            + _table(("", ""), rows) + notes)


def _provenance(meta: Mapping[str, Any]) -> str:
    rows = [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in meta.items()]
    return _table(("", ""), rows)


def render_html(a: Analysis, figures: Sequence[FigureFiles], *, meta: Mapping[str, Any]) -> str:
    """The whole report page. `meta` holds provenance rows (code versions, libraries, hardware, store path)."""
    sections = {
        "summary": ("Summary", f'<p class="headline">{escape(headline(a))}</p>'
                    f"<p class=note>{escape(recipe_short(a.spec))}.</p><ul>"
                    + "".join(f"<li>{escape(f)}</li>" for f in findings(a)) + "</ul>"),
        "figures": ("Figures", _figures(figures)),
        "knee": ("The knee N_approx", _knee(a)),
        "cells": ("Cells: mean over seeds with 95% t-interval", _table(CELL_HEADER, cell_rows(a))),
        "fit": ("The theoretical curve (fit)", _fit(a)),
        "bits": ("Bits per level: measured and the paper's arithmetic", _bits(a)),
        "complexity": ("Complexity: parameters and epochs", _complexity(a)),
        "recommendation": ("Recommendation", _recommendation(a)),
        "recipe": ("Recipe", _table(("", ""), recipe_lines(a.spec))),
        "spec": ("Sweep spec", f"<pre>{escape(json.dumps(a.spec, indent=2, sort_keys=True))}</pre>"),
        "provenance": ("Code, libraries and hardware", _provenance(meta)),
    }
    body = "\n".join(_section(sid, *sections[sid]) for sid in SECTIONS)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Helmholtz report</title><style>{_CSS}</style></head>\n<body>\n<h1>Helmholtz report</h1>\n"
            f"{body}\n</body></html>\n")
