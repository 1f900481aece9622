"""`helmholtz sweep` (the grid of level × arch × seed, resumable, local or Ray) and `helmholtz results` (export)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from helmholtz.cli import options as o
from helmholtz.cli.common import console, err_console, print_json
from helmholtz.errors import ConfigError

_FORMATS = ("table", "csv", "json", "parquet")


def _dataset_arg(text: str) -> str:
    # an existing path is stored absolute, so the same sweep resumes from any working directory
    p = Path(text).expanduser()
    return str(p.resolve()) if p.exists() else text


def register(app: typer.Typer) -> None:
    """Add `sweep` and `results` to `app`."""

    @app.command("sweep")
    def sweep_cmd(
        dataset: o.DatasetArg,
        out: Annotated[Path, typer.Option("--out", help="Sweep directory: results.sqlite goes here; re-run to resume.")],
        codec: Annotated[str | None, typer.Option("--codec", help="A codec of `helmholtz codecs`, or several in one sweep: jpeg,webp,avif (default: jpeg for images, mp3 for audio; none = the original only).")] = None,
        levels: Annotated[list[str] | None, typer.Option("--levels", help="Comma-separated levels, 'none' = the original (default: each codec's grid). Per codec: --levels jpeg=5,10,20 --levels avif=20,40,60. Several codecs always train the original, their shared reference.")] = None,
        archs: Annotated[str, typer.Option("--archs", help="Comma-separated architectures (see `helmholtz archs`).")] = "A,B,C,D,E,F",
        seeds: Annotated[str, typer.Option("--seeds", help="A count (3 → seeds 0,1,2) or a list (0,5,7).")] = "3",
        engine: Annotated[str, typer.Option("--engine", help="local | ray")] = "local",
        workers: Annotated[int, typer.Option("--workers", help="Runs at once (local: processes; 0 = one per GPU).")] = 1,
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
        train_size: o.TrainSize = None,
        test_size: o.TestSize = None,
        val_fraction: o.ValFraction = None,
        split_seed: o.SplitSeed = 0,
        epochs: o.Epochs = 200,
        patience: o.Patience = 10,
        optimizer: o.OptimizerOpt = None,
        lr: o.Lr = None,
        lr_decay: o.LrDecay = None,
        momentum: o.Momentum = 0.9,
        batch_size: o.BatchSize = None,
        width: o.Width = 1.0,
        weight_decay: o.WeightDecay = 0.0,
        label_smoothing: o.LabelSmoothing = 0.0,
        augment: o.Augment = True,
        precision: o.PrecisionOpt = "auto",
        compile_: o.Compile = False,
        json_out: o.Json = False,
    ) -> None:
        """Train every architecture × seed on every compression level; resumable (re-run the same command).

        Ctrl-C stops cleanly: finished runs are stored, and re-running the same command resumes.
        """
        from helmholtz.codecs.registry import default_codec
        from helmholtz.sweep.grid import implied_modality, parse_grid
        from helmholtz.sweep.spec import SweepSpec, make_sweep_spec, parse_archs, parse_seeds, validate_sweep

        # everything that needs no data is checked before the dataset is read
        if not until_decided and (max_runs is not None or max_time is not None):
            raise ConfigError("--max-runs and --max-time bound an adaptive sweep", fix="add --until-decided")
        if max_runs is not None and max_runs < 1:
            raise ConfigError(f"--max-runs must be ≥ 1; got {max_runs}", fix="e.g. --max-runs 60")
        from helmholtz.adaptive.loop import coarse_levels, parse_duration

        max_time_s = parse_duration(max_time)
        codecs, level_map = parse_grid(codec, levels)
        arch_list, seed_list = parse_archs(archs), parse_seeds(seeds)
        if engine not in ("local", "ray"):
            raise ConfigError(f"--engine got {engine!r}; expected local or ray", fix="e.g. --engine local")
        recipe = dict(
            epochs=epochs, patience=patience, optimizer=optimizer, lr=lr, lr_decay=lr_decay, momentum=momentum,
            batch_size=batch_size, width=width, weight_decay=weight_decay, label_smoothing=label_smoothing,
            augment=augment, precision=precision, compile=compile_,
        )
        # every level of every codec named is checked against the registry now; without a codec, once the dataset's
        # modality (and so the codec) is known — still before anything is stored or trained
        guess = implied_modality(codecs, level_map)
        pre = make_sweep_spec(
            dataset, modality=guess or "image", codec=codecs if guess else "none", levels=level_map if guess else None,
            archs=arch_list, seeds=seed_list, options=o.train_options(modality=guess or "image", **recipe),
            train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed,
        )
        validate_sweep(pre)
        from helmholtz.sweep.runner import check_out_dir, run_sweep

        check_out_dir(out)

        from helmholtz.data import load_dataset

        ds = load_dataset(dataset, train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed)
        if until_decided and level_map is None:
            level_map = {c: list(coarse_levels(c)) for c in codecs or (default_codec(ds.modality),)}
        spec: SweepSpec = make_sweep_spec(
            _dataset_arg(dataset), modality=ds.modality, codec=codecs, levels=level_map, archs=arch_list, seeds=seed_list,
            options=o.train_options(modality=ds.modality, **recipe), train_size=train_size, test_size=test_size,
            val_fraction=ds.info.get("val_fraction", val_fraction), split_seed=split_seed, data_hash=ds.content_hash,
        )
        options = dict(engine=engine, workers=workers, address=address, gpus_per_run=gpus_per_run, extend=extend,
                       quiet=quiet or json_out, dataset=ds, threads_per_run=threads_per_run, max_retries=max_retries)
        try:
            if until_decided:
                from helmholtz.adaptive.loop import run_until_decided

                summary = run_until_decided(spec, out, max_runs=max_runs, max_time_s=max_time_s,
                                            tolerance_pp=tolerance, compare_level=compare_at, **options)
            else:
                summary = run_sweep(spec, out, **options)
        except KeyboardInterrupt:
            # typer turns Ctrl-C into a silent exit status; say what happened and how to go on
            err_console.print(
                f"interrupted: finished runs are stored in {out / 'results.sqlite'}; re-run the same command to resume",
                markup=False, highlight=False, soft_wrap=True,
            )
            raise SystemExit(130) from None
        if json_out:
            print_json(summary.to_dict())

    @app.command("results")
    def results_cmd(
        directory: Annotated[Path, typer.Argument(help="A sweep directory (its --out) or its results.sqlite.")],
        fmt: Annotated[str, typer.Option("--format", help="table | csv | json | parquet")] = "table",
        epochs: Annotated[bool, typer.Option("--epochs", help="Export the per-epoch rows instead of one row per run.")] = False,
        failed: Annotated[bool, typer.Option("--failed", help="Include failed runs (with their error).")] = False,
        predictions: Annotated[bool, typer.Option("--predictions", help="Export every run's per-item test predictions (with --out FILE.npz or .parquet).")] = False,
        out_file: Annotated[Path | None, typer.Option("--out", help="Write here (csv/parquet default: DIR/results.<ext> or DIR/epochs.<ext>).")] = None,
    ) -> None:
        """Show or export the runs (or epochs) of a sweep: a table, CSV, JSON or Parquet."""
        from helmholtz.sweep import export
        from helmholtz.sweep.store import Store

        if fmt not in _FORMATS:
            raise ConfigError(f"--format got {fmt!r}; expected one of {', '.join(_FORMATS)}", fix="e.g. --format csv")
        if predictions:
            if out_file is None:
                raise ConfigError("--predictions needs --out FILE.npz or FILE.parquet", fix="e.g. --out predictions.npz")
            with Store(directory) as store:
                rows, labels = store.runs(predictions=True), store.test_labels()
            target = export.write_predictions(rows, labels, out_file)
            err_console.print(f"wrote the predictions of {len(rows)} runs to {target}", markup=False, highlight=False)
            return
        with Store(directory) as store:
            rows = store.epochs() if epochs else store.runs(None if failed else "done")
            columns = export.EPOCH_COLUMNS if epochs else export.RUN_COLUMNS
            store_dir = store.dir
            spec = store.spec() or {}
        if fmt == "table":
            _print_table(rows, epochs=epochs, codecs=_spec_codecs(spec), where=store_dir)
            return
        if fmt == "json" and out_file is None:
            print_json(rows)
            return
        target = out_file or store_dir / f"{'epochs' if epochs else 'results'}.{fmt}"
        export.write(rows, columns, target, fmt=fmt)
        err_console.print(f"wrote {len(rows)} {'epoch' if epochs else 'run'} rows to {target}", markup=False, highlight=False, soft_wrap=True)


def _spec_codecs(spec: dict) -> list[str]:
    from helmholtz.sweep.spec import SweepSpec

    return list(SweepSpec.from_dict(spec).codecs) if spec else []


def _print_table(rows: list[dict], *, epochs: bool, codecs: list[str], where: Path) -> None:
    from rich.table import Table

    from helmholtz.sweep.summary import cell_table, format_cell, grid, level_heading

    if epochs:
        table = Table(title=f"epochs in {where}")
        cols = ("run_id", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
        for c in cols:
            table.add_column(c, justify="left" if c == "run_id" else "right")
        for r in rows:
            table.add_row(*(_fmt(r[c]) for c in cols))
        console.print(table)
        return
    table = Table(title=f"runs in {where}")
    cols = (("level_label", level_heading(codecs)), ("arch", "arch"), ("seed", "seed"), ("status", "status"), ("test_acc", "test acc"),
            ("best_val_acc", "best val"), ("best_epoch", "best ep"), ("epochs_run", "epochs"), ("wall_s", "wall s"))
    for c, head in cols:
        table.add_column(head, justify="left" if c in ("level_label", "arch", "status") else "right")
    for r in rows:
        table.add_row(*(_fmt(r[c]) for c, _ in cols))
    console.print(table)
    levels, archs, by = grid(cell_table(rows, codecs=codecs))
    if levels:
        cells = Table(title="mean test accuracy ± std over seeds (n)", title_justify="left")
        cells.add_column(level_heading(codecs))
        for a in archs:
            cells.add_column(f"arch {a}", justify="right")
        for lv in levels:
            cells.add_row(lv, *(format_cell(by.get((lv, a))) for a in archs))
        console.print(cells)


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value > 100:
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)

