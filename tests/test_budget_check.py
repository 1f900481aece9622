"""The training-budget check (issue 17): would longer training change the verdicts? Hand-made tables whose truth
is known: the same curve at both budgets (robust), and a knee that vanishes at the longer budget (sensitive)."""

from __future__ import annotations

import csv
import json

import pytest

from helmholtz.analysis.simulate import Truth, simulate
from helmholtz.analysis.tolerance import Tolerance


def _rows(obs, epochs: int) -> list[dict]:
    rows = []
    for (model, level), cell in obs.cells.items():
        for j, seed in enumerate(cell.seeds):
            lv = obs.level(level)
            rows.append({"model": model, "level": level, "seed": seed, "bits": lv.bits, "epochs": epochs,
                         "n_classes": 10, "correct": "".join("1" if c else "0" for c in cell.correct[j])})
    return rows


def _table(path, parts) -> str:
    rows = [r for obs, epochs in parts for r in _rows(obs, epochs)]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return str(path)


LEVELS = (5, 50, None)


def _sweep(truth, rng_seed):
    # quiet seeds and many items so every verdict is decided: q 50 holds, q 5 drops under the knee
    return simulate(truth, levels=LEVELS, seeds=6, n_items=4000, seed_sd=0.01, cell_sd=0.001, rng_seed=rng_seed)


def test_the_same_verdicts_at_twice_the_budget_are_budget_robust(tmp_path):
    import helmholtz as hz

    knee = Truth("knee", step_pp=4.0)
    path = _table(tmp_path / "t.csv", [(_sweep(knee, 1), 6), (_sweep(knee, 2), 12)])
    a = hz.analyze(path, n_boot=400)
    check = a.budget_check
    assert check is not None and check.status == "robust", check
    assert check.primary == 6 and check.budgets == (12,)
    # A and F at q 50 (holds) and q 5 (drops): none differs; at most one is left open by the noise
    assert not check.differ and len(check.same) + len(check.open) == 4 and len(check.same) >= 3
    assert "budget-robust: the same verdicts at 12 epochs" in check.text
    assert check.text in a.notes and not any("budget-sensitive" in w for w in a.warnings)
    # the answer is the first budget's alone: the 12-epoch runs never enter it
    assert {c.n for c in a.cells} == {6}


def test_a_verdict_that_flips_at_twice_the_budget_is_budget_sensitive(tmp_path, capsys):
    import helmholtz as hz
    from conftest import run_cli

    short, long_ = Truth("knee", step_pp=4.0), Truth("flat")    # longer training closes the gap at q 5
    path = _table(tmp_path / "t.csv", [(_sweep(short, 1), 6), (_sweep(long_, 2), 12)])
    a = hz.analyze(path, n_boot=400)
    check = a.budget_check
    assert check.status == "sensitive"
    assert {(m, d, v, p) for _, m, d, v, p in check.differ} == {("A", "5", "holds", "drops"),
                                                               ("F", "5", "holds", "drops")}
    assert "budget-sensitive: at 12 epochs A at 5 holds (drops at 6)" in check.text
    assert check.text in a.warnings
    code, stdout, _ = run_cli(["analyze", path, "--bootstrap", "400", "--json", "--out", str(tmp_path / "rep")],
                              capsys)
    out = json.loads(stdout)
    assert code == 0 and out["budget_check"]["status"] == "sensitive"
    assert out["budget_check"]["differ"][0]["primary_verdict"] == "drops"
    assert "budget-sensitive" in out["headline"]


def test_runs_of_two_budgets_may_share_a_seed_but_one_budget_may_not_repeat_it(tmp_path):
    import helmholtz as hz
    from helmholtz.errors import DataError

    knee = Truth("knee")
    obs = _sweep(knee, 1)
    path = _table(tmp_path / "dup.csv", [(obs, 6), (obs, 6)])
    with pytest.raises(DataError, match="duplicate run"):
        hz.analyze(path, n_boot=200)
    bad = _table(tmp_path / "bad.csv", [(obs, 0)])
    with pytest.raises(DataError, match="'epochs' must be ≥ 1"):
        hz.analyze(bad, n_boot=200)


def test_one_budget_gives_no_check(tmp_path):
    import helmholtz as hz

    path = _table(tmp_path / "t.csv", [(_sweep(Truth("knee"), 1), 6)])
    assert hz.analyze(path, n_boot=200).budget_check is None


# ---------------------------------------------------------------- sweeps: `helmholtz report DIR --budget-check DIR2`

def _real_sweep(tmp_path, name, *, epochs, lr=3e-3):
    from dataclasses import replace

    from helmholtz.sweep.runner import run_sweep
    from helmholtz.sweep.spec import make_sweep_spec
    from test_sweep_resume import TINY, write_npz

    data = tmp_path / "d.npz"
    if not data.exists():
        write_npz(data)
    spec = make_sweep_spec(str(data), modality="image", codec="jpeg", levels=[10, None], archs=["A"], seeds=3,
                           options=replace(TINY, epochs=epochs, lr=lr))
    run_sweep(spec, tmp_path / name, quiet=True, threads_per_run=1)
    return str(tmp_path / name)


