"""The report's words: the headline, the recipe, the findings, and `summary.md`. Built from the data as it is.

The headline is what `helmholtz report` prints on the terminal, e.g.
"N_approx ≈ q 20 (CI q 15–25) = 0.9 bits/pixel scan; A at q 20 is within 1 pp of the best accuracy with 2.4× fewer
parameters and 35% fewer epochs than F on the original". Whatever the numbers say is what it says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helmholtz.analysis.analyze import Analysis
from helmholtz.analysis.knee import KneeEstimate
from helmholtz.analysis.stats import Interval
from helmholtz.analysis.table import REFERENCE, Grid


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def short(x: float) -> str:
    """Two significant digits without exponent notation: 0.54, 4.2, 33, 130."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.2g}"


def interval_text(iv: Interval | None, *, percent: bool = True, digits: int = 1) -> str:
    """'84.1% [83.2, 85.0] n=3', or '… n=1 (n<2)' when there is no interval."""
    if iv is None:
        return "—"
    f = (lambda v: f"{100 * v:.{digits}f}") if percent else (lambda v: f"{v:.{digits}f}")
    unit = "%" if percent else ""
    if iv.flagged:
        return f"{f(iv.mean)}{unit} n={iv.n} (n<2)"
    return f"{f(iv.mean)}{unit} [{f(iv.lo)}, {f(iv.hi)}] n={iv.n}"


def level_range(grid: Grid, labels: Sequence[str]) -> str:
    """A CI over levels as prose: 'q 15–25', '32–64 kbps', 'original–q 90', or one level."""
    lo, hi = labels
    if lo == hi:
        return grid.name(lo)
    if REFERENCE in (lo, hi):
        other = hi if lo == REFERENCE else lo
        return f"original–{grid.name(other)}"
    a, b = sorted((int(lo), int(hi)))
    return f"{a}–{b} kbps" if grid.codec == "mp3" else f"q {a}–{b}"


def knee_text(a: Analysis, k: KneeEstimate | None = None) -> str:
    """The knee in one clause, with its CI and bits."""
    k = k or a.knee
    if k is None:
        return "no knee: no finished runs"
    g = a.grid
    if k.knee_label == REFERENCE and not k.found:
        return "no knee yet: no compressed level has a finished run, only the original"
    if k.knee_label == REFERENCE:
        first = next((lab for lab in k.labels if lab != REFERENCE), None)
        text = (f"N_approx is above the grid's best quality: already {g.name(first)} falls more than "
                f"{k.tolerance_pp:g} pp below the original (CI {level_range(g, k.ci_labels)})")
        return text + _whole_grid(k)
    b = next((x for x in a.level_bits if x.label == k.knee_label), None)
    unit = g.bits_unit
    bits = ""
    if b is not None and b.payload is not None:
        scan = "scan" if g.codec == "jpeg" else "frames"
        bits = f" = {short(b.payload)} {unit} {scan}"
        if b.total is not None:
            bits += f" ({short(b.total)} whole file"
            bits += f", {b.compression_ratio:.1f}× smaller than raw)" if b.compression_ratio else ")"
    if not k.found:
        return (f"no knee within the grid: accuracy holds down to the lowest level, {g.name(k.knee_label)}{bits}; "
                f"N_approx lies beyond it")
    return f"N_approx ≈ {g.name(k.knee_label)} (CI {level_range(g, k.ci_labels)}){bits}" + _whole_grid(k)


def _whole_grid(k: KneeEstimate) -> str:
    """A warning when the bootstrap CI covers the whole curve: the seeds do not locate the knee."""
    if len(k.labels) > 2 and k.ci_labels == (k.labels[0], k.labels[-1]):
        return " — the CI spans the whole grid: too few seeds or epochs to locate the knee"
    return ""


