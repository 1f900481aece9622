"""Export store rows (runs, epochs, …) to CSV, JSON or Parquet, with the store's column types. No torch.

Conventions (the same for the CLI and `helmholtz.api`): CSV and JSON go to standard output unless a file is given;
``-`` also means standard output. Parquet is binary and needs a file. A file is written atomically (temporary beside
it, then renamed), so a failed export leaves no empty or partial file behind, and its folder must exist already.

CSV floats are written with ``repr`` (shortest round-trip form), so reading them back gives the stored numbers
exactly; empty cells are NULLs. JSON is strict (NaN and infinities become null). Parquet columns carry the SQLite
types (TEXT → string, REAL → float64, INTEGER → int64), so a column that is all NULL still has its type.

Each kind of rows is one `RowKind` in `KINDS`: its columns and how to read its rows from a `Store`. Adding a kind
(e.g. per-item predictions) is one more entry.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from helmholtz.errors import ConfigError
from helmholtz.fsutil import atomic_file, atomic_path
from helmholtz.sweep.store import EPOCH_COLUMNS as _EPOCHS
from helmholtz.sweep.store import RUN_COLUMNS as _RUNS

if TYPE_CHECKING:
    from helmholtz.sweep.store import Store

ExportFormat = Literal["csv", "json", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "json", "parquet")
Columns = tuple[tuple[str, str], ...]
STDOUT = "-"

#: (name, SQLite type) of the exported columns
RUN_COLUMNS: Columns = tuple((n, t.split()[0]) for n, t in _RUNS)
#: an epoch row says which run it belongs to in the grid's terms, not only by run id
_EPOCH_RUN_KEYS: Columns = (("arch", "TEXT"), ("codec", "TEXT"), ("level", "INTEGER"), ("seed", "INTEGER"))
EPOCH_COLUMNS: Columns = (("run_id", "TEXT"),) + _EPOCH_RUN_KEYS + tuple(
    (n, t.split()[0]) for n, t in _EPOCHS if n != "run_id")


def _run_rows(store: Store, failed: bool) -> list[dict[str, Any]]:
    return store.runs(None if failed else "done")


def _epoch_rows(store: Store, failed: bool) -> list[dict[str, Any]]:
    runs = {r["run_id"]: r for r in store.runs(None)}
    keys = [n for n, _ in _EPOCH_RUN_KEYS]
    out = []
    for e in store.epochs():
        run = runs.get(e["run_id"], {})
        out.append({"run_id": e["run_id"], **{k: run.get(k) for k in keys},
                    **{k: v for k, v in e.items() if k != "run_id"}})
    return out


@dataclass(frozen=True)
class RowKind:
    """One kind of exported rows: its name (``--epochs`` → 'epochs'), columns, and reader. ``fetch(store,
    failed)`` returns the rows; ``failed`` asks for failed runs too where the kind has them."""

    name: str
    columns: Columns
    fetch: Callable[[Store, bool], list[dict[str, Any]]]
    noun: str


KINDS: dict[str, RowKind] = {
    "runs": RowKind("runs", RUN_COLUMNS, _run_rows, "run"),
    "epochs": RowKind("epochs", EPOCH_COLUMNS, _epoch_rows, "epoch"),
}


def row_kind(name: str) -> RowKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigError(f"unknown kind of rows {name!r}; expected one of {', '.join(KINDS)}",
                          fix="e.g. kind='runs'") from None


def check_target(fmt: str, out: str | os.PathLike | None) -> Path | None:
    """The file to write, or None for standard output. Refuses a format/target pair that cannot work."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format got {fmt!r}; expected one of {', '.join(FORMATS)}", fix="e.g. --format csv")
    to_stdout = out is None or os.fspath(out) == STDOUT
    if fmt == "parquet" and to_stdout:
        raise ConfigError("--format parquet is binary and needs a file", where="--out",
                          fix="add --out FILE.parquet (CSV and JSON can go to standard output)")
    return None if to_stdout else Path(out)


