"""Every file the tool writes is written whole or not at all (issue defects 1, 9, 10 and the file mode of 13).

A real write failure is produced with RLIMIT_FSIZE in a subprocess: the kernel refuses to grow any file past the
limit (EFBIG), exactly where a full disk refuses with ENOSPC. ENOSPC itself is injected in process, at the point
where the report's figures are written. Stale temporaries come from a writer that is really killed with SIGKILL.
"""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from synthetic_store import write_synthetic_store
from test_sweep_resume import HELMHOLTZ, write_npz

LIMIT = 40_000   # bytes per file: above SQLite's 32 KiB -shm file, below a report figure or a large export


def _limited(limit: int = LIMIT):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------- defect 1: the report


def test_report_that_cannot_be_written_leaves_the_previous_report_intact(tmp_path):
    run = write_synthetic_store(tmp_path / "run")
    first = subprocess.run([*HELMHOLTZ, "report", str(run), "--bootstrap", "50"], capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    before = _snapshot(run / "report")
    assert any(name.endswith(".png") and (run / "report" / name).stat().st_size > LIMIT for name in before)
    again = subprocess.run([*HELMHOLTZ, "report", str(run), "--bootstrap", "60", "--tolerance", "2"],
                           capture_output=True, text=True, timeout=300, preexec_fn=_limited())
    assert again.returncode == 2, again.stderr
    line = _one_error_line(again.stderr)
    assert str(run / "report") in line and "cannot write the report" in line
    assert _snapshot(run / "report") == before            # not one byte of the old report changed
    assert sorted(p.name for p in run.iterdir()) == ["report", "results.sqlite"]   # no temporary left behind


def test_report_on_a_full_disk_is_one_line_and_keeps_the_old_report(tmp_path, capsys, monkeypatch):
    run = write_synthetic_store(tmp_path / "run")
    code, _, err = run_cli(["report", str(run), "--bootstrap", "50"], capsys)
    assert code == 0, err
    before = _snapshot(run / "report")
    import helmholtz.report.build as build

    real = build.write_figures

    def full_disk(analysis, out_dir):   # half a figure lands, then the disk is full
        files = real(analysis, out_dir)
        (out_dir / files[0].png.name).write_bytes(files[0].png_bytes[: len(files[0].png_bytes) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build, "write_figures", full_disk)
    code, _, err = run_cli(["report", str(run), "--bootstrap", "50"], capsys)
    assert code == 2
    assert "no space left on the device" in _one_error_line(err)
    assert _snapshot(run / "report") == before


def test_a_second_report_replaces_the_first_whole_and_keeps_foreign_files(tmp_path, capsys):
    run = write_synthetic_store(tmp_path / "run")
    assert run_cli(["report", str(run), "--bootstrap", "50"], capsys)[0] == 0
    # as if an earlier version had written a figure this one does not: listed in the report's manifest
    import json

    manifest = run / "report" / ".helmholtz-report.json"
    listed = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({"files": [*listed["files"], "old-figure.png"]}))
    (run / "report" / "old-figure.png").write_bytes(b"stale")
    assert run_cli(["report", str(run), "--bootstrap", "50"], capsys)[0] == 0
    assert not (run / "report" / "old-figure.png").exists()
    mine = tmp_path / "mine"   # a folder with the user's own files: the report is merged in, nothing of theirs goes
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert run_cli(["report", str(run), "--out", str(mine), "--bootstrap", "50"], capsys)[0] == 0
    assert (mine / "notes.txt").read_text() == "keep me" and (mine / "report.html").is_file()


# ---------------------------------------------------------------- defect 1: exports, compress, the cache


def test_a_failed_export_leaves_no_file_and_the_previous_one_intact(tmp_path):
    run = write_synthetic_store(tmp_path / "run", seeds=25)   # a CSV of some 100 KB: past the limit
    new = tmp_path / "new.csv"
    proc = subprocess.run([*HELMHOLTZ, "results", str(run), "--format", "csv", "--out", str(new)],
                          capture_output=True, text=True, timeout=120, preexec_fn=_limited())
    assert proc.returncode == 2, proc.stderr
    assert "cannot write the CSV export" in _one_error_line(proc.stderr)
    assert not new.exists()                                    # no 0-byte or partial file
    previous = tmp_path / "previous.csv"
    previous.write_text("the previous export\n")
    proc = subprocess.run([*HELMHOLTZ, "results", str(run), "--format", "csv", "--out", str(previous)],
                          capture_output=True, text=True, timeout=120, preexec_fn=_limited())
    assert proc.returncode == 2 and previous.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["previous.csv", "run"]


def _big_npz(path: Path, n: int = 600) -> Path:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (n, 16, 16, 1), dtype=np.uint8)
    np.savez(path, x=x, y=np.arange(n) % 3)
    return path