def test_report_compares_a_sweep_with_the_same_sweep_trained_longer(tmp_path, capsys, monkeypatch):
    from conftest import run_cli

    monkeypatch.setenv("HELMHOLTZ_CACHE", str(tmp_path / "cache"))
    short, long_ = _real_sweep(tmp_path, "e1", epochs=1), _real_sweep(tmp_path, "e2", epochs=2)
    code, stdout, _ = run_cli(["report", short, "--budget-check", long_, "--bootstrap", "200", "--json"], capsys)
    check = json.loads(stdout)["budget_check"]
    assert code == 0 and check["primary_epochs"] == 1 and check["checked_epochs"] == [2]
    compared = len(check["same"]) + len(check["differ"]) + len(check["open"])
    assert compared == 1                                   # A at q 10 against its original, at both caps
    assert check["text"].startswith(("budget-robust", "budget-sensitive", "budget check"))

    # the longer sweep first, another recipe, or the same cap: one line each, nothing written
    other_lr = _real_sweep(tmp_path, "lr", epochs=2, lr=1e-3)
    capsys.readouterr()
    for argv, message in (([long_, "--budget-check", short], "longer than the 1"),
                          ([short, "--budget-check", other_lr], "options.lr"),
                          ([short, "--budget-check", short], "both sweeps train to 1 epochs")):
        code, _, err = run_cli(["report", *argv, "--bootstrap", "200", "--out", str(tmp_path / "rep")], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "rep").exists()


def test_a_decided_adaptive_sweep_with_runs_still_improving_trains_its_own_budget_check(tmp_path, capsys,
                                                                                       monkeypatch):
    # real runs on a learnable 4-class set: at a 2-epoch cap most runs is best at its last epoch (still improving),
    # A holds at q 50, so the answer is decided and the check is owed: the boundary cells (the original and q 50)
    # again at 4 epochs with the first 3 seeds, in DIR/budget-2x, which the report then compares
    from dataclasses import replace

    from conftest import run_cli
    from helmholtz.adaptive.loop import run_until_decided
    from helmholtz.sweep.spec import make_sweep_spec
    from helmholtz.sweep.store import Store
    from test_sweep_resume import TINY, write_npz

    monkeypatch.setenv("HELMHOLTZ_CACHE", str(tmp_path / "cache"))
    data = write_npz(tmp_path / "d.npz", n_train=800, n_test=400)
    spec = make_sweep_spec(str(data), modality="image", codec="jpeg", levels=[50, None], archs=["A"], seeds=3,
                           options=replace(TINY, epochs=2))
    out = tmp_path / "run"
    run_until_decided(spec, out, max_runs=40, quiet=True, threads_per_run=1, budget_check=True)
    with Store(out) as st:
        first = [r for r in st.runs() if r["status"] == "done"]
    check_dir = out / "budget-2x"
    assert (check_dir / "results.sqlite").exists(), "the check was owed and fits the budget"
    with Store(check_dir) as st:
        runs = [r for r in st.runs() if r["status"] == "done"]
        assert json.loads(runs[0]["spec_json"])["options"]["epochs"] == 4
    assert sorted((r["level_label"], r["seed"]) for r in runs) == [("50", s) for s in (0, 1, 2)] + \
        [("none", s) for s in (0, 1, 2)]
    assert len(first) >= 6
    code, stdout, _ = run_cli(["report", str(out), "--bootstrap", "200", "--json"], capsys)
    check = json.loads(stdout)["budget_check"]
    assert code == 0 and check["primary_epochs"] == 2 and check["checked_epochs"] == [4]


def test_a_check_replaces_the_under_trained_warning_and_the_headline_states_it():
    # runs that all end at their best epoch carry the blanket warning; the check answers its question, so with a
    # check attached the warning goes and the headline says what the check found
    from dataclasses import replace

    from helmholtz.analysis import analyze, with_budget_check
    from helmholtz.analysis.observations import RunInfo

    knee = Truth("knee", step_pp=4.0)

    def improving(obs, cap):
        runs = tuple(RunInfo(model=m, level=key, seed=s, epochs_run=cap, epoch_cap=cap, best_epoch=cap,
                             epochs_to_converge=None, censored=True, censored_at=None, still_improving=True)
                     for (m, key), c in obs.cells.items() for s in c.seeds)
        return replace(obs, runs=runs)

    short, long_ = improving(_sweep(knee, 1), 6), improving(_sweep(knee, 2), 12)
    alone = analyze(short, n_boot=400)
    assert alone.warnings[0].startswith("under-trained: 36 of 36 runs") and "--budget-check" in alone.warnings[0]
    checked = with_budget_check(alone, {6: short, 12: long_})
    assert checked.budget_check.status == "robust"
    assert not any(w.startswith("under-trained") for w in checked.warnings)
    assert "Training budget: budget-robust: the same verdicts at 12 epochs" in checked.headline


def test_the_check_compares_the_headline_comparison_at_its_level_too():
    # A is 3 pp worse than F at the short budget and equal at the long one: the model comparison at q 25 (the
    # pre-set level) flips from inferior to equivalent, and the check says so; the levels' own verdicts agree
    from helmholtz.analysis.budget import budget_check

    quiet = dict(levels=(25, None), seeds=6, n_items=4000, seed_sd=0.003, cell_sd=0.002)
    short = simulate(Truth("knee_gap", gap_pp=3.0), rng_seed=1, **quiet)
    long_ = simulate(Truth("knee"), rng_seed=2, **quiet)
    check = budget_check({6: short, 12: long_}, tolerance=Tolerance.of(1.0), n_boot=400, comparison=(("A", "F"), "25"))
    assert check.status == "sensitive"
    assert ("A vs F", "q 25", "equivalent", "inferior") in {(m, d, v, p) for _, m, d, v, p in check.differ}
    assert "A vs F at q 25 equivalent (inferior at 6)" in check.text
    # without the comparison the same runs are robust: only the level verdicts are compared
    assert budget_check({6: short, 12: long_}, tolerance=Tolerance.of(1.0), n_boot=400).status == "robust"
