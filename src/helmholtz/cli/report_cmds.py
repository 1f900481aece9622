"""`helmholtz report` (analyse a sweep, write the figures, report.html and summary.md) and `helmholtz demo`.

Heavy stages (matplotlib, the sweep runner, torch) are imported inside the commands so `helmholtz --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from helmholtz.cli.common import console, print_json
from helmholtz.cli.options import Json

TolerancePP = Annotated[float, typer.Option(
    "--tolerance", help="Margin δ in percentage points of accuracy: a level holds when its loss against the original "
                        "is shown to be smaller than δ; two models are equivalent within ±δ.")]
Bootstrap = Annotated[int, typer.Option("--bootstrap", help="Bootstrap draws B (seeds, then test items).")]
BootSeed = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")]
Model = Annotated[str | None, typer.Option(
    "--model", help="Architecture of the headline N_approx (default: the best on the original).")]
ComparePair = Annotated[str | None, typer.Option(
    "--compare", help="Two architectures to compare, e.g. A,F (default: the smallest and the largest).")]
CompareAt = Annotated[str | None, typer.Option(
    "--compare-at", help="Level of the headline comparison, fixed in advance, e.g. 25 or none (default: the "
                         "paper's q 25 / Q 0.75 when swept).")]


def _model(text: str | None) -> str | None:
    """--model as the analysis names architectures (upper case)."""
    return text.strip().upper() if text else None


def _print_report(files, *, as_json: bool) -> None:
    from rich.markup import escape

    if as_json:
        print_json({**files.analysis.to_json(), "files": {
            "report_html": str(files.html), "summary_md": str(files.summary),
            "analysis_json": str(files.analysis_json), "figures": [str(f.png) for f in files.figures]}})
        return
    console.print(f"[bold]{escape(files.headline)}[/bold]")
    console.print(escape(files.recipe))
    console.print(f"report: {escape(str(files.html))}")
    console.print(f"summary: {escape(str(files.summary))}   figures (PNG + SVG) and analysis.json: "
                  f"{escape(str(files.out_dir))}")


def register(app: typer.Typer) -> None:
    """Add `report`, `analyze` and `demo` to `app`."""

    @app.command("report")
    def report_cmd(
        run_dir: Annotated[Path, typer.Argument(help="The --out directory of a `helmholtz sweep` (holds results.sqlite).")],
        out: Annotated[Path | None, typer.Option("--out", help="Where to write the report (default: RUN_DIR/report).")] = None,
        tolerance: TolerancePP = 1.0,
        bootstrap: Bootstrap = 2000,
        seed: BootSeed = 0,
        model: Model = None,
        compare: ComparePair = None,
        compare_at: CompareAt = None,
        budget_check: Annotated[list[Path] | None, typer.Option(
            "--budget-check", help="A sweep of the same cells at a longer --epochs (e.g. twice the cap, the same "
                                   "seeds): are the verdicts the same? Repeatable.")] = None,
        json_out: Json = False,
    ) -> None:
        """Analyse a sweep (N_approx with CI, level verdicts, collapse test, model comparisons) and write the report.

        Works on a sweep that is still running or was interrupted. --json prints the analysis as JSON on stdout.
        """
        from helmholtz import api

        _print_report(api.report(run_dir, out=out, budget_check=tuple(budget_check or ()), tolerance_pp=tolerance,
                                 n_boot=bootstrap, seed=seed, model=_model(model), compare_pair=compare,
                                 compare_level=compare_at), as_json=json_out)

    @app.command("analyze")
    def analyze_cmd(
        table: Annotated[Path, typer.Argument(
            help="CSV or Parquet, one row per run: model, level ('none' = original), seed, optional bits/params/"
                 "n_classes, and either correct (0/1 per test item) or accuracy + n_test.")],
        out: Annotated[Path | None, typer.Option("--out", help="Where to write the report (default: TABLE's folder/report).")] = None,
        tolerance: TolerancePP = 1.0,
        bootstrap: Bootstrap = 2000,
        seed: BootSeed = 0,
        model: Model = None,
        compare: ComparePair = None,
        compare_at: CompareAt = None,
        json_out: Json = False,
    ) -> None:
        """Analyse results from your own pipeline: the same statistics and report as `helmholtz report`."""
        from helmholtz import api

        _print_report(api.report(table, out=out, table_only=True, tolerance_pp=tolerance, n_boot=bootstrap, seed=seed,
                                 model=_model(model), compare_pair=compare, compare_level=compare_at), as_json=json_out)

    @app.command("demo")
    def demo_cmd(
        out: Annotated[Path | None, typer.Option(
            "--out", help="Sweep and report directory (default: runs/demo, or runs/demo-quick with --quick).")] = None,
        quick: Annotated[bool, typer.Option("--quick", help="A ~1–2 minute version (fewer images, levels, epochs).")] = False,
        tolerance: TolerancePP = 1.0,
        quiet: Annotated[bool, typer.Option("--quiet", help="Plain log lines instead of a progress display.")] = False,
        json_out: Json = False,
    ) -> None:
        """An adaptive sweep on real Fashion-MNIST until the answer is decided or 30 runs are spent, then the report.

        Archs A and F at ¼ width, the fast recipe in fp32, 10k training images, the whole 10k test split; starts from JPEG
        q 5, 25, 50, 90 and the original with 3 seeds, and adds seeds and levels where the answer is open (see
        `helmholtz sweep --until-decided`). Re-run the same command to resume.
        """
        from helmholtz import api

        files = api.demo(out, quick=quick, quiet=quiet or json_out, tolerance_pp=tolerance)
        _print_report(files, as_json=json_out)
        if not json_out:
            console.print(f"open {files.html} in a browser (it is self-contained and works offline)")


def register_plan(app: typer.Typer) -> None:
    """Add `plan` to `app`."""

    @app.command("plan")
    def plan_cmd(
        results: Annotated[Path | None, typer.Argument(
            help="The results so far, in the `helmholtz analyze` format (CSV or Parquet); omit it for the "
                 "starting grid.")] = None,
        codec: Annotated[str, typer.Option("--codec", help="The codec whose levels the table's levels are (the "
                                                          "planner bisects in its level space).")] = "jpeg",
        levels: Annotated[str | None, typer.Option("--levels", help="Starting grid only: comma-separated levels, "
                                                                    "'none' = the original (default: the codec's "
                                                                    "coarse grid).")] = None,
        archs: Annotated[str, typer.Option("--archs", help="Starting grid only: architectures; the first is the "
                                                           "headline's.")] = "A,F",
        seeds: Annotated[str, typer.Option("--seeds", help="Starting grid only: a count or a list.")] = "3",
        max_runs: Annotated[int | None, typer.Option("--max-runs", help="At most this many runs in all (those in "
                                                                        "the table included).")] = None,
        tolerance: TolerancePP = 1.0,
        model: Model = None,
        compare_at: CompareAt = None,
        fmt: Annotated[str, typer.Option("--format", help="csv | json (on standard output).")] = "csv",
    ) -> None:
        """What to train next in your own training loop: the adaptive sweep's next step for the results so far.

        Prints the runs (model, level, seed) and why; what is still open and whether the answer is decided go to
        standard error with CSV, into the object with JSON. Add the results and run it again.
        """
        import sys

        from helmholtz import api
        from helmholtz.cli.common import err_console
        from helmholtz.errors import ConfigError

        if fmt not in ("csv", "json"):
            raise ConfigError(f"--format must be csv or json; got {fmt!r}", fix="e.g. --format json")
        step = api.plan(results, codec=codec, levels=levels, archs=archs, seeds=seeds, max_runs=max_runs,
                        tolerance_pp=tolerance, compare_level=compare_at, model=model)
        if fmt == "json":
            print_json(step.to_json())
            return
        sys.stdout.write(step.to_csv())
        status = ("start" if not step.runs_so_far else "decided" if step.decided
                  else "open" if step.runs or step.open else "stopped")
        err_console.print(f"{status}: {step.state} ({step.runs_so_far} runs so far, {len(step.runs)} to add"
                          + (f", budget {step.max_runs})" if step.max_runs else ")"),
                          markup=False, highlight=False, soft_wrap=True)
        for line in step.open:
            err_console.print(f"open: {line}", markup=False, highlight=False, soft_wrap=True)
