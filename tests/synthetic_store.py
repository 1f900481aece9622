"""A real results store filled with a simulated sweep (`helmholtz.analysis.simulate`), written through the `Store`
API as a sweep writes it: for tests of the report, the exports and the store that need no training.

`write_store` lives here, beside its only callers: it needs both the analysis (simulated rows,
`helmholtz.analysis.synthetic.observation_rows`) and the sweep (`Store`), and the analysis never imports the sweep.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

LEVELS = (1, 5, 10, 20, 50, 90, None)


def write_store(out: str | os.PathLike, obs, *, rng_seed: int = 0, epochs: int = 20,
                dataset: str = "fashion-mnist") -> None:
    """Write simulated observations (`Observations`) into a real results store at `out`, through the `Store` API."""
    from helmholtz.analysis.observations import REFERENCE
    from helmholtz.analysis.synthetic import observation_rows
    from helmholtz.sweep.spec import make_sweep_spec, run_spec_for
    from helmholtz.sweep.store import Store
    from helmholtz.train.spec import EpochRow, RunResult, TrainOptions

    runs, level_rows, labels = observation_rows(obs, rng_seed=rng_seed, epochs=epochs)
    levels = [None if lv.is_reference else lv.level for lv in obs.levels]
    seeds = sorted({s for c in obs.cells.values() for s in c.seeds})
    spec = make_sweep_spec(dataset, modality="image", codec="jpeg", levels=levels, archs=list(obs.models),
                           seeds=seeds, options=TrainOptions(optimizer="adam", lr=2e-3, epochs=epochs, width=0.25),
                           data_hash="51mu1a7ed")
    with Store(out, create=True) as st:
        st.init_spec(spec.to_dict())
        st.put_test_labels(spec.data.data_hash, labels, obs.n_classes or 10)
        for row in level_rows:
            st.put_level({k: v for k, v in row.items() if k != "level_label"})
        for r in runs:
            rs = run_spec_for(spec, level=None if r["level_label"] == REFERENCE else r["level"], arch=r["arch"],
                              seed=r["seed"])
            acc = r["test_acc"]
            hist = [acc * min(1.0, 0.5 + 0.1 * e) for e in range(1, epochs + 1)]
            res = RunResult(
                run_id=rs.run_id, spec=rs.to_dict(), test_acc=acc, test_loss=0.5, best_val_acc=max(hist),
                best_epoch=int(np.argmax(hist)) + 1, epochs_to_converge=None, epochs_run=epochs, stopped_early=False,
                wall_s=30.0, train_items_per_s=1000.0, n_params=r["n_params"], device="cpu", precision="fp32",
                versions={"numpy": np.__version__}, code_version="synthetic", host={"cpu": "simulated"},
                started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:30+00:00",
                test_predictions=np.frombuffer(r["predictions"], dtype=np.uint8), n_test=r["n_test"],
                n_classes=r["n_classes"])
            st.put_run(res, [EpochRow(epoch=e, train_loss=1.0 / e, train_acc=h, val_loss=1.0, val_acc=h, lr=2e-3,
                                      seconds=1.0) for e, h in enumerate(hist, start=1)])


def write_synthetic_store(out: Path, *, levels=LEVELS, archs=("A", "F"), seeds: int = 2, n_items: int = 500,
                          kind: str = "knee") -> Path:
    """A store of ``len(levels) × len(archs) × seeds`` done runs with per-item predictions and epoch histories."""
    from helmholtz.analysis.simulate import Truth, simulate

    write_store(out, simulate(Truth(kind), levels=levels, models=tuple(archs), seeds=seeds, n_items=n_items))
    return out
