"""Bring your own results: a CSV or Parquet table of runs from any pipeline → `Observations` for `analyze`.

One row per run, with columns:

- ``model``: the architecture's name;
- ``level``: a label; ``none`` or ``original`` marks the reference (the uncompressed data);
- ``seed``: an integer; seed s should mean the same training randomness at every level, so differences pair;
- ``bits`` (optional): measured bits per pixel, or kbps, at the level (the same for every row of a level); without
  it, levels are ordered by their numeric label (a larger number keeps more bits, as a JPEG quality or a bitrate);
- ``params`` (optional): the model's parameter count (models are ordered by it);
- ``n_classes`` (optional): for the chance-level check;
- either ``correct``: a string of 0/1, one character per test item, in the same item order in every row (this
  pairs every difference over items), or ``accuracy`` (a fraction) and ``n_test`` (the test items);
- ``test_level`` (optional, default: ``level``): the level whose test split the row was scored on. Rows with a
  ``test_level`` other than their ``level`` are the train × test-level matrix (`analysis.matrix`): a model
  trained at ``level`` and deployed on ``test_level`` data, compared with the models trained at ``test_level``;
- ``epochs`` or ``budget`` (optional): the training budget of the run. With two or more budgets in one table, the
  smallest is the answer's and each longer one is a training-budget check (`analysis.budget`): runs of different
  budgets never mix in one verdict, and the same (model, level, seed) may appear once per budget.

Every problem is one `DataError` naming the file, the row or column, and the fix.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from helmholtz.analysis.observations import REFERENCE, Cell, LevelInfo, Observations, sort_levels
from helmholtz.checks import SEED_MAX, check_regular_file
from helmholtz.errors import DataError

REQUIRED = ("model", "level", "seed")
BUDGET_COLUMNS = ("epochs", "budget")
_REFERENCE_NAMES = {"none", "original", "orig"}


#: the suffixes of a results table (anything else is a sweep directory where a command takes either)
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def is_table(path: str | os.PathLike) -> bool:
    """A results table (by its suffix), not a sweep directory."""
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def check_table(path: str | os.PathLike | None) -> None:
    """A path that must be a results table: .csv or .parquet (None passes: no table given)."""
    if path is not None and not is_table(path):
        suffix = Path(path).suffix
        raise DataError(f"unknown table format {suffix or '(no extension)'!r}", where=str(path),
                        fix="use a .csv or .parquet file")


def _read_rows(path: Path) -> list[dict[str, Any]]:
    check_table(path)
    check_regular_file(path, fix="pass a CSV or Parquet file of runs")
    try:
        if path.suffix.lower() == ".csv":
            return _read_csv(path)
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    except FileNotFoundError:
        raise DataError("no such file", where=str(path), fix="pass a CSV or Parquet file of runs") from None
    except (OSError, UnicodeDecodeError, ValueError) as ex:
        raise DataError(f"cannot read the table: {str(ex).splitlines()[0]}", where=str(path),
                        fix="write it as UTF-8 CSV with a header row, or as Parquet") from None


def _read_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a CSV table. ``utf-8-sig``: a byte-order mark (Excel writes one) is not part of the first column's
    name. A ``correct`` string holds one character per test item, so a field may be as long as the file: the csv
    module's limit (128 KiB) is raised to the file's size while it is read, then put back."""
    import csv

    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, min(path.stat().st_size + 1, sys.maxsize)))
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [dict(r) for r in csv.DictReader(f)]
    except csv.Error as ex:
        raise DataError(f"cannot read the table: {str(ex).splitlines()[0]}", where=str(path),
                        fix="write it as UTF-8 CSV with a header row, or as Parquet") from None
    finally:
        csv.field_size_limit(limit)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v))


def _num(v: Any, *, kind: type, where: str, column: str) -> Any:
    try:
        x = kind(float(v)) if kind is int and not isinstance(v, int) else kind(v)
    except (TypeError, ValueError):
        raise DataError(f"column {column!r} must be a number; got {v!r}", where=where,
                        fix=f"write a {'whole number' if kind is int else 'number'} in every row of {column!r}") from None
    if kind is int and float(v) != x:
        raise DataError(f"column {column!r} must be a whole number; got {v!r}", where=where, fix="use integers")
    return x


def _seed(v: Any, *, where: str) -> int:
    """A seed, exactly: through float, 2**70 + 1 and 2**70 + 2 would be one seed, and a uint64 would not parse. Then
    the project's seed rule (0..2³²−1), as for ``--seed``."""
    import numbers

    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        x = int(v)
    else:
        text = str(v).strip()
        try:
            x = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                raise DataError(f"column 'seed' must be a whole number; got {v!r}", where=where,
                                fix="write an integer seed in every row") from None
            if not math.isfinite(f) or not f.is_integer():
                raise DataError(f"column 'seed' must be a whole number; got {v!r}", where=where,
                                fix="write an integer seed in every row") from None
            x = int(f)
    if not 0 <= x <= SEED_MAX:
        raise DataError(f"seed {x} is outside 0..{SEED_MAX}", where=where,
                        fix=f"use seeds in 0..{SEED_MAX}, as --seed does (the same seed, the same training randomness)")
    return x


