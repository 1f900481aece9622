"""The results store: one SQLite file per sweep directory (``DIR/results.sqlite``), stdlib sqlite3 only, no torch.

It holds the sweep spec, one row per compression level (the measured `LevelStats`), one row per finished or failed
run (the full RunSpec, metrics, timings, library versions, host, the engine that ran it) and one row per epoch. A
run's rows are written in ONE transaction when the run finishes, so a sweep killed at any moment leaves either the
whole run or none of it; a run without a row is redone from the start, and a 'done' row is never redone nor
duplicated (the run id, the hash of the RunSpec, is the primary key). WAL mode lets `helmholtz report` read while
a sweep writes. Only one process writes: the sweep's driver (the Ray engine ships results back to it).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any, Literal

from helmholtz.codecs.registry import level_label
from helmholtz.errors import StoreError
from helmholtz.sweep.spec import invalid_points, points_text
from helmholtz.sweep.spec_diff import merge_extend, spec_differences
from helmholtz.sweep.store_open import STORE_FILE, open_store, store_file, write_error
from helmholtz.sweep.store_schema import (
    EPOCH_COLUMNS,
    LEVEL_COLUMNS,
    PLAN_TABLE,
    PREDICTIONS_COLUMN,
    READABLE_VERSIONS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    missing_run_columns,
    tables,
    upgrade_schema,
    utc_now,
)
from helmholtz.train.spec import RunSpec

__all__ = [
    "EPOCH_COLUMNS", "LEVEL_COLUMNS", "PREDICTIONS_COLUMN", "READABLE_VERSIONS", "RUN_COLUMNS", "SCHEMA_VERSION",
    "STORE_FILE", "RunStatus", "Store", "decode_predictions", "encode_predictions", "store_file",
]

RunStatus = Literal["done", "failed"]
_ORDER_RUNS = "ORDER BY level IS NULL, codec, level, arch, seed, run_id"


def _plain(obj: Any) -> dict[str, Any]:
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, dict):
        return obj
    raise TypeError(f"expected a dataclass or dict, got {type(obj).__name__}")


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def encode_predictions(values: Any, n_classes: int | None) -> bytes:
    """Class indices as compact bytes: uint8 up to 256 classes, else uint16."""
    import numpy as np

    dtype = np.uint8 if (n_classes or 0) <= 256 else np.uint16
    return np.asarray(values).astype(dtype).tobytes()


def decode_predictions(blob: bytes, n_classes: int | None) -> Any:
    """The inverse of `encode_predictions`: a numpy array of class indices."""
    import numpy as np

    return np.frombuffer(bytes(blob), dtype=np.uint8 if (n_classes or 0) <= 256 else np.uint16)


class Store:
    """The SQLite results store of one sweep directory. ``create=True`` makes the directory and file if missing.

    Opening a file that is not a helmholtz store, or a corrupt one, raises a one-line `StoreError` and leaves the
    file untouched (`sweep.store_open`; the tables are in `sweep.store_schema`).
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = False) -> None:
        self.path = store_file(path)
        self.dir = self.path.parent
        self._conn, self.read_only = open_store(self.path, create=create)


    @property
    def schema_version(self) -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return str(row[0])

    def upgrade(self) -> None:
        """Bring an older store up to date: a version-1 store to version 2 (per-item predictions, test labels), a
        version-2 one to 3 (model provenance, cross evaluations), and any store to the optional columns added since
        (`store_schema.V3_RUN_COLUMNS`). Runs already stored stay as they are (a version-1 run is analysed without
        pairing over items; a new column is NULL in old rows). Called by the sweep before it writes."""
        missing = missing_run_columns(self._conn)
        if self.schema_version == SCHEMA_VERSION and not missing:
            return
        self._write(upgrade_schema, missing)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; anything raised (or a crash) before COMMIT leaves no trace."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _write(self, fn, *args: Any) -> Any:
        try:
            with self._transaction() as conn:
                return fn(conn, *args)
        except sqlite3.DatabaseError as ex:
            err = write_error(ex, where=str(self.path))
            if err is None:
                raise
            raise err from None

    # ---------------------------------------------------------------- the sweep spec
    def spec(self) -> dict[str, Any] | None:
        """The stored sweep spec (a `SweepSpec.to_dict()`), or None before `init_spec`."""
        row = self._conn.execute("SELECT value FROM meta WHERE key='sweep_spec'").fetchone()
        return None if row is None else json.loads(row[0])

    def init_spec(self, spec_dict: dict[str, Any], *, extend: bool = False) -> dict[str, Any]:
        """Record the sweep spec, or check it against the stored one; returns the spec the directory now holds.

        The same spec resumes. A different one is refused (StoreError naming what differs), unless ``extend``
        and it only adds levels, archs or seeds: then the union is recorded.
        """
        given = json.loads(_json(spec_dict))
        stored = self.spec()
        bad = [] if stored is None else invalid_points(stored)
        if bad:
            # written by a helmholtz that checked less (e.g. MP3 100 kbps): those levels can never run
            raise StoreError(
                f"{self.dir} holds a sweep with levels no codec can run ({points_text((c, v) for c, v, _ in bad)}: "
                f"{bad[0][2]})",
                fix=f"`helmholtz repair {self.dir}` drops them (finished runs stay); then re-run, with --extend to add "
                    "levels",
            )
        if stored == given:
            return stored
        if stored is not None and not extend:
            diffs = spec_differences(stored, given)
            raise StoreError(
                f"{self.dir} holds a different sweep ({'; '.join(diffs)})",
                fix="re-run with the stored options to resume, add --extend to add codecs/levels/archs/seeds, or use "
                    "a new --out",
            )
        new = given if stored is None else merge_extend(stored, given)
        if new != stored:
            self._write(lambda c: c.execute("INSERT OR REPLACE INTO meta VALUES ('sweep_spec', ?)", (_json(new),)))
        return new

    # ---------------------------------------------------------------- levels
    def put_level(self, stats: Any) -> None:
        """Store one level's LevelStats (dataclass or dict), under its registry label ('20', 'webp:40', 'none')."""
        d = _plain(stats)
        level = d.get("level")
        codec = "none" if level is None else d.get("codec")
        row = {"level_label": level_label(codec, level, check=False), "codec": codec, "level": level,
               "stats_json": _json(d)}
        for name, _ in LEVEL_COLUMNS[4:]:
            row[name] = d.get(name)
        cols = [n for n, _ in LEVEL_COLUMNS]
        sql = f"INSERT OR REPLACE INTO levels ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self._write(lambda c: c.execute(sql, [row[n] for n in cols]))

    def levels(self) -> list[dict[str, Any]]:
        """One dict per stored level (the `levels` columns): codec by codec, levels ascending, 'none' last."""
        return self._rows("SELECT * FROM levels ORDER BY level IS NULL, codec, level")

    # ---------------------------------------------------------------- runs
    def put_run(self, result: Any, epochs: Sequence[Any], *, engine: str | None = None) -> bool:
        """Store a finished run and its epochs in ONE transaction, with the name of the ``engine`` that ran it.
        Returns False (and writes nothing) when the run is already stored as done: a finished run is never redone
        nor duplicated."""
        r = {**_plain(result), "engine": engine}
        rows = [_plain(e) for e in epochs]

        def write(conn: sqlite3.Connection) -> bool:
            if self._is_done(conn, r["run_id"]):
                return False
            self._insert_run_row(conn, r)
            self._insert_epochs(conn, r["run_id"], rows)
            return True

        return self._write(write)

    def _is_done(self, conn: sqlite3.Connection, run_id: str) -> bool:
        row = conn.execute("SELECT status FROM runs WHERE run_id=?", (run_id,)).fetchone()
        return row is not None and row[0] == "done"

    def _insert_run_row(self, conn: sqlite3.Connection, r: dict[str, Any]) -> None:
        spec = r["spec"]
        row = {
            "run_id": r["run_id"], "status": "done", "arch": spec["arch"], "codec": spec["codec"],
            "level": spec["level"], "level_label": level_label(spec["codec"], spec["level"], check=False),
            "seed": spec["seed"], "spec_json": _json(spec), "versions_json": _json(r.get("versions", {})),
            "host_json": _json(r.get("host", {})), "error": None,
            "stopped_early": int(bool(r.get("stopped_early"))),
            "model_json": None if r.get("model") is None else _json(r["model"]),
        }
        for name, _ in RUN_COLUMNS:
            if name not in row:
                row[name] = r.get(name)
        pred = r.get("test_predictions")
        row["predictions"] = None if pred is None else encode_predictions(pred, r.get("n_classes"))
        self._upsert_run(conn, row)

    def _insert_epochs(self, conn: sqlite3.Connection, run_id: str, rows: list[dict[str, Any]]) -> None:
        conn.execute("DELETE FROM epochs WHERE run_id=?", (run_id,))
        cols = [n for n, _ in EPOCH_COLUMNS]
        conn.executemany(
            f"INSERT INTO epochs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [[run_id if n == "run_id" else e[n] for n in cols] for e in rows],
        )

    def _upsert_run(self, conn: sqlite3.Connection, row: dict[str, Any]) -> None:
        cols = [n for n, _ in RUN_COLUMNS] + (["predictions"] if "predictions" in row else [])
        conn.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row.get(n) for n in cols],
        )

    def put_failure(self, run_spec: Any, error: str, *, started_at: str | None = None, engine: str | None = None) -> bool:
        """Record a run that raised (after the engine's retries) with its error and the ``engine``'s name. A later
        sweep retries it; a 'done' row is never overwritten (returns False then)."""
        spec = _plain(run_spec)
        run_id = RunSpec.from_dict(spec).run_id
        row = {
            "run_id": run_id, "status": "failed", "arch": spec["arch"], "codec": spec["codec"], "level": spec["level"],
            "level_label": level_label(spec["codec"], spec["level"], check=False), "seed": spec["seed"],
            "spec_json": _json(spec), "error": str(error), "started_at": started_at, "finished_at": utc_now(),
            "engine": engine,
        }

        def write(conn: sqlite3.Connection) -> bool:
            if self._is_done(conn, run_id):
                return False
            conn.execute("DELETE FROM epochs WHERE run_id=?", (run_id,))
            self._upsert_run(conn, row)
            return True

        return self._write(write)

    def done_ids(self) -> set[str]:
        """Ids of the finished runs: these are skipped when the sweep resumes."""
        return {r[0] for r in self._conn.execute("SELECT run_id FROM runs WHERE status='done'")}

    def runs(self, status: RunStatus | None = "done", *, predictions: bool = False) -> list[dict[str, Any]]:
        """One dict per run (the `runs` columns); ``status=None`` gives done and failed runs. ``predictions=True``
        adds each run's per-item predictions (bytes, see `decode_predictions`; None for runs without them)."""
        have = {r[1] for r in self._conn.execute("PRAGMA table_info(runs)")}
        cols = [n for n, _ in RUN_COLUMNS if n in have]
        if predictions and "predictions" in have:
            cols.append("predictions")
        select = f"SELECT {', '.join(cols)} FROM runs"
        if status is None:
            return self._rows(f"{select} {_ORDER_RUNS}")
        return self._rows(f"{select} WHERE status=? {_ORDER_RUNS}", (status,))

    # ---------------------------------------------------------------- the train × test-level matrix
    def put_cross(self, run_id: str, test_label: str, *, predictions: Any, n_classes: int | None, test_acc: float,
                  seconds: float) -> None:
        """One finished run's model evaluated on the test split of level ``test_label`` (one transaction)."""
        blob = encode_predictions(predictions, n_classes)
        self._write(lambda c: c.execute("INSERT OR REPLACE INTO cross_eval VALUES (?, ?, ?, ?, ?)",
                                        (run_id, test_label, float(test_acc), blob, float(seconds))))

    def cross(self, *, predictions: bool = False) -> list[dict[str, Any]]:
        """Every cross evaluation: run_id, test_label, test_acc, seconds (and the predictions' bytes)."""
        if "cross_eval" not in tables(self._conn):
            return []
        cols = "run_id, test_label, test_acc, seconds" + (", predictions" if predictions else "")
        return self._rows(f"SELECT {cols} FROM cross_eval ORDER BY run_id, test_label")

    # ---------------------------------------------------------------- the adaptive sweep's plan
    def put_plan_step(self, *, kind: str, reason: str, runs: Sequence[dict[str, Any]], state: str = "") -> int:
        """Record one decision of an adaptive sweep: the runs it adds (dicts with arch, level, seed) and why, in one
        transaction; returns the step number. Steps are never rewritten: a resumed sweep trains what they hold."""
        def write(conn: sqlite3.Connection) -> int:
            conn.execute(PLAN_TABLE)
            step = conn.execute("SELECT COALESCE(MAX(step), 0) + 1 FROM plan").fetchone()[0]
            conn.execute("INSERT INTO plan VALUES (?, ?, ?, ?, ?, ?)",
                         (step, kind, reason, _json(list(runs)), state, utc_now()))
            return int(step)

        return self._write(write)

    def plan_steps(self) -> list[dict[str, Any]]:
        """The adaptive sweep's decisions in order: step, kind, reason, runs (a list of dicts), state, created_at."""
        if "plan" not in tables(self._conn):
            return []
        rows = self._rows("SELECT * FROM plan ORDER BY step")
        for r in rows:
            r["runs"] = json.loads(r.pop("runs_json") or "[]")
        return rows

    # ---------------------------------------------------------------- repair (helmholtz repair)
    def replace_spec(self, spec_dict: dict[str, Any], *, drop_labels: Sequence[str] = ()) -> dict[str, int]:
        """Replace the stored sweep spec and, in the same transaction, delete the failed runs and the level rows
        of the levels ``drop_labels`` (they left the grid). Finished runs are never deleted: the caller refuses to
        drop a level that has one. Returns the rows deleted per table. Only `helmholtz.sweep.repair` calls this."""
        labels = list(drop_labels)

        def write(conn: sqlite3.Connection) -> dict[str, int]:
            marks = ", ".join("?" * len(labels))
            gone = {"runs": 0, "levels": 0}
            if labels:
                ids = [r[0] for r in conn.execute(
                    f"SELECT run_id FROM runs WHERE status != 'done' AND level_label IN ({marks})", labels)]
                conn.executemany("DELETE FROM epochs WHERE run_id=?", [(i,) for i in ids])
                gone["runs"] = conn.execute(f"DELETE FROM runs WHERE status != 'done' AND level_label IN ({marks})",
                                            labels).rowcount
                gone["levels"] = conn.execute(f"DELETE FROM levels WHERE level_label IN ({marks})", labels).rowcount
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('sweep_spec', ?)", (_json(spec_dict),))
            return gone

        return self._write(write)

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key`` in the meta table (not part of the sweep's identity)."""
        self._write(lambda c: c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _json(value))))

    def get_meta(self, key: str) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    # ---------------------------------------------------------------- test labels (for per-item pairing)
    def put_test_labels(self, data_hash: str, labels: Any, n_classes: int) -> None:
        """The test split's labels, once per dataset: per-item predictions are scored against them."""
        blob = encode_predictions(labels, n_classes)
        self._write(lambda c: c.execute("INSERT OR REPLACE INTO test_labels VALUES (?, ?, ?)",
                                        (data_hash, int(n_classes), blob)))

    def test_labels(self) -> tuple[Any, int] | None:
        """(labels as a numpy array, number of classes) of the sweep's test split, or None when not stored."""
        if "test_labels" not in tables(self._conn):
            return None
        spec = self.spec() or {}
        data_hash = (spec.get("data") or {}).get("data_hash")
        row = self._conn.execute("SELECT n_classes, labels FROM test_labels WHERE data_hash=?", (data_hash,)).fetchone()
        if row is None:
            return None
        return decode_predictions(row[1], row[0]), int(row[0])

    def epochs(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Per-epoch rows (the `epochs` columns) of one run, or of every run, ordered by run and epoch."""
        if run_id is None:
            return self._rows("SELECT * FROM epochs ORDER BY run_id, epoch")
        return self._rows("SELECT * FROM epochs WHERE run_id=? ORDER BY epoch", (run_id,))

    def counts(self) -> dict[str, int]:
        """Number of runs per status, e.g. {'done': 12, 'failed': 1}."""
        return {r[0]: r[1] for r in self._conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status")}

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        try:
            return [dict(r) for r in self._conn.execute(sql, params)]
        except sqlite3.DatabaseError as ex:
            raise StoreError(f"cannot read the results store: {ex}", where=str(self.path), fix="check the file, or re-run the sweep into a new --out") from None
