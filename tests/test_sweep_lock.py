"""Defects 3, 6 and 7: one sweep at a time per --out (refused with the holder's PID and host; a lock left by kill -9
never blocks), pool workers die with their parent, and a sweep with failed runs exits non-zero.

Synchronisation is on events: a driver's run announces itself with a marker file, and the death of a process is
awaited on its pidfd.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import run_cli
from helmholtz.errors import StoreError
from helmholtz.sweep.runner import run_sweep
from test_sweep_resume import TINY, _spec, write_npz

TESTS = str(Path(__file__).parent)

DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from sweep_helpers import block_forever
    from test_sweep_resume import _spec
    from helmholtz.sweep.runner import run_sweep

    run_sweep(_spec({data!r}, levels=[None], archs=["A", "F"], seeds=1), {out!r}, quiet=True, threads_per_run=1,
              workers={workers}, run_fn=block_forever)
""")


def _start_driver(tmp_path: Path, data: Path, out: Path, *, workers: int) -> tuple[subprocess.Popen, Path]:
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    script = DRIVER.format(tests=TESTS, data=str(data), out=str(out), workers=workers)
    env = {**os.environ, "HELMHOLTZ_TEST_MARKERS": str(markers)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    return proc, markers


def _wait_for_markers(proc: subprocess.Popen, markers: Path, n: int) -> list[Path]:
    """Block until ``n`` runs have announced themselves (inotify-free: the driver cannot finish, so this ends)."""
    deadline = time.monotonic() + 180
    while len(found := sorted(markers.iterdir())) < n:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the driver's runs never started"
        time.sleep(0.05)
    return found


def _wait_gone(pids: list[int], timeout: float = 60.0) -> list[int]:
    """Wait on each process's pidfd (readable once it exits); return those still alive after ``timeout``."""
    alive = []
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                alive.append(pid)
        finally:
            os.close(fd)
    return alive


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- defect 3: the lock


def test_a_second_sweep_on_a_folder_in_use_is_refused_and_a_killed_ones_lock_is_not(tmp_path, capsys):
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    proc, markers = _start_driver(tmp_path, data, out, workers=1)
    try:
        _wait_for_markers(proc, markers, 1)
        holder = f"PID {proc.pid} on host {socket.gethostname()}"
        with pytest.raises(StoreError, match=f"another sweep is using this folder: {holder}"):
            run_sweep(_spec(data, levels=[None], archs=["A", "F"], seeds=1), out, quiet=True, threads_per_run=1)
        # the CLI, and an --extend, get the same single line
        args = ["sweep", str(data), "--codec", "none", "--archs", "A,F", "--seeds", "1,", "--epochs", "2",
                "--width", "0.125", "--optimizer", "adam", "--batch-size", "32", "--precision", "fp32",
                "--no-augment", "--threads-per-run", "1", "--out", str(out), "--quiet"]
        for extra in ([], ["--extend"]):
            code, _, err = run_cli(args + extra, capsys)
            assert code == 2 and holder in err and f"kill {proc.pid}" in err and len(err.strip().splitlines()) == 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    from helmholtz.sweep.lock import LOCK_FILE

    assert (out / LOCK_FILE).exists()   # kill -9 left the lock file behind ...
    started = []
    summary = run_sweep(_spec(data, levels=[None], archs=["A", "F"], seeds=1), out, quiet=True, threads_per_run=1,
                        on_event=lambda e: started.append(e["arch"]) if e["event"] == "run_start" else None)
    assert summary.n_done_now == 2 and sorted(started) == ["A", "F"]   # ... and it did not block: each run once
    assert not (out / LOCK_FILE).exists()


# ---------------------------------------------------------------- defect 6: workers die with their parent


def test_killing_a_workers_sweep_leaves_no_process_behind(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    proc, markers = _start_driver(tmp_path, data, tmp_path / "out", workers=2)
    descendants: list[int] = []
    try:
        found = _wait_for_markers(proc, markers, 2)
        workers = [int(m.name.split("-")[0]) for m in found]
        descendants = _children(proc.pid)          # the two workers and the multiprocessing resource tracker
        assert set(workers) <= set(descendants) and len(descendants) >= 3
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        alive = _wait_gone(descendants)
        assert alive == [], f"still running after their parent was killed: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stderr.close()
        _kill(descendants)


# ---------------------------------------------------------------- defect 7: failed runs make the exit status


@pytest.mark.parametrize(("archs", "failed"), [("F", "1 of 1 runs failed"), ("A,F", "1 of 2 runs failed")])
def test_a_sweep_with_failed_runs_exits_1_and_says_which(tmp_path, capsys, monkeypatch, archs, failed):
    import helmholtz.sweep.engine_local as engine

    real = engine.execute_run

    def fail_f(spec, data, **kwargs):
        if spec["arch"] == "F":
            raise RuntimeError("no training for arch F")
        return real(spec, data, **kwargs)

    monkeypatch.setattr(engine, "execute_run", fail_f)
    data = write_npz(tmp_path / "d.npz")
    code, _, err = run_cli(["sweep", str(data), "--codec", "jpeg", "--levels", "10", "--archs", archs, "--seeds", "1",
                            "--epochs", "1", "--width", "0.125", "--optimizer", "adam", "--batch-size", "32",
                            "--precision", "fp32", "--no-augment", "--threads-per-run", "1", "--out",
                            str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: {failed} (10/F/seed 0)") and "finished runs are stored" in last
    assert "Traceback" not in err


def test_a_one_class_dataset_is_refused_at_load(tmp_path, capsys):
    import numpy as np

    path = tmp_path / "one.npz"
    np.savez(path, x=np.zeros((20, 8, 8), np.uint8), y=np.zeros(20, np.int64))
    code, _, err = run_cli(["inspect", str(path)], capsys)
    assert code == 2 and str(path) in err and "only one class" in err and len(err.strip().splitlines()) == 1


assert TINY.epochs == 2   # the driver's sweeps use the resume tests' tiny recipe
