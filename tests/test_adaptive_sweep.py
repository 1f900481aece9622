"""A real adaptive sweep on tiny Fashion-MNIST subsets: killed with SIGKILL in the middle of a planned step and
resumed, it loses no run, trains none twice, and takes exactly the decisions an uninterrupted sweep takes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import requires_fashion_mnist
from helmholtz.sweep.store import Store
from helpers import kill_when

HELMHOLTZ = [str(Path(sys.executable).parent / "helmholtz")]
ARGS = ["sweep", "fashion-mnist", "--train-size", "400", "--test-size", "300", "--codec", "jpeg", "--levels",
        "5,25,90,none", "--archs", "A", "--seeds", "3", "--epochs", "2", "--threads-per-run", "1", "--width", "0.125",
        "--recipe", "paper", "--optimizer", "adam", "--lr", "0.003", "--batch-size", "32", "--precision", "fp32",
        "--no-augment",
        "--until-decided", "--max-runs", "20", "--quiet"]


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def _plan(out: Path) -> list[tuple[str, str, list]]:
    with Store(out) as st:
        return [(s["kind"], s["reason"], s["runs"]) for s in st.plan_steps()]


def _runs(out: Path) -> dict[str, dict]:
    with Store(out) as st:
        return {r["run_id"]: r for r in st.runs(None)}


@requires_fashion_mnist
def test_sigkill_in_a_planned_step_then_resume_decides_as_an_uninterrupted_sweep(tmp_path):
    reference = subprocess.run([*HELMHOLTZ, *ARGS, "--out", str(tmp_path / "ref"), "--json"], capture_output=True,
                               text=True, timeout=900)
    assert reference.returncode == 0, reference.stderr
    ref_plan = _plan(tmp_path / "ref")
    assert ref_plan, "the tiny sweep must need at least one adaptive step for this test to mean anything"
    assert "decision:" in reference.stderr

    out = tmp_path / "out"
    db = out / "results.sqlite"
    grid = 4 * 3
    proc = subprocess.Popen([*HELMHOLTZ, *ARGS, "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    # wait until a plan step is recorded and at least one of its runs is stored, then kill mid-step
    kill_when(proc, lambda: (_count(db, "SELECT COUNT(*) FROM plan") >= 1
                             and _count(db, "SELECT COUNT(*) FROM runs WHERE status='done'") > grid),
              within_s=600, what="no planned run finished")
    killed = _runs(out)

    resumed = subprocess.run([*HELMHOLTZ, *ARGS, "--out", str(out), "--json"], capture_output=True, text=True,
                             timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    final = _runs(out)
    with Store(out) as st:
        ids = [r[0] for r in st._conn.execute("SELECT run_id FROM runs")]
        result = st.get_meta("adaptive_result")
    assert len(ids) == len(set(ids))                                   # none trained twice (run ids are keys)
    for run_id, row in killed.items():                                 # none lost, none recomputed
        assert final[run_id]["finished_at"] == row["finished_at"] and final[run_id]["wall_s"] == row["wall_s"]
    assert _plan(out) == ref_plan                                      # the same decisions, in the same order
    assert set(final) == set(_runs(tmp_path / "ref"))                  # the same runs in the end
    assert len(final) <= 20 and result is not None
    summary = json.loads(resumed.stdout)
    assert summary["n_total"] == len(final)
