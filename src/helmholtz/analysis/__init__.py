"""Analysis stage: pure functions over the rows of a results store. Never imports torch.

`analyze(runs=..., levels=..., spec=...)` computes everything the report shows: per-cell statistics with CIs, the
paper's Fig. 3 fit, the knee N_approx with a bootstrap CI, the bits at the knee, complexity findings and the
recommendation. Each job lives in its own module (table, stats, fit, knee, bits, complexity, recommend).
"""

from helmholtz.analysis.analyze import Analysis, analyze

__all__ = ["Analysis", "analyze"]
