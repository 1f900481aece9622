"""`helmholtz archs` (the paper's models A–F and their parameter counts) and `helmholtz train` (one run)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from helmholtz.api import DEFAULT_TRAIN_RECIPE
from helmholtz.cli import options as o
from helmholtz.cli.common import console, err_console, print_json


def register(app: typer.Typer) -> None:
    """Add `archs` and `train` to `app`."""

    @app.command("archs")
    def archs_cmd(
        modality: Annotated[str, typer.Option("--modality", help="image | audio")] = "image",
        input_shape: Annotated[str | None, typer.Option("--input-shape", help="C×H×W, e.g. 1x28x28 [default: the paper's 3x32x32 / 1x96x173].")] = None,
        classes: Annotated[int | None, typer.Option("--classes", help="Number of classes [default: 10 image, 12 audio].")] = None,
        width: o.Width = 1.0,
        json_out: o.Json = False,
    ) -> None:
        """List the built-in architectures: the paper's A–F (our parameter count and the paper's) and the residual
        family R8/R20; your own models go in with --model MODULE:FACTORY."""
        from helmholtz import api

        table = api.archs(modality=modality, input_shape=input_shape, classes=classes, width=width)
        rows, shape, n_classes = table["rows"], table["input_shape"], table["n_classes"]
        paper_shape, paper_classes = table["paper_shape"], table["paper_classes"]
        if json_out:
            print_json(rows)
            return
        from rich.table import Table

        shape_text = "×".join(map(str, shape))
        table = Table(title=f"{modality} architectures on {shape_text}, {n_classes} classes, width {width:g}")
        table.add_column("arch")
        table.add_column("description")
        table.add_column("params", justify="right")
        table.add_column(f"paper ({'×'.join(map(str, paper_shape))}, {paper_classes} cl.)", justify="right")
        for r in rows:
            paper = "–" if r["paper_params"] is None else f"{r['paper_params']:,}"
            table.add_row(r["name"], r["description"], f"{r['params']:,}", paper)
        console.print(table)
        if modality == "audio":
            console.print(f"note: {rows[0]['note']}")
        console.print("R8, R20: not in the paper; a CIFAR-style ResNet family whose size is set by --width (or "
                      "--widths in a sweep). Your own: --model MODULE:FACTORY.")

    @app.command("train")
    @o.recipe_options(recipe=DEFAULT_TRAIN_RECIPE, after="split_seed")
    def train_cmd(
        dataset: o.DatasetArg,
        codec: Annotated[str, typer.Option("--codec", help="none, or a codec of `helmholtz codecs` (jpeg, webp, avif, …, mp3, opus, …).")] = "none",
        level: Annotated[int | None, typer.Option("--level", help="The codec's level: JPEG quality 1..100, MP3 bitrate in kbps, … (see `helmholtz codecs`).")] = None,
        arch: Annotated[str, typer.Option("--arch", help="Architecture A..F, or the residual R8/R20 (see `helmholtz archs`).")] = "A",
        seed: Annotated[int, typer.Option("--seed", help="Seed of the model init, dropout, shuffling and augmentation.")] = 0,
        model: o.ModelOpt = None,
        train_size: o.TrainSize = None,
        test_size: o.TestSize = None,
        val_fraction: o.ValFraction = None,
        split_seed: o.SplitSeed = 0,
        device: Annotated[str | None, typer.Option("--device", help="cpu | cuda | cuda:N (without it: the first GPU if there is one, else the CPU).")] = None,
        sample_rate: o.SampleRate = 44100,
        duration: o.Duration = 2.0,
        image_column: o.ImageColumn = None,
        label_column: o.LabelColumn = None,
        json_out: o.Json = False,
        **recipe: Any,
    ) -> None:
        """Train one model on one compression level of a dataset and print what it measured."""
        from helmholtz import api

        kwargs = dict(codec=codec, level=level, arch=arch, model=model, seed=seed, device=device, train_size=train_size,
                      test_size=test_size, val_fraction=val_fraction, split_seed=split_seed, sample_rate=sample_rate,
                      duration_s=duration, image_column=image_column, label_column=label_column, **recipe)
        outcome = api.train(dataset, **kwargs) if json_out else _train_with_progress(dataset, kwargs)
        if json_out:
            print_json(outcome.to_dict())
            return
        _print_result(outcome)
        opts = outcome.spec.options
        if opts.recipe == "paper" and opts.optimizer == "sgd" and opts.epochs < 20:
            err_console.print(
                "note: the paper's SGD recipe is slow to start on these plain conv nets (it was run for up to 200 "
                "epochs); for a short CPU run use --recipe fast")


def _train_with_progress(dataset: str, kwargs: dict):
    """`api.train` with a rich progress bar on stderr over all epochs: epoch, last validation accuracy, ETA. The bar
    starts with the first step, so loading and compressing print nothing."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from helmholtz import api

    progress = Progress(
        TextColumn("[bold]epoch {task.fields[epoch]}/{task.fields[max_epochs]}"), BarColumn(),
        TextColumn("val acc {task.fields[val]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=err_console,
    )
    state: dict = {}

    def on_start(spec) -> None:
        state["max_epochs"] = spec.options.epochs   # the resolved recipe's cap: --epochs is None unless given

    def on_progress(epoch: int, done: int, total: int) -> None:
        if "task" not in state:
            progress.start()
            max_epochs = state["max_epochs"]
            state["task"] = progress.add_task("train", total=max_epochs * total, epoch=1, max_epochs=max_epochs, val="–")
        progress.update(state["task"], completed=(epoch - 1) * total + done, epoch=epoch)

    def on_epoch(row) -> None:
        if "task" in state:
            progress.update(state["task"], val=f"{row.val_acc:.4f} (epoch {row.epoch})")

    try:
        return api.train(dataset, on_epoch=on_epoch, on_progress=on_progress, on_start=on_start, **kwargs)
    finally:
        progress.stop()


def _print_result(outcome) -> None:
    from rich.table import Table

    result, stats, spec = outcome.result, outcome.level_stats, outcome.spec
    level = "original" if spec.level is None else f"{spec.codec} {spec.level}"
    table = Table(title=f"{spec.data.dataset} · {level} · arch {spec.arch} · seed {spec.seed}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    etc = "–" if result.epochs_to_converge is None else str(result.epochs_to_converge)
    rows = [
        ("test accuracy", f"{result.test_acc:.4f}"),
        ("test loss", f"{result.test_loss:.4f}"),
        ("best validation accuracy", f"{result.best_val_acc:.4f}"),
        ("best epoch", str(result.best_epoch)),
        ("epochs to converge (paper)", etc),
        ("epochs run", f"{result.epochs_run}{' (stopped early)' if result.stopped_early else ''}"),
        ("wall time", f"{result.wall_s:.1f} s"),
        ("training items/s", f"{result.train_items_per_s:,.0f}"),
        ("parameters", f"{result.n_params:,}"),
        ("device", result.device),
        ("precision", result.precision),
    ]
    bits = getattr(stats, "bits_total", None)
    if bits is not None and spec.codec != "none":
        rows.append((f"bits per {stats.unit} (file / scan)", f"{stats.bits_total:.3f} / {stats.bits_payload:.3f}"))
    rows.append(("recipe", ", ".join(f"{k} {v}" for k, v in outcome.recipe.items())))
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
