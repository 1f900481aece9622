"""`helmholtz results` exports behave like Unix tools: CSV and JSON on standard output unless --out FILE (``-`` is
standard output too), Parquet only into a file, no file for --format table, epoch rows that say which run they
belong to. The API's `export` follows the same conventions."""

from __future__ import annotations

import csv
import io
import json

import pytest

from conftest import run_cli
from helmholtz.sweep.export import EPOCH_COLUMNS, KINDS, RUN_COLUMNS
from helmholtz.sweep.store import Store
from synthetic_store import write_synthetic_store


@pytest.fixture
def run(tmp_path):
    out = write_synthetic_store(tmp_path / "run")
    # two epochs per run, so the epoch export has rows to join with their runs
    with Store(out) as store:
        runs = store.runs()
    from helmholtz.train.spec import EpochRow

    with Store(out) as store:
        for r in runs:
            rows = [EpochRow(epoch=e, train_loss=1.0 / e, train_acc=0.5, val_loss=1.0, val_acc=0.5, lr=1e-3,
                             seconds=1.0) for e in (1, 2)]
            store._write(lambda c, r=r, rows=rows: store._insert_epochs(c, r["run_id"], [vars(x) for x in rows]))
    return out


def test_csv_and_json_go_to_stdout_by_default_and_with_dash(run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["results", str(run), "--format", "csv"], capsys)
    assert code == 0 and err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 28 and list(rows[0]) == [n for n, _ in RUN_COLUMNS]
    assert not (run / "results.csv").exists()
    code, out, _ = run_cli(["results", str(run), "--format", "csv", "--out", "-"], capsys)
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 28
    assert not (tmp_path / "-").exists()
    code, out, _ = run_cli(["results", str(run), "--format", "json", "--out", "-"], capsys)
    assert code == 0 and len(json.loads(out)) == 28


def test_parquet_needs_a_file_and_table_writes_none(run, tmp_path, capsys):
    code, _, err = run_cli(["results", str(run), "--format", "parquet"], capsys)
    assert code == 2 and "--format parquet is binary and needs a file" in err
    code, _, err = run_cli(["results", str(run), "--format", "parquet", "--out", "-"], capsys)
    assert code == 2 and "needs a file" in err
    code, _, err = run_cli(["results", str(run), "--out", str(tmp_path / "t.txt")], capsys)
    assert code == 2 and "--format table prints to the terminal" in err
    assert not (tmp_path / "t.txt").exists()
    assert sorted(p.name for p in run.iterdir()) == ["results.sqlite"]


def test_epoch_rows_carry_arch_level_and_seed(run, capsys):
    code, out, _ = run_cli(["results", str(run), "--format", "json", "--epochs"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 56 and list(rows[0]) == [n for n, _ in EPOCH_COLUMNS]
    with Store(run) as store:
        by_id = {r["run_id"]: r for r in store.runs()}
    for row in rows:
        for key in ("arch", "codec", "level", "seed"):
            assert row[key] == by_id[row["run_id"]][key]


def test_the_api_export_follows_the_same_conventions(run, tmp_path):
    import helmholtz as hz
    from helmholtz.errors import ConfigError

    buf = io.StringIO()
    n, target = hz.export(run, stream=buf)
    assert (n, target) == (28, None) and buf.getvalue().startswith("run_id,status,")
    n, target = hz.export(run, tmp_path / "e.parquet", kind="epochs")   # the format follows the suffix
    import pyarrow.parquet as pq

    assert target == tmp_path / "e.parquet" and pq.read_table(target).num_rows == n == 56
    with pytest.raises(ConfigError, match="needs a file"):
        hz.export(run, fmt="parquet")
    assert set(KINDS) >= {"runs", "epochs"}
