"""`helmholtz sweep` and `helmholtz results` through the CLI: the stored sweep and its summary, spec conflicts
(exit 2, one line), --extend, invalid input before any training, exports that round-trip, and Ctrl-C."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helmholtz.cli import app
from helmholtz.sweep.export import EPOCH_COLUMNS, RUN_COLUMNS, read_csv
from helmholtz.sweep.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from conftest import run_cli
from test_sweep_resume import HELMHOLTZ, write_npz  # noqa: E402

TINY_ARGS = ["--epochs", "1", "--width", "0.125", "--optimizer", "adam", "--lr", "0.003", "--batch-size", "32",
             "--precision", "fp32", "--no-augment", "--threads-per-run", "1"]


def _sweep_args(data: Path, out: Path, *extra: str, levels: str = "10,none", seeds: str = "2") -> list[str]:
    return ["sweep", str(data), "--codec", "jpeg", "--levels", levels, "--archs", "A", "--seeds", seeds,
            *TINY_ARGS, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """One small real sweep through the CLI (4 runs), shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("swept")
    data = write_npz(root / "d.npz")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HELMHOLTZ_CACHE", str(root / "cache"))
        result = CliRunner().invoke(app, _sweep_args(data, root / "out", "--json"))
    assert result.exit_code == 0, result.output
    return data, root / "out", json.loads(result.stdout), result.stderr


def _one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_sweep_stores_every_run_and_prints_the_table(swept):
    _, out, summary, log = swept
    assert summary["n_total"] == 4 and summary["n_done_now"] == 4 and summary["n_failed_now"] == 0
    assert summary["store"] == str(out / "results.sqlite")
    with Store(out) as store:
        runs = store.runs()
        assert len(runs) == 4 and {r["level_label"] for r in runs} == {"10", "none"}
        assert store.spec()["data"]["dataset"] == str(swept[0].resolve())
        assert store.spec()["options"]["width"] == 0.125 and store.spec()["seeds"] == [0, 1]
    cells = {(c["level_label"], c["arch"]): c for c in summary["cells"]}
    assert cells[("10", "A")]["n"] == 2
    # the quiet log: one line per level and per run, the level × arch table, and where the store is
    assert log.count("level ") == 2 and "run 4/4 done" in log
    assert "results: " + str(out / "results.sqlite") in log
    table_lines = [ln for ln in log.splitlines() if ln.startswith(("q ", "10 ", "none "))]
    assert len(table_lines) == 3 and "(n=2)" in table_lines[1]


def test_spec_conflict_exits_2_in_one_line_and_changes_nothing(swept, capsys, tmp_path):
    data, out, _, _ = swept
    before = (out / "results.sqlite").read_bytes()
    code, _, err = run_cli(_sweep_args(data, out, "--quiet", levels="20,none"), capsys)
    line = _one_line_error(code, err)
    assert "holds a different sweep (levels: stored [10,none], given [20,none])" in line and "--extend" in line
    assert (out / "results.sqlite").read_bytes() == before


def test_extend_adds_only_the_new_runs(swept, capsys, tmp_path, monkeypatch):
    data, out, _, _ = swept
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with Store(copy) as store:
        old = {r["run_id"]: r for r in store.runs()}
    code, stdout, err = run_cli(_sweep_args(data, copy, "--extend", "--json", seeds="0,1,2"), capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["n_skipped"] == 4 and summary["n_done_now"] == 2 and summary["n_total"] == 6
    with Store(copy) as store:
        new = {r["run_id"]: r for r in store.runs()}
    assert len(new) == 6 and all(new[k] == v for k, v in old.items())
    assert sorted(r["seed"] for k, r in new.items() if k not in old) == [2, 2]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (["--levels", "0,none"], "--levels: JPEG quality must be 1..100; got 0"),
        (["--codec", "mp3", "--levels", "64"], "--codec mp3 compresses audio data but the dataset is image"),
        (["--codec", "none", "--levels", "5"], "--codec none takes no levels"),
        (["--archs", "A,Q"], "unknown architecture 'Q'"),
        (["--seeds", "0"], "--seeds count must be ≥ 1"),
        (["--epochs", "0"], "--epochs must be an integer ≥ 1"),
        (["--levels", "ten"], "--levels got 'ten'"),
        (["--engine", "spark"], "--engine got 'spark'"),
        (["DATASET=missing.npz"], "no such file or directory"),
        (["OUT=file"], "exists and is not a directory"),
    ],
)
def test_invalid_input_fails_in_one_line_before_training(tmp_path, capsys, change, match):
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    args = _sweep_args(data, out, "--quiet")
    if change[0].startswith("DATASET="):
        args[1] = str(tmp_path / change[0].split("=")[1])
    elif change[0].startswith("OUT="):
        out = tmp_path / "file"
        out.write_text("x")
        args[args.index("--out") + 1] = str(out)
    else:
        for flag, value in zip(change[::2], change[1::2], strict=True):
            if flag in args:
                args[args.index(flag) + 1] = value
            else:
                args += [flag, value]
    code, _, err = run_cli(args, capsys)
    assert match in _one_line_error(code, err)
    assert not (tmp_path / "out").exists() and not (out.is_dir() and any(out.iterdir()))


