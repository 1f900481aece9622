"""What `helmholtz analyze` and `helmholtz report` read: a sweep directory, or a results table from any pipeline
(.csv or .parquet). The suffix decides, once, here; the analysis is the same either way.

`analysis_options` turns the CLI's analysis options into `helmholtz.analysis.analyze` keywords.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmholtz.analysis.byo import check_table, is_table
from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP
from helmholtz.errors import ConfigError

if TYPE_CHECKING:
    from helmholtz.analysis.analyze import Analysis
    from helmholtz.report.build import ReportFiles


def analysis_options(*, tolerance_pp: float = DEFAULT_TOLERANCE_PP, bootstrap: int = 2000, seed: int = 0, model: str | None = None,
                     compare: str | Sequence[str] | None = None, compare_at: str | None = None) -> dict[str, Any]:
    """The `analyze` keywords of the report/analyze/demo options; ``compare`` is 'A,F' or a pair."""
    from helmholtz.checks import split_list

    pair = None
    if compare is not None:
        names = [p.upper() for p in (split_list(compare, option="--compare", example="A,F")
                                     if isinstance(compare, str) else compare)]
        if len(names) != 2:
            raise ConfigError(f"--compare needs two architectures; got {compare!r}", fix="e.g. --compare A,F")
        pair = (names[0], names[1])
    return dict(tolerance_pp=tolerance_pp, n_boot=bootstrap, seed=seed, model=model.strip().upper() if model else None,
                compare_pair=pair, compare_level=compare_at)


def _check(kwargs: dict[str, Any]) -> None:
    """Check the `analyze` keywords, reading a ``compare_pair`` given as 'A,F'."""
    from helmholtz.checks import check_bootstrap, check_seed

    if isinstance(kwargs.get("compare_pair"), str):
        kwargs["compare_pair"] = analysis_options(compare=kwargs["compare_pair"])["compare_pair"]
    if "n_boot" in kwargs:
        check_bootstrap(kwargs["n_boot"])
    if "seed" in kwargs:
        check_seed(kwargs["seed"], option="--seed")


def analyze_source(source: str | os.PathLike, **kwargs: Any) -> Analysis:
    """The `Analysis` of a sweep directory or a results table (`helmholtz.api.analyze`), writing nothing."""
    from helmholtz.analysis import analyze

    _check(kwargs)
    path = Path(source)
    if is_table(path):
        from helmholtz.analysis import with_budget_check
        from helmholtz.analysis.byo import read_budgets

        by_budget = read_budgets(path)
        return with_budget_check(analyze(by_budget[min(by_budget)], **kwargs), by_budget)
    from helmholtz.report.build import load_observations

    obs, _ = load_observations(path)
    return analyze(obs, **kwargs)


def report_source(source: str | os.PathLike, *, out: str | os.PathLike | None = None,
                  budget_check: Sequence[str | os.PathLike] = (), table_only: bool = False,
                  **kwargs: Any) -> ReportFiles:
    """Analyse a sweep or a results table and write its report (`helmholtz.api.report`); ``table_only``: the
    source must be a table (`helmholtz analyze`)."""
    from helmholtz.report.build import build_report, write_report

    if table_only:
        check_table(source)
    _check(kwargs)
    path = Path(source)
    if not is_table(path):
        return build_report(path, out_dir=out, budget_check=tuple(budget_check), **kwargs)
    if budget_check:
        raise ConfigError("budget_check= is for sweep directories; a table carries its budgets in an 'epochs' "
                          "column", fix="add an 'epochs' column with each run's budget")
    target = Path(out) if out is not None else path.parent / "report"
    return write_report(analyze_source(path, **kwargs), target, meta={"results table": str(path)})
