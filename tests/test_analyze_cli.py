"""`helmholtz analyze FILE`: results from any pipeline, as CSV or Parquet, get the same analysis and report as a
sweep; every malformed table gets one line and exit status 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import run_cli
from helmholtz.analysis import analyze
from helmholtz.analysis.byo import read_table
from helmholtz.analysis.simulate import Truth, simulate
from helmholtz.errors import DataError

COLUMNS = ("model", "level", "bits", "seed", "params", "correct")


def table_rows(obs, *, per_item=True):
    rows = []
    for (model, level), cell in obs.cells.items():
        lv = obs.level(level)
        for i, seed in enumerate(cell.seeds):
            row = {"model": model, "level": "original" if level == "none" else f"q{lv.level}", "bits": lv.bits,
                   "seed": seed, "params": obs.params[model], "n_classes": 10}
            if per_item:
                row["correct"] = "".join("1" if c else "0" for c in cell.correct[i])
            else:
                row["accuracy"], row["n_test"] = float(cell.acc[i]), cell.correct.shape[1]
            rows.append(row)
    return rows


def write_csv(path: Path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def sim():
    return simulate(Truth("knee", step_pp=5), levels=(5, 10, 20, 50, 90, None), seeds=6, n_items=1500,
                    seed_sd=0.002, cell_sd=0.001, rho=0.95)


def test_csv_gives_the_same_analysis_as_the_observations(sim, tmp_path):
    back = read_table(write_csv(tmp_path / "runs.csv", table_rows(sim)))
    assert back.paired_items and back.models == ("A", "F")
    a, b = analyze(sim, n_boot=500), analyze(back, n_boot=500)
    assert (a.n_approx.status, a.n_approx.bits) == (b.n_approx.status, b.n_approx.bits)
    assert [v.verdict for v in a.n_approx.verdicts] == [v.verdict for v in b.n_approx.verdicts]
    assert b.n_approx.display == ("the original" if a.n_approx.level == "none" else f"q{a.n_approx.level}")


def test_parquet_and_accuracy_only_tables(sim, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "runs.parquet"
    pq.write_table(pa.Table.from_pylist(table_rows(sim, per_item=False)), path)
    obs = read_table(path)
    assert not obs.paired_items and any("paired over seeds only" in n for n in obs.notes)
    a = analyze(obs, n_boot=400)
    assert a.n_approx is not None and any("paired over seeds only" in w for w in a.warnings)


def test_cli_writes_the_report_and_json_with_the_contract_keys(sim, tmp_path, capsys):
    path = write_csv(tmp_path / "runs.csv", table_rows(sim))
    code, out, err = run_cli(["analyze", str(path), "--json", "--bootstrap", "400"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert {"n_approx", "collapse", "levels", "comparisons", "epochs", "warnings"} <= set(data)
    assert set(data["n_approx"]) >= {"status", "level", "bits", "ci_bits"}
    assert data["n_approx"]["status"] in ("found", "holds_everywhere", "undecided")
    assert set(data["collapse"]) >= {"detected", "bits", "ci_bits"}
    assert all(set(v) >= {"model", "level", "bits", "verdict", "diff", "ci"} for v in data["levels"])
    assert all(set(c) >= {"level", "a", "b", "verdict", "diff", "ci", "seeds_to_decide"} for c in data["comparisons"])
    assert all(set(e) >= {"model", "level", "median", "censored", "still_improving"} for e in data["epochs"])
    assert all(-1.0 <= v["diff"] <= 1.0 for v in data["levels"] if v["diff"] is not None)   # fractions, not pp
    assert (tmp_path / "report" / "report.html").exists()


BAD = [
    (lambda r: [{k: v for k, v in x.items() if k != "seed"} for x in r], "missing column 'seed'"),
    (lambda r: [{**x, "correct": x["correct"][:-1]} if i == 3 else x for i, x in enumerate(r)], "ragged 'correct'"),
    (lambda r: r + [r[0]], "duplicate run: model"),
    (lambda r: [x for x in r if x["level"] != "original"], "no reference level"),
    (lambda r: [{**x, "correct": "01x"} if i == 0 else x for i, x in enumerate(r)], "string of 0 and 1"),
    (lambda r: [{k: v for k, v in x.items() if k != "correct"} for x in r], "neither a 'correct' column"),
]


def test_a_model_without_its_own_original_still_enters_the_comparisons(sim, tmp_path):
    rows = [x for x in table_rows(sim) if not (x["model"] == "F" and x["level"] == "original")]
    a = analyze(read_table(write_csv(tmp_path / "runs.csv", rows)), n_boot=400, model="A", compare_level="q20")
    assert a.n_approx.model == "A" and a.headline_comparison is not None
    assert {a.headline_comparison.a, a.headline_comparison.b} == {"A", "F"} and a.headline_comparison.ci is not None
    f = next(x for x in a.n_approx_all if x.model == "F")       # F's own N_approx is relative to its best level
    assert f.reference != "none" and "no original in this sweep" in f.reference_note


@pytest.mark.parametrize("mutate,message", BAD)
def test_malformed_tables_are_one_line_and_exit_2(sim, tmp_path, capsys, mutate, message):
    path = write_csv(tmp_path / "bad.csv", mutate(table_rows(sim)))
    with pytest.raises(DataError, match=message):
        read_table(path)
    code, out, err = run_cli(["analyze", str(path)], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_file_and_unknown_format(tmp_path, capsys):
    code, _, err = run_cli(["analyze", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "no such file" in err
    (tmp_path / "x.xlsx").write_text("x")
    code, _, err = run_cli(["analyze", str(tmp_path / "x.xlsx")], capsys)
    assert code == 2 and "unknown table format" in err
