"""The paper's figures drawn on the user's data, as PNG and SVG (matplotlib, Agg canvas, no pyplot state).

- accuracy vs Q (Fig. 4/7): one line per architecture with its 95 % CI band, the fitted shadow curve
  (accuracy = a + c·log(100 − Q%)), the original as a star at Q = 0 and a dashed reference line, the knee N_approx
  as a vertical line with its bootstrap CI as a shaded span;
- accuracy vs measured bits (scan-only bits per pixel, or kbps for audio; log x axis);
- epochs vs Q (Fig. 5/8);
- accuracy vs parameters at one level (Fig. 6/9).
Cells with a single seed are labelled 'n<2'.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helmholtz.analysis.analyze import Analysis
from helmholtz.analysis.stats import CellStats, Interval

#: figure file stems, in the order the report shows them
FIGURES = ("accuracy_vs_q", "accuracy_vs_bits", "epochs_vs_q", "accuracy_vs_params")
_DPI = 110


@dataclass(frozen=True)
class FigureFiles:
    """One figure written to disk, with its PNG bytes for embedding."""

    name: str
    title: str
    png: Path
    svg: Path
    png_bytes: bytes


def _new_figure(figsize=(6.4, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _colors(archs: Sequence[str]) -> dict[str, str]:
    palette = ("tab:blue", "tab:green", "tab:orange", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray")
    return {a: palette[i % len(palette)] for i, a in enumerate(archs)}


def _err(ivs: Sequence[Interval], scale: float = 1.0) -> np.ndarray:
    """2×n error-bar lengths; zero where the interval is missing (n<2)."""
    lo = [0.0 if iv.lo is None else (iv.mean - iv.lo) * scale for iv in ivs]
    hi = [0.0 if iv.hi is None else (iv.hi - iv.mean) * scale for iv in ivs]
    return np.array([lo, hi])


def _log_x(ax) -> None:
    """Log x axis with plain-number labels on the major ticks only (minor labels collide on short ranges)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _acc_ylim(ax, cells: Sequence[CellStats]) -> None:
    """Y range from the means (CI bands of n = 2 cells can reach far past 0–100 %; the tables hold their numbers)."""
    means = [100 * c.acc.mean for c in cells]
    if means:
        pad = max(3.0, 0.15 * (max(means) - min(means)))
        ax.set_ylim(max(0.0, min(means) - pad), min(100.0, max(means) + pad))


def _faint(container) -> None:
    """Thin, half-transparent CI bars: with 2–3 seeds they are long, and must not drown the means they belong to."""
    _, caps, bars = container.lines
    for artist in (*caps, *bars):
        artist.set_alpha(0.4)
        artist.set_linewidth(0.8)


def _label_n1(ax, xs, ys, cells: Sequence[CellStats]) -> None:
    for x, y, c in zip(xs, ys, cells, strict=True):
        if c.flagged:
            ax.annotate("n<2", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color="0.35")


def _arch_label(a: Analysis, arch: str) -> str:
    n = a.archs.get(arch)
    return f"{arch} ({n / 1e6:.2f}M params)" if n else arch


