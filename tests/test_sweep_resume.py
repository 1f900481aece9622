"""Resume and extend: a killed sweep redoes only what was not stored, finished runs are never recomputed or
duplicated, --extend trains only the new runs, invalid specs fail before anything is written, failures are
recorded and retried, and the worker-process engine gives the in-process engine's results."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helmholtz.errors import CodecError, ConfigError, DataError, StoreError
from helmholtz.sweep.runner import run_sweep
from helmholtz.sweep.spec import make_sweep_spec
from helmholtz.sweep.store import Store
from helmholtz.train.spec import TrainOptions
from helpers import kill_when

HELMHOLTZ = [str(Path(sys.executable).parent / "helmholtz")]   # the venv's console script
TINY = TrainOptions(epochs=2, patience=5, optimizer="adam", lr=3e-3, batch_size=32, width=0.125, precision="fp32", augment=False)


def write_npz(path: Path, *, n_train: int = 240, n_test: int = 80, seed: int = 0) -> Path:
    """Four classes of 16×16 gray images: a bright quadrant (the class) on noise — learnable in an epoch or two."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % 4
        x = rng.integers(0, 90, (n, 16, 16, 1)).astype(np.uint8)
        for i, c in enumerate(y):
            r, q = (c // 2) * 8, (c % 2) * 8
            x[i, r:r + 8, q:q + 8, 0] += 120
        return x, y

    xt, yt = make(n_train)
    xs, ys = make(n_test)
    np.savez(path, x_train=xt, y_train=yt, x_test=xs, y_test=ys, class_names=np.array(["tl", "tr", "bl", "br"]))
    return path


def sweep(spec, out, **kw):
    """run_sweep with one torch thread per run: on a crowded 2-core machine that is the fastest, and stable."""
    kw.setdefault("threads_per_run", 1)
    return run_sweep(spec, out, quiet=True, **kw)


def _spec(data: Path, **kw):
    base = dict(modality="image", codec="jpeg", levels=[10, None], archs=["A"], seeds=2, options=TINY)
    base.update(kw)
    return make_sweep_spec(str(data), **base)


def _runs(out: Path) -> dict[str, dict]:
    with Store(out) as store:
        return {r["run_id"]: r for r in store.runs(None)}


# ---------------------------------------------------------------- resume in process


def test_rerun_trains_nothing_and_keeps_rows(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    events = []
    first = sweep(_spec(data), tmp_path / "out", on_event=events.append)
    assert first.n_total == 4 and first.n_done_now == 4 and first.n_skipped == 0
    assert sum(e["event"] == "level" for e in events) == 2
    before = _runs(tmp_path / "out")
    events.clear()
    second = sweep(_spec(data), tmp_path / "out", on_event=events.append)
    assert second.n_done_now == 0 and second.n_skipped == 4
    assert not [e for e in events if e["event"] in ("run_start", "level")]   # nothing trained or compressed
    assert _runs(tmp_path / "out") == before
    with Store(tmp_path / "out") as store:
        assert [lv["level_label"] for lv in store.levels()] == ["10", "none"]
        assert store.levels()[0]["codec"] == "jpeg" and store.levels()[0]["bits_total"] > 0
        for run_id, row in before.items():
            assert len(store.epochs(run_id)) == row["epochs_run"]
    cells = {(c["level_label"], c["arch"]): c for c in second.cells}
    assert cells[("10", "A")]["n"] == 2
    accs = [r["test_acc"] for r in before.values() if r["level_label"] == "10"]
    assert cells[("10", "A")]["mean_test_acc"] == pytest.approx(np.mean(accs))


def test_extend_trains_only_the_new_runs(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    sweep(_spec(data, levels=[10], seeds=1), out)
    before = _runs(out)
    with pytest.raises(StoreError, match="holds a different sweep"):
        sweep(_spec(data, levels=[10], archs=["A", "F"], seeds=2), out)
    started = []
    summary = sweep(_spec(data, levels=[10], archs=["A", "F"], seeds=2), out, extend=True,
                        on_event=lambda e: started.append((e["arch"], e["seed"])) if e["event"] == "run_start" else None)
    assert sorted(started) == [("A", 1), ("F", 0), ("F", 1)]
    assert summary.n_skipped == 1 and summary.n_done_now == 3
    after = _runs(out)
    assert len(after) == 4
    for run_id, row in before.items():
        assert after[run_id] == row
    with Store(out) as store:
        assert store.spec()["archs"] == ["A", "F"] and store.spec()["seeds"] == [0, 1]


# ---------------------------------------------------------------- validation before training


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        (dict(levels=[0, None]), CodecError, "JPEG quality must be 1..100; got 0"),
        (dict(modality="audio", codec="mp3", levels=[32, 100, None]), CodecError, "100 kbps is not an MP3"),
        (dict(archs=["Z"]), ConfigError, "unknown architecture 'Z'"),
        (dict(codec="mp3", levels=[64]), ConfigError, "compresses audio data"),
        (dict(modality="audio", codec="mp3", levels=[64]), ConfigError, "the sweep is for audio data but .* holds image"),
        (dict(dataset="missing.npz"), DataError, "no such file"),
    ],
)
def test_invalid_specs_fail_before_anything_is_written(tmp_path, kw, error, match):
    data = write_npz(tmp_path / "d.npz")
    if "dataset" in kw:
        data = tmp_path / kw.pop("dataset")
    out = tmp_path / "out"
    with pytest.raises(error, match=match):
        sweep(_spec(data, **kw), out)
    assert not out.exists()


def test_unwritable_or_foreign_out_fails_before_training(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(StoreError, match="exists and is not a directory"):
        sweep(_spec(data), a_file)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "results.sqlite").write_text("not a database")
    events = []
    with pytest.raises(StoreError, match="not an SQLite file"):
        sweep(_spec(data), foreign, on_event=events.append)
    assert events == [] and (foreign / "results.sqlite").read_text() == "not a database"
    if os.geteuid() != 0:   # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(StoreError, match="not writable"):
                sweep(_spec(data), locked / "out")
        finally:
            locked.chmod(0o700)


# ---------------------------------------------------------------- failures are recorded, then retried


def test_failing_runs_are_recorded_and_retried_on_rerun(tmp_path):
    # an executor that fails seed 1 while the marker file exists: a transient failure, gone on the re-run
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    marker = tmp_path / "fail-seed-1"
    marker.touch()
    summary = sweep(_spec(data, levels=[None]), out, run_fn=_fail_seed_1_while_marker(marker))
    assert summary.n_done_now == 1 and summary.n_failed_now == 1
    (failed,) = _runs_with(out, "failed")
    assert failed["seed"] == 1 and failed["error"].startswith("RuntimeError: transient failure of seed 1")
    marker.unlink()
    again = sweep(_spec(data, levels=[None]), out, run_fn=_fail_seed_1_while_marker(marker))
    assert again.n_skipped == 1 and again.n_done_now == 1 and again.n_failed_now == 0
    assert _runs_with(out, "failed") == [] and len(_runs_with(out, "done")) == 2


def _runs_with(out: Path, status: str) -> list[dict]:
    with Store(out) as store:
        return store.runs(status)


def _fail_seed_1_while_marker(marker: Path):
    from helmholtz.sweep.engine_local import execute_run

    def run(spec, data, **kw):
        if spec["seed"] == 1 and marker.exists():
            raise RuntimeError("transient failure of seed 1")
        return execute_run(spec, data, **kw)

    return run


# ---------------------------------------------------------------- worker processes == in process


def test_worker_processes_give_the_in_process_results(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    spec = _spec(data, levels=[10], archs=["A", "F"], seeds=1)
    local = sweep(spec, tmp_path / "local", threads_per_run=1)
    pool = sweep(spec, tmp_path / "pool", workers=2, threads_per_run=1)
    assert local.n_done_now == pool.n_done_now == 2
    a, b = _runs(tmp_path / "local"), _runs(tmp_path / "pool")
    assert a.keys() == b.keys()
    for run_id in a:
        assert a[run_id]["test_acc"] == b[run_id]["test_acc"]
        assert a[run_id]["best_val_acc"] == b[run_id]["best_val_acc"]
    with Store(tmp_path / "local") as sa, Store(tmp_path / "pool") as sb:
        strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
        assert strip(sa.epochs()) == strip(sb.epochs())


def _worker_dies_on_f0(spec, data, **kw):
    """Runs in a spawned pool worker (imported there by module name); kills its process on run F seed 0."""
    if spec["arch"] == "F" and spec["seed"] == 0:
        os._exit(7)
    from helmholtz.sweep.engine_local import execute_run

    return execute_run(spec, data, **kw)


def test_a_dying_worker_fails_only_its_own_run(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    summary = sweep(_spec(data, levels=[None], archs=["A", "F"], seeds=1), tmp_path / "out", workers=2,
                    run_fn=_worker_dies_on_f0)
    assert summary.n_done_now == 1 and summary.n_failed_now == 1
    (failed,) = _runs_with(tmp_path / "out", "failed")
    assert (failed["arch"], failed["seed"]) == ("F", 0) and "worker process died" in failed["error"]
    assert [(r["arch"], r["seed"]) for r in _runs_with(tmp_path / "out", "done")] == [("A", 0)]


# ---------------------------------------------------------------- SIGKILL in the middle, then resume


def _count_done(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs WHERE status='done'").fetchone()[0]
    except sqlite3.Error:
        return 0   # not created yet, or the schema is being written


def test_sigkill_midway_then_resume_redoes_only_the_unfinished(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    args = [*HELMHOLTZ, "sweep", str(data), "--codec", "jpeg", "--levels", "10,none", "--archs", "A", "--seeds", "2",
            "--epochs", "2", "--threads-per-run", "1", "--width", "0.125", "--optimizer", "adam", "--lr", "0.003", "--batch-size", "32",
            "--precision", "fp32", "--no-augment", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    db = out / "results.sqlite"
    kill_when(proc, lambda: _count_done(db) >= 1, within_s=120, what="no run finished")
    killed_at = _runs(out)
    n_stored = len(killed_at)
    assert 1 <= n_stored < 4, "the kill must land between the first and the last run"
    with Store(out) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for run_id, row in killed_at.items():   # stored runs are whole: every epoch is there
            assert row["status"] == "done" and len(store.epochs(run_id)) == row["epochs_run"]

    resumed = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["n_total"] == 4 and summary["n_skipped"] == n_stored and summary["n_done_now"] == 4 - n_stored
    final = _runs(out)
    assert len(final) == 4 and all(r["status"] == "done" for r in final.values())
    with Store(out) as store:
        ids = [r[0] for r in store._conn.execute("SELECT run_id FROM runs")]
        assert len(ids) == len(set(ids)) == 4
    for run_id, row in killed_at.items():   # not recomputed: the very same rows
        assert final[run_id]["started_at"] == row["started_at"] and final[run_id]["finished_at"] == row["finished_at"]
        assert final[run_id]["wall_s"] == row["wall_s"]
