"""The SQLite results store: schema, one transaction per run, spec conflicts and --extend, refusing foreign or
corrupt files without touching them, and surviving a crash in the middle of a run's write."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from helmholtz.errors import StoreError
from helmholtz.sweep.spec import expand, make_sweep_spec
from helmholtz.sweep.store import Store
from helmholtz.train.spec import EpochRow, RunResult, TrainOptions

# the columns of docs/ARCHITECTURE.md, typed here independently of the code
DOC_RUN_COLUMNS = [
    "run_id", "status", "arch", "codec", "level", "level_label", "seed", "spec_json", "test_acc", "test_loss",
    "best_val_acc", "best_epoch", "epochs_to_converge", "epochs_run", "stopped_early", "wall_s", "train_items_per_s",
    "n_params", "device", "precision", "versions_json", "code_version", "host_json", "error", "started_at", "finished_at",
    "n_test", "n_classes", "model_json", "engine", "predictions",
]
DOC_EPOCH_COLUMNS = ["run_id", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"]
DOC_LEVEL_STATS = ["codec", "level", "encoder", "unit", "bytes_total_mean", "bytes_payload_mean", "bits_total",
                   "bits_payload", "raw_bits", "compression_ratio", "fidelity_db", "n_items"]


def _spec(**kw):
    base = dict(modality="image", levels=[10, None], archs=["A", "F"], seeds=2, data_hash="h0",
                options=TrainOptions(epochs=3))
    base.update(kw)
    return make_sweep_spec("data.npz", **base)


def _result(run, *, acc: float = 0.5, n_epochs: int = 3) -> tuple[RunResult, list[EpochRow]]:
    epochs = [EpochRow(epoch=e, train_loss=1.0 / e, train_acc=0.1 * e, val_loss=1.1 / e, val_acc=acc - 0.01 * (n_epochs - e),
                       lr=0.01, seconds=0.25) for e in range(1, n_epochs + 1)]
    res = RunResult(
        run_id=run.run_id, spec=run.to_dict(), test_acc=acc, test_loss=0.123456789, best_val_acc=acc, best_epoch=n_epochs,
        epochs_to_converge=None, epochs_run=n_epochs, stopped_early=False, wall_s=1.5, train_items_per_s=1234.5,
        n_params=4242, device="cpu (test, 2 threads)", precision="fp32", versions={"torch": "x"}, code_version="0.1.0",
        host={"hostname": "h"}, started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:01+00:00",
    )
    return res, epochs


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_schema_matches_the_architecture_doc(tmp_path):
    with Store(tmp_path, create=True) as store:
        conn = store._conn
        cols = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in ("meta", "levels", "runs", "epochs")}
        assert cols["runs"] == DOC_RUN_COLUMNS
        assert cols["epochs"] == DOC_EPOCH_COLUMNS
        assert cols["meta"] == ["key", "value"]
        assert cols["levels"][:4] == ["level_label", "codec", "level", "stats_json"]
        assert set(DOC_LEVEL_STATS) <= set(cols["levels"])
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / "results.sqlite").exists()


def test_runs_levels_epochs_round_trip(tmp_path):
    spec = _spec()
    runs = expand(spec)
    with Store(tmp_path, create=True) as store:
        assert store.spec() is None and store.done_ids() == set()
        assert store.init_spec(spec.to_dict()) == spec.to_dict()
        res, eps = _result(runs[0], acc=0.8125)
        assert store.put_run(res, eps) is True
        store.put_failure(runs[1], "RuntimeError: boom\ntraceback…")
        store.put_level({"codec": "jpeg", "level": 10, "encoder": "enc 1", "unit": "pixel", "bytes_total_mean": 400.5,
                         "bytes_payload_mean": 60.25, "bits_total": 4.08, "bits_payload": 0.61, "raw_bits": 8.0,
                         "compression_ratio": 1.96, "fidelity_db": 31.5, "n_items": 90})
        store.put_level({"codec": "none", "level": None, "encoder": "none", "unit": "pixel", "bytes_total_mean": 784.0,
                         "bytes_payload_mean": 784.0, "bits_total": 8.0, "bits_payload": 8.0, "raw_bits": 8.0,
                         "compression_ratio": 1.0, "fidelity_db": None, "n_items": 90})
    with Store(tmp_path) as store:  # reopened: everything persisted
        assert store.spec() == spec.to_dict()
        assert store.done_ids() == {runs[0].run_id}
        assert store.counts() == {"done": 1, "failed": 1}
        (done,) = store.runs()
        assert done["test_acc"] == 0.8125 and done["test_loss"] == 0.123456789 and done["n_params"] == 4242
        assert done["level"] == 10 and done["level_label"] == "10" and done["arch"] == "A" and done["seed"] == 0
        assert done["stopped_early"] == 0 and done["status"] == "done" and done["error"] is None
        assert done["started_at"] == res.started_at
        failed = store.runs("failed")[0]
        assert failed["run_id"] == runs[1].run_id and failed["error"].startswith("RuntimeError: boom")
        assert failed["test_acc"] is None
        assert [r["status"] for r in store.runs(None)] == ["done", "failed"]
        rows = store.epochs(runs[0].run_id)
        assert [r["epoch"] for r in rows] == [1, 2, 3]
        assert rows[2]["val_acc"] == eps[2].val_acc and rows[0]["train_loss"] == 1.0
        assert store.epochs() == rows and store.epochs(runs[1].run_id) == []
        levels = store.levels()
        assert [lv["level_label"] for lv in levels] == ["10", "none"]
        assert levels[0]["bits_payload"] == 0.61 and levels[1]["fidelity_db"] is None and levels[1]["codec"] == "none"


def test_done_run_is_never_overwritten_and_failure_is_replaced_by_success(tmp_path):
    runs = expand(_spec())
    with Store(tmp_path, create=True) as store:
        store.put_failure(runs[0], "first attempt failed")
        res, eps = _result(runs[0], acc=0.7)
        assert store.put_run(res, eps)
        assert store.runs(None)[0]["status"] == "done"
        other, other_eps = _result(runs[0], acc=0.1, n_epochs=1)
        assert store.put_run(other, other_eps) is False
        assert store.put_failure(runs[0], "late failure") is False
        (row,) = store.runs(None)
        assert row["test_acc"] == 0.7 and row["error"] is None
        assert len(store.epochs(runs[0].run_id)) == 3


def test_a_run_is_written_in_one_transaction(tmp_path, monkeypatch):
    runs = expand(_spec())
    with Store(tmp_path, create=True) as store:
        def broken(*a, **k):
            raise sqlite3.IntegrityError("disk trouble between the run row and its epochs")

        monkeypatch.setattr(store, "_insert_epochs", broken)
        with pytest.raises(sqlite3.IntegrityError):
            store.put_run(*_result(runs[0]))
        assert store.runs(None) == [] and store.epochs() == []


def test_spec_conflict_is_refused_and_extend_records_the_union(tmp_path):
    spec = _spec(levels=[10, None], archs=["A"], seeds=[0])
    with Store(tmp_path, create=True) as store:
        store.init_spec(spec.to_dict())
        assert store.init_spec(spec.to_dict()) == spec.to_dict()   # the same spec resumes
        other = _spec(levels=[20, None], archs=["A"], seeds=[0])
        with pytest.raises(StoreError, match=r"holds a different sweep \(levels: stored \[10,none\], given \[20,none\]\).*--extend.*new --out"):
            store.init_spec(other.to_dict())
        assert store.spec() == spec.to_dict()
        union = store.init_spec(other.to_dict(), extend=True)
        assert union["levels"] == [10, 20, None]
        assert store.spec() == union
        changed = _spec(levels=[20], archs=["A"], seeds=[0], options=TrainOptions(epochs=9))
        with pytest.raises(StoreError, match=r"options\.epochs: stored 3, given 9"):
            store.init_spec(changed.to_dict(), extend=True)
        assert store.spec() == union


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no results store here.*--out directory"):
        Store(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_foreign_and_corrupt_files_are_refused_untouched(tmp_path):
    text = tmp_path / "text" / "results.sqlite"
    text.parent.mkdir()
    text.write_text("name,value\nnot,sqlite\n" * 50)
    foreign = tmp_path / "foreign" / "results.sqlite"
    foreign.parent.mkdir()
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE songs (title TEXT)")
        c.execute("INSERT INTO songs VALUES ('x')")
    c.close()
    good = tmp_path / "good"
    with Store(good, create=True) as store:
        spec = _spec()
        store.init_spec(spec.to_dict())
        for run in expand(spec)[:3]:
            store.put_run(*_result(run))
    blob = (good / "results.sqlite").read_bytes()
    truncated = tmp_path / "trunc" / "results.sqlite"
    truncated.parent.mkdir()
    truncated.write_bytes(blob[: len(blob) // 2])
    cases = [(text, "not an SQLite file"), (foreign, r"not a helmholtz results store \(tables: songs\)"),
             (truncated, "corrupt|not an SQLite")]
    for path, match in cases:
        before = _digest(path)
        for create in (False, True):
            with pytest.raises(StoreError, match=match) as info:
                Store(path.parent, create=create)
            assert "\n" not in str(info.value)
        assert _digest(path) == before, f"{path} was modified"
        assert sorted(p.name for p in path.parent.iterdir()) == ["results.sqlite"]


CRASH_SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {tests!r})
    from test_store import _result, _spec
    from helmholtz.sweep.spec import expand
    from helmholtz.sweep.store import Store

    store = Store({path!r})
    run = expand(_spec())[2]
    res, eps = _result(run, acc=0.99)
    with store._transaction() as conn:
        store._insert_run_row(conn, res.to_dict())
        store._insert_epochs(conn, run.run_id, [vars(e) for e in eps[:1]])
        os._exit(3)   # the process dies mid-transaction: no COMMIT, no ROLLBACK, no cleanup
""")


