"""`helmholtz repair DIR`: drop the levels no codec can run from a sweep directory an older helmholtz left broken.

Parsing and printing only; the work is `helmholtz.api.repair`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from helmholtz.cli import options as o
from helmholtz.cli.common import console, print_json


def register(app: typer.Typer) -> None:
    """Add `repair` to `app`."""

    @app.command("repair")
    def repair_cmd(
        directory: Annotated[Path, typer.Argument(help="A sweep directory (its --out) or its results.sqlite.")],
        drop: Annotated[str | None, typer.Option("--drop", help="Also drop these levels, by label as `helmholtz results` shows them (e.g. 100 or webp:40 or none); only levels without finished runs.")] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be dropped; write nothing.")] = False,
        json_out: o.Json = False,
    ) -> None:
        """Drop from a sweep directory every level its codec refuses (e.g. MP3 100 kbps, stored by an older
        helmholtz), with their failed runs; finished runs are kept. The sweep can then finish, and --extend adds
        levels again."""
        from helmholtz import api

        result = api.repair(directory, drop=drop, dry_run=dry_run)
        if json_out:
            print_json(result.to_dict())
            return
        if not result.changed:
            console.print(f"nothing to repair in {result.directory}: every level of its sweep is valid", markup=False,
                          highlight=False, soft_wrap=True)
            return
        verb = "would drop" if dry_run else "dropped"
        for d in result.dropped:
            console.print(f"{verb} {d['display']} (label {d['label']}): {d['why']}", markup=False, highlight=False,
                          soft_wrap=True)
        if not dry_run:
            console.print(f"deleted {result.failed_runs_deleted} failed run(s) and {result.level_rows_deleted} level "
                          "row(s) of those levels; finished runs are untouched", markup=False, highlight=False)
        console.print(f"the sweep {'would hold' if dry_run else 'now holds'}: {', '.join(result.levels_now)}",
                      markup=False, highlight=False, soft_wrap=True)
        if not dry_run:
            console.print("next: re-run the sweep with these levels to finish it, or add levels with --extend "
                          "(e.g. --levels 96 --extend)", markup=False, highlight=False, soft_wrap=True)
