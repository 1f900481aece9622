"""The data stage: a DATASET argument (known name or path) → a `Dataset` with fixed train/val/test splits.

`load_dataset` resolves the argument (`locate`), detects the format from file names, reads it with the matching
reader (CIFAR-10 python batches, IDX, image folder, NPZ, or a WAV folder for audio), and fixes the splits with
`make_dataset`. Never imports torch.

The first stage of the pipeline: it imports the shared base (`helmholtz.errors`, `checks`, `fsutil`,
`provenance`) and its own modules, nothing later.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from helmholtz.data.dataset import Dataset, RawData, make_dataset
from helmholtz.data.image_readers import (
    FASHION_MNIST_CLASSES,
    read_cifar10_dir,
    read_idx_dir,
    read_image_folder,
    read_npz,
)
from helmholtz.data.locate import KNOWN_DATASETS, SourceFormat, detect_format, locate, resolve, search_paths
from helmholtz.errors import DataError

__all__ = [
    "KNOWN_DATASETS", "Dataset", "RawData", "check_split_options", "dataset_status", "describe_dataset",
    "load_dataset", "locate",
    "make_dataset", "read_source", "search_paths",
]

#: the paper's audio recipe holds out 25 % for validation (and, without a test split, 25 % for test)
_SPLIT_DEFAULTS = {"image": (0.1, 0.2), "audio": (0.25, 0.25)}


def _read_audio(path: Path, *, sample_rate: int, duration_s: float) -> RawData:
    from helmholtz.data.audio_readers import read_wav_folder

    return read_wav_folder(path, sample_rate=sample_rate, duration_s=duration_s)


def read_source(
    path: str | os.PathLike, *, name: str | None = None, sample_rate: int = 44100, duration_s: float = 2.0,
    image_column: str | None = None, label_column: str | None = None,
) -> RawData:
    """Read an existing path in whatever format it holds. ``name='fashion-mnist'`` forces Fashion-MNIST's class
    names on an IDX folder; ``image_column``/``label_column`` override a Parquet table's detected columns."""
    path = Path(path)
    fmt: SourceFormat | None = detect_format(path)
    if (image_column or label_column) and fmt != "parquet":
        option = "--image-column" if image_column else "--label-column"
        raise DataError(f"{option} applies to Parquet tables; this source is {fmt or 'not a dataset'}",
                        where=str(path), fix=f"drop {option}, or point at a .parquet file or folder")
    if fmt == "cifar10-python":
        return read_cifar10_dir(path)
    if fmt == "idx":
        return read_idx_dir(path, class_names=FASHION_MNIST_CLASSES if name == "fashion-mnist" else None)
    if fmt == "npz":
        return read_npz(path)
    if fmt == "audio":
        return _read_audio(path, sample_rate=sample_rate, duration_s=duration_s)
    if fmt == "image-folder":
        return read_image_folder(path)
    if fmt == "parquet":
        from helmholtz.data.parquet_reader import read_parquet

        return read_parquet(path, image_column=image_column, label_column=label_column)
    fix = ("use a CIFAR-10 batches folder, a folder of IDX files, a folder with one subfolder per class "
           "(images or WAV), a Parquet table of images and labels, or an .npz with x and y")
    from helmholtz.checks import check_regular_file

    check_regular_file(path, allow_dir=True, fix=fix)   # a device, FIFO or socket
    if path.is_file():
        raise DataError(f"unrecognised dataset file (expected .npz or .parquet; got {path.suffix or 'no suffix'})",
                        where=str(path),
                        fix=fix)
    raise DataError("unrecognised dataset folder (no CIFAR-10 batches, IDX files or class subfolders)",
                    where=str(path), fix=fix)


