"""The train-level × test-level matrix, measured: every finished run's best-validation model, kept in
``DIR/weights/RUN_ID.pt``, is evaluated on the test split of every level of its sweep (every codec of a
multi-codec sweep, the original and its own level included), and the per-item predictions go to the store's
``cross_eval`` table. It costs evaluations only, no training: a level added later is evaluated by the models already
trained the next time the sweep runs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helmholtz.codecs.registry import REFERENCE, level_label
from helmholtz.sweep.store import Store
from helmholtz.train.spec import RunSpec

WEIGHTS_DIR = "weights"


def weights_path(out_dir: str | os.PathLike, run_id: str) -> Path:
    return Path(out_dir) / WEIGHTS_DIR / f"{run_id}.pt"


def save_weights(out_dir: str | os.PathLike, run_id: str, blob: bytes) -> Path:
    """Write a run's weights atomically (a temporary file renamed into place), before its store row is written."""
    path = weights_path(out_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(blob)
    os.replace(tmp, path)
    return path


def test_points(spec_points: list[tuple[str, int | None]], runs: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """Every level the matrix tests on: the sweep's grid and every level a run was trained at (adaptive sweeps add
    levels), once each, in the grid's order."""
    points: list[tuple[str, int | None]] = []
    for codec, level in spec_points:
        p = (REFERENCE if level is None else codec, level)
        if p not in points:
            points.append(p)
    for r in runs:
        p = (REFERENCE if r["level"] is None else r["codec"], r["level"])
        if p not in points:
            points.append(p)
    return points


def cross_evaluate(
    spec_points: list[tuple[str, int | None]],
    store: Store,
    out_dir: str | os.PathLike,
    test_split: Callable[[str, int | None], Any],
    *,
    threads: int,
    emit: Callable[[dict[str, Any]], None] | None = None,
    first: tuple[str, int | None] | None = None,
) -> int:
    """Fill the missing cells of the matrix: for each level (its data made once by ``test_split(codec, level)``, a
    prepared `Dataset`), every finished run with kept weights and no evaluation there yet. Returns the number of
    evaluations done. Runs without a weights file (``--keep-weights no``, or trained before) are skipped. ``first``:
    the level whose data is in memory already, evaluated first."""
    import torch

    from helmholtz.train.loop import evaluate_stored, load_state

    runs = [r for r in store.runs() if weights_path(out_dir, r["run_id"]).is_file()]
    have = {(c["run_id"], c["test_label"]) for c in store.cross()}
    done, t_start, models, labels = 0, time.perf_counter(), set(), set()
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        points = test_points(spec_points, store.runs())
        if first in points:
            points.remove(first)
            points.insert(0, first)
        for codec, level in points:
            label = level_label(codec, level)
            todo = [r for r in runs if (r["run_id"], label) not in have]
            if not todo:
                continue
            data = test_split(codec, level)
            for r in todo:
                spec = RunSpec.from_dict(json.loads(r["spec_json"]))
                state = load_state(weights_path(out_dir, r["run_id"]).read_bytes())
                t0 = time.perf_counter()
                acc, pred = evaluate_stored(spec, state, data.x_test, data.y_test,
                                            n_classes=data.n_classes, precision=r.get("precision") or "fp32")
                seconds = time.perf_counter() - t0
                store.put_cross(r["run_id"], label, predictions=pred, n_classes=data.n_classes, test_acc=acc,
                                seconds=seconds)
                done += 1
                models.add(r["run_id"])
                labels.add(label)
                if emit is not None:
                    emit({"event": "cross", "run_id": r["run_id"], "arch": r["arch"], "train_label": r["level_label"],
                          "test_label": label, "test_acc": acc, "seconds": seconds})
    finally:
        torch.set_num_threads(previous)
    if done and emit is not None:
        emit({"event": "matrix", "n_evaluations": done, "n_runs": len(models), "n_levels": len(labels),
              "seconds": time.perf_counter() - t_start})
    return done
