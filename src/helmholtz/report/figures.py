"""The report's figures, as PNG and SVG (matplotlib, Agg canvas, no pyplot state). Every interval is the engine's.

- **difference_vs_bits** (the main figure): accuracy difference of each level to the architecture's own original
  against the measured bits (log axis); one line per architecture (and codec) with its paired 90 % band (the
  one-sided 95 % bounds the verdicts use), the −δ line, each level's verdict as its marker (● holds, ✕ drops,
  ○ inconclusive), N_approx, and the collapse point with its CI when a collapse was found;
- **accuracy_vs_q** (paper Fig. 4/7): accuracy against Q with 95 % intervals (cells with ≥ 3 seeds) and the
  paper's fitted shadow curve a + c·log(100 − Q%) — drawn against the measured bits when the codec has no Q (the
  paper's Q exists for JPEG and MP3 only), and then with several codecs one curve per (architecture, codec);
- **epochs_vs_q** (paper Fig. 5/8): median epochs to converge; a triangle marks a median that is only a bound
  (censored runs), a cross a cell whose runs were still improving at the cap;
- **accuracy_vs_params** (paper Fig. 6/9): accuracy against parameters at the pre-set comparison level;
- **train_test_matrix** (when the sweep evaluated its models across levels): per architecture, a heat map of
  acc(trained at row → tested at column) − acc(trained and tested at the column), in pp, each cell marked with
  its verdict at δ (holds / drops / ? inconclusive; the diagonal is the matched cell).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helmholtz.analysis.analyze import Analysis, CellSummary
from helmholtz.analysis.observations import REFERENCE

#: figure file stems, in the order the report shows them
FIGURES = ("difference_vs_bits", "accuracy_vs_q", "epochs_vs_q", "accuracy_vs_params")
_DPI = 110
_MARKERS = {"holds": ("o", True), "drops": ("X", True), "inconclusive": ("o", False)}


@dataclass(frozen=True)
class FigureFiles:
    """One figure written to disk, with its PNG bytes for embedding."""

    name: str
    title: str
    png: Path
    svg: Path
    png_bytes: bytes


def _new_figure(figsize=(6.6, 4.3)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _colors(names: Sequence[str]) -> dict[str, str]:
    palette = ("tab:blue", "tab:green", "tab:orange", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray")
    return {a: palette[i % len(palette)] for i, a in enumerate(names)}


def _log_x(ax) -> None:
    """Log x axis with plain-number labels on the major ticks only (minor labels collide on short ranges)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _label(a: Analysis, model: str) -> str:
    n = a.obs.params.get(model)
    return f"{model} ({n / 1e6:.2f}M params)" if n and n >= 1e5 else f"{model} ({n:,} params)" if n else model


def _use_q(a: Analysis) -> bool:
    """The paper's Q axis: only for a one-codec sweep of a codec that has it (JPEG, MP3); else measured bits."""
    return len(a.obs.codecs()) <= 1 and any(lv.Q is not None for lv in a.obs.levels)


def _styles(a: Analysis) -> dict[str, object]:
    """One line style per codec, in the sweep's order."""
    return {c: s for c, s in zip(a.obs.codecs(), ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))),
                                 strict=False)}


def _series(a: Analysis) -> list[tuple[str, str]]:
    """(model, codec) lines of the difference figure: every architecture with every codec."""
    return [(x.model, x.codec) for x in a.n_approx_all]