def recommendation_text(a: Analysis) -> str:
    r = a.recommendation
    if r is None:
        return ""
    g = a.grid
    parts = [f"{r.arch} at {g.name(r.label)}"]
    if (r.arch, r.label) == (r.best_arch, r.best_label):
        parts.append(f"has the best accuracy ({pct(r.best_acc)})")
    elif r.acc.mean >= r.best_acc - r.tolerance_pp / 100:
        parts.append(f"is within {r.tolerance_pp:g} pp of the best accuracy ({pct(r.best_acc)}, "
                     f"{r.best_arch} at {g.name(r.best_label)})")
    else:
        parts.append(f"is the closest to the best accuracy ({pct(r.acc.mean)} vs {pct(r.best_acc)})")
    s = r.savings
    extras = []
    if s.params_ratio is not None and abs(s.params_ratio - 1) > 1e-9:
        extras.append(f"{s.params_ratio:.1f}× fewer parameters" if s.params_ratio > 1
                      else f"{1 / s.params_ratio:.1f}× more parameters")
    if s.epochs_saved is not None and abs(s.epochs_saved) < 0.005:
        extras.append("the same number of epochs")
    elif s.epochs_saved is not None:
        extras.append(f"{abs(100 * s.epochs_saved):.0f}% {'fewer' if s.epochs_saved >= 0 else 'more'} epochs")
    if s.storage_ratio is not None and r.label != REFERENCE:
        extras.append(f"{s.storage_ratio:.1f}× less storage")
    text = " ".join(parts)
    if extras and r.baseline_arch:
        text += f" with {', '.join(extras[:-1]) + ' and ' if len(extras) > 1 else ''}{extras[-1]}"
        text += f", compared with {r.baseline_arch} on the original"
    return text


def headline(a: Analysis) -> str:
    """One line for the terminal and the top of the report."""
    text = knee_text(a)
    rec = recommendation_text(a)
    if rec:
        text += f"; {rec}"
    if a.partial:
        text += f" [partial sweep: {a.n_done} of {a.n_expected} runs]"
    return text