# ---------------------------------------------------------------- results: exports round-trip


def test_results_csv_json_parquet_round_trip(swept, tmp_path, capsys):
    _, out, _, _ = swept
    with Store(out) as store:
        runs, epochs = store.runs(), store.epochs()
    code, stdout, err = run_cli(["results", str(out), "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(stdout) == runs
    code, _, err = run_cli(["results", str(out), "--format", "csv", "--out", str(tmp_path / "r.csv")], capsys)
    assert code == 0 and "wrote 4 run rows" in err
    assert read_csv(tmp_path / "r.csv", RUN_COLUMNS) == runs
    with open(tmp_path / "r.csv", newline="") as f:   # a plain CSV reader sees the same header and numbers
        plain = list(csv.DictReader(f))
    assert [float(r["test_acc"]) for r in plain] == [r["test_acc"] for r in runs]
    code, _, err = run_cli(["results", str(out), "--format", "csv", "--epochs", "--out", str(tmp_path / "e.csv")], capsys)
    exported = read_csv(tmp_path / "e.csv", EPOCH_COLUMNS)
    assert len(epochs) == 4 and [{k: r[k] for k in epochs[0]} for r in exported] == epochs
    code, _, err = run_cli(["results", str(out), "--format", "parquet", "--out", str(tmp_path / "r.parquet")], capsys)
    assert code == 0 and str(tmp_path / "r.parquet") in err
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "r.parquet")
    assert table.to_pylist() == runs
    assert str(table.schema.field("epochs_to_converge").type) == "int64"
    code, _, err = run_cli(["results", str(out), "--format", "parquet", "--epochs", "--out", str(tmp_path / "e.parquet")], capsys)
    assert [{k: r[k] for k in epochs[0]} for r in pq.read_table(tmp_path / "e.parquet").to_pylist()] == epochs


def test_results_table_and_errors(swept, capsys, tmp_path):
    _, out, _, _ = swept
    result = CliRunner().invoke(app, ["results", str(out)])
    assert result.exit_code == 0 and "mean test accuracy" in result.stdout and "(n=2)" in result.stdout
    code, _, err = run_cli(["results", str(tmp_path / "nowhere")], capsys)
    assert "no results store here" in _one_line_error(code, err)
    code, _, err = run_cli(["results", str(out), "--format", "xml"], capsys)
    assert "--format got 'xml'" in _one_line_error(code, err)


# ---------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    import threading

    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    # 20 runs of 10 epochs: far more work than the time between the first stored run and the signal, so the
    # signal always lands mid-sweep (with 6 short runs the sweep sometimes finished first)
    args = [*HELMHOLTZ, *_sweep_args(data, out, "--quiet", seeds="10")]
    args[args.index("--epochs") + 1] = "10"
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # the signal goes when the sweep reports its first finished run on stderr (read as it comes). Polling the
    # store through a second, read-only SQLite connection instead once saw nothing until the sweep had finished,
    # so the signal reached a process already exiting (exit 0, all 20 runs stored)
    lines: list[str] = []
    first_done = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("run 1/"):
                first_done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first_done.wait(timeout=120), "".join(lines)
    assert proc.poll() is None, "".join(lines)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "re-run the same command to resume" in err and "Traceback" not in err
    with Store(out) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = len(store.runs())
    assert 1 <= n < 20