def difference_vs_bits(a: Analysis):
    fig, ax = _new_figure()
    obs = a.obs
    series = _series(a)
    colors = _colors([f"{m}/{c}" for m, c in series])
    styles = _styles(a)
    ref_bits = obs.level(REFERENCE).bits if obs.has_level(REFERENCE) else None
    for na in a.n_approx_all:
        col = colors[f"{na.model}/{na.codec}"]
        pts = [v for v in na.verdicts if v.bits is not None and v.diff is not None]
        ref = obs.level(na.reference)
        if not pts or ref.bits is None:
            continue
        xs = np.array([ref.bits, *(v.bits for v in pts)])
        ys = np.array([0.0, *(100 * v.diff for v in pts)])
        codec_note = f", {na.codec}" if len(obs.codecs()) > 1 else ""
        ax.plot(xs, ys, color=col, lw=1.2, ls=styles.get(na.codec, "-"), label=f"{_label(a, na.model)}{codec_note}")
        band = [(v.bits, 100 * v.ci[0], 100 * v.ci[1]) for v in pts if v.ci is not None]
        if band:
            band = sorted(band)
            ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band], color=col, alpha=0.12,
                            lw=0)
        for v in pts:
            marker, filled = _MARKERS[v.verdict]
            ax.plot([v.bits], [100 * v.diff], marker=marker, ms=6, ls="none", mec=col,
                    mfc=col if filled else "white")
        ax.plot([ref.bits], [0.0], marker="*", ms=11, mfc="white", mec=col, ls="none")
    ax.axhline(-a.tolerance.pp, color="0.35", ls="--", lw=1.0, label=f"−δ = −{a.tolerance.text} (margin)")
    ax.axhline(0.0, color="0.6", lw=0.7)
    na = a.n_approx
    if na is not None and na.bits is not None and na.status != "undecided":
        what = "N_approx" if na.status == "found" else "holds down to"
        ax.axvline(na.bits, color="0.15", ls=":", lw=1.4, label=f"{what} ({na.model}): {na.display}")
        if na.ci_bits:
            ax.axvspan(*na.ci_bits, ymin=0.0, ymax=0.035, color="0.3", alpha=0.55, lw=0, label="N_approx 95% CI")
    col = a.collapse
    if col is not None and col.detected and col.bits:
        ax.axvline(col.bits, color="tab:red", ls="-.", lw=1.1, label=f"collapse ({col.model}) at {col.bits:.2g}")
        if col.ci_bits:
            ax.axvspan(*col.ci_bits, ymin=0.965, ymax=1.0, color="tab:red", alpha=0.45, lw=0, label="collapse 95% CI")
    for verdict, (marker, filled) in _MARKERS.items():
        ax.plot([], [], marker=marker, ls="none", mec="0.3", mfc="0.3" if filled else "white", label=verdict)
    if ref_bits:
        ax.plot([], [], marker="*", ls="none", mec="0.3", mfc="white", ms=10, label="the original (reference)")
    _log_x(ax)
    ax.set_xlabel(f"measured {obs.unit} (payload, log scale)")
    ax.set_ylabel("accuracy − accuracy on the original (pp)")
    ax.set_title("What compression costs each architecture (paired 90% bands)")
    ax.legend(fontsize=6.5, loc="lower right", ncol=2)
    ax.grid(alpha=0.3, which="both")
    return fig


def _cells_of(a: Analysis, model: str) -> list[CellSummary]:
    return [c for c in a.cells if c.model == model]


def _acc_ylim(ax, cells: Sequence[CellSummary]) -> None:
    vals = [100 * c.acc for c in cells] + [100 * v for c in cells if c.ci for v in c.ci]
    if vals:
        pad = max(2.0, 0.08 * (max(vals) - min(vals)))
        ax.set_ylim(max(0.0, min(vals) - pad), min(100.0, max(vals) + pad))


def accuracy_vs_q(a: Analysis):
    fig, ax = _new_figure()
    obs = a.obs
    use_q = _use_q(a)
    colors = _colors(list(obs.models))
    styles = _styles(a)
    several = len(obs.codecs()) > 1
    series = _colors([f"{m}/{c}" for m in obs.models for c in obs.codecs()])   # several codecs: a colour each
    for model in obs.models:
        col = colors[model]
        cells = _cells_of(a, model)
        x_of = (lambda c: obs.level(c.level).Q) if use_q else (lambda c: c.bits)
        for codec in obs.codecs() or ("",):
            col = series[f"{model}/{codec}"] if several else colors[model]
            comp = sorted((c for c in cells if c.level != REFERENCE and obs.level(c.level).codec == codec
                           and x_of(c) is not None), key=x_of)
            if not comp:
                continue
            xs = np.array([x_of(c) for c in comp])
            ys = np.array([100 * c.acc for c in comp])
            lo = np.array([ys[i] - 100 * c.ci[0] if c.ci else 0.0 for i, c in enumerate(comp)])
            hi = np.array([100 * c.ci[1] - ys[i] if c.ci else 0.0 for i, c in enumerate(comp)])
            label = _label(a, model) + (f", {codec}" if several else "")
            ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o", ls=styles.get(codec, "-"), color=col, ms=4, lw=1.2,
                        capsize=2, label=label)
            for x, y, c in zip(xs, ys, comp, strict=True):
                if c.ci is None:
                    ax.annotate(f"n={c.n}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7,
                                color="0.35")
            fit = a.fits.get(model)
            if use_q and fit is not None:
                qq = np.linspace(0.0, max(0.99, float(xs.max())), 200)
                ax.plot(qq, 100 * fit.predict(qq), color=col, lw=6, alpha=0.15, solid_capstyle="round",
                        label=f"{model}: paper's curve a + c·log(100 − Q%)")
        ref = next((c for c in cells if c.level == REFERENCE), None)
        col = colors[model] if not several else "0.3"
        if ref is not None:
            ax.axhline(100 * ref.acc, color=col, ls="--", lw=0.9, alpha=0.8)
            x0 = 0.0 if use_q else ref.bits
            if x0 is not None:
                ax.plot([x0], [100 * ref.acc], marker="*", ms=12, mfc="white", mec=col, ls="none",
                        label=f"{model} on the original")
    _acc_ylim(ax, a.cells)
    if use_q:
        ax.set_xlabel("Q (quantization: 0 = best quality, 1 = lowest)")
        ax.set_title("Accuracy vs compression, with 95% intervals (paper Fig. 4/7)")
    else:
        _log_x(ax)
        ax.set_xlabel(f"measured {obs.unit} (payload, log scale)")
        ax.set_title("Accuracy vs measured bits" + (", one curve per codec" if several else "")
                     + ", with 95% intervals")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


