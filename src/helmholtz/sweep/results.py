"""A sweep directory's results as the API hands them out: its spec and counts, its rows (a DataFrame or dicts),
exports to CSV/JSON/Parquet, the per-item predictions, and the rows the CLI's results table shows.

Every function opens the store itself (`sweep.store.Store`, read only) and closes it before returning.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helmholtz.errors import ConfigError


def check_sweep_dir(run_dir: str | os.PathLike) -> Path:
    """The directory, once its results store opens (StoreError when it holds none)."""
    from helmholtz.sweep.store import Store

    with Store(run_dir):
        pass
    return Path(run_dir)


def store_path(run_dir: str | os.PathLike) -> Path:
    from helmholtz.sweep.store import store_file

    return store_file(run_dir)


def stored_spec(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    from helmholtz.sweep.store import Store

    with Store(run_dir) as store:
        return store.spec()


def stored_counts(run_dir: str | os.PathLike) -> dict[str, int]:
    from helmholtz.sweep.store import Store

    with Store(run_dir) as store:
        return store.counts()


def _rows(run_dir: str | os.PathLike, kind: str, failed: bool) -> tuple[list[dict[str, Any]], Sequence[str]]:
    from helmholtz.sweep.export import row_kind
    from helmholtz.sweep.store import Store

    rk = row_kind(kind)
    with Store(run_dir) as store:
        return rk.fetch(store, failed), [n for n, _ in rk.columns]


def results(run_dir: str | os.PathLike, *, kind: str = "runs", failed: bool = False) -> Any:
    """The stored rows of ``kind`` ('runs' or 'epochs'): a pandas DataFrame when pandas is installed, else a list of
    dicts (`helmholtz.api.results`)."""
    rows, columns = _rows(run_dir, kind, failed)
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame.from_records(rows, columns=list(columns))


def export(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, fmt: str | None = None,
           kind: str = "runs", failed: bool = False, stream: Any = None) -> tuple[int, Path | None]:
    """The rows of ``kind`` as CSV, JSON or Parquet (``fmt``; default from ``out``'s suffix, else CSV) to ``out``
    or standard output (`helmholtz.api.export`). Returns (rows written, the file or None)."""
    from helmholtz.sweep import export as ex
    from helmholtz.sweep.store import Store

    if fmt is None:
        suffix = Path(os.fspath(out)).suffix.lower().lstrip(".") if out is not None and os.fspath(out) != "-" else ""
        if suffix and suffix not in ex.FORMATS:
            raise ConfigError(f"cannot tell the format of {os.fspath(out)!r} from its suffix .{suffix}",
                              where="out", fix=f"name it .csv, .json or .parquet, or pass fmt= one of "
                                                f"{', '.join(ex.FORMATS)}")
        fmt = suffix or "csv"
    ex.check_target(fmt, out)
    with Store(run_dir) as store:
        return ex.export(store, kind=kind, fmt=fmt, out=out, failed=failed, stream=stream)


def export_predictions(run_dir: str | os.PathLike, out: str | os.PathLike | None) -> tuple[int, Path]:
    """Every run's per-item test predictions, and the test labels, to ``out`` (.npz or .parquet); returns (runs
    written, the file)."""
    from helmholtz.sweep.export import write_predictions
    from helmholtz.sweep.store import Store

    if out is None or os.fspath(out) == "-":
        raise ConfigError("--predictions writes a file", where="--out", fix="e.g. --out predictions.npz")
    with Store(run_dir) as store:
        rows, labels = store.runs(predictions=True), store.test_labels()
    path = write_predictions(rows, labels, out)
    return sum(r.get("predictions") is not None for r in rows), path


def table_rows(run_dir: str | os.PathLike, *, epochs: bool = False, failed: bool = False) -> dict[str, Any]:
    """What `helmholtz results DIR` prints as a table: the run (or epoch) rows, where they are, the level column's
    heading, and the per-cell means (levels, archs, {(level, arch): 'mean ± std (n)'})."""
    from helmholtz.sweep.spec import SweepSpec
    from helmholtz.sweep.store import Store
    from helmholtz.sweep.summary import cell_table, format_cell, grid, level_heading

    with Store(run_dir) as store:
        rows = store.epochs() if epochs else store.runs(None if failed else "done")
        spec, where = store.spec() or {}, store.dir
    codecs = list(SweepSpec.from_dict(spec).codecs) if spec else []
    levels, archs, cells = ([], [], {}) if epochs else grid(cell_table(rows, codecs=codecs))
    return {"rows": rows, "where": where, "level_heading": level_heading(codecs), "levels": levels,
            "archs": archs, "cells": {k: format_cell(v) for k, v in cells.items()}}