def _plain_json(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _write_csv(rows: list[dict[str, Any]], columns: Columns, fh: IO[str]) -> None:
    names = [n for n, _ in columns]
    w = csv.writer(fh)
    w.writerow(names)
    for r in rows:
        w.writerow(["" if r.get(n) is None else repr(r[n]) if isinstance(r[n], float) else r[n] for n in names])


def _write_json(rows: list[dict[str, Any]], columns: Columns, fh: IO[str]) -> None:
    names = [n for n, _ in columns]
    plain = [{n: _plain_json(r.get(n)) for n in names} for r in rows]
    fh.write(json.dumps(plain, indent=2, allow_nan=False) + "\n")


def _parquet_table(rows: list[dict[str, Any]], columns: Columns):
    import pyarrow as pa

    types = {"TEXT": pa.string(), "REAL": pa.float64(), "INTEGER": pa.int64()}
    schema = pa.schema([(n, types[t]) for n, t in columns])
    return pa.Table.from_pylist([{n: r.get(n) for n, _ in columns} for r in rows], schema=schema)


def write(rows: list[dict[str, Any]], columns: Columns, out: str | os.PathLike | None = None, *,
          fmt: ExportFormat, stream: IO[str] | None = None) -> Path | None:
    """Write ``rows`` (dicts with the ``columns``) as CSV, JSON or Parquet to the file ``out`` (atomically), or to
    ``stream`` (default standard output) when ``out`` is None or '-'. Returns the file written, or None."""
    target = check_target(fmt, out)
    if target is None:
        stream = stream if stream is not None else sys.stdout
        (_write_csv if fmt == "csv" else _write_json)(rows, columns, stream)
        stream.flush()
        return None
    what = f"the {fmt.upper() if fmt != 'parquet' else 'Parquet'} export"
    if fmt == "parquet":
        table = _parquet_table(rows, columns)
        import pyarrow.parquet as pq

        with atomic_path(target, what=what) as tmp:
            pq.write_table(table, tmp)
        return target
    # rendered in memory first: a failure while formatting never reaches the disk
    buf = io.StringIO(newline="")
    (_write_csv if fmt == "csv" else _write_json)(rows, columns, buf)
    with atomic_file(target, what=what, text=True, newline="") as fh:
        fh.write(buf.getvalue())
    return target


def export(store: Store, *, kind: str = "runs", fmt: ExportFormat = "csv", out: str | os.PathLike | None = None,
           failed: bool = False, stream: IO[str] | None = None) -> tuple[int, Path | None]:
    """Export one kind of rows of ``store``; returns (number of rows, the file written or None for a stream)."""
    rk = row_kind(kind)
    check_target(fmt, out)   # refuse before reading anything
    rows = rk.fetch(store, failed)
    return len(rows), write(rows, rk.columns, out, fmt=fmt, stream=stream)


def read_csv(path: str | os.PathLike, columns: Columns) -> list[dict[str, Any]]:
    """Read an exported CSV back with the column types (empty → None)."""
    conv = {"TEXT": str, "REAL": float, "INTEGER": int}
    types = dict(columns)
    with open(path, newline="") as f:
        return [{k: (None if v == "" else conv[types[k]](v)) for k, v in row.items()} for row in csv.DictReader(f)]


def write_predictions(rows: list[dict[str, Any]], labels: tuple[Any, int] | None, path: str | os.PathLike) -> Path:
    """Per-item test predictions of the runs (`Store.runs(predictions=True)`) to ``.npz`` or ``.parquet``.

    npz: ``predictions`` (runs × test items, in the test split's order), ``run_id``, ``arch``, ``codec``,
    ``level_label``, ``seed`` (one entry per run), and ``labels`` (the test split's classes) when stored.
    Parquet: one row per run with the same columns and ``predictions`` as a list; the labels go into the file's
    metadata (key ``helmholtz.test_labels``, JSON). Runs stored before predictions were recorded are left out.
    Written atomically, like every export.
    """
    import numpy as np

    from helmholtz.errors import StoreError
    from helmholtz.sweep.store import decode_predictions

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".parquet", ".pq"):
        raise ConfigError(f"--predictions writes .npz or .parquet; got {path.name!r}", where="--out",
                          fix="e.g. --out predictions.npz")
    have = [r for r in rows if r.get("predictions") is not None]
    if not have:
        raise StoreError("no run in this store has per-item predictions (it was written before they were "
                         "recorded)", where=str(path), fix="re-run the sweep into a new --out to record them")
    preds = np.stack([decode_predictions(r["predictions"], r.get("n_classes")) for r in have])
    meta = {k: [r.get(k) for r in have] for k in ("run_id", "arch", "codec", "level_label", "seed")}
    if suffix == ".npz":
        arrays = {"predictions": preds, **{k: np.asarray(v) for k, v in meta.items()}}
        if labels is not None:
            arrays["labels"] = np.asarray(labels[0])
        with atomic_file(path, what="the predictions export") as fh:
            np.savez_compressed(fh, **arrays)
        return path
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({**meta, "predictions": [p.tolist() for p in preds]})
    if labels is not None:
        table = table.replace_schema_metadata({"helmholtz.test_labels": json.dumps(labels[0].tolist())})
    with atomic_path(path, what="the predictions export") as tmp:
        pq.write_table(table, tmp)
    return path