def accuracy_vs_q(a: Analysis):
    fig, ax = _new_figure()
    colors = _colors(list(a.archs))
    band_in_legend = False  # one legend entry explains every arch's band
    for arch in a.archs:
        cells = [c for c in a.cells if c.arch == arch]
        comp = [c for c in cells if c.Q is not None]
        col = colors[arch]
        if comp:
            q = np.array([c.Q for c in comp])
            m = np.array([100 * c.acc.mean for c in comp])
            ax.plot(q, m, "o-", color=col, label=_arch_label(a, arch), ms=4, lw=1.2)
            band = [(c.Q, c.acc) for c in comp if not c.acc.flagged]
            if len(band) >= 2:
                # with 2–3 seeds the t-interval is wide; a light fill with drawn edges keeps overlapping bands legible
                xs, band_lo, band_hi = ([b[0] for b in band], [100 * b[1].lo for b in band],
                                        [100 * b[1].hi for b in band])
                ax.fill_between(xs, band_lo, band_hi, color=col, alpha=0.08, lw=0,
                                label=None if band_in_legend else "95% CI over seeds (each arch)")
                band_in_legend = True
                for edge in (band_lo, band_hi):
                    ax.plot(xs, edge, color=col, lw=0.6, alpha=0.45, ls="-")
            _label_n1(ax, q, m, comp)
            fit = a.fits.get(arch)
            if fit is not None:
                qq = np.linspace(0.0, max(0.99, float(q.max())), 200)
                ax.plot(qq, 100 * fit.predict(qq), color=col, lw=6, alpha=0.15, solid_capstyle="round",
                        label=f"{arch} fit: a + c·log(100 − Q%), R² {fit.r2:.2f}" if fit.r2 is not None else None)
        ref = next((c for c in cells if c.Q is None), None)
        if ref is not None:
            ax.axhline(100 * ref.acc.mean, color=col, ls="--", lw=0.9, alpha=0.8)
            ax.plot([0.0], [100 * ref.acc.mean], marker="*", ms=12, mfc="white", mec=col, ls="none",
                    label=f"{arch} on the original (none)")
    k = a.knee
    if k is not None:
        # the original sits at Q = 0 on this axis, so a knee (or CI end) at the original is drawn there
        lo, hi = (0.0 if v is None else v for v in k.ci_Q)
        if hi > lo:
            # a bar along the bottom, not a full-height span: it must not hide the curves it is about
            ax.axvspan(lo, hi, ymin=0.0, ymax=0.04, color="0.3", alpha=0.55, lw=0, label="knee 95% bootstrap CI")
        what = "N_approx" if k.found else "no knee in grid (bound)"
        ax.axvline(0.0 if k.knee_Q is None else k.knee_Q, color="0.2", ls=":", lw=1.3,
                   label=f"{what}: {a.grid.name(k.knee_label)}")
    _acc_ylim(ax, a.cells)
    ax.set_xlabel("Q (quantization: 0 = best quality, 1 = lowest)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Accuracy vs compression (paper Fig. 4/7)")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


def accuracy_vs_bits(a: Analysis):
    fig, ax = _new_figure()
    colors = _colors(list(a.archs))
    bits = {b.label: b for b in a.level_bits}
    for arch in a.archs:
        cells = [c for c in a.cells if c.arch == arch and bits.get(c.label) and bits[c.label].payload]
        comp = sorted((c for c in cells if c.Q is not None), key=lambda c: bits[c.label].payload)
        col = colors[arch]
        if comp:
            x = np.array([bits[c.label].payload for c in comp])
            m = np.array([100 * c.acc.mean for c in comp])
            _faint(ax.errorbar(x, m, yerr=_err([c.acc for c in comp], 100), fmt="o-", color=col, ms=4, lw=1.2,
                               capsize=2, label=_arch_label(a, arch)))
            _label_n1(ax, x, m, comp)
        ref = next((c for c in cells if c.Q is None), None)
        if ref is not None:
            ax.plot([bits[ref.label].payload], [100 * ref.acc.mean], marker="*", ms=12, mfc="white", mec=col,
                    ls="none", label=f"{arch} on the original (raw bits)")
    kb = a.knee_bits
    if kb is not None and kb.payload and a.knee is not None and a.knee.found:
        ax.axvline(kb.payload, color="0.2", ls=":", lw=1.3,
                   label=f"N_approx {a.grid.name(kb.label)}: {kb.payload:.3g} {kb.unit}")
    _log_x(ax)
    _acc_ylim(ax, a.cells)
    unit = "kbps (MP3 frame data)" if a.grid.bits_unit == "kbps" else "bits per pixel (JPEG scan only, measured)"
    ax.set_xlabel(unit)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Accuracy vs measured bits")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, which="both")
    return fig