def test_store_survives_a_crash_during_a_runs_write(tmp_path):
    spec = _spec()
    runs = expand(spec)
    with Store(tmp_path, create=True) as store:
        store.init_spec(spec.to_dict())
        for run in runs[:2]:
            store.put_run(*_result(run, acc=0.6))
    script = CRASH_SCRIPT.format(tests=str(Path(__file__).parent), path=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    with Store(tmp_path) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.done_ids() == {runs[0].run_id, runs[1].run_id}
        assert runs[2].run_id not in {r["run_id"] for r in store.runs(None)}
        assert store.epochs(runs[2].run_id) == []
        assert [r["test_acc"] for r in store.runs()] == [0.6, 0.6]
        assert len(store.epochs()) == 6
        # and the store still takes writes after the crash
        assert store.put_run(*_result(runs[2], acc=0.9))


def test_reader_sees_committed_runs_while_a_writer_holds_the_store(tmp_path):
    spec = _spec()
    runs = expand(spec)
    with Store(tmp_path, create=True) as writer, Store(tmp_path) as reader:
        writer.init_spec(spec.to_dict())
        writer.put_run(*_result(runs[0]))
        assert reader.done_ids() == {runs[0].run_id}
        with writer._transaction() as conn:   # an open write transaction does not block WAL readers
            writer._insert_run_row(conn, replace(_result(runs[1])[0]).to_dict())
            assert reader.done_ids() == {runs[0].run_id}
        assert reader.done_ids() == {runs[0].run_id, runs[1].run_id}


def test_predictions_round_trip_and_test_labels(tmp_path):
    import numpy as np

    from helmholtz.sweep.store import decode_predictions

    spec = _spec()
    run = expand(spec)[0]
    res, epochs = _result(run)
    pred = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.uint8)
    res = replace(res, test_predictions=pred, n_test=8, n_classes=10)
    with Store(tmp_path, create=True) as store:
        store.init_spec(spec.to_dict())
        store.put_test_labels("h0", np.array([3, 1, 4, 0, 5, 9, 2, 6]), 10)
        store.put_run(res, epochs)
        plain = store.runs()
        full = store.runs(predictions=True)
        labels, k = store.test_labels()
    assert "predictions" not in plain[0]          # exports and tables stay small
    assert np.array_equal(decode_predictions(full[0]["predictions"], 10), pred)
    assert (full[0]["n_test"], full[0]["n_classes"], k) == (8, 10, 10)
    assert labels.tolist() == [3, 1, 4, 0, 5, 9, 2, 6]


