"""Defect 2: healthy stores are never called corrupt. A store in a read-only folder is readable by `results` and
`report`; the loser of two processes creating the same new store finds the winner's store; a truly damaged file
is still reported as corrupt.

Root ignores file permissions, so as root the read-only case runs under ``setpriv`` without the capabilities that
override them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): exactly what an ordinary user meets.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess

import pytest

from helmholtz.errors import StoreError
from helmholtz.sweep.store import Store
from synthetic_store import write_synthetic_store
from test_sweep_resume import HELMHOLTZ


def _as_ordinary_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot take away root's file access")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


@pytest.fixture
def read_only_store(tmp_path):
    run = write_synthetic_store(tmp_path / "run")
    assert sorted(p.name for p in run.iterdir()) == ["results.sqlite"]   # closed cleanly: no -wal, no -shm
    (run / "results.sqlite").chmod(0o444)
    run.chmod(0o555)
    yield run
    run.chmod(0o755)


def test_results_and_report_read_a_store_in_a_read_only_folder(read_only_store, tmp_path):
    prefix = _as_ordinary_user()
    proc = subprocess.run([*prefix, *HELMHOLTZ, "results", str(read_only_store), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 28
    proc = subprocess.run([*prefix, *HELMHOLTZ, "report", str(read_only_store), "--out", str(tmp_path / "rep"),
                           "--bootstrap", "50"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rep" / "report.html").is_file()
    assert sorted(p.name for p in read_only_store.iterdir()) == ["results.sqlite"]


def test_writing_into_a_read_only_folder_says_so_and_never_corrupt(read_only_store, tmp_path):
    prefix = _as_ordinary_user()
    proc = subprocess.run([*prefix, *HELMHOLTZ, "report", str(read_only_store), "--bootstrap", "50"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "corrupt" not in proc.stderr and "backup" not in proc.stderr and "Traceback" not in proc.stderr
    assert "permission denied" in proc.stderr


def test_the_loser_of_a_store_creation_race_finds_the_winners_store(tmp_path, monkeypatch):
    """Two processes create the same new store: the other one commits its schema between our look at the empty
    file and our write lock. We must find its tables, not fail on 'table meta already exists'."""
    real_connect = sqlite3.connect
    raced = []

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)

        def trace(sql: str) -> None:
            if not raced and sql.strip().upper().startswith("BEGIN IMMEDIATE"):
                raced.append(sql)
                with Store(tmp_path, create=True) as winner:   # the other process, at exactly this moment
                    winner.init_spec({"winner": True})
        conn.set_trace_callback(trace)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    with Store(tmp_path, create=True) as loser:
        assert raced, "the race was not provoked"
        assert loser.spec() == {"winner": True}
        assert loser.runs(None) == []


def test_a_damaged_file_is_still_called_corrupt(tmp_path):
    run = write_synthetic_store(tmp_path / "run")
    blob = (run / "results.sqlite").read_bytes()
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    # keep the header, scramble the pages: SQLite itself reports a malformed database
    (damaged / "results.sqlite").write_bytes(blob[:100] + bytes(len(blob) - 100))
    with pytest.raises(StoreError, match="corrupt") as info:
        Store(damaged)
    assert "\n" not in str(info.value)
