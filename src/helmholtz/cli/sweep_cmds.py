"""`helmholtz sweep` (the grid of level × arch × seed, resumable, local or Ray) and `helmholtz results` (export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from helmholtz.api import DEFAULT_SWEEP_RECIPE
from helmholtz.cli import options as o
from helmholtz.cli.common import console, err_console, print_json
from helmholtz.errors import ConfigError

_FORMATS = ("table", "csv", "json", "parquet")


def register(app: typer.Typer) -> None:
    """Add `sweep` and `results` to `app`."""

    @app.command("sweep")
    @o.recipe_options(recipe=DEFAULT_SWEEP_RECIPE, after="split_seed")
    def sweep_cmd(
        dataset: o.DatasetArg,
        out: Annotated[Path, typer.Option("--out", help="Sweep directory: results.sqlite goes here; re-run to resume.")],
        codec: Annotated[str | None, typer.Option("--codec", help="A codec of `helmholtz codecs`, or several in one sweep: jpeg,webp,avif (default: jpeg for images, mp3 for audio; none = the original only).")] = None,
        levels: Annotated[list[str] | None, typer.Option("--levels", help="Comma-separated levels, 'none' = the original (default: each codec's grid). Per codec: --levels jpeg=5,10,20 --levels avif=20,40,60. Several codecs always train the original, their shared reference.")] = None,
        archs: Annotated[str | None, typer.Option("--archs", help="Comma-separated architectures: A..F, R8, R20 (see `helmholtz archs`) \\[default: A,B,C,D,E,F].")] = None,
        model: o.ModelOpt = None,
        widths: o.Widths = None,
        keep_weights: Annotated[str, typer.Option("--keep-weights", help="yes: keep each run's best weights in OUT/weights and evaluate them on every level's test split (the train × test-level matrix); no: keep neither.")] = "yes",
        seeds: Annotated[str, typer.Option("--seeds", help="A count (3 → seeds 0,1,2) or a list (0,5,7).")] = "3",
        engine: Annotated[str, typer.Option("--engine", help="local | ray")] = "local",
        workers: Annotated[int, typer.Option("--workers", help="Runs at once (local: processes; 0 = one per GPU).")] = 1,
        kernels: Annotated[str, typer.Option("--kernels", help="native: this CPU's own kernels; avx2: ATen's and oneDNN's held to AVX2, so the same seed gives the same runs on every x86-64 CPU (what the demos do).")] = "native",
        threads_per_run: Annotated[int | None, typer.Option("--threads-per-run", help="Torch threads per run (default: CPUs / workers); the same on every engine.")] = None,
        address: Annotated[str | None, typer.Option("--address", help="Ray cluster: auto or HOST:PORT (default: start a local Ray).")] = None,
        gpus_per_run: Annotated[float, typer.Option("--gpus-per-run", help="Ray: GPU share per run (0.25 packs 4 runs per GPU).")] = 0.0,
        max_retries: Annotated[int, typer.Option("--max-retries", help="Ray: retries of a failed run before it is recorded as failed.")] = 2,
        extend: Annotated[bool, typer.Option("--extend", help="Add levels, archs or seeds to an existing sweep directory.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", help="Plain log lines (one per level and per run) instead of a live display.")] = False,
        until_decided: Annotated[bool, typer.Option("--until-decided", help="Adaptive: after the grid (default: the original + 4 coarse levels), add seeds where a verdict is open and levels where accuracy turns, until the answer is decided or the budget is spent.")] = False,
        max_runs: Annotated[int | None, typer.Option("--max-runs", help="Adaptive: at most this many runs in all (the grid included).")] = None,
        max_time: Annotated[str | None, typer.Option("--max-time", help="Adaptive: at most this much summed training time, e.g. 30m or 2h.")] = None,
        tolerance: Annotated[float, typer.Option("--tolerance", help="Adaptive: margin δ in percentage points (as in `helmholtz report`).")] = 1.0,
        compare_at: Annotated[str | None, typer.Option("--compare-at", help="Adaptive: level of the headline model comparison (default: the paper's q 25 / Q 0.75).")] = None,
        focus: Annotated[bool, typer.Option("--focus", help="Adaptive: start from the grid the question needs: the first of --archs at every level, the others only at the comparison level.")] = False,
        budget_check: Annotated[bool, typer.Option("--budget-check", help="Adaptive: once decided, with over a quarter of the runs still improving at the cap, train the boundary and comparison cells again at twice the cap (same seeds) into OUT/budget-2x; the report compares the verdicts.")] = False,
        train_size: o.TrainSize = None,
        test_size: o.TestSize = None,
        val_fraction: o.ValFraction = None,
        split_seed: o.SplitSeed = 0,
        sample_rate: o.SampleRate = 44100,
        duration: o.Duration = 2.0,
        image_column: o.ImageColumn = None,
        label_column: o.LabelColumn = None,
        json_out: o.Json = False,
        **recipe: Any,
    ) -> None:
        """Train every architecture × seed on every compression level; resumable (re-run the same command).

        Ctrl-C stops cleanly: finished runs are stored, and re-running the same command resumes. One sweep at a
        time per --out: a second one is refused while the first runs. Exit status 1 when some runs failed.
        """
        from helmholtz import api

        try:
            handle = api.sweep(
                dataset, out=out, codec=codec, levels=levels, archs=archs, model=model, widths=widths,
                keep_weights=keep_weights, seeds=seeds, engine=engine, workers=workers, kernels=kernels,
                threads_per_run=threads_per_run, address=address, gpus_per_run=gpus_per_run, max_retries=max_retries,
                extend=extend, quiet=quiet or json_out, train_size=train_size, test_size=test_size,
                val_fraction=val_fraction, split_seed=split_seed, sample_rate=sample_rate, duration_s=duration,
                image_column=image_column, label_column=label_column, until_decided=until_decided, max_runs=max_runs, max_time=max_time, tolerance_pp=tolerance,
                compare_at=compare_at, focus=focus, budget_check=budget_check, **recipe,
            )
        except KeyboardInterrupt:
            # typer turns Ctrl-C into a silent exit status; say what happened and how to go on
            err_console.print(
                f"interrupted: finished runs are stored in {out / 'results.sqlite'}; re-run the same command to resume",
                markup=False, highlight=False, soft_wrap=True,
            )
            raise SystemExit(130) from None
        summary = handle.summary
        if json_out:
            print_json(summary.to_dict())
        if summary.n_failed_now:
            failed = ", ".join(f"{f['level_label']}/{f['arch']}/seed {f['seed']}" for f in summary.failures[:5])
            more = f" and {summary.n_failed_now - 5} more" if summary.n_failed_now > 5 else ""
            finished = summary.n_skipped + summary.n_done_now
            err_console.print(
                f"error: {summary.n_failed_now} of {summary.n_total} runs failed ({failed}{more}); the {finished} "
                f"finished runs are stored in {summary.store}; re-run the same command to retry the failed ones "
                f"(`helmholtz results {out} --failed` shows their errors)",
                markup=False, highlight=False, soft_wrap=True,
            )
            raise typer.Exit(1)

    @app.command("results")
    def results_cmd(
        directory: Annotated[Path, typer.Argument(help="A sweep directory (its --out) or its results.sqlite.")],
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json | parquet")] = "table",
        epochs: Annotated[bool, typer.Option("--epochs", help="Export the per-epoch rows (with arch, codec, level, seed) instead of one row per run.")] = False,
        failed: Annotated[bool, typer.Option("--failed", help="Include failed runs (with their error).")] = False,
        out_file: Annotated[str | None, typer.Option("--out", help="csv/json: write this file instead of standard output ('-' is standard output); parquet: required.")] = None,
        predictions: Annotated[bool, typer.Option("--predictions", help="Export every run's per-item test predictions and the test labels (with --out FILE.npz or FILE.parquet).")] = False,
    ) -> None:
        """Show or export the runs (or epochs) of a sweep: a table, or CSV/JSON on standard output (or --out FILE),
        or Parquet (--out FILE)."""
        from helmholtz import api

        kind = "epochs" if epochs else "runs"
        if predictions:
            n, target = api.export_predictions(directory, out_file)
            err_console.print(f"wrote the per-item predictions of {n} runs to {target}", markup=False,
                              highlight=False, soft_wrap=True)
            return
        if fmt not in _FORMATS:
            raise ConfigError(f"--format got {fmt!r}; expected one of {', '.join(_FORMATS)}", fix="e.g. --format csv")
        if fmt == "table":
            if out_file is not None:
                raise ConfigError("--format table prints to the terminal and writes no file", where="--out",
                                  fix="use --format csv, json or parquet with --out, or drop --out")
            _print_table(api.results_table(directory, epochs=epochs, failed=failed), epochs=epochs)
            return
        n, target = api.export(directory, out_file, fmt=fmt, kind=kind, failed=failed)
        if target is not None:
            err_console.print(f"wrote {n} {'epoch' if epochs else 'run'} rows to {target}", markup=False,
                              highlight=False, soft_wrap=True)


def _print_table(table: dict, *, epochs: bool) -> None:
    from rich.table import Table

    rows, where, heading = table["rows"], table["where"], table["level_heading"]
    if epochs:
        out = Table(title=f"epochs in {where}")
        cols = ("run_id", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
        for c in cols:
            out.add_column(c, justify="left" if c == "run_id" else "right")
        for r in rows:
            out.add_row(*(_fmt(r[c]) for c in cols))
        console.print(out)
        return
    out = Table(title=f"runs in {where}")
    cols = (("level_label", heading), ("arch", "arch"), ("seed", "seed"), ("status", "status"), ("test_acc", "test acc"),
            ("best_val_acc", "best val"), ("best_epoch", "best ep"), ("epochs_run", "epochs"), ("wall_s", "wall s"))
    for c, head in cols:
        out.add_column(head, justify="left" if c in ("level_label", "arch", "status") else "right")
    for r in rows:
        out.add_row(*(_fmt(r[c]) for c, _ in cols))
    console.print(out)
    if table["levels"]:
        cells = Table(title="mean test accuracy ± std over seeds (n)", title_justify="left")
        cells.add_column(heading)
        for a in table["archs"]:
            cells.add_column(f"arch {a}", justify="right")
        for lv in table["levels"]:
            cells.add_row(lv, *(table["cells"].get((lv, a), "–") for a in table["archs"]))
        console.print(cells)


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value > 100:
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)

