"""The train-level × test-level matrix (issue 18): on a real Fashion-MNIST mini-sweep the matrix's diagonal repeats
each run's own test accuracy exactly, and an off-diagonal cell equals a direct re-evaluation of the stored weights
on that level's test split; on simulated tables with a known truth the verdicts come out as built; `analyze` reads a
test_level column; a level added later is evaluated by the models already trained, without retraining."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import requires_fashion_mnist, run_cli
from test_bad_input import _one_line


@pytest.fixture(scope="module")
def fmnist_sweep(tmp_path_factory):
    """A, ¼ width, 2 seeds, JPEG q 10 and the original, 1200 training and 400 test images, 2 epochs."""
    from helmholtz import api

    out = tmp_path_factory.mktemp("matrix") / "sweep"
    api.sweep("fashion-mnist", out=out, codec="jpeg", levels="10,none", archs="A", seeds=2, train_size=1200,
              test_size=400, epochs=2, recipe="fast", precision="fp32", width=0.25, threads_per_run=1)
    return out


@pytest.mark.realdata
@requires_fashion_mnist
@pytest.mark.usefixtures("one_torch_thread")
def test_diagonal_repeats_each_runs_accuracy_and_off_diagonal_is_a_direct_reevaluation(fmnist_sweep):
    import torch

    from helmholtz.codecs.cache import compress_dataset
    from helmholtz.data import load_dataset
    from helmholtz.models.archs import build_model
    from helmholtz.sweep.store import Store, decode_predictions

    with Store(fmnist_sweep) as store:
        runs = {r["run_id"]: r for r in store.runs()}
        cross = store.cross(predictions=True)
    assert len(runs) == 4 and len(cross) == 8      # every model on both test splits, its own included
    for c in cross:
        run = runs[c["run_id"]]
        if c["test_label"] == run["level_label"]:
            assert c["test_acc"] == run["test_acc"]   # exactly: the stored weights are the ones that were tested
    ds = load_dataset("fashion-mnist", train_size=1200, test_size=400, val_fraction=0.1, split_seed=0)
    compressed, _ = compress_dataset(ds, codec="jpeg", level=10)
    # a model trained on the original, re-evaluated here on q 10's test split by a plain forward pass
    (c,) = [c for c in cross if runs[c["run_id"]]["level_label"] == "none" and c["test_label"] == "10"
            and runs[c["run_id"]]["seed"] == 1]
    model = build_model("A", modality="image", input_shape=(1, 28, 28), n_classes=10, width=0.25)
    model.load_state_dict(torch.load(fmnist_sweep / "weights" / f"{c['run_id']}.pt", weights_only=True))
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(compressed.x_test)).permute(0, 3, 1, 2).float() / 255.0
        pred = model(x).argmax(1).numpy()
    stored = decode_predictions(c["predictions"], 10)
    assert np.array_equal(pred, stored)
    assert c["test_acc"] == float((pred == compressed.y_test).mean())


@pytest.mark.realdata
@requires_fashion_mnist
def test_the_report_has_the_matrix_and_a_later_level_is_evaluated_without_retraining(fmnist_sweep, tmp_path):
    from helmholtz import api
    from helmholtz.sweep.store import Store

    a = api.analyze(fmnist_sweep, n_boot=200)
    m = a.to_json()["matrix"]
    assert m["levels"] == ["none", "10"] and len(m["cells"]) == 4
    diag = [c for c in m["cells"] if c["train"] == c["test"]]
    assert all(c["verdict"] == "matched" and c["diff"] == 0.0 for c in diag)
    # n = 2 seeds: too few for a verdict, and the engine says so rather than calling it
    assert all(c["verdict"] == "inconclusive" for c in m["cells"] if c["train"] != c["test"])
    files = api.report(fmnist_sweep, out=tmp_path / "rep", n_boot=200)
    assert (tmp_path / "rep" / "train_test_matrix.png").stat().st_size > 1000
    assert "Train level × test level" in Path(files.html).read_text()
    # add q 50: two new runs at q 50 are trained, and the four models trained before are evaluated on it
    api.sweep("fashion-mnist", out=fmnist_sweep, codec="jpeg", levels="10,50,none", archs="A", seeds=2,
              train_size=1200, test_size=400, epochs=2, recipe="fast", precision="fp32", width=0.25,
              threads_per_run=1, extend=True)
    with Store(fmnist_sweep) as store:
        runs = store.runs()
        tested = {(c["run_id"], c["test_label"]) for c in store.cross()}
    assert len(runs) == 6 and all((r["run_id"], "50") in tested for r in runs)
    assert all((r["run_id"], lv) in tested for r in runs for lv in ("10", "none"))


# ---------------------------------------------------------------- simulated truth through `analyze`


def _table(path: Path, *, n_items: int = 1000, seeds=(0, 1, 2, 3, 4), drop_pp: float = 8.0) -> Path:
    """A: levels none, 90, 25. Models trained at 90 lose ``drop_pp`` on q 25's test split against models trained
    at 25 (a real loss); models trained at 25 lose nothing on the original (the same items right)."""
    rng = np.random.default_rng(0)
    rows = []

    def noisy(base: np.ndarray) -> str:
        flip = rng.random(n_items) < 0.01          # a little seed-to-seed noise around a shared item difficulty
        return "".join("1" if c else "0" for c in np.where(flip, ~base, base))

    difficulty = rng.random(n_items)
    for s in seeds:
        right = {lv: difficulty < p for lv, p in (("none", 0.90), ("90", 0.89), ("25", 0.86))}
        for lv in ("none", "90", "25"):
            rows.append({"model": "A", "level": lv, "test_level": lv, "seed": s, "correct": noisy(right[lv])})
        cross = {("90", "25"): difficulty < 0.86 - drop_pp / 100, ("25", "none"): right["none"],
                 ("none", "25"): difficulty < 0.80, ("90", "none"): right["none"], ("25", "90"): right["90"],
                 ("none", "90"): right["90"]}
        for (t, te), c in cross.items():
            rows.append({"model": "A", "level": t, "test_level": te, "seed": s, "correct": noisy(c)})
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_analyze_reads_test_level_and_calls_the_known_verdicts(tmp_path, capsys):
    path = _table(tmp_path / "t.csv")
    code, out, err = run_cli(["analyze", str(path), "--json", "--bootstrap", "400"], capsys)
    assert code == 0, err
    a = json.loads(out)
    cells = {(c["train"], c["test"]): c for c in a["matrix"]["cells"]}
    assert cells[("90", "25")]["verdict"] == "drops" and cells[("90", "25")]["ci"][1] < -0.01
    assert cells[("25", "none")]["verdict"] == "holds"
    assert cells[("none", "25")]["verdict"] == "drops"
    assert abs(cells[("90", "25")]["diff"] - (-0.08)) < 0.02
    serving = {s["train"]: s for s in a["matrix"]["serving"]}
    assert serving["none"]["lowest"] == "90" and serving["none"]["stopped_at"] == "25"
    assert "A trained on the original serves test data down to 90 within 1 pp (at 25: drops)" in a["headline"]


def test_a_cross_row_without_its_matched_rows_is_one_line(tmp_path, capsys):
    path = tmp_path / "t.csv"
    rows = [{"model": "A", "level": "none", "test_level": "", "seed": s, "accuracy": 0.9, "n_test": 100} for s in range(3)]
    rows += [{"model": "A", "level": "none", "test_level": "25", "seed": s, "accuracy": 0.8, "n_test": 100}
             for s in range(3)]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    code, _, err = run_cli(["analyze", str(path)], capsys)
    assert "no row trained and tested at 25" in _one_line(code, err)