def epochs_vs_q(a: Analysis):
    fig, ax = _new_figure()
    obs = a.obs
    use_q = _use_q(a)
    colors = _colors(list(obs.models))
    styles = _styles(a)
    for model in obs.models:
        col = colors[model]
        rows = [e for e in a.epochs if e.model == model and e.median is not None]
        x_of = (lambda e: obs.level(e.level).Q) if use_q else (lambda e: obs.level(e.level).bits)
        for codec in obs.codecs() or ("",):
            comp = sorted((e for e in rows if e.level != REFERENCE and obs.level(e.level).codec == codec
                           and x_of(e) is not None), key=x_of)
            if not comp:
                continue
            xs = [x_of(e) for e in comp]
            label = _label(a, model) + (f", {codec}" if len(obs.codecs()) > 1 else "")
            ax.plot(xs, [e.median for e in comp], color=col, ls=styles.get(codec, "-"), lw=1.1, label=label)
            for x, e in zip(xs, comp, strict=True):
                ax.plot([x], [e.median], marker="^" if e.median_is_bound else "o", ms=6, color=col, ls="none",
                        mfc="white" if e.median_is_bound else col)
                if e.still_improving:
                    ax.plot([x], [e.median], marker="x", ms=9, color="0.2", ls="none")
        ref = next((e for e in rows if e.level == REFERENCE), None)
        x0 = 0.0 if use_q else (obs.level(REFERENCE).bits if ref else None)
        if ref is not None and x0 is not None:
            ax.plot([x0], [ref.median], marker="*", ms=12, mfc="white", mec=col, ls="none")
    known = [e for e in a.epochs if e.median is not None]
    if known and all(e.median_is_bound for e in known):
        # every median is only a lower bound (e.g. 6-epoch runs never complete the 10-epoch window): say so on the
        # figure, so the triangles at the bound are not read as epochs to converge
        cap = max((e.epochs_run_median or 0) for e in known)
        ax.text(0.5, 0.55, f"no cell has a converged median: runs of ≤ {cap:g} epochs cannot complete the paper's\n"
                "10-epoch window, so each value is only a lower bound (≥)", transform=ax.transAxes, ha="center",
                va="center", fontsize=8, color="0.25", bbox={"fc": "white", "ec": "0.6", "alpha": 0.9})
    ax.plot([], [], marker="^", ls="none", mec="0.3", mfc="white", label="median is a bound (censored runs)")
    ax.plot([], [], marker="x", ls="none", color="0.2", label="runs still improving at the epoch cap")
    if not use_q:
        _log_x(ax)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Q (quantization: 0 = best quality, 1 = lowest)" if use_q else f"measured {obs.unit}")
    ax.set_ylabel("epochs to converge (median; paper's 10-epoch rule)")
    ax.set_title("Training epochs vs compression (paper Fig. 5/8)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def accuracy_vs_params(a: Analysis):
    fig, ax = _new_figure()
    obs = a.obs
    level = a.compare_level or (REFERENCE if obs.has_level(REFERENCE) else obs.levels[0].key)
    colors = _colors(list(obs.models))
    cells = [c for c in a.cells if c.level == level and obs.params.get(c.model)]
    for c in cells:
        p = obs.params[c.model]
        err = [[100 * (c.acc - c.ci[0])], [100 * (c.ci[1] - c.acc)]] if c.ci else None
        ax.errorbar([p], [100 * c.acc], yerr=err, fmt="o", color=colors[c.model], capsize=3, ms=6,
                    label=_label(a, c.model))
        note = c.model + ("" if c.ci else f" (n={c.n})")
        ax.annotate(note, (p, 100 * c.acc), textcoords="offset points", xytext=(6, 4), fontsize=8)
    if len(cells) >= 2:
        ax.plot([obs.params[c.model] for c in cells], [100 * c.acc for c in cells], color="0.6", lw=0.8, zorder=0)
    _log_x(ax)
    _acc_ylim(ax, cells)
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"Accuracy vs parameters at {obs.level(level).display} (paper Fig. 6/9)")
    if cells:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return fig


