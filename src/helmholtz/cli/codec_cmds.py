"""`helmholtz compress` (write a compressed copy of a dataset) and `helmholtz bits` (the paper's Sec. 4.1 arithmetic
beside the bits a real JPEG round trip measures).

Heavy modules (numpy, the codecs, the data readers) are imported inside the commands so `helmholtz --help` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from helmholtz.cli.options import DatasetArg, Duration, Json, SampleRate, TestSize, TrainSize
from helmholtz.errors import ConfigError

DEFAULT_QUALITIES = "5,10,20,25,50,75,95"

CodecOpt = Annotated[str, typer.Option("--codec", help="jpeg (images, level = quality q) | mp3 (audio, level = kbps) | none.")]
LevelOpt = Annotated[int | None, typer.Option("--level", help="JPEG quality q in 1..100, or MP3 bitrate in kbps.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Where to write: a .npz file, or a folder with --format folder.")]
FormatOpt = Annotated[str, typer.Option("--format", help="npz (decoded arrays + byte counts) | folder (the real .jpg files).")]
SubsamplingOpt = Annotated[str, typer.Option("--subsampling", help="JPEG chroma subsampling for RGB: 4:2:0 (paper) | 4:2:2 | 4:4:4.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing non-empty --out (a folder keeps files outside train/, val/, test/).")]
QualityOpt = Annotated[str, typer.Option("--quality", help="Comma-separated JPEG qualities q, e.g. 5,10,20.")]
BitsDatasetOpt = Annotated[str | None, typer.Option("--dataset", help="Also measure a real JPEG round trip of this image dataset's training split.")]

FOOTNOTE = (
    "The paper's arithmetic (Sec. 4.1) assumes a 24-bit RGB pixel reduced to 16 bits by 4:2:0 subsampling "
    "(Y 8 + U 4 + V 4) and sums the tables to 12487; 'tables' uses the standard Annex K tables scaled and clipped "
    "as libjpeg does (sum 14698 at q = 50). Measured bits are per pixel of the given data ({raw} raw), for the "
    "whole file and for the entropy-coded scan alone."
)


# ── compress ─────────────────────────────────────────────────────────────────────────────────────────────────────

def _render_compress(summary: dict) -> None:
    from rich.table import Table

    from helmholtz.cli.common import console

    st = summary["stats"]
    per = "pixel" if st["unit"] == "pixel" else "s"
    what = "uncompressed" if st["codec"] == "none" else f"{st['codec']} level {st['level']} ({st['encoder']})"
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
    console.print(f"written: {summary['out']} ({summary['format']})")


# ── bits ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def _render_bits(rows: list[dict], raw_bits: float | None) -> None:
    from rich.table import Table

    from helmholtz.cli.common import console

    measured = rows and rows[0]["measured"] is not None
    table = Table(title="Bits per pixel at JPEG quality q (paper Sec. 4.1)")
    cols = ["q", "s(q)\n%", "paper\nlost", "paper\nleft", "tables\nlost", "tables\nleft"]
    if measured:
        cols += ["bpp\nfile", "bpp\nscan", "ratio", "PSNR\ndB"]
    for col in cols:
        table.add_column(col, justify="right")
    for r in rows:
        cells = [str(r["quality"]), f"{r['scale_factor']:.4g}", f"{r['paper_bits_lost']:.2f}",
                 f"{r['paper_bits_left']:.2f}", f"{r['table_bits_lost']:.2f}", f"{r['table_bits_left']:.2f}"]
        if measured:
            m = r["measured"]
            cells += [f"{m['bits_total']:.3f}", f"{m['bits_payload']:.3f}", f"{m['compression_ratio']:.2f}",
                      f"{m['fidelity_db']:.2f}"]
        table.add_row(*cells)
    console.print(table)
    console.print(FOOTNOTE.format(raw=f"{raw_bits:g} bits" if raw_bits else "8·C bits"), style="dim")


# ── registration ─────────────────────────────────────────────────────────────────────────────────────────────────

def register(app: typer.Typer) -> None:
    """Add `compress` and `bits` to `app`."""

    @app.command("compress")
    def compress_cmd(
        dataset: DatasetArg,
        out: OutOpt,
        codec: CodecOpt = "jpeg",
        level: LevelOpt = None,
        fmt: FormatOpt = "npz",
        subsampling: SubsamplingOpt = "4:2:0",
        train_size: TrainSize = None,
        test_size: TestSize = None,
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        force: ForceOpt = False,
        json_out: Json = False,
    ) -> None:
        """Write a compressed copy of DATASET: every split through the codec at one level, with measured bytes."""
        from helmholtz import api
        from helmholtz.cli.common import print_json

        done = api.compress(dataset, codec=codec, level=level, out=out, format=fmt, subsampling=subsampling,
                            force=force, train_size=train_size, test_size=test_size, sample_rate=sample_rate,
                            duration_s=duration)
        if json_out:
            print_json(done.summary)
        else:
            _render_compress(done.summary)

    @app.command("bits")
    def bits_cmd(
        quality: QualityOpt = DEFAULT_QUALITIES,
        dataset: BitsDatasetOpt = None,
        train_size: TrainSize = None,
        subsampling: SubsamplingOpt = "4:2:0",
        json_out: Json = False,
    ) -> None:
        """Bits per pixel at each JPEG quality q: the paper's estimate, the real tables, and measured on a dataset."""
        from helmholtz import api
        from helmholtz.cli.common import parse_int_list, print_json
        from helmholtz.codecs.jpeg import jpeg_encoder

        ds = None
        if dataset is not None:   # loaded here (not in api.bits) so the JSON can describe it
            from helmholtz.codecs import quant

            for q in parse_int_list(quality, option="--quality"):
                quant.check_quality(q, where="--quality")
            ds = api.load_dataset(dataset, train_size=train_size)
        elif train_size is not None:
            raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
        rows = api.bits(parse_int_list(quality, option="--quality"), dataset=ds, subsampling=subsampling)
        raw_bits = rows[0]["measured"]["raw_bits"] if ds is not None else None
        if json_out:
            print_json({
                "encoder": jpeg_encoder(),
                "dataset": None if ds is None else {"name": ds.name, "source": ds.source,
                                                    "content_hash": ds.content_hash, "n_train": len(ds.y_train),
                                                    "item_shape": list(ds.item_shape)},
                "rows": rows,
                "note": FOOTNOTE.format(raw=f"{raw_bits:g} bits" if raw_bits else "8·C bits"),
            })
        else:
            _render_bits(rows, raw_bits)
