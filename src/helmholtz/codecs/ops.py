"""The codec operations of the API: list the codecs, compress a dataset at one level, and the bits table.

`helmholtz codecs`, `helmholtz compress` and `helmholtz bits` are each one call here (through `helmholtz.api`).
Every option is checked before any data is read; messages name the CLI options.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from helmholtz.errors import CodecError, ConfigError

if TYPE_CHECKING:
    from helmholtz.codecs.stats import LevelStats
    from helmholtz.data.dataset import Dataset

#: `helmholtz bits` without --levels: the JPEG qualities of the paper's Sec. 4.1 table and around it
DEFAULT_QUALITIES = (5, 10, 20, 25, 50, 75, 95)

JPEG_NOTE = (
    "The paper's arithmetic (Sec. 4.1) assumes a 24-bit RGB pixel reduced to 16 bits by 4:2:0 subsampling "
    "(Y 8 + U 4 + V 4) and sums the tables to 12487; 'tables' uses the standard Annex K tables scaled and clipped "
    "as libjpeg does (sum 14698 at q = 50). Measured bits are per pixel of the given data ({raw} raw), for the "
    "whole file and for the entropy-coded scan alone."
)


def codec_rows() -> list[dict[str, Any]]:
    """`helmholtz codecs`: every registry codec as a dict (levels, units, encoder, payload, available here)."""
    from helmholtz.codecs.registry import CODECS

    return [spec.to_dict() for spec in CODECS.values()]


def check_codec_level(codec: str, level: int | None) -> None:
    """The codec must be known (the registry, or 'none'); a codec needs a level, 'none' takes none. Messages name
    the CLI options."""
    from helmholtz.codecs.registry import CODECS, REFERENCE, get_codec

    if codec != REFERENCE and codec not in CODECS:
        raise ConfigError(f"unknown codec {codec!r}; expected none or one of {', '.join(CODECS)}", where="--codec",
                          fix="e.g. --codec jpeg --level 20 (see `helmholtz codecs`)")
    if codec != REFERENCE and level is None:
        spec = get_codec(codec)
        lo, hi = spec.level_range
        unit = "" if spec.unit == "q" else f" {spec.unit}"
        raise ConfigError(f"--codec {codec} needs --level ({spec.title} {spec.level_kind} {lo}..{hi}{unit})",
                          fix=f"e.g. --codec {codec} --level {spec.default_levels[len(spec.default_levels) // 2]}")
    if codec == REFERENCE and level is not None:
        raise ConfigError(f"--codec none takes no --level; got {level}", fix="drop --level, or pick a codec")


def check_subsampling(subsampling: str | None, spec: Any) -> None:
    """A chroma subsampling is a choice of codecs that offer one (``spec`` None: the original, which has none)."""
    if subsampling is None:
        return
    if spec is None:
        raise ConfigError("--subsampling needs a codec", where="--subsampling", fix="leave --subsampling out")
    if subsampling not in spec.subsamplings:
        choices = ", ".join(spec.subsamplings)
        raise ConfigError(f"--subsampling got {subsampling!r}; {spec.title} "
                          + (f"takes one of {choices}" if choices else f"has no choice ({spec.coding})"),
                          fix="use --subsampling 4:2:0" if choices else "leave --subsampling out")


def codec_names_for(modality: str) -> str:
    """The codecs of one modality, as a comma list for a fix."""
    from helmholtz.codecs.registry import codecs_for

    return ", ".join(c.name for c in codecs_for(modality))


@dataclass(frozen=True)
class Compressed:
    """What `compress` made: the decoded dataset, the level's measured stats, and where it was written."""

    dataset: Dataset
    stats: LevelStats
    out: Path | None
    format: str
    summary: dict[str, Any]