def test_a_version_1_store_is_read_as_it_is_and_upgraded_before_a_sweep_writes(tmp_path):
    import sqlite3

    spec = _spec()
    run = expand(spec)[0]
    res, epochs = _result(run)
    with Store(tmp_path, create=True) as store:
        store.init_spec(spec.to_dict())
        store.put_run(res, epochs)
    # make it look like a store written before predictions existed: drop the v2 columns and table
    conn = sqlite3.connect(tmp_path / "results.sqlite")
    conn.execute("ALTER TABLE runs DROP COLUMN predictions")
    conn.execute("ALTER TABLE runs DROP COLUMN n_test")
    conn.execute("ALTER TABLE runs DROP COLUMN n_classes")
    conn.execute("ALTER TABLE runs DROP COLUMN model_json")
    conn.execute("DROP TABLE test_labels")
    conn.execute("DROP TABLE cross_eval")
    conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with Store(tmp_path) as store:
        assert store.schema_version == "1"
        rows = store.runs(predictions=True)
        assert rows[0]["test_acc"] == 0.5 and "predictions" not in rows[0] and store.test_labels() is None
        store.upgrade()
        assert store.schema_version == "3"
        assert store.runs(predictions=True)[0]["predictions"] is None
        assert store.runs()[0]["test_acc"] == 0.5          # the old run is still there, unchanged
