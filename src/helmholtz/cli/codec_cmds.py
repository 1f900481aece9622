"""`helmholtz compress` (write a compressed copy of a dataset) and `helmholtz bits` (the paper's Sec. 4.1 arithmetic
beside the bits a real JPEG round trip measures).

Heavy modules (numpy, the codecs, the data readers) are imported inside the commands so `helmholtz --help` is fast.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from helmholtz.cli.options import DatasetArg, Duration, Json, SampleRate, TestSize, TrainSize
from helmholtz.errors import ConfigError

if TYPE_CHECKING:
    from helmholtz.codecs.base import CodecResult
    from helmholtz.codecs.cache import LevelStats
    from helmholtz.data.dataset import Dataset

DEFAULT_QUALITIES = "5,10,20,25,50,75,95"
SPLITS = ("train", "val", "test")
FORMATS = ("npz", "folder")

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

def _check_out(out: Path, *, fmt: str, force: bool) -> None:
    """Refuse to clobber: an existing non-empty --out needs --force; a file/folder mismatch is always an error."""
    if fmt == "npz" and out.is_dir():
        raise ConfigError("--out is a folder but --format npz writes one file", where=str(out),
                          fix="give a file path such as out.npz, or use --format folder")
    if fmt == "folder" and out.exists() and not out.is_dir():
        raise ConfigError("--out is a file but --format folder writes a folder", where=str(out),
                          fix="give a folder path, or use --format npz")
    non_empty = (out.is_dir() and any(out.iterdir())) or (out.is_file() and out.stat().st_size > 0)
    if non_empty and not force:
        raise ConfigError("--out exists and is not empty", where=str(out), fix="pick a new path or add --force")


def _class_folder_names(class_names: tuple[str, ...]) -> list[str]:
    """Class names made safe as folder names ('T-shirt/top' → 'T-shirt_top'), unique and not hidden."""
    out: list[str] = []
    for i, name in enumerate(class_names):
        safe = re.sub(r"[/\\\x00]", "_", name).lstrip("._ ") or f"class{i}"
        while safe in out:
            safe = f"{safe}_{i}"
        out.append(safe)
    return out


def _write_npz(path: Path, ds: Dataset, results: dict[str, CodecResult] | None, meta: dict[str, Any]) -> None:
    """x_*, y_*, class_names, total_bytes_*, payload_bytes_* and the stats as JSON; atomically (temp + rename)."""
    import os
    import tempfile

    import numpy as np

    arrays: dict[str, Any] = {"class_names": np.array(ds.class_names, dtype=str), "stats": np.array(json.dumps(meta))}
    for split in SPLITS:
        x = getattr(ds, f"x_{split}")
        arrays[f"x_{split}"] = results[split].data if results else x
        arrays[f"y_{split}"] = getattr(ds, f"y_{split}")
        if results:
            arrays[f"total_bytes_{split}"] = results[split].total_bytes
            arrays[f"payload_bytes_{split}"] = results[split].payload_bytes
        else:  # codec 'none': the raw bytes per item
            per_item = x[0].size * x.itemsize if ds.modality == "image" else x.shape[1] * 2
            arrays[f"total_bytes_{split}"] = arrays[f"payload_bytes_{split}"] = np.full(len(x), per_item, np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # a file object, so numpy does not append '.npz' to the user's path
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_folder(out: Path, ds: Dataset, results: dict[str, CodecResult], *, force: bool) -> int:
    """The encoded files as out/{train,val,test}/<class>/<i>.jpg (i zero-padded so names sort in split order)."""
    import shutil

    folders = _class_folder_names(ds.class_names)
    written = 0
    for split in SPLITS:
        root = out / split
        if force and root.exists():
            shutil.rmtree(root)
        labels = getattr(ds, f"y_{split}")
        width = len(str(max(len(labels) - 1, 0)))
        for folder in folders:
            (root / folder).mkdir(parents=True, exist_ok=True)
        for i, (label, blob) in enumerate(zip(labels, results[split].encoded, strict=True)):
            (root / folders[int(label)] / f"{i:0{width}d}.jpg").write_bytes(blob)
            written += 1
    return written


def _summary(ds: Dataset, results: dict[str, CodecResult] | None, stats: LevelStats, out: Path, fmt: str) -> dict:
    import numpy as np

    splits = {}
    for split in SPLITS:
        x = getattr(ds, f"x_{split}")
        row: dict[str, Any] = {"items": len(x)}
        if results:
            row.update(bytes_total_mean=float(np.mean(results[split].total_bytes)) if len(x) else 0.0,
                       bytes_payload_mean=float(np.mean(results[split].payload_bytes)) if len(x) else 0.0,
                       bytes_total_sum=int(np.sum(results[split].total_bytes)))
        splits[split] = row
    return {"dataset": ds.name, "source": ds.source, "content_hash": ds.content_hash, "out": str(out),
            "format": fmt, "stats": stats.to_dict(), "splits": splits}


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

def bits_rows(qualities: list[int], ds: Dataset | None = None, *, subsampling: str = "4:2:0") -> list[dict]:
    """One row per quality q: s(q), the paper's estimate, the real-table estimate, and (with ``ds``) the measured
    ``LevelStats`` of a round trip of the training split."""
    from helmholtz.codecs import quant

    rows = []
    for q in qualities:
        q = quant.check_quality(q, where="--quality")
        row: dict[str, Any] = {
            "quality": q, "scale_factor": quant.scale_factor(q),
            "paper_bits_lost": quant.paper_bits_lost(q), "paper_bits_left": quant.paper_bits_left(q),
            "table_bits_lost": quant.table_bits_lost(q), "table_bits_left": quant.table_bits_left(q),
            "measured": None,
        }
        if ds is not None:
            from helmholtz.codecs.cache import level_stats
            from helmholtz.codecs.jpeg import jpeg_encoder, jpeg_roundtrip

            res = jpeg_roundtrip(ds.x_train, quality=q, subsampling=subsampling)
            row["measured"] = level_stats(ds.x_train, res, codec="jpeg", level=q, encoder=jpeg_encoder(),
                                          modality="image").to_dict()
        rows.append(row)
    return rows


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
        from helmholtz.cli.common import err_console, print_json
        from helmholtz.codecs.cache import check_level, compress_dataset, compress_splits, level_stats
        from helmholtz.codecs.jpeg import SUBSAMPLINGS

        # validate every option before reading any data
        level = check_level(codec, level)
        if fmt not in FORMATS:
            raise ConfigError(f"--format got {fmt!r}; expected npz or folder", fix="use --format npz")
        if fmt == "folder" and codec != "jpeg":
            raise ConfigError(f"--format folder writes .jpg files; codec {codec!r} has none", where="--format",
                              fix="use --format npz")
        if subsampling not in SUBSAMPLINGS:
            raise ConfigError(f"--subsampling got {subsampling!r}; expected one of {', '.join(SUBSAMPLINGS)}",
                              fix="use --subsampling 4:2:0")
        _check_out(out, fmt=fmt, force=force)

        from helmholtz.data import load_dataset

        ds = load_dataset(dataset, train_size=train_size, test_size=test_size, sample_rate=sample_rate,
                          duration_s=duration)
        if not json_out:
            err_console.print(f"[dim]{ds.name}: {ds.split_sizes()} items of {ds.item_shape}; {codec} level {level} …[/]")
        results = None
        if fmt == "folder":
            from helmholtz.codecs.jpeg import jpeg_encoder, jpeg_roundtrip

            results = {s: jpeg_roundtrip(getattr(ds, f"x_{s}"), quality=level, subsampling=subsampling,
                                         keep_encoded=True) for s in SPLITS}
            stats = level_stats(ds.x_train, results["train"], codec="jpeg", level=level, encoder=jpeg_encoder(),
                                modality=ds.modality)
            _write_folder(out, ds, results, force=force)
        else:
            if codec == "none":
                _, stats = compress_dataset(ds, codec="none", level=None)
            else:
                results, stats = compress_splits(ds, codec=codec, level=level, subsampling=subsampling)
            meta = {**stats.to_dict(), "dataset": ds.name, "content_hash": ds.content_hash,
                    "subsampling": subsampling if codec == "jpeg" else None}
            _write_npz(out, ds, results, meta)
        summary = _summary(ds, results, stats, out, fmt)
        if json_out:
            print_json(summary)
        else:
            _render_compress(summary)

    @app.command("bits")
    def bits_cmd(
        quality: QualityOpt = DEFAULT_QUALITIES,
        dataset: BitsDatasetOpt = None,
        train_size: TrainSize = None,
        subsampling: SubsamplingOpt = "4:2:0",
        json_out: Json = False,
    ) -> None:
        """Bits per pixel at each JPEG quality q: the paper's estimate, the real tables, and measured on a dataset."""
        from helmholtz.cli.common import parse_int_list, print_json
        from helmholtz.codecs import quant
        from helmholtz.codecs.jpeg import SUBSAMPLINGS, jpeg_encoder

        qualities = [quant.check_quality(q, where="--quality") for q in parse_int_list(quality, option="--quality")]
        if subsampling not in SUBSAMPLINGS:
            raise ConfigError(f"--subsampling got {subsampling!r}; expected one of {', '.join(SUBSAMPLINGS)}",
                              fix="use --subsampling 4:2:0")
        if dataset is None and train_size is not None:
            raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
        ds = None
        if dataset is not None:
            from helmholtz.data import load_dataset

            ds = load_dataset(dataset, train_size=train_size)
            if ds.modality != "image":
                raise ConfigError(f"`bits` measures JPEG on images; {ds.name!r} is {ds.modality}", where="--dataset",
                                  fix="give an image dataset, or leave --dataset out")
        rows = bits_rows(qualities, ds, subsampling=subsampling)
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
