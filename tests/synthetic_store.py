"""A real results store filled with a simulated sweep (`helmholtz.analysis.simulate`), written through the `Store`
API as a sweep writes it (`helmholtz.analysis.synthetic.write_store`): for tests of the report, the exports and the
store that need no training."""

from __future__ import annotations

from pathlib import Path

LEVELS = (1, 5, 10, 20, 50, 90, None)


def write_synthetic_store(out: Path, *, levels=LEVELS, archs=("A", "F"), seeds: int = 2, n_items: int = 500,
                          kind: str = "knee") -> Path:
    """A store of ``len(levels) × len(archs) × seeds`` done runs with per-item predictions and epoch histories."""
    from helmholtz.analysis.simulate import Truth, simulate
    from helmholtz.analysis.synthetic import write_store

    write_store(out, simulate(Truth(kind), levels=levels, models=tuple(archs), seeds=seeds, n_items=n_items))
    return out