def read_table(path: str | os.PathLike) -> Observations:
    """Observations from a runs table (see the module docstring); with several budgets, the smallest one's. Raises
    DataError for every malformed input."""
    by_budget = read_budgets(path)
    return by_budget[min(by_budget)]


def read_budgets(path: str | os.PathLike) -> dict[int, Observations]:
    """Observations per training budget (the ``epochs`` or ``budget`` column; one budget, keyed 0, without it)."""
    path = Path(path)
    rows = _read_rows(path)
    if not rows:
        raise DataError("the table has no rows", where=str(path), fix="write one row per run")
    columns = set(rows[0])
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise DataError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
                        f"(columns: {', '.join(sorted(columns))})", where=str(path),
                        fix="add them: model, level, seed, and either correct or accuracy + n_test")
    per_item = "correct" in columns
    if not per_item and not {"accuracy", "n_test"} <= columns:
        raise DataError("neither a 'correct' column nor 'accuracy' and 'n_test'", where=str(path),
                        fix="add 'correct' (0/1 per test item) or both 'accuracy' and 'n_test'")
    numbered = list(enumerate(rows, start=2 if path.suffix.lower() == ".csv" else 1))   # a CSV's row 1 is its header
    column = next((c for c in BUDGET_COLUMNS if c in columns), None)
    if column is None:
        return {0: _build(numbered, path=path, per_item=per_item)}
    groups: dict[int, list[tuple[int, Mapping[str, Any]]]] = {}
    for i, row in numbered:
        where = f"{path}: row {i}"
        if _blank(row.get(column)):
            raise DataError(f"empty {column!r}", where=where, fix=f"fill {column!r} in every row, or drop the column")
        b = _num(row[column], kind=int, where=where, column=column)
        if b < 1:
            raise DataError(f"{column!r} must be ≥ 1; got {b}", where=where, fix="write the run's epoch budget")
        groups.setdefault(b, []).append((i, row))
    out = {b: _build(g, path=path, per_item=per_item) for b, g in sorted(groups.items())}
    if len(out) > 1:
        primary = min(out)
        out[primary] = replace(out[primary], notes=out[primary].notes + (
            f"the table has runs at {len(out)} training budgets ({', '.join(map(str, out))} {column}); the answer "
            f"is drawn from {primary} alone and the longer ones are a training-budget check",))
    return out


def _level_of(row: Mapping[str, Any]) -> str:
    label = str(row["level"]).strip()
    return REFERENCE if label.lower() in _REFERENCE_NAMES else label