def load_dataset(
    source: str | os.PathLike,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float | None = None,
    split_seed: int = 0,
    sample_rate: int = 44100,
    duration_s: float = 2.0,
    image_column: str | None = None,
    label_column: str | None = None,
) -> Dataset:
    """A known name (``fashion-mnist``, ``mnist``, ``cifar10``) or a path → a `Dataset` with fixed splits.

    ``train_size``/``test_size`` take stratified subsets; ``val_fraction`` (default 0.1 for images, 0.25 for audio,
    the paper's 75/25) is carved from the training pool only; ``split_seed`` fixes every split. Audio sources are
    cut or padded to ``duration_s`` seconds at ``sample_rate``. ``Dataset.name`` is the known name or the path's
    stem; ``Dataset.source`` the absolute path read.
    """
    started = time.perf_counter()
    check_split_options(train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed,
                        sample_rate=sample_rate, duration_s=duration_s)
    name, path, _ = resolve(source)
    raw = read_source(path, name=name, sample_rate=sample_rate, duration_s=duration_s, image_column=image_column,
                      label_column=label_column)
    default_val, test_fraction = _SPLIT_DEFAULTS[raw.modality]
    ds = make_dataset(
        raw, name=name, source=str(path), train_size=train_size, test_size=test_size,
        val_fraction=default_val if val_fraction is None else val_fraction, test_fraction=test_fraction,
        split_seed=split_seed,
    )
    # timing goes into info, which the content hash does not cover
    return replace(ds, info={**ds.info, "own_test_split": raw.x_test is not None,
                             "load_s": round(time.perf_counter() - started, 3)})


def check_split_options(*, train_size: int | None = None, test_size: int | None = None,
                        val_fraction: float | None = None, split_seed: int = 0, sample_rate: int = 44100,
                        duration_s: float = 2.0) -> None:
    """Every option of `load_dataset`, checked before a byte is read; ConfigError naming the CLI option."""
    from helmholtz.checks import check_duration, check_fraction, check_int, check_sample_rate, check_seed

    for option, size in (("--train-size", train_size), ("--test-size", test_size)):
        if size is not None:
            check_int(size, option=option, lo=1, example=1000)
    if val_fraction is not None:
        check_fraction(val_fraction, option="--val-fraction")
    check_seed(split_seed, option="--split-seed")
    check_sample_rate(sample_rate)
    check_duration(duration_s)


def describe_dataset(ds: Dataset) -> dict[str, Any]:
    """What `helmholtz inspect` shows: source, format, shapes, counts per split and per class per split, hash."""
    splits = {"train": ds.y_train, "val": ds.y_val, "test": ds.y_test}
    per_split = {s: np.bincount(y, minlength=ds.n_classes).tolist() for s, y in splits.items()}
    return {
        "name": ds.name,
        "source": ds.source,
        "format": ds.format,
        "modality": ds.modality,
        "item_shape": list(ds.item_shape),
        "dtype": str(ds.x_train.dtype),
        "sample_rate": ds.sample_rate,
        "n_classes": ds.n_classes,
        "class_names": list(ds.class_names),
        "splits": ds.split_sizes(),
        "per_class": [{"class": c, **{s: per_split[s][i] for s in splits}} for i, c in enumerate(ds.class_names)],
        "own_test_split": ds.info.get("own_test_split"),
        "train_size": ds.info.get("train_size"),
        "test_size": ds.info.get("test_size"),
        "val_fraction": ds.info.get("val_fraction"),
        "split_seed": ds.info.get("split_seed"),
        "content_hash": ds.content_hash,
    }


def dataset_status() -> list[dict[str, Any]]:
    """For each known dataset: where it was found (path and format), or where we looked and how to get it."""
    out = []
    for name, known in KNOWN_DATASETS.items():
        row: dict[str, Any] = {"name": name, "description": known.description, "found": False, "path": None,
                               "format": None, "searched": [str(p) for p in search_paths(name)],
                               "how_to_get": known.how_to_get}
        try:
            path = locate(name)
        except DataError:
            pass
        else:
            row.update(found=True, path=str(path), format=detect_format(path))
        out.append(row)
    return out
