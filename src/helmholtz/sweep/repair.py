"""`repair`: bring a sweep directory that an older helmholtz left broken back to a sweep that can finish.

Before every level was checked against the codec registry, `helmholtz sweep DIR --codec mp3 --levels 32,100`
stored the spec, trained 32 kbps and failed at 100 kbps (not a Layer III bitrate). That directory could never be
completed: the same command failed again, a corrected ``--levels`` was refused as "a different sweep", ``--extend``
failed at 100 again, and the report said "partial sweep" for good.

`repair` drops from the stored spec every level the registry refuses (and any level named in ``drop``), deletes
those levels' failed runs and level rows, and leaves every finished run as it is; a level that has a finished run
is never dropped. The sweep then resumes (same command with the corrected levels), and ``--extend`` adds levels.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from helmholtz.codecs.registry import level_display, level_label
from helmholtz.errors import StoreError
from helmholtz.sweep.spec import Point, SweepSpec, invalid_points, validate_sweep


@dataclass(frozen=True)
class RepairResult:
    """What `repair` dropped (or, with ``dry_run``, would drop) and what the directory now holds."""

    directory: str
    dropped: list[dict[str, Any]] = field(default_factory=list)   # {label, codec, level, display, why}
    failed_runs_deleted: int = 0
    level_rows_deleted: int = 0
    levels_now: list[str] = field(default_factory=list)           # every level the sweep holds after the repair
    dry_run: bool = False                                          # True: nothing was written

    @property
    def changed(self) -> bool:
        return bool(self.dropped)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _named(spec: SweepSpec, labels: Sequence[str]) -> dict[Point, str]:
    """The points of ``spec`` that the user named by label ('100', 'webp:40', 'none'), with why."""
    by_label = {level_label(c, v, check=False): (c, v) for c, v in spec.points}
    out: dict[Point, str] = {}
    for text in labels:
        t = text.strip().lower()
        t = "none" if t in ("orig", "original") else t
        if t not in by_label:
            raise StoreError(f"--drop {text!r} is not a level of the stored sweep",
                             fix=f"name one of its levels: {', '.join(by_label)}")
        out[by_label[t]] = "named in --drop"
    return out


def repair(run_dir: str | os.PathLike, *, drop: str | Sequence[str] | None = (), dry_run: bool = False) -> RepairResult:
    """Drop the stored sweep's invalid levels (and the levels in ``drop``: labels, as a list or a comma list) from
    ``run_dir``; see the module docstring. Raises StoreError when there is no store or spec, when a level to drop
    has finished runs, or when nothing would be left."""
    from helmholtz.sweep.store import Store

    if isinstance(drop, str):
        from helmholtz.checks import split_list

        drop = split_list(drop, option="--drop", example="mp3=100")
    drop = drop or ()

    with Store(run_dir) as store:
        stored = store.spec()
        if stored is None:
            raise StoreError("this results store holds no sweep spec", where=str(store.path),
                             fix="nothing to repair; run a sweep into it")
        spec = SweepSpec.from_dict(stored)
        todo: dict[Point, str] = {(c, v): why for c, v, why in invalid_points(spec)}
        for point, why in _named(spec, drop).items():
            todo.setdefault(point, why)
        labels = {p: level_label(*p, check=False) for p in todo}
        done = {}
        for r in store.runs("done"):
            done[r["level_label"]] = done.get(r["level_label"], 0) + 1
        kept = [p for p in todo if done.get(labels[p])]
        if kept:
            names = ", ".join(f"{level_display(*p)} ({done[labels[p]]} finished runs)" for p in kept)
            raise StoreError(f"cannot drop {names}: finished runs are never thrown away",
                             where=str(store.dir), fix="keep that level, or start the changed sweep in a new --out")
        remaining = [p for p in spec.points if p not in todo]
        if todo and not remaining:
            raise StoreError("dropping those levels would leave the sweep with no level", where=str(store.dir),
                             fix="use a new --out for a different sweep")
        new = spec.with_points(remaining)
        if todo:
            validate_sweep(new)
        names = set(labels.values())
        gone = {"runs": sum(1 for r in store.runs(None) if r["status"] != "done" and r["level_label"] in names),
                "levels": sum(1 for r in store.levels() if r["level_label"] in names)}
        if todo and not dry_run:
            gone = store.replace_spec(new.to_dict(), drop_labels=sorted(names))
        return RepairResult(
            directory=str(store.dir), dry_run=dry_run,
            dropped=[{"label": labels[p], "codec": p[0], "level": p[1], "display": level_display(*p), "why": why}
                     for p, why in todo.items()],
            failed_runs_deleted=gone["runs"], level_rows_deleted=gone["levels"],
            levels_now=[level_display(*p) for p in new.points],
        )


__all__ = ["RepairResult", "repair"]
