"""The one table every benchmark prints: `run_all.py` for all of them, each module's ``__main__`` for itself.

Rows are dicts with the keys of `HEADER` (`run_all.py` documents them); missing keys print empty.
"""

from __future__ import annotations

HEADER = ("benchmark", "ours", "baseline", "unit", "ratio", "hardware", "notes")


def fmt(x) -> str:
    """Floats to three significant digits (thousands separated, no exponent above 1000); anything else as str."""
    if isinstance(x, float):
        return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table under `HEADER`."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(fmt(r.get(k, "")) for k in HEADER) + " |" for r in rows]
    return "\n".join(lines)