def _build(rows: Sequence[tuple[int, Mapping[str, Any]]], *, path: Path, per_item: bool) -> Observations:
    """Observations of ``rows`` (row number in the file, row)."""
    seen: dict[tuple[str, str, str, int], int] = {}
    bits: dict[str, float | None] = {}
    cross_values: dict[tuple[str, str, str], list[tuple[int, float, np.ndarray | None, int]]] = {}
    params: dict[str, int | None] = {}
    values: dict[tuple[str, str], list[tuple[int, float, np.ndarray | None, int]]] = {}
    n_items = None
    n_classes = None
    warnings: list[str] = []
    for i, row in rows:
        where = f"{path}: row {i}"
        for c in REQUIRED:
            if _blank(row.get(c)):
                raise DataError(f"empty {c!r}", where=where, fix=f"fill {c!r} in every row")
        model, level = str(row["model"]).strip(), _level_of(row)
        test = level if _blank(row.get("test_level")) else _level_of({"level": row["test_level"]})
        seed = _seed(row["seed"], where=where)
        key = (model, level, test, seed)
        if key in seen:
            tested = "" if test == level else f", tested at {test}"
            raise DataError(f"duplicate run: model {model}, level {level}{tested}, seed {seed} (also row {seen[key]})",
                            where=where, fix="keep one row per (model, level, test_level, seed)")
        seen[key] = i
        into = values if test == level else cross_values
        cell_key = (model, level) if test == level else (model, level, test)
        if test == level and not _blank(row.get("bits")):   # a cross row's bits would be its train level's
            b = _num(row["bits"], kind=float, where=where, column="bits")
            if not b > 0:
                raise DataError(f"'bits' must be positive; got {b}", where=where, fix="write measured bits > 0")
            if bits.get(level) not in (None, b):
                raise DataError(f"level {level} has bits {bits[level]} and {b} in different rows", where=where,
                                fix="write the same measured bits in every row of a level")
            bits[level] = b
        elif test == level:
            bits.setdefault(level, None)
        if not _blank(row.get("params")):
            params[model] = _num(row["params"], kind=int, where=where, column="params")
        else:
            params.setdefault(model, None)
        if not _blank(row.get("n_classes")):
            n_classes = _num(row["n_classes"], kind=int, where=where, column="n_classes")
            if n_classes < 2:
                raise DataError(f"'n_classes' must be ≥ 2 (a task with {n_classes} class has nothing to learn)",
                                where=where, fix="write the number of classes of the task, or leave the column out")
        if per_item:
            text = str(row["correct"]).strip() if not _blank(row.get("correct")) else ""
            if not text or set(text) - {"0", "1"}:
                raise DataError("'correct' must be a string of 0 and 1, one per test item", where=where,
                                fix="write e.g. 0110…, the same item order in every row")
            if n_items is None:
                n_items = len(text)
            elif len(text) != n_items:
                raise DataError(f"ragged 'correct': {len(text)} items here, {n_items} in the first row", where=where,
                                fix="every row must score the same test items, in the same order")
            correct = np.frombuffer(text.encode(), dtype=np.uint8) == ord("1")
            if "accuracy" in row and not _blank(row.get("accuracy")):
                acc = _num(row["accuracy"], kind=float, where=where, column="accuracy")
                if abs(acc - correct.mean()) > 1.0 / n_items + 1e-9:
                    raise DataError(f"'accuracy' {acc} contradicts 'correct' ({int(correct.sum())} of {n_items} "
                                    f"items right = {correct.mean():.6g})", where=where,
                                    fix="drop the 'accuracy' column (it is read from 'correct') or fix the row")
            into.setdefault(cell_key, []).append((seed, float(correct.mean()), correct, n_items))
        else:
            acc = _num(row["accuracy"], kind=float, where=where, column="accuracy")
            n_test = _num(row["n_test"], kind=int, where=where, column="n_test")
            if not 0.0 <= acc <= 1.0:
                raise DataError(f"'accuracy' must be a fraction in [0, 1]; got {acc}", where=where,
                                fix="write 0.87, not 87")
            if n_test < 1:
                raise DataError(f"'n_test' must be ≥ 1; got {n_test}", where=where, fix="write the test-set size")
            if n_items is None:
                n_items = n_test
            elif n_test != n_items:
                raise DataError(f"'n_test' is {n_test} here and {n_items} in the first row", where=where,
                                fix="score every run on the same test set (differences pair only over one test set)")
            k = acc * n_test
            if abs(k - round(k)) > 0.01 and not warnings:
                warnings.append(f"{where}: accuracy {acc} is not a count out of n_test {n_test} "
                                f"({k:.2f} of {n_test} items); check the accuracy and n_test columns")
            into.setdefault(cell_key, []).append((seed, acc, None, n_test))
    models = sorted(params, key=lambda m: (params[m] is None, params[m] or 0, m))
    # a model without its own original still enters the comparisons at the levels it shares (a focused start
    # trains the comparison model only there); N_approx needs an original, so at least one model must have it
    if not any((m, REFERENCE) in values for m in models):
        raise DataError("no reference level ('none' or 'original') for any model", where=str(path),
                        fix="add rows for the uncompressed original with level 'none' (for every model whose "
                            "N_approx you want)")
    labels = [lv for lv in bits if lv != REFERENCE]
    if any(bits[lv] is None for lv in labels) and not all(_is_number(lv) for lv in labels):
        raise DataError("levels without 'bits' must be numbers (a larger number keeps more bits)", where=str(path),
                        fix="add a 'bits' column with the measured bits of every level")
    levels = [LevelInfo(key=REFERENCE, codec="none", level=None, display="the original", bits=bits.get(REFERENCE),
                        bits_total=bits.get(REFERENCE), raw_bits=bits.get(REFERENCE))]
    for lv in labels:
        number = int(float(lv)) if _is_number(lv) and float(lv).is_integer() else None
        levels.append(LevelInfo(key=lv, codec="custom", level=number, display=lv, bits=bits[lv],
                                bits_total=bits[lv], raw_bits=bits.get(REFERENCE)))
    def cell(model: str, level: str, vals: list) -> Cell:
        vals.sort(key=lambda t: t[0])
        return Cell(model=model, level=level, seeds=tuple(v[0] for v in vals), acc=np.array([v[1] for v in vals]),
                    correct=np.stack([v[2] for v in vals]) if per_item else None, n_test=vals[0][3])

    cells = {(m, lv): cell(m, lv, vals) for (m, lv), vals in values.items()}
    cross = {}
    for (m, t, s), vals in cross_values.items():
        for lv in (t, s):
            if (m, lv) not in values:
                raise DataError(f"model {m} has rows trained at {t} and tested at {s}, but no row trained and tested "
                                f"at {lv}", where=str(path),
                                fix=f"add the runs of {m} at level {lv} (test_level {lv}, or the column left empty)")
        cross[(m, t, s)] = cell(m, s, vals)
    notes = tuple(warnings) + (() if per_item else (
        "accuracies without per-item results: differences are paired over seeds only, "
        "and the test set's binomial variance is added per cell",))
    return Observations(levels=sort_levels(levels), models=tuple(models), params=params, cells=cells, unit="bits",
                        modality="custom", n_classes=n_classes, notes=notes, cross=cross)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
