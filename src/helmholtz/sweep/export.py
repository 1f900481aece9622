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
