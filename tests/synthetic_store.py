"""A real results store filled with synthetic rows (`helmholtz.analysis.synthetic.synthetic_rows`), written through
the `Store` API as a sweep writes it: for tests of the report, the exports and the store that need no training."""

from __future__ import annotations

from pathlib import Path

LEVELS = (1, 5, 10, 20, 50, 90, None)


def knee_at_10(arch: str, level: int | None) -> float:
    """Flat at 0.85 down to q 10, then falling 3 pp per quality step; F a little below A."""
    base = 0.85 - (0.01 if arch == "F" else 0.0)
    return base if level is None or level >= 10 else base - 0.03 * (10 - level)


def write_synthetic_store(out: Path, *, levels=LEVELS, archs: dict[str, int] | None = None, seeds: int = 2,
                          noise_sd: float = 0.003, accuracy=knee_at_10) -> Path:
    from helmholtz.analysis.synthetic import synthetic_rows
    from helmholtz.sweep.spec import make_sweep_spec
    from helmholtz.sweep.store import Store
    from helmholtz.train.spec import TrainOptions

    archs = archs or {"A": 44_000, "F": 105_000}
    runs, level_rows = synthetic_rows(accuracy, levels=levels, archs=archs, seeds=seeds, noise_sd=noise_sd)
    spec = make_sweep_spec("fashion-mnist", modality="image", codec="jpeg", levels=levels, archs=tuple(archs),
                           seeds=seeds, options=TrainOptions(optimizer="adam", lr=2e-3, epochs=4, width=0.25),
                           train_size=1000, data_hash="0123abcd")
    with Store(out, create=True) as store:
        store.init_spec(spec.to_dict())
        for row in level_rows:
            store.put_level(row)
        for r in runs:
            run_spec = {"arch": r["arch"], "codec": r["codec"], "level": r["level"], "seed": r["seed"]}
            store.put_run({**r, "spec": run_spec, "versions": {"numpy": "2.x"}, "host": {"cpu": "test cpu"},
                           "started_at": "2025-01-01T00:00:00+00:00", "finished_at": "2025-01-01T00:00:30+00:00"}, [])
    return out
