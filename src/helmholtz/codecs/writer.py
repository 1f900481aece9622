"""Write a compressed copy of a dataset (`helmholtz compress`): an .npz of the decoded arrays with the measured
bytes, or a folder of the real encoded files (.jpg, .webp, .avif, …). No torch.

Both are written atomically (`helmholtz.fsutil`): the .npz goes to a temporary beside ``--out`` and is renamed over
it; the folder's ``train/``, ``val/`` and ``test/`` are built in a temporary folder and swapped in only when complete.
A full disk or a kill leaves the previous copy as it was. The .npz reads back with every split
(`helmholtz.data.image_readers.read_npz`: ``x_val`` joins the training pool, as ``val/`` does for a folder).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helmholtz.errors import ConfigError
from helmholtz.fsutil import atomic_dir, atomic_file

if TYPE_CHECKING:
    from helmholtz.codecs.base import CodecResult
    from helmholtz.codecs.cache import LevelStats
    from helmholtz.data.dataset import Dataset

SPLITS = ("train", "val", "test")
FORMATS = ("npz", "folder")


def check_out(out: Path, *, fmt: str, force: bool) -> None:
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


def class_folder_names(class_names: tuple[str, ...]) -> list[str]:
    """Class names made safe as folder names ('T-shirt/top' → 'T-shirt_top'), unique and not hidden."""
    out: list[str] = []
    for i, name in enumerate(class_names):
        safe = re.sub(r"[/\\\x00]", "_", name).lstrip("._ ") or f"class{i}"
        while safe in out:
            safe = f"{safe}_{i}"
        out.append(safe)
    return out


def write_npz(path: Path, ds: Dataset, results: dict[str, CodecResult] | None, meta: dict[str, Any]) -> None:
    """x_*, y_*, class_names, total_bytes_*, payload_bytes_* and the stats as JSON (plus sample_rate for audio)."""
    arrays: dict[str, Any] = {"class_names": np.array(ds.class_names, dtype=str), "stats": np.array(json.dumps(meta))}
    if ds.modality == "audio" and ds.sample_rate:
        arrays["sample_rate"] = np.array(int(ds.sample_rate), dtype=np.int64)
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
    with atomic_file(path, what="the compressed copy") as fh:  # a file object: numpy appends no '.npz'
        np.savez(fh, **arrays)


def write_folder(out: Path, ds: Dataset, results: dict[str, CodecResult], *, extension: str = ".jpg") -> int:
    """The encoded files as out/{train,val,test}/<class>/<i><extension> (i zero-padded so names sort in split
    order). Files of ``out`` outside train/, val/ and test/ are kept."""
    folders = class_folder_names(ds.class_names)
    written = 0
    with atomic_dir(out, what="the compressed copy", merge=True) as tmp:
        for split in SPLITS:
            root = tmp / split
            labels = getattr(ds, f"y_{split}")
            width = len(str(max(len(labels) - 1, 0)))
            for folder in folders:
                (root / folder).mkdir(parents=True, exist_ok=True)
            for i, (label, blob) in enumerate(zip(labels, results[split].encoded, strict=True)):
                (root / folders[int(label)] / f"{i:0{width}d}{extension}").write_bytes(blob)
                written += 1
    return written


def summary(ds: Dataset, results: dict[str, CodecResult] | None, stats: LevelStats, out: Path | None,
            fmt: str) -> dict[str, Any]:
    """What `helmholtz compress --json` prints: the dataset, the level's stats, and per split its items and bytes."""
    splits = {}
    for split in SPLITS:
        x = getattr(ds, f"x_{split}")
        row: dict[str, Any] = {"items": len(x)}
        if results:
            row.update(bytes_total_mean=float(np.mean(results[split].total_bytes)) if len(x) else 0.0,
                       bytes_payload_mean=float(np.mean(results[split].payload_bytes)) if len(x) else 0.0,
                       bytes_total_sum=int(np.sum(results[split].total_bytes)))
        splits[split] = row
    from helmholtz.codecs.registry import REFERENCE, get_codec

    spec = None if stats.codec == REFERENCE else get_codec(stats.codec)
    return {"dataset": ds.name, "source": ds.source, "content_hash": ds.content_hash,
            "out": None if out is None else str(out), "format": fmt,
            "level_display": "original" if spec is None else spec.display(stats.level),
            "payload": None if spec is None else spec.payload, "stats": stats.to_dict(), "splits": splits}
