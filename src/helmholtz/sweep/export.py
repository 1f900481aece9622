"""Export store rows (runs or epochs) to CSV, JSON or Parquet, with the store's column types. No torch.

CSV floats are written with ``repr`` (shortest round-trip form), so reading them back gives the stored numbers
exactly; empty cells are NULLs. Parquet columns carry the SQLite types (TEXT → string, REAL → float64,
INTEGER → int64), so a column that is all NULL still has its type.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Literal

from helmholtz.errors import ConfigError, StoreError
from helmholtz.sweep.store import EPOCH_COLUMNS as _EPOCHS
from helmholtz.sweep.store import RUN_COLUMNS as _RUNS

ExportFormat = Literal["csv", "json", "parquet"]
Columns = tuple[tuple[str, str], ...]

#: (name, SQLite type) of the exported columns
RUN_COLUMNS: Columns = tuple((n, t.split()[0]) for n, t in _RUNS)
EPOCH_COLUMNS: Columns = tuple((n, t.split()[0]) for n, t in _EPOCHS)


def write(rows: list[dict[str, Any]], columns: Columns, path: str | os.PathLike, *, fmt: ExportFormat) -> Path:
    """Write ``rows`` (dicts with the ``columns``) to ``path`` as CSV, JSON or Parquet; returns the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            _write_csv(rows, columns, path)
        elif fmt == "json":
            path.write_text(json.dumps(rows, indent=2) + "\n")
        elif fmt == "parquet":
            _write_parquet(rows, columns, path)
        else:
            raise ConfigError(f"--format got {fmt!r}; expected csv, json or parquet", fix="e.g. --format csv")
    except OSError as ex:
        raise StoreError(f"cannot write the export: {ex.strerror}", where=str(path), fix="choose a writable --out") from None
    return path


def _write_csv(rows: list[dict[str, Any]], columns: Columns, path: Path) -> None:
    names = [n for n, _ in columns]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for r in rows:
            w.writerow(["" if r.get(n) is None else repr(r[n]) if isinstance(r[n], float) else r[n] for n in names])


def read_csv(path: str | os.PathLike, columns: Columns) -> list[dict[str, Any]]:
    """Read an exported CSV back with the column types (empty → None)."""
    conv = {"TEXT": str, "REAL": float, "INTEGER": int}
    types = dict(columns)
    with open(path, newline="") as f:
        return [{k: (None if v == "" else conv[types[k]](v)) for k, v in row.items()} for row in csv.DictReader(f)]


def _write_parquet(rows: list[dict[str, Any]], columns: Columns, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"TEXT": pa.string(), "REAL": pa.float64(), "INTEGER": pa.int64()}
    schema = pa.schema([(n, types[t]) for n, t in columns])
    table = pa.Table.from_pylist([{n: r.get(n) for n, _ in columns} for r in rows], schema=schema)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def write_predictions(rows: list[dict[str, Any]], labels: tuple[Any, int] | None, path: str | os.PathLike) -> Path:
    """Per-item test predictions of the runs (`Store.runs(predictions=True)`) to ``.npz`` or ``.parquet``.

    npz: ``predictions`` (runs × test items, in the test split's order), ``run_id``, ``arch``, ``codec``,
    ``level_label``, ``seed`` (one entry per run), and ``labels`` (the test split's classes) when stored.
    Parquet: one row per run with the same columns and ``predictions`` as a list; the labels go into the file's
    metadata (key ``helmholtz.test_labels``, JSON). Runs stored before predictions were recorded are left out.
    """
    import numpy as np

    from helmholtz.sweep.store import decode_predictions

    path = Path(path)
    have = [r for r in rows if r.get("predictions") is not None]
    if not have:
        raise StoreError("no run in this store has per-item predictions (it was written before they were "
                         "recorded)", where=str(path), fix="re-run the sweep into a new --out to record them")
    preds = np.stack([decode_predictions(r["predictions"], r.get("n_classes")) for r in have])
    meta = {k: [r.get(k) for r in have] for k in ("run_id", "arch", "codec", "level_label", "seed")}
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            arrays = {"predictions": preds, **{k: np.asarray(v) for k, v in meta.items()}}
            if labels is not None:
                arrays["labels"] = np.asarray(labels[0])
            tmp = path.with_name(path.name + ".tmp.npz")
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, path)
        elif suffix in (".parquet", ".pq"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({**meta, "predictions": [p.tolist() for p in preds]})
            if labels is not None:
                table = table.replace_schema_metadata({"helmholtz.test_labels": json.dumps(labels[0].tolist())})
            tmp = path.with_name(path.name + ".tmp")
            pq.write_table(table, tmp)
            os.replace(tmp, path)
        else:
            raise ConfigError(f"--predictions writes .npz or .parquet; got {path.name!r}", where="--out",
                              fix="e.g. --out predictions.npz")
    except OSError as ex:
        raise StoreError(f"cannot write the export: {ex.strerror}", where=str(path), fix="choose a writable --out") from None
    return path
