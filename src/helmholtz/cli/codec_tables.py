"""The tables `helmholtz codecs`, `helmholtz compress` and `helmholtz bits` print (rich), from plain dicts.

Only presentation: the numbers come from `helmholtz.api` (``codecs.ops``).
"""

from __future__ import annotations

from typing import Any


def render_codecs(rows: list[dict[str, Any]]) -> None:
    """`helmholtz codecs`: one row per codec, then what 'payload' means for each."""
    from rich.table import Table

    from helmholtz.cli.common import console

    table = Table(title="Codecs (levels are integers; `--levels` takes any valid level)")
    for col in ("codec", "modality", "level", "valid", "default grid", "encoder", "here"):
        table.add_column(col, overflow="fold")
    for r in rows:
        valid = r["valid_levels"] if isinstance(r["valid_levels"], str) else ",".join(map(str, r["valid_levels"]))
        valid = valid.replace("every integer in ", "")
        kind = f"{r['level_kind']} ({r['unit']}; {'higher' if r['higher_is_better'] else 'lower'} keeps more)"
        here = "yes" if r["available"] else f"no: {r['unavailable_reason']}"
        table.add_row(f"{r['name']}\n{r['title']}", r["modality"], kind, valid,
                      ",".join(map(str, r["default_levels"])), r["encoder"] or "—", here)
    console.print(table)
    for r in rows:
        console.print(f"[bold]{r['name']}[/] payload: {r['payload']}; coding: {r['coding']}", highlight=False)


def render_compress(summary: dict[str, Any]) -> None:
    from rich.table import Table

    from helmholtz.cli.common import console

    st = summary["stats"]
    per = "pixel" if st["unit"] == "pixel" else "s"
    what = "uncompressed" if st["codec"] == "none" else f"{summary['level_display']} ({st['encoder']})"
    table = Table(title=f"{summary['dataset']} → {what}")
    for col in ("split", "items", "mean bytes", "mean payload bytes"):
        table.add_column(col, justify="right")
    for split, row in summary["splits"].items():
        table.add_row(split, str(row["items"]), f"{row.get('bytes_total_mean', st['bytes_total_mean']):.1f}",
                      f"{row.get('bytes_payload_mean', st['bytes_payload_mean']):.1f}")
    console.print(table)
    fid = "—" if st["fidelity_db"] is None else f"{st['fidelity_db']:.2f} dB"
    console.print(f"bits per {per} (train): total {st['bits_total']:.3f}, payload {st['bits_payload']:.3f} "
                  f"(raw {st['raw_bits']:g}); compression ratio {st['compression_ratio']:.2f}; "
                  f"mean {'PSNR' if per == 'pixel' else 'SNR'} {fid}")
    if summary.get("payload"):
        console.print(f"payload: {summary['payload']}", style="dim")
    console.print(f"written: {summary['out']} ({summary['format']})")


def render_bits(doc: dict[str, Any]) -> None:
    """`helmholtz bits`: JPEG with the paper's arithmetic columns; any codec with measured bits and fidelity."""
    from rich.table import Table

    from helmholtz.cli.common import console

    rows, jpeg = doc["rows"], doc["codec"] == "jpeg"
    measured = bool(rows) and rows[0]["measured"] is not None
    audio = measured and rows[0]["measured"]["unit"] == "second"
    per = "s" if audio else "px"
    if jpeg:
        table = Table(title="Bits per pixel at JPEG quality q (paper Sec. 4.1)")
        cols = ["q", "s(q)\n%", "paper\nlost", "paper\nleft", "tables\nlost", "tables\nleft"]
    else:
        table = Table(title=f"Measured bits per {'second' if audio else 'pixel'}: {doc['title']} ({doc['encoder']})")
        cols = ["level"]
    if measured:
        cols += [f"bits/{per}\nfile", f"bits/{per}\npayload", "ratio", "SNR\ndB" if audio else "PSNR\ndB"]
    for col in cols:
        table.add_column(col, justify="right")
    for r in rows:
        if jpeg:
            cells = [str(r["quality"]), f"{r['scale_factor']:.4g}", f"{r['paper_bits_lost']:.2f}",
                     f"{r['paper_bits_left']:.2f}", f"{r['table_bits_lost']:.2f}", f"{r['table_bits_left']:.2f}"]
        else:
            cells = [r["display"]]
        if measured:
            m = r["measured"]
            fid = "—" if m["fidelity_db"] is None else f"{m['fidelity_db']:.2f}"
            fmt = ".1f" if audio else ".3f"
            cells += [f"{m['bits_total']:{fmt}}", f"{m['bits_payload']:{fmt}}", f"{m['compression_ratio']:.2f}", fid]
        table.add_row(*cells)
    console.print(table)
    console.print(doc["note"], style="dim")