def recipe_lines(spec: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The training recipe and data of the sweep as (name, value) rows."""
    if not spec:
        return [("recipe", "not recorded (no sweep spec in the store)")]
    o, d = spec.get("options", {}), spec.get("data", {})
    from helmholtz.train.spec import DEFAULT_LR, DEFAULT_LR_DECAY  # pure Python, no torch

    lr = o.get("lr")
    if lr is None:
        lr = DEFAULT_LR.get(o.get("optimizer"), "default")
    decay = o.get("lr_decay")
    if decay is None:
        decay = DEFAULT_LR_DECAY.get(o.get("optimizer"), "default")
    return [
        ("dataset", f"{d.get('dataset')} (hash {d.get('data_hash') or '—'})"),
        ("subset", f"train {d.get('train_size') or 'all'}, test {d.get('test_size') or 'all'}, "
                   f"validation {d.get('val_fraction')} of train, split seed {d.get('split_seed')}"),
        ("codec", f"{spec.get('codec')}, levels {', '.join('none' if v is None else str(v) for v in spec.get('levels', []))}"),
        ("architectures", ", ".join(spec.get("archs", []))),
        ("seeds", ", ".join(str(s) for s in spec.get("seeds", []))),
        ("optimizer", f"{o.get('optimizer')}, lr {lr}, decay {decay}/step"
                      + (f", momentum {o.get('momentum')} (Nesterov)" if o.get("optimizer") == "sgd" else "")),
        ("epochs", f"at most {o.get('epochs')}, early stopping patience {o.get('patience')} on validation accuracy"),
        ("batch / width", f"batch {o.get('batch_size')}, width ×{o.get('width')}"),
        ("regularisation", f"weight decay {o.get('weight_decay')}, label smoothing {o.get('label_smoothing')}, "
                           f"augmentation {'on' if o.get('augment') else 'off'}"),
        ("precision", f"{o.get('precision')}{', torch.compile' if o.get('compile') else ''}"),
    ]


def recipe_short(spec: Mapping[str, Any] | None) -> str:
    """The recipe in one line, for the terminal: optimizer, lr, batch, epochs, width, training images."""
    if not spec:
        return "recipe: not recorded"
    o, d = spec.get("options", {}), spec.get("data", {})
    lr = o.get("lr") if o.get("lr") is not None else {"sgd": 0.01, "adadelta": 1.0, "adam": 1e-3}.get(o.get("optimizer"))
    return (f"recipe: {o.get('optimizer')} lr {lr}, batch {o.get('batch_size')}, at most {o.get('epochs')} epochs "
            f"(patience {o.get('patience')}), width ×{o.get('width')}, {d.get('train_size') or 'all'} training items "
            f"of {d.get('dataset')}, seeds {', '.join(str(s) for s in spec.get('seeds', []))}")


def findings(a: Analysis) -> list[str]:
    """Plain-language findings, in the order the report lists them."""
    out = [knee_text(a) + "."]
    k = a.knee
    if k is not None:
        kn = a.grid.name(k.kneedle_label) if k.kneedle_label else "no knee found"
        out.append(f"Secondary rule (Kneedle, maximum curvature of the mean curve): {kn}.")
        if k.flat_share > 0:
            out.append(f"{100 * k.flat_share:.0f}% of the {k.n_boot} bootstrap draws found no knee within the grid.")
    for cmp in (a.knee_comparison, a.params_comparison):
        if cmp is not None and (cmp is a.knee_comparison or cmp.label != getattr(a.knee_comparison, "label", None)):
            out.append(cmp.sentence)
    rec = recommendation_text(a)
    if rec:
        out.append(f"Recommendation: {rec}.")
    if a.recommendation is not None:
        out.extend(a.recommendation.notes)
    if a.partial:
        out.append(f"Partial sweep: {a.n_done} of {a.n_expected} runs finished"
                   + (f", {a.n_failed} failed" if a.n_failed else "") + "; numbers will move as runs arrive.")
    elif a.n_failed:
        out.append(f"{a.n_failed} run(s) failed and are left out.")
    return out


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def cell_rows(a: Analysis) -> list[list[str]]:
    """One row per cell: arch, level, Q, accuracy, epochs, wall time (the report's cell table)."""
    return [[c.arch, a.grid.name(c.label), "ref" if c.Q is None else f"{c.Q:.2f}", interval_text(c.acc),
             interval_text(c.epochs(a.epoch_metric), percent=False), interval_text(c.wall_s, percent=False)]
            for c in a.cells]


CELL_HEADER = ("arch", "level", "Q", "test accuracy [95% CI]", "epochs", "train time s")


def render_markdown(a: Analysis, *, figures: Sequence[str] = ()) -> str:
    """`summary.md`: the headline, findings, recipe and the main tables; figures linked by file name."""
    parts = ["# Helmholtz report", "", f"**{headline(a)}**", "", recipe_short(a.spec) + ".", "", "## Findings", ""]
    parts += [f"- {f}" for f in findings(a)]
    parts += ["", "## Recipe", "", _md_table(("", ""), recipe_lines(a.spec)), ""]
    parts += ["## Cells (mean over seeds, 95% t-interval)", "", _md_table(CELL_HEADER, cell_rows(a)), ""]
    parts += ["## Knee per curve", "", _md_table(
        ("curve", "N_approx", "95% CI", "found", "Kneedle"),
        [[name, a.grid.name(k.knee_label), level_range(a.grid, k.ci_labels), "yes" if k.found else "no (bound)",
          a.grid.name(k.kneedle_label) if k.kneedle_label else "—"] for name, k in a.knees.items()]), ""]
    parts += ["## Fit: accuracy = a + c·log(100 − Q%)", "", _md_table(
        ("arch", "a", "c", "R²", "RMSE (pp)", "levels"),
        [[arch, f"{f.a:.4f}", f"{f.c:.4f}", num(f.r2), f"{100 * f.rmse:.2f}", str(f.n)] for arch, f in a.fits.items()]
        + [[arch, "—", "—", "—", "—", note] for arch, note in a.fit_notes.items()]), ""]
    parts += ["## Measured bits per level", "", _md_table(
        ("level", f"payload {a.grid.bits_unit}", f"total {a.grid.bits_unit}", "ratio raw/total", "fidelity dB",
         "paper bits left", "table bits left"),
        [[a.grid.name(b.label), num(b.payload), num(b.total), num(b.compression_ratio), num(b.fidelity_db),
          num(b.paper_bits_left), num(b.table_bits_left)] for b in a.level_bits]), ""]
    if figures:
        parts += ["## Figures", ""] + [f"![{name}]({name}.png)" for name in figures] + [""]
    return "\n".join(parts)
