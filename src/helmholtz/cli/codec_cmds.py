"""`helmholtz codecs` (every codec of the registry), `helmholtz compress` (write a compressed copy of a dataset) and
`helmholtz bits` (the paper's Sec. 4.1 JPEG arithmetic beside the bits and fidelity a real round trip measures, for
any codec).

Every codec fact comes from ``codecs.registry``. Heavy modules (numpy, the codecs, the data readers) are imported
inside the commands so `helmholtz --help` is fast; the tables are drawn by ``cli.codec_tables``.
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

CodecOpt = Annotated[str, typer.Option("--codec", help="Any codec of `helmholtz codecs` (jpeg, webp, avif, jxl, jp2 for images; mp3, opus, vorbis, aac for audio) | none.")]
LevelOpt = Annotated[int | None, typer.Option("--level", help="The codec's level: JPEG quality q in 1..100, MP3 bitrate in kbps, … (see `helmholtz codecs`).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Where to write: a .npz file, or a folder with --format folder.")]
FormatOpt = Annotated[str, typer.Option("--format", help="npz (decoded arrays + byte counts) | folder (the real encoded image files).")]
SubsamplingOpt = Annotated[str | None, typer.Option("--subsampling", help="Chroma subsampling for RGB where the codec offers a choice (JPEG, AVIF): 4:2:0 (default, the paper's) | 4:2:2 | 4:4:4.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing non-empty --out (a folder keeps files outside train/, val/, test/).")]
QualityOpt = Annotated[str | None, typer.Option("--quality", help="Comma-separated JPEG qualities q, e.g. 5,10,20 (the same as --levels).")]
LevelsOpt = Annotated[str | None, typer.Option("--levels", help="Comma-separated levels of --codec \\[default: JPEG 5,10,20,25,50,75,95; other codecs their default grid].")]
BitsCodecOpt = Annotated[str, typer.Option("--codec", help="Codec to measure (see `helmholtz codecs`); JPEG also shows the paper's arithmetic.")]
BitsDatasetOpt = Annotated[str | None, typer.Option("--dataset", help="Measure a real round trip of this dataset's training split (required for codecs other than JPEG).")]



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


def _write_folder(out: Path, ds: Dataset, results: dict[str, CodecResult], *, extension: str, force: bool) -> int:
    """The encoded files as out/{train,val,test}/<class>/<i><extension> (i zero-padded so names sort in split order)."""
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
            (root / folders[int(label)] / f"{i:0{width}d}{extension}").write_bytes(blob)
            written += 1
    return written


def _summary(ds: Dataset, results: dict[str, CodecResult] | None, stats: LevelStats, out: Path, fmt: str) -> dict:
    import numpy as np

    from helmholtz.codecs.registry import get_codec

    splits = {}
    for split in SPLITS:
        x = getattr(ds, f"x_{split}")
        row: dict[str, Any] = {"items": len(x)}
        if results:
            row.update(bytes_total_mean=float(np.mean(results[split].total_bytes)) if len(x) else 0.0,
                       bytes_payload_mean=float(np.mean(results[split].payload_bytes)) if len(x) else 0.0,
                       bytes_total_sum=int(np.sum(results[split].total_bytes)))
        splits[split] = row
    spec = None if stats.codec == "none" else get_codec(stats.codec)
    return {"dataset": ds.name, "source": ds.source, "content_hash": ds.content_hash, "out": str(out),
            "format": fmt, "level_display": "original" if spec is None else spec.display(stats.level),
            "payload": None if spec is None else spec.payload, "stats": stats.to_dict(), "splits": splits}


def codec_rows() -> list[dict[str, Any]]:
    """`helmholtz codecs --json`: every registry codec as a dict (levels, units, encoder, payload, available here)."""
    from helmholtz.codecs.registry import CODECS

    return [spec.to_dict() for spec in CODECS.values()]


# ── bits ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def bits_rows(qualities: list[int], ds: Dataset | None = None, *, subsampling: str | None = None,
              codec: str = "jpeg") -> list[dict]:
    """One row per level of ``codec``: with ``ds``, the measured ``LevelStats`` of a round trip of its training
    split (bits of the whole file and of the payload, ratio, PSNR or SNR). JPEG rows also carry the paper's Sec.
    4.1 arithmetic: s(q), the paper's estimate and the real-table estimate."""
    from helmholtz.codecs import quant
    from helmholtz.codecs.registry import get_codec
    from helmholtz.codecs.stats import level_stats

    spec = get_codec(codec)
    rows = []
    for level in qualities:
        level = spec.check(level, where="--levels")
        row: dict[str, Any] = {"level": level, "display": spec.display(level)}
        if codec == "jpeg":
            row.update(quality=level, scale_factor=quant.scale_factor(level),
                       paper_bits_lost=quant.paper_bits_lost(level), paper_bits_left=quant.paper_bits_left(level),
                       table_bits_lost=quant.table_bits_lost(level), table_bits_left=quant.table_bits_left(level))
        row["measured"] = None
        if ds is not None:
            sub = subsampling if spec.subsamplings and ds.modality == "image" else None
            res = spec.roundtrip(ds.x_train, level=level, sample_rate=ds.sample_rate, subsampling=sub)
            row["measured"] = level_stats(ds.x_train, res, codec=codec, level=level, encoder=spec.encoder(),
                                          modality=ds.modality, sample_rate=ds.sample_rate).to_dict()
        rows.append(row)
    return rows