def compress(dataset: Any, *, codec: str = "jpeg", level: int | None = None, out: str | os.PathLike | None = None,
             format: Literal["npz", "folder"] = "npz", subsampling: str | None = None, force: bool = False, train_size: int | None = None,
             test_size: int | None = None, sample_rate: int = 44100, duration_s: float = 2.0) -> Compressed:
    """Every split of ``dataset`` through ``codec`` at ``level``, with measured bytes; with ``out``, written
    atomically as an .npz or (image codecs) a folder of the real encoded files (`helmholtz.api.compress`)."""
    from helmholtz.codecs import writer
    from helmholtz.codecs.level import Level
    from helmholtz.codecs.registry import REFERENCE, get_codec
    from helmholtz.data.source import resolve_dataset

    codec = str(codec).strip().lower()
    check_codec_level(codec, level)   # before Level.of, so a missing --level is named as such
    spec = None if codec == REFERENCE else get_codec(codec)
    lv = Level.of(codec, level, where="level")   # checked once; the cache and the round trip trust it
    if format not in writer.FORMATS:
        raise ConfigError(f"--format got {format!r}; expected npz or folder", fix="use --format npz")
    if format == "folder" and (spec is None or spec.modality != "image"):
        raise ConfigError(f"--format folder writes encoded image files; codec {codec!r} writes none",
                          where="--format", fix="use --format npz")
    check_subsampling(subsampling, spec)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        writer.check_out(out_path, fmt=format, force=force)
    ds = resolve_dataset(dataset, train_size=train_size, test_size=test_size, sample_rate=sample_rate,
                         duration_s=duration_s)
    if spec is not None and ds.modality != spec.modality:
        raise CodecError(f"{spec.title} compresses {spec.modality}; {ds.name!r} is {ds.modality}", where="--codec",
                         fix=f"use one of {codec_names_for(ds.modality)}")
    results = None
    if format == "folder":
        from helmholtz.codecs.stats import level_stats

        sub = subsampling if spec.subsamplings else None
        results = {s: spec.roundtrip(getattr(ds, f"x_{s}"), level=lv.value, subsampling=sub, keep_encoded=True,
                                     checked=True) for s in writer.SPLITS}
        stats = level_stats(ds.x_train, results["train"], codec=codec, level=lv.value, encoder=spec.encoder(),
                            modality=ds.modality)
        if out_path is not None:
            writer.write_folder(out_path, ds, results, extension=spec.extension)
    else:
        from helmholtz.codecs.cache import compress_dataset, compress_splits

        if spec is None:
            _, stats = compress_dataset(ds, codec="none", level=lv)
        else:
            results, stats = compress_splits(ds, codec=codec, level=lv, subsampling=subsampling)
        if out_path is not None:
            used = (subsampling or spec.subsamplings[0]) if spec is not None and spec.subsamplings else None
            meta = {**stats.to_dict(), "dataset": ds.name, "content_hash": ds.content_hash, "subsampling": used,
                    "payload": spec.payload if spec else None}
            writer.write_npz(out_path, ds, results, meta)
    decoded = ds if results is None else ds.with_arrays(
        x_train=results["train"].data, x_val=results["val"].data, x_test=results["test"].data, codec=codec,
        level=lv.value, encoder=stats.encoder)
    return Compressed(dataset=decoded, stats=stats, out=out_path, format=format,
                      summary=writer.summary(ds, results, stats, out_path, format))


