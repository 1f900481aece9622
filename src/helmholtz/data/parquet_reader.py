"""Image-classification tables in Parquet: the layout Hugging Face `datasets` exports, and plain ones.

A source is one ``.parquet`` file, or a folder of them whose names start with their split (``train-00000-of-00001
.parquet``, ``test.parquet``; ``validation``/``val`` files join the training pool, as ``val/`` does in a folder
dataset). In one file, a ``split`` column may say which rows are train and which test.

- **image column**: a struct with a ``bytes`` field (what `datasets` writes for an ``Image`` feature), or raw
  encoded bytes (PNG, JPEG, …); detected by type, or named by ``image_column``;
- **label column**: ``label``/``labels``/``class``/``target``, else the only integer or string column; integers are
  the classes, strings are sorted into classes; or named by ``label_column``.

Decoded with Pillow, once, into the uint8 arrays the other readers produce (grayscale N×H×W×1, else RGB), so the
content hash is over the decoded pixels. Every problem is one `DataError` naming the file, the row or column, and the
fix: a missing column, an image that does not decode, mixed image sizes, labels of mixed type.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from helmholtz.checks import check_regular_file
from helmholtz.data.dataset import RawData
from helmholtz.data.locate import PARQUET_SPLITS, parquet_files
from helmholtz.errors import DataError

LABEL_NAMES = ("label", "labels", "class", "target")


def _table(path: Path):
    import pyarrow.parquet as pq

    check_regular_file(path, fix="pass a Parquet file of images and labels")
    try:
        return pq.read_table(path)
    except Exception as err:  # pyarrow signals a bad file with ArrowInvalid, OSError, …
        raise DataError(f"not a readable Parquet file ({str(err).splitlines()[0]})", where=str(path),
                        fix="write it with pyarrow or `datasets.Dataset.to_parquet`") from None


def _image_column(table, path: Path, given: str | None) -> str:
    import pyarrow as pa

    if given is not None:
        if given not in table.column_names:
            raise DataError(f"no column {given!r} (columns: {', '.join(table.column_names)})", where=str(path),
                            fix="pass --image-column with one of the columns")
        return given
    for name, typ in zip(table.column_names, table.schema.types, strict=True):
        if pa.types.is_struct(typ) and "bytes" in [typ.field(i).name for i in range(typ.num_fields)]:
            return name
    for name, typ in zip(table.column_names, table.schema.types, strict=True):
        if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
            return name
    raise DataError(f"no image column (columns: {', '.join(table.column_names)})", where=str(path),
                    fix="store encoded images as a struct with 'bytes' (the `datasets` Image feature) or as binary, "
                        "or name the column with --image-column")


def _label_column(table, path: Path, given: str | None, image: str) -> str:
    import pyarrow as pa

    if given is not None:
        if given not in table.column_names:
            raise DataError(f"no column {given!r} (columns: {', '.join(table.column_names)})", where=str(path),
                            fix="pass --label-column with one of the columns")
        return given
    lower = {c.lower(): c for c in table.column_names}
    for name in LABEL_NAMES:
        if name in lower:
            return lower[name]
    candidates = [n for n, t in zip(table.column_names, table.schema.types, strict=True)
                  if n != image and n != "split" and (pa.types.is_integer(t) or pa.types.is_string(t)
                                                      or pa.types.is_large_string(t))]
    if len(candidates) == 1:
        return candidates[0]
    raise DataError(f"no label column (columns: {', '.join(table.column_names)})", where=str(path),
                    fix="name it 'label', or pass --label-column")


def _rows(table, path: Path, image_column: str | None, label_column: str | None):
    image = _image_column(table, path, image_column)
    label = _label_column(table, path, label_column, image)
    images = table.column(image).to_pylist()
    labels = table.column(label).to_pylist()
    splits = table.column("split").to_pylist() if "split" in table.column_names else None
    return images, labels, splits


def _decode_cell(cell: Any, *, where: str) -> tuple[np.ndarray, bool]:
    from helmholtz.data.image_readers import _decode

    data = cell.get("bytes") if isinstance(cell, dict) else cell
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise DataError("the image cell holds no encoded bytes", where=where,
                        fix="store every image's encoded bytes (PNG, JPEG, …), or drop the row")
    return _decode(io.BytesIO(data), where=where)


def read_parquet(path: str | os.PathLike, *, image_column: str | None = None,
                 label_column: str | None = None) -> RawData:
    """A Parquet image-classification source (see the module docstring) → `RawData`."""
    path = Path(path)
    if path.is_dir():
        groups = parquet_files(path)
        if groups is None or "train" not in groups:
            raise DataError("no train*.parquet here", where=str(path),
                            fix="name the files by split (train-00000-of-00001.parquet, test.parquet)")
        parts = [(split, f) for split in ("train", "test") for f in groups.get(split, [])]
    else:
        parts = [(None, path)]
    cells: dict[str, list[tuple[Any, Any, str]]] = {"train": [], "test": []}
    for split, f in parts:
        images, labels, splits = _rows(_table(f), f, image_column, label_column)
        for i, (im, lab) in enumerate(zip(images, labels, strict=True)):
            where = f"{f}: row {i}"
            s = split
            if s is None:
                raw = "train" if splits is None else str(splits[i]).strip().lower()
                s = PARQUET_SPLITS.get(raw)
                if s is None:
                    raise DataError(f"split {splits[i]!r} is not train, validation or test", where=where,
                                    fix="write train, validation or test in the 'split' column")
            if lab is None:
                raise DataError("empty label", where=where, fix="give every row a label, or drop the row")
            cells[s].append((im, lab, where))
    rows = cells["train"] + cells["test"]
    if not cells["train"]:
        raise DataError("no training rows", where=str(path), fix="add rows of the train split")
    kinds = {type(lab) for _, lab, _ in rows}
    if len(kinds) > 1:
        first = {k: next(w for _, lab, w in rows if type(lab) is k) for k in kinds}
        raise DataError("labels of mixed type (" + ", ".join(f"{k.__name__} at {w}" for k, w in first.items()) + ")",
                        where=str(path), fix="write every label as an integer class or every label as a name")
    if kinds not in ({int}, {str}):
        raise DataError(f"labels must be integer classes or names; got {next(iter(kinds)).__name__}",
                        where=str(path), fix="write every label as an integer class or every label as a name")
    if kinds == {int}:
        values = sorted({lab for _, lab, _ in rows})
        if values[0] < 0:
            raise DataError(f"label {values[0]} is negative", where=str(path), fix="number the classes from 0")
        class_names = tuple(str(i) for i in range(values[-1] + 1))
        index = {i: i for i in values}
    else:
        class_names = tuple(sorted({lab for _, lab, _ in rows}))
        index = {name: i for i, name in enumerate(class_names)}
    from helmholtz.data.image_readers import stack_decoded

    x = stack_decoded([_decode_cell(im, where=w) for im, _, w in rows], [w for _, _, w in rows])
    y = np.asarray([index[lab] for _, lab, _ in rows], dtype=np.int64)
    n = len(cells["train"])
    has_test = bool(cells["test"])
    return RawData(x[:n], y[:n], x[n:] if has_test else None, y[n:] if has_test else None, class_names, "parquet")
