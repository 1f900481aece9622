"""The results store's schema: its tables and columns as data, the creation of a new store, the check that an open
SQLite file is a helmholtz store of a version this code reads, and the upgrade of an older one. stdlib only.

Version history: 1 had no per-item predictions; 2 added them (and the test labels) but no model provenance nor
cross evaluations; 3 has both. Columns added within a version (`V3_RUN_COLUMNS`) are optional: NULL in older rows,
so no version bump shuts out the code that predates them.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from helmholtz.errors import StoreError

SCHEMA_VERSION = "3"
#: versions this code reads; an older store (1: no per-item predictions; 2: no model provenance, no cross
#: evaluations) is upgraded when a sweep writes to it
READABLE_VERSIONS = ("1", "2", "3")

#: LevelStats fields stored as columns beside the full stats JSON (codecs/cache.py)
LEVEL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("level_label", "TEXT PRIMARY KEY"), ("codec", "TEXT"), ("level", "INTEGER"), ("stats_json", "TEXT"),
    ("encoder", "TEXT"), ("unit", "TEXT"), ("bytes_total_mean", "REAL"), ("bytes_payload_mean", "REAL"),
    ("bits_total", "REAL"), ("bits_payload", "REAL"), ("raw_bits", "REAL"), ("compression_ratio", "REAL"),
    ("fidelity_db", "REAL"), ("n_items", "INTEGER"),
)
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "TEXT PRIMARY KEY"), ("status", "TEXT NOT NULL"), ("arch", "TEXT"), ("codec", "TEXT"),
    ("level", "INTEGER"), ("level_label", "TEXT"), ("seed", "INTEGER"), ("spec_json", "TEXT"),
    ("test_acc", "REAL"), ("test_loss", "REAL"), ("best_val_acc", "REAL"), ("best_epoch", "INTEGER"),
    ("epochs_to_converge", "INTEGER"), ("epochs_run", "INTEGER"), ("stopped_early", "INTEGER"),
    ("wall_s", "REAL"), ("train_items_per_s", "REAL"), ("n_params", "INTEGER"), ("device", "TEXT"),
    ("precision", "TEXT"), ("versions_json", "TEXT"), ("code_version", "TEXT"), ("host_json", "TEXT"),
    ("error", "TEXT"), ("started_at", "TEXT"), ("finished_at", "TEXT"), ("n_test", "INTEGER"),
    ("n_classes", "INTEGER"), ("model_json", "TEXT"), ("engine", "TEXT"),
)
#: the per-item predictions of a run: its predicted class for every test item, in the test split's order, as a
#: uint8 (≤ 256 classes) or uint16 array; kept out of RUN_COLUMNS so exports and tables stay small
PREDICTIONS_COLUMN = ("predictions", "BLOB")
PLAN_TABLE = ("CREATE TABLE IF NOT EXISTS plan (step INTEGER PRIMARY KEY, kind TEXT, reason TEXT, runs_json TEXT, "
              "state TEXT, created_at TEXT)")
#: a finished run's best-validation model evaluated on the test split of another level (or its own): the
#: train-level × test-level matrix. Predictions in the same compact form as the run's own.
CROSS_TABLE = ("CREATE TABLE IF NOT EXISTS cross_eval (run_id TEXT, test_label TEXT, test_acc REAL, predictions BLOB, "
               "seconds REAL, PRIMARY KEY (run_id, test_label))")
#: columns added in schema versions 2 and 3 (ALTER TABLE on upgrade)
V2_RUN_COLUMNS = (("n_test", "INTEGER"), ("n_classes", "INTEGER"), PREDICTIONS_COLUMN, ("model_json", "TEXT"))
#: columns added within version 3 (ALTER TABLE on upgrade, NULL in the rows written before): optional, so code
#: that predates them still reads and writes the store, and no version bump shuts it out. ``engine``: the name of
#: the engine that ran the run (`sweep.engines`)
V3_RUN_COLUMNS = (("engine", "TEXT"),)
EPOCH_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "TEXT"), ("epoch", "INTEGER"), ("train_loss", "REAL"), ("train_acc", "REAL"), ("val_loss", "REAL"),
    ("val_acc", "REAL"), ("lr", "REAL"), ("seconds", "REAL"),
)

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE levels ({", ".join(f"{n} {t}" for n, t in LEVEL_COLUMNS)});
CREATE TABLE runs ({", ".join(f"{n} {t}" for n, t in (*RUN_COLUMNS, PREDICTIONS_COLUMN))});
CREATE TABLE epochs ({", ".join(f"{n} {t}" for n, t in EPOCH_COLUMNS)}, PRIMARY KEY (run_id, epoch));
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_cell ON runs (level_label, arch);
CREATE TABLE test_labels (data_hash TEXT PRIMARY KEY, n_classes INTEGER, labels BLOB);
CREATE TABLE plan (step INTEGER PRIMARY KEY, kind TEXT, reason TEXT, runs_json TEXT, state TEXT, created_at TEXT);
""" + CROSS_TABLE + ";\n"


def utc_now() -> str:
    """The current UTC time as the store writes it (ISO 8601, whole seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the tables in the open database."""
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def check_or_create(conn: sqlite3.Connection, *, create: bool, where: str) -> None:
    """Check that ``conn`` is a healthy helmholtz store of a readable version (one-line `StoreError` naming
    ``where`` otherwise); with ``create``, give an empty database the schema first."""
    check = conn.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise StoreError(f"the results store is corrupt ({check})", where=where, fix="restore it from a backup, or use a new --out")
    found = tables(conn)
    if not found:
        if not create:
            raise StoreError("not a helmholtz results store (no tables)", where=where, fix="point at a sweep's --out directory")
        # Two sweeps may create the same new store at the same moment: the check is repeated under the write
        # lock, so the loser finds the winner's tables instead of failing on "table meta already exists".
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not tables(conn):
                for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(stmt)
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?), ('created_at', ?)", (SCHEMA_VERSION, utc_now()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        found = tables(conn)
    if not {"meta", "levels", "runs", "epochs"} <= found:
        raise StoreError(
            f"not a helmholtz results store (tables: {', '.join(sorted(found))})", where=where,
            fix="point at a sweep's --out directory, or use a new --out",
        )
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        raise StoreError("not a helmholtz results store (no schema_version)", where=where, fix="use a new --out")
    if row[0] not in READABLE_VERSIONS:
        raise StoreError(
            f"store schema version {row[0]} is not the supported {SCHEMA_VERSION}", where=where,
            fix="open it with the helmholtz version that wrote it, or use a new --out",
        )


def missing_run_columns(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """The columns of `V2_RUN_COLUMNS` and `V3_RUN_COLUMNS` that the ``runs`` table lacks, as (name, type)."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    return [(n, t) for n, t in (*V2_RUN_COLUMNS, *V3_RUN_COLUMNS) if n not in have]


def upgrade_schema(conn: sqlite3.Connection, missing: list[tuple[str, str]]) -> None:
    """Add the ``missing`` run columns and the tables of later versions, and mark the store as `SCHEMA_VERSION`.
    Runs inside the caller's transaction."""
    for name, kind in missing:
        conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    conn.execute("CREATE TABLE IF NOT EXISTS test_labels (data_hash TEXT PRIMARY KEY, n_classes INTEGER, "
                 "labels BLOB)")
    conn.execute(PLAN_TABLE)
    conn.execute(CROSS_TABLE)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (SCHEMA_VERSION,))