def bits_rows(levels: Any = None, *, codec: str = "jpeg", dataset: Any = None, train_size: int | None = None,
              subsampling: str | None = None, sample_rate: int = 44100, duration_s: float = 2.0,
              option: str = "--levels") -> list[dict[str, Any]]:
    """One row per level of ``codec`` (`helmholtz.api.bits`): JPEG rows carry the paper's Sec. 4.1 arithmetic;
    with ``dataset``, every row also has the measured stats of a round trip of its training split."""
    from helmholtz.codecs import quant
    from helmholtz.codecs.level import Level
    from helmholtz.codecs.registry import get_codec
    from helmholtz.codecs.stats import level_stats
    from helmholtz.data.source import resolve_dataset

    spec = get_codec(str(codec).strip().lower())
    chosen = list(DEFAULT_QUALITIES if spec.name == "jpeg" else spec.default_levels) if levels is None else list(levels)
    if not chosen:
        raise ConfigError(f"{option} is empty", fix=f"e.g. {option} 5,10,20")
    chosen = [v if isinstance(v, Level) else Level.trusted(spec.name, spec.check(v, where=option)) for v in chosen]
    check_subsampling(subsampling, spec)
    if dataset is None and train_size is not None:
        raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
    if dataset is None and spec.name != "jpeg":
        raise ConfigError(f"{spec.title} has no arithmetic estimate; its bits are measured on data",
                          where="--dataset", fix=f"add --dataset (a {spec.modality} dataset)")
    ds = None
    if dataset is not None:
        ds = resolve_dataset(dataset, train_size=train_size, sample_rate=sample_rate, duration_s=duration_s)
        if ds.modality != spec.modality:
            raise ConfigError(f"{spec.title} compresses {spec.modality}; {ds.name!r} is {ds.modality}",
                              where="--dataset", fix=f"use --codec one of {codec_names_for(ds.modality).replace(', ', ',')}")
    rows = []
    for lv in chosen:
        level = lv.value
        row: dict[str, Any] = {"level": level, "display": lv.display}
        if spec.name == "jpeg":
            row.update(quality=level, scale_factor=quant.scale_factor(level),
                       paper_bits_lost=quant.paper_bits_lost(level), paper_bits_left=quant.paper_bits_left(level),
                       table_bits_lost=quant.table_bits_lost(level), table_bits_left=quant.table_bits_left(level))
        row["measured"] = None
        if ds is not None:
            sub = subsampling if spec.subsamplings and ds.modality == "image" else None
            res = spec.roundtrip(ds.x_train, level=level, sample_rate=ds.sample_rate, subsampling=sub, checked=True)
            row["measured"] = level_stats(ds.x_train, res, codec=spec.name, level=level, encoder=spec.encoder(),
                                          modality=ds.modality, sample_rate=ds.sample_rate).to_dict()
        rows.append(row)
    return rows


def _bits_note(spec: Any, ds_name: str | None, rows: list[dict]) -> str:
    raw = rows[0]["measured"]["raw_bits"] if rows and rows[0]["measured"] else None
    if spec.name == "jpeg":
        return JPEG_NOTE.format(raw=f"{raw:g} bits" if raw else "8·C bits")
    per = "second of audio" if spec.modality == "audio" else "pixel"
    return (f"Measured over the training split of {ds_name}, bits per {per} ({raw:g} raw), for the whole file and "
            f"for the payload alone: {spec.payload}. Coding: {spec.coding}.")


def bits_table(*, codec: str = "jpeg", levels: str | None = None, quality: str | None = None,
               dataset: str | None = None, train_size: int | None = None, subsampling: str | None = None,
               sample_rate: int = 44100, duration_s: float = 2.0) -> dict[str, Any]:
    """`helmholtz bits`: the levels as the CLI gives them (``levels`` or JPEG's ``quality``, comma lists), the rows
    of `bits_rows`, and what the table needs beside them (codec, encoder, the dataset measured, a note)."""
    from helmholtz.checks import parse_int_list
    from helmholtz.codecs.level import Level
    from helmholtz.codecs.registry import get_codec
    from helmholtz.data import load_dataset

    spec = get_codec(codec)
    if quality is not None and levels is not None:
        raise ConfigError("--quality and --levels both given", where="--quality", fix="use --levels alone")
    if quality is not None and spec.name != "jpeg":
        raise ConfigError(f"--quality is JPEG's; {spec.title} takes --levels", where="--quality",
                          fix=f"use --levels {','.join(map(str, spec.default_levels[:3]))}")
    option = "--quality" if quality is not None else "--levels"
    text = quality or levels
    chosen = None if text is None else parse_int_list(text, option=option)
    ds = None
    if dataset is not None:   # loaded here (not in bits_rows) so the table can describe it; levels checked first
        chosen = None if chosen is None else [Level.trusted(spec.name, spec.check(v, where=option)) for v in chosen]
        ds = load_dataset(dataset, train_size=train_size, sample_rate=sample_rate, duration_s=duration_s)
    elif train_size is not None:
        raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
    rows = bits_rows(chosen, codec=spec.name, dataset=ds, subsampling=subsampling, option=option)
    return {
        "codec": spec.name, "title": spec.title, "encoder": spec.encoder(), "payload": spec.payload,
        "dataset": None if ds is None else {"name": ds.name, "source": ds.source, "content_hash": ds.content_hash,
                                            "n_train": len(ds.y_train), "item_shape": list(ds.item_shape)},
        "rows": rows, "note": _bits_note(spec, None if ds is None else ds.name, rows),
    }