def epochs_vs_q(a: Analysis):
    fig, ax = _new_figure()
    colors = _colors(list(a.archs))
    metric = a.epoch_metric
    for arch in a.archs:
        cells = [c for c in a.cells if c.arch == arch and c.epochs(metric) is not None]
        comp = [c for c in cells if c.Q is not None]
        col = colors[arch]
        if comp:
            q = np.array([c.Q for c in comp])
            e = np.array([c.epochs(metric).mean for c in comp])
            _faint(ax.errorbar(q, e, yerr=_err([c.epochs(metric) for c in comp]), fmt="o-", color=col, ms=4,
                               capsize=2, label=_arch_label(a, arch)))
            _label_n1(ax, q, e, comp)
        ref = next((c for c in cells if c.Q is None), None)
        if ref is not None:
            ax.plot([0.0], [ref.epochs(metric).mean], marker="*", ms=12, mfc="white", mec=col, ls="none",
                    label=f"{arch} on the original")
    means = [c.epochs(metric).mean for c in a.cells if c.epochs(metric) is not None]
    if means:
        # epochs are ≥ 0; t-intervals of two seeds can reach far below (the tables hold their numbers)
        ax.set_ylim(0, 1.5 * max(means) + 1)
    ax.set_xlabel("Q (quantization: 0 = best quality, 1 = lowest)")
    ax.set_ylabel("epochs to converge (paper heuristic)" if metric == "epochs_to_converge"
                  else "epoch of best validation accuracy")
    ax.set_title("Training epochs vs compression (paper Fig. 5/8)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def accuracy_vs_params(a: Analysis):
    fig, ax = _new_figure()
    colors = _colors(list(a.archs))
    label = a.params_label
    cells = [c for c in a.cells if c.label == label and c.n_params]
    for c in cells:
        _faint(ax.errorbar([c.n_params], [100 * c.acc.mean], yerr=_err([c.acc], 100), fmt="o", color=colors[c.arch],
                           capsize=3, ms=6, label=_arch_label(a, c.arch)))
        note = f"{c.arch}" + (" (n<2)" if c.flagged else "")
        ax.annotate(note, (c.n_params, 100 * c.acc.mean), textcoords="offset points", xytext=(6, 4), fontsize=8)
    if len(cells) >= 2:
        ax.plot([c.n_params for c in cells], [100 * c.acc.mean for c in cells], color="0.6", lw=0.8, zorder=0)
    _log_x(ax)
    _acc_ylim(ax, cells)
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test accuracy (%)")
    where = a.grid.name(label) if label else "—"
    ax.set_title(f"Accuracy vs parameters at {where} (paper Fig. 6/9)")
    if cells:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return fig


_BUILDERS = {
    "accuracy_vs_q": (accuracy_vs_q, "Accuracy vs Q, with the fitted theoretical curve and the knee"),
    "accuracy_vs_bits": (accuracy_vs_bits, "Accuracy vs measured bits"),
    "epochs_vs_q": (epochs_vs_q, "Epochs vs Q"),
    "accuracy_vs_params": (accuracy_vs_params, "Accuracy vs parameters"),
}


def write_figures(a: Analysis, out_dir: Path) -> list[FigureFiles]:
    """Draw every figure and write `<name>.png` and `<name>.svg` under `out_dir`."""
    import matplotlib

    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    # a fixed hash salt and no date make the SVGs byte-identical for the same data (diffable reports)
    with matplotlib.rc_context({"svg.hashsalt": "helmholtz", "svg.fonttype": "path"}):
        for name in FIGURES:
            build, title = _BUILDERS[name]
            fig = build(a)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=_DPI)
            png, svg = out_dir / f"{name}.png", out_dir / f"{name}.svg"
            png.write_bytes(buf.getvalue())
            fig.savefig(svg, format="svg", metadata={"Date": None})
            files.append(FigureFiles(name=name, title=title, png=png, svg=svg, png_bytes=buf.getvalue()))
    return files
