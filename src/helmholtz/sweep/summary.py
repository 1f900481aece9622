"""The compact end-of-sweep table: per (level, arch) cell, mean test accuracy ± std over seeds and n. Pure Python.

The full statistics (t-intervals, the knee, fits) belong to `helmholtz.analysis`; this is the glance a sweep
prints when it ends and `helmholtz results` prints for a directory.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from helmholtz.codecs.registry import CODECS


def _level_sort(codec: str | None, level: int | None) -> tuple[int, str, int]:
    # codec by codec, levels ascending, the original last
    return (1, "", 0) if level is None else (0, str(codec or ""), int(level))


def level_heading(codecs: Sequence[str]) -> str:
    """The heading of a table's level column: the codec's unit for a one-codec sweep ('q', 'kbps', 'dB'), else
    'level' (the labels then name their codec: '20', 'webp:40')."""
    names = [c for c in codecs if c in CODECS]
    return CODECS[names[0]].unit if len(names) == 1 else "level"


def cell_table(runs: list[dict[str, Any]], *, codecs: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rows of finished runs (store.runs()) → one dict per (level, arch): level, codec, level_label, arch, n,
    mean_test_acc, std_test_acc (sample std, None when n < 2), mean_epochs_run, mean_wall_s. Codec by codec in the
    order of ``codecs`` (the sweep's; others by name), levels ascending, the original last."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        if r.get("status", "done") == "done" and r.get("test_acc") is not None:
            cells[(r["level_label"], r["arch"])].append(r)
    out = []
    for (label, arch), rows in cells.items():
        accs = [float(r["test_acc"]) for r in rows]
        n = len(accs)
        mean = sum(accs) / n
        std = math.sqrt(sum((a - mean) ** 2 for a in accs) / (n - 1)) if n > 1 else None
        out.append({
            "level": rows[0]["level"], "codec": rows[0].get("codec"), "level_label": label, "arch": arch, "n": n,
            "mean_test_acc": mean, "std_test_acc": std,
            "mean_epochs_run": sum(float(r["epochs_run"] or 0) for r in rows) / n,
            "mean_wall_s": sum(float(r["wall_s"] or 0) for r in rows) / n,
        })
    rank = {c: i for i, c in enumerate(codecs)}
    out.sort(key=lambda c: (c["level"] is None, rank.get(c["codec"], len(rank)), _level_sort(c["codec"], c["level"]),
                            c["arch"]))
    return out


def format_cell(cell: dict[str, Any] | None) -> str:
    """'0.8123 ± 0.0040 (n=3)', or with n < 2 '0.8123 (n=1)'; '–' for an empty cell."""
    if cell is None:
        return "–"
    if cell["std_test_acc"] is None:
        return f"{cell['mean_test_acc']:.4f} (n={cell['n']})"
    return f"{cell['mean_test_acc']:.4f} ± {cell['std_test_acc']:.4f} (n={cell['n']})"


def grid(cells: list[dict[str, Any]]) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, Any]]]:
    """(level labels in grid order, archs, {(level_label, arch): cell}) for drawing level × arch tables."""
    levels: list[str] = []
    for c in cells:
        if c["level_label"] not in levels:
            levels.append(c["level_label"])
    archs = sorted({c["arch"] for c in cells})
    return levels, archs, {(c["level_label"], c["arch"]): c for c in cells}


def plain_table(cells: list[dict[str, Any]], *, codecs: Sequence[str] = ()) -> str:
    """The level × arch table as plain text (for --quiet logs)."""
    levels, archs, by = grid(cells)
    if not levels:
        return "no finished runs yet"
    name = level_heading(codecs)
    rows = [[name, *archs]] + [[lv, *(format_cell(by.get((lv, a))) for a in archs)] for lv in levels]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)
