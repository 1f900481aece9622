"""`helmholtz datasets` (which known datasets are here) and `helmholtz inspect DATASET` (what a dataset holds)."""

from __future__ import annotations

from typing import Any

import typer

from helmholtz.cli.options import (
    DatasetArg,
    Duration,
    ImageColumn,
    Json,
    LabelColumn,
    SampleRate,
    SplitSeed,
    TestSize,
    TrainSize,
    ValFraction,
)


def _render_status(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from helmholtz.cli.common import console

    table = Table(title="Known datasets")
    for col in ("name", "status", "path / how to get it", "format"):
        table.add_column(col)
    for row in rows:
        if row["found"]:
            table.add_row(row["name"], "[green]found[/]", row["path"], row["format"])
        else:
            table.add_row(row["name"], "[red]missing[/]", f"{row['how_to_get']}\n(looked in: {', '.join(row['searched'])})", "")
    console.print(table)


def _render_summary(info: dict[str, Any]) -> None:
    from rich.table import Table

    from helmholtz.cli.common import console

    facts = Table(title=f"Dataset {info['name']}", show_header=False)
    facts.add_column(style="bold")
    facts.add_column()
    shape = "x".join(map(str, info["item_shape"]))
    rate = f" at {info['sample_rate']} Hz" if info["sample_rate"] else ""
    subset = ", ".join(f"{k}={info[k]}" for k in ("train_size", "test_size", "val_fraction", "split_seed"))
    for key, value in (
        ("source", info["source"]), ("format", info["format"]), ("modality", info["modality"]),
        ("item", f"{shape} {info['dtype']}{rate}"), ("classes", str(info["n_classes"])),
        ("splits", ", ".join(f"{k} {v}" for k, v in info["splits"].items())
         + ("" if info["own_test_split"] else " (test held out from the pool)")),
        ("split options", subset), ("content hash", info["content_hash"]),
    ):
        facts.add_row(key, value)
    counts = Table(title="Items per class and split")
    counts.add_column("#", justify="right")
    counts.add_column("class")
    for split in ("train", "val", "test"):
        counts.add_column(split, justify="right")
    for i, row in enumerate(info["per_class"]):
        counts.add_row(str(i), row["class"], *(str(row[s]) for s in ("train", "val", "test")))
    counts.add_section()
    counts.add_row("", "total", *(str(info["splits"][s]) for s in ("train", "val", "test")))
    console.print(facts)
    console.print(counts)


def register(app: typer.Typer) -> None:
    """Add `datasets` and `inspect` to `app`."""

    @app.command("datasets")
    def datasets_cmd(json_out: Json = False) -> None:
        """List the known datasets: where each was found and its format, or how to get it."""
        from helmholtz import api
        from helmholtz.cli.common import print_json

        rows = api.datasets()
        if json_out:
            print_json(rows)
        else:
            _render_status(rows)

    @app.command("inspect")
    def inspect_cmd(
        dataset: DatasetArg,
        train_size: TrainSize = None,
        test_size: TestSize = None,
        val_fraction: ValFraction = None,
        split_seed: SplitSeed = 0,
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        image_column: ImageColumn = None,
        label_column: LabelColumn = None,
        json_out: Json = False,
    ) -> None:
        """Show a dataset's format, item shape, classes, counts per split and class, and content hash."""
        from helmholtz import api
        from helmholtz.cli.common import print_json

        info = api.inspect(dataset, train_size=train_size, test_size=test_size, val_fraction=val_fraction,
                           split_seed=split_seed, sample_rate=sample_rate, duration_s=duration,
                           image_column=image_column, label_column=label_column)
        if json_out:
            print_json(info)
        else:
            _render_summary(info)