def test_compress_on_a_full_disk_is_one_line_and_writes_nothing(tmp_path):
    src = _big_npz(tmp_path / "d.npz")
    out = tmp_path / "o.npz"
    env = {**os.environ, "HELMHOLTZ_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([*HELMHOLTZ, "compress", str(src), "--level", "20", "--out", str(out)], capture_output=True,
                          text=True, timeout=120, preexec_fn=_limited(), env=env)
    assert proc.returncode == 2, proc.stderr
    assert "cannot write the compressed copy" in _one_error_line(proc.stderr)
    # the cache could not be written either: one warning line, not Python's two-line RuntimeWarning
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "codec cache not written" in warnings[0]
    assert "RuntimeWarning" not in proc.stderr and "warn(" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "d.npz"]
    assert list((tmp_path / "cache").iterdir()) == []


def test_unwritable_cache_warns_in_one_line(tmp_path, capsys, monkeypatch):
    src = _big_npz(tmp_path / "d.npz", n=60)
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("HELMHOLTZ_CACHE", str(blocker / "codec"))
    code, _, err = run_cli(["compress", str(src), "--level", "20", "--out", str(tmp_path / "o.npz")], capsys)
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: codec cache not written"), err
    assert str(blocker / "codec") in lines[0]


def test_compress_writes_files_with_the_usual_permissions(tmp_path, capsys):
    src = _big_npz(tmp_path / "d.npz", n=60)
    umask = os.umask(0o022)
    try:
        assert run_cli(["compress", str(src), "--level", "20", "--out", str(tmp_path / "o.npz")], capsys)[0] == 0
        assert run_cli(["results", str(write_synthetic_store(tmp_path / "run")), "--format", "csv", "--out",
                        str(tmp_path / "r.csv")], capsys)[0] == 0
    finally:
        os.umask(umask)
    assert (tmp_path / "o.npz").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "r.csv").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------- defect 9: an .npz from compress reads back whole


@pytest.mark.parametrize("fmt", ["npz", "folder"])
def test_a_compressed_copy_reads_back_with_every_item(tmp_path, capsys, fmt):
    from helmholtz.data import load_dataset

    src = write_npz(tmp_path / "d.npz", n_train=200, n_test=40)
    out = tmp_path / ("o.npz" if fmt == "npz" else "o")
    code, _, err = run_cli(["compress", str(src), "--level", "30", "--out", str(out), "--format", fmt], capsys)
    assert code == 0, err
    original, back = load_dataset(src), load_dataset(out)
    assert sum(back.split_sizes().values()) == sum(original.split_sizes().values()) == 240
    assert back.split_sizes() == original.split_sizes()     # the validation split is carved the same way again
    assert len(back.y_test) == 40


# ---------------------------------------------------------------- defect 10: stale temporaries are removed

WRITER = textwrap.dedent("""
    import sys, time
    from helmholtz.fsutil import temp_path
    tmp = temp_path(sys.argv[1])
    with open(tmp, "wb") as f:
        f.write(b"half a level" * 1000)
        f.flush()
        print(tmp, flush=True)
        time.sleep(600)
""")


def _killed_writer_temp(target: Path) -> Path:
    """A temporary left by a writer that really was killed with SIGKILL mid-write."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    tmp = Path(proc.stdout.readline().strip())          # the writer says when its temporary exists
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert tmp.is_file() and tmp.parent == target.parent
    return tmp


def test_temporaries_of_killed_writers_are_removed_by_the_next_write(tmp_path, capsys, monkeypatch):
    from helmholtz.fsutil import temp_path

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("HELMHOLTZ_CACHE", str(cache))
    dead_cache = _killed_writer_temp(cache / "jpeg-20-0123.npz")
    dead_out = _killed_writer_temp(tmp_path / "o.npz")
    # a temporary of a process that is alive and writing is left alone
    live = temp_path(tmp_path / "being-written.csv")
    live.write_bytes(b"in progress")
    src = _big_npz(tmp_path / "d.npz", n=60)
    code, _, err = run_cli(["compress", str(src), "--level", "20", "--out", str(tmp_path / "o.npz")], capsys)
    assert code == 0, err
    assert not dead_cache.exists() and not dead_out.exists()
    assert live.exists()
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []


def test_a_temporary_older_than_the_process_holding_its_pid_is_stale(tmp_path):
    from helmholtz.fsutil import clean_stale_temps, process_start_time, temp_path

    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        reused = tmp_path / temp_path(tmp_path / "x.npz").name.replace(f"-{os.getpid()}-", f"-{sleeper.pid}-")
        reused.write_bytes(b"old")
        fresh = tmp_path / temp_path(tmp_path / "y.npz").name.replace(f"-{os.getpid()}-", f"-{sleeper.pid}-")
        fresh.write_bytes(b"new")
        started = process_start_time(sleeper.pid)
        assert started is not None
        os.utime(reused, (started - 3600, started - 3600))   # written an hour before that process existed
        removed = clean_stale_temps(tmp_path)
    finally:
        sleeper.stdin.close()
        sleeper.wait(timeout=30)
    assert removed == [reused] and fresh.exists()