_SHORT = {"holds": "holds", "drops": "drops", "inconclusive": "?", "matched": "="}
#: drawn when the analysis has a train × test-level matrix
MATRIX_FIGURE = "train_test_matrix"


def train_test_matrix(a: Analysis):
    """Heat maps of the matrix, one per architecture (the headline's first), at most four."""
    m, obs = a.matrix, a.obs
    models = [x for x in ([a.headline_model] if a.headline_model else []) + list(obs.models)
              if any(c.model == x for c in m.cells)]
    models = list(dict.fromkeys(models))[:4]
    keys = [k for k in m.levels if any(c.train == k or c.test == k for c in m.cells)]
    side = max(3.2, 0.55 * len(keys) + 1.6)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(min(6.6 * 2, side * len(models) + 1.0), side + 0.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    diffs = [abs(c.diff) * 100 for c in m.cells if c.diff is not None]
    vmax = max(a.tolerance.pp * 2, max(diffs, default=1.0))
    names = [obs.level(k).display.replace("the original", "original") for k in keys]
    image = None
    for ax, model in zip(axes, models, strict=False):
        grid = np.full((len(keys), len(keys)), np.nan)
        for c in m.cells:
            if c.model != model or c.train not in keys or c.test not in keys:
                continue
            i, j = keys.index(c.train), keys.index(c.test)
            grid[i, j] = 100 * c.diff if c.diff is not None else np.nan
            text = _SHORT[c.verdict] if c.verdict == "matched" else (
                f"{100 * c.diff:+.1f}\n{_SHORT[c.verdict]}" if c.diff is not None else _SHORT[c.verdict])
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if c.diff is not None and abs(100 * c.diff) > 0.6 * vmax else "black")
        image = ax.imshow(grid, cmap="RdBu", vmin=-vmax, vmax=vmax)
        ax.set_xticks(range(len(keys)), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(keys)), names, fontsize=7)
        ax.set_xlabel("tested at")
        ax.set_ylabel("trained at")
        ax.set_title(_label(a, model), fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="pp vs the model trained at the test level")
    fig.suptitle(f"Train × test level: accuracy difference to the matched cell (δ = {a.tolerance.text})",
                 fontsize=10)
    return fig


_BUILDERS = {
    "difference_vs_bits": (difference_vs_bits, "Accuracy difference to the original vs measured bits: verdicts, "
                                               "N_approx and the collapse point"),
    "accuracy_vs_q": (accuracy_vs_q, "Accuracy vs compression, with the paper's fitted curve"),
    "epochs_vs_q": (epochs_vs_q, "Epochs to converge vs compression"),
    "accuracy_vs_params": (accuracy_vs_params, "Accuracy vs parameters at the pre-set comparison level"),
    MATRIX_FIGURE: (train_test_matrix, "Train level × test level: what deploying on other data costs, with verdicts"),
}


def write_figures(a: Analysis, out_dir: Path) -> list[FigureFiles]:
    """Draw every figure and write `<name>.png` and `<name>.svg` under `out_dir`."""
    import matplotlib

    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    # a fixed hash salt and no date make the SVGs byte-identical for the same data (diffable reports)
    with matplotlib.rc_context({"svg.hashsalt": "helmholtz", "svg.fonttype": "path"}):
        for name in FIGURES + ((MATRIX_FIGURE,) if a.matrix is not None and a.matrix.cells else ()):
            build, title = _BUILDERS[name]
            fig = build(a)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=_DPI)
            png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
            png.write_bytes(buf.getvalue())
            fig.savefig(svg, format="svg", metadata={"Date": None})
            files.append(FigureFiles(name=name, title=title, png=png, svg=svg, png_bytes=buf.getvalue()))
    return files
