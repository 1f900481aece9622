"""Simulated sweeps as store rows: to test the report and the CLI through a real results store, and to try the
report without training anything.

`synthetic_rows` turns a simulated sweep (`simulate.simulate`) into rows shaped like `Store.runs(predictions=True)`
and `Store.levels()`, with per-item predictions scored against generated test labels. Writing them into a real
store needs the sweep's `Store`, which the analysis never imports: the tests do it (`tests/synthetic_store.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from helmholtz.analysis.observations import Observations
from helmholtz.analysis.simulate import RAW_BPP, Truth, simulate

#: pixels of a 28×28 item, for the byte columns of the level rows
_PIXELS = 28 * 28


def _labels(n_items: int, n_classes: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 99]).integers(0, n_classes, n_items).astype(np.int64)


def observation_rows(obs: Observations, *, rng_seed: int = 0, epochs: int = 20,
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray]:
    """(run rows, level rows, test labels) of simulated observations. A wrong prediction is the next class."""
    k = obs.n_classes or 10
    n_items = next(iter(obs.cells.values())).correct.shape[1]
    labels = _labels(n_items, k, rng_seed)
    runs = []
    for (model, level), cell in obs.cells.items():
        lv = obs.level(level)
        for i, seed in enumerate(cell.seeds):
            pred = np.where(cell.correct[i], labels, (labels + 1) % k).astype(np.uint8)
            runs.append(dict(
                run_id=f"{model}-{level}-{seed}", status="done", arch=model, codec=lv.codec, level=lv.level,
                level_label=level, seed=seed, test_acc=float(cell.correct[i].mean()), test_loss=0.5,
                best_val_acc=float(cell.acc[i]), best_epoch=epochs // 2, epochs_to_converge=None,
                epochs_run=epochs, stopped_early=1, wall_s=30.0, train_items_per_s=1000.0,
                n_params=obs.params.get(model), device="cpu", precision="fp32", code_version="synthetic",
                versions_json="{}", host_json="{}", error=None, n_test=n_items, n_classes=k,
                predictions=pred.tobytes(),
                spec_json=f'{{"options": {{"epochs": {epochs}}}}}',
            ))
    levels = []
    for lv in obs.levels:
        bits = RAW_BPP if lv.is_reference else lv.bits
        total = RAW_BPP if lv.is_reference else lv.bits_total
        levels.append(dict(
            level_label=lv.key, codec=lv.codec, level=lv.level, encoder="synthetic", unit="pixel",
            bytes_total_mean=total * _PIXELS / 8, bytes_payload_mean=bits * _PIXELS / 8, bits_total=total,
            bits_payload=bits, raw_bits=RAW_BPP, compression_ratio=RAW_BPP / total,
            fidelity_db=None if lv.is_reference else 15.0 + 5 * bits, n_items=1000,
        ))
    return runs, levels, labels


def synthetic_rows(truth: Truth | None = None, *, levels: Sequence[int | None] | None = None,
                   models: Sequence[str] = ("A", "F"), seeds: int | Sequence[int] = 3, n_items: int = 1000,
                   rng_seed: int = 0, **noise: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(runs, levels) rows of a simulated sweep (default: a sharp knee at q 20)."""
    kw = {} if levels is None else {"levels": levels}
    obs = simulate(truth or Truth("knee"), models=models, seeds=seeds, n_items=n_items, rng_seed=rng_seed,
                   **kw, **noise)
    runs, level_rows, _ = observation_rows(obs, rng_seed=rng_seed)
    return runs, level_rows