def _check_subsampling(subsampling: str | None, spec) -> None:
    if subsampling is not None and subsampling not in spec.subsamplings:
        choices = ", ".join(spec.subsamplings)
        raise ConfigError(f"--subsampling got {subsampling!r}; {spec.title} "
                          + (f"takes one of {choices}" if choices else f"has no choice ({spec.coding})"),
                          fix="use --subsampling 4:2:0" if choices else "leave --subsampling out")


def _bits_note(codec: str, ds: Dataset | None, rows: list[dict]) -> str:
    from helmholtz.cli.codec_tables import FOOTNOTE
    from helmholtz.codecs.registry import get_codec

    spec = get_codec(codec)
    raw = rows[0]["measured"]["raw_bits"] if ds is not None else None
    if codec == "jpeg":
        return FOOTNOTE.format(raw=f"{raw:g} bits" if raw else "8·C bits")
    per = "second of audio" if spec.modality == "audio" else "pixel"
    return (f"Measured over the training split of {ds.name}, bits per {per} ({raw:g} raw), for the whole file and "
            f"for the payload alone: {spec.payload}. Coding: {spec.coding}.")


# ── registration ─────────────────────────────────────────────────────────────────────────────────────────────────

def register(app: typer.Typer) -> None:
    """Add `codecs`, `compress` and `bits` to `app`."""

    @app.command("codecs")
    def codecs_cmd(json_out: Json = False) -> None:
        """Every codec: modality, levels and units, default grid, encoder versions, what 'payload' means, and
        whether it runs on this machine."""
        from helmholtz.cli.codec_tables import render_codecs
        from helmholtz.cli.common import print_json

        rows = codec_rows()
        if json_out:
            print_json({"codecs": rows, "reference": "none (the uncompressed original; no levels)"})
        else:
            render_codecs(rows)

    @app.command("compress")
    def compress_cmd(
        dataset: DatasetArg,
        out: OutOpt,
        codec: CodecOpt = "jpeg",
        level: LevelOpt = None,
        fmt: FormatOpt = "npz",
        subsampling: SubsamplingOpt = None,
        train_size: TrainSize = None,
        test_size: TestSize = None,
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        force: ForceOpt = False,
        json_out: Json = False,
    ) -> None:
        """Write a compressed copy of DATASET: every split through the codec at one level, with measured bytes."""
        from helmholtz.cli.codec_tables import render_compress
        from helmholtz.cli.common import err_console, print_json
        from helmholtz.codecs.cache import check_level, compress_dataset, compress_splits
        from helmholtz.codecs.registry import get_codec
        from helmholtz.codecs.stats import level_stats

        # validate every option before reading any data
        level = check_level(codec, level)
        spec = None if codec == "none" else get_codec(codec)
        if fmt not in FORMATS:
            raise ConfigError(f"--format got {fmt!r}; expected npz or folder", fix="use --format npz")
        if fmt == "folder" and (spec is None or spec.modality != "image"):
            raise ConfigError(f"--format folder writes encoded image files; codec {codec!r} writes none",
                              where="--format", fix="use --format npz")
        if spec is not None:
            _check_subsampling(subsampling, spec)
        elif subsampling is not None:
            raise ConfigError("--subsampling needs a codec", where="--subsampling", fix="leave --subsampling out")
        _check_out(out, fmt=fmt, force=force)

        from helmholtz.data import load_dataset

        ds = load_dataset(dataset, train_size=train_size, test_size=test_size, sample_rate=sample_rate,
                          duration_s=duration)
        if not json_out:
            what = "uncompressed" if spec is None else spec.display(level)
            err_console.print(f"[dim]{ds.name}: {ds.split_sizes()} items of {ds.item_shape}; {codec}: {what} …[/]")
        results = None
        if fmt == "folder":
            if ds.modality != spec.modality:
                others = ",".join(c.name for c in _codecs_for(ds.modality))
                raise ConfigError(f"{spec.title} compresses {spec.modality}; {ds.name!r} is {ds.modality}",
                                  where="--codec", fix=f"use one of {others}")
            sub = subsampling if spec.subsamplings else None
            results = {s: spec.roundtrip(getattr(ds, f"x_{s}"), level=level, subsampling=sub, keep_encoded=True)
                       for s in SPLITS}
            stats = level_stats(ds.x_train, results["train"], codec=codec, level=level, encoder=spec.encoder(),
                                modality=ds.modality)
            _write_folder(out, ds, results, extension=spec.extension, force=force)
        else:
            if spec is None:
                _, stats = compress_dataset(ds, codec="none", level=None)
            else:
                results, stats = compress_splits(ds, codec=codec, level=level, subsampling=subsampling)
            used = (subsampling or spec.subsamplings[0]) if spec and spec.subsamplings else None
            meta = {**stats.to_dict(), "dataset": ds.name, "content_hash": ds.content_hash, "subsampling": used,
                    "payload": spec.payload if spec else None}
            _write_npz(out, ds, results, meta)
        summary = _summary(ds, results, stats, out, fmt)
        if json_out:
            print_json(summary)
        else:
            render_compress(summary)

    @app.command("bits")
    def bits_cmd(
        codec: BitsCodecOpt = "jpeg",
        levels: LevelsOpt = None,
        quality: QualityOpt = None,
        dataset: BitsDatasetOpt = None,
        train_size: TrainSize = None,
        subsampling: SubsamplingOpt = None,
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        json_out: Json = False,
    ) -> None:
        """Bits at each level of a codec, measured on a dataset (whole file, payload, PSNR/SNR); for JPEG also the
        paper's estimate of the bits per pixel at quality q and the real tables' estimate."""
        from helmholtz.cli.codec_tables import render_bits
        from helmholtz.cli.common import parse_int_list, print_json
        from helmholtz.codecs.registry import get_codec

        spec = get_codec(codec)
        if quality is not None and levels is not None:
            raise ConfigError("--quality and --levels both given", where="--quality", fix="use --levels alone")
        if quality is not None and codec != "jpeg":
            raise ConfigError(f"--quality is JPEG's; {spec.title} takes --levels", where="--quality",
                              fix=f"use --levels {','.join(map(str, spec.default_levels[:3]))}")
        option = "--quality" if quality is not None else "--levels"
        text = quality or levels or (DEFAULT_QUALITIES if codec == "jpeg" else ",".join(map(str, spec.default_levels)))
        chosen = [spec.check(v, where=option) for v in parse_int_list(text, option=option)]
        _check_subsampling(subsampling, spec)
        if dataset is None and train_size is not None:
            raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
        if dataset is None and codec != "jpeg":
            raise ConfigError(f"{spec.title} has no arithmetic estimate; its bits are measured on data",
                              where="--dataset", fix=f"add --dataset (a {spec.modality} dataset)")
        ds = None
        if dataset is not None:
            from helmholtz.data import load_dataset

            ds = load_dataset(dataset, train_size=train_size, sample_rate=sample_rate, duration_s=duration)
            if ds.modality != spec.modality:
                others = ",".join(c.name for c in _codecs_for(ds.modality))
                raise ConfigError(f"{spec.title} compresses {spec.modality}; {ds.name!r} is {ds.modality}",
                                  where="--dataset", fix=f"use --codec one of {others}")
        rows = bits_rows(chosen, ds, subsampling=subsampling, codec=codec)
        doc = {
            "codec": codec, "title": spec.title, "encoder": spec.encoder(), "payload": spec.payload,
            "dataset": None if ds is None else {"name": ds.name, "source": ds.source,
                                                "content_hash": ds.content_hash, "n_train": len(ds.y_train),
                                                "item_shape": list(ds.item_shape)},
            "rows": rows, "note": _bits_note(codec, ds, rows),
        }
        if json_out:
            print_json(doc)
        else:
            render_bits(doc)


def _codecs_for(modality: str):
    from helmholtz.codecs.registry import codecs_for

    return codecs_for(modality)
