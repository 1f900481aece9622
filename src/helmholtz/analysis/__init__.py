"""Analysis stage: the statistics engine and everything the report says. Pure numpy/scipy; never imports torch.

`analyze(obs)` takes `Observations` — built from a results store (`observations.from_store`) or from a user's own
table (`byo.read_table`) — and returns an `Analysis`: per-cell accuracy with intervals, per-level verdicts and
N_approx with its CI in bits, the collapse test, model comparisons (TOST), the recommendation, epochs and warnings.
Every interval and verdict comes from one two-stage paired bootstrap (`bootstrap.py`).

It imports the shared base and torch-free modules of the stages before it (the codec registry and its points,
`train.convergence`); never torch, and never the sweep: a store is read through the plain reader protocol
`observations.StoreReader`, and its rows are plain dicts.
"""

from helmholtz.analysis.analyze import Analysis, analyze, with_budget_check
from helmholtz.analysis.observations import Observations

__all__ = ["Analysis", "Observations", "analyze", "with_budget_check"]
