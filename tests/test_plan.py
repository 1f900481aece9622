"""`helmholtz plan` (issue 18): the adaptive planner for external training loops, fed simulated results in a loop
until it says decided — the simulated truth is known, so the final answer can be checked."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import run_cli
from helmholtz.analysis.simulate import Truth, simulate


def _write(path, truth, runs: set[tuple[str, str, int]]) -> None:
    """The table of exactly ``runs`` (model, level label, seed), simulated from ``truth`` (a run's result depends
    only on its own model, level and seed, so adding runs never changes earlier ones)."""
    levels = sorted({int(lv) for _, lv, _ in runs if lv != "none"}) + [None]
    seeds = sorted({s for *_, s in runs})
    obs = simulate(truth, levels=levels, seeds=seeds, n_items=1500, seed_sd=0.01, cell_sd=0.002, rng_seed=4)
    rows = []
    for (model, level), cell in obs.cells.items():
        for j, seed in enumerate(cell.seeds):
            if (model, level, seed) in runs:
                rows.append({"model": model, "level": level, "seed": seed, "bits": obs.level(level).bits,
                             "n_classes": 10, "correct": "".join("1" if c else "0" for c in cell.correct[j])})
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _plan(capsys, *argv) -> dict:
    code, out, err = run_cli(["plan", *argv, "--format", "json"], capsys)
    assert code == 0, err
    return json.loads(out)


def test_the_first_step_on_no_results_is_the_question_grid(capsys):
    step = _plan(capsys, "--archs", "A,F", "--seeds", "3")
    runs = {(r["model"], str(r["level"]), r["seed"]) for r in step["runs"]}
    # A at the coarse grid and the original, F only at the comparison level (q 25): 18 runs
    assert {(m, lv) for m, lv, _ in runs} == {("A", "5"), ("A", "25"), ("A", "50"), ("A", "90"), ("A", "none"),
                                              ("F", "25")}
    assert len(runs) == 18 and {s for *_, s in runs} == {0, 1, 2} and not step["decided"]


def test_plan_reaches_a_decided_answer_on_simulated_results(tmp_path, capsys):
    import helmholtz as hz

    truth = Truth("knee_gap", step_pp=4.0, gap_pp=3.0)    # a knee below q 20; A 3 pp worse than F everywhere
    table = tmp_path / "runs.csv"
    step = _plan(capsys, "--seeds", "3")
    done: set[tuple[str, str, int]] = set()
    for _ in range(15):
        new = {(r["model"], str(r["level"]), r["seed"]) for r in step["runs"]}
        assert new and not new & done, "each step asks for runs not yet done"
        assert all(r["reason"] and " · " not in r["reason"] for r in step["runs"]), "one reason per run, its own"
        done |= new
        _write(table, truth, done)
        step = _plan(capsys, str(table), "--max-runs", "200")
        if step["decided"] and not step["runs"]:
            break
    assert step["decided"] and not step["runs"], step
    assert step["runs_so_far"] == len(done) <= 200
    a = hz.analyze(table, n_boot=1000, model="A", compare_level="25")
    assert a.n_approx.status == "found" and a.headline_comparison.verdict != "inconclusive"
    # the knee is between q 20 (holds) and the next level below: the bracket is narrowed to adjacent levels
    hold, drop = a.n_approx.boundary
    assert int(hold) >= 20 > int(drop) and int(hold) - int(drop) <= 5


def test_plan_refuses_levels_that_are_not_the_codecs(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("model,level,seed,bits,accuracy,n_test\nA,none,0,8,0.8,100\nA,low,0,1,0.7,100\n")
    code, _, err = run_cli(["plan", str(path)], capsys)
    assert code == 2 and "is not a JPEG level" in err and len(err.strip().splitlines()) == 1
    path.write_text("model,level,seed,accuracy,n_test\nA,none,0,0.8,100\nA,500,0,0.7,100\n")
    code, _, err = run_cli(["plan", str(path)], capsys)
    assert code == 2 and "1..100" in err


@pytest.mark.parametrize("argv, message", [
    (["--max-runs", "10"], "smaller than the starting grid's 18 runs"),
    (["--format", "xml"], "--format must be csv or json"),
    (["--tolerance", "0"], "--tolerance"),
])
def test_plan_options_are_checked(argv, message, capsys):
    code, _, err = run_cli(["plan", *argv], capsys)
    assert code == 2 and message in err
