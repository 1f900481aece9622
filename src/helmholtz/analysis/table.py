"""The grid of a sweep as the analysis sees it: its levels on the paper's quantization axis Q, and the finished runs.

The quantization axis Q (DESIGN.md; paper Fig. 4 and 7):
- images: Q = (100 − q)/100 for JPEG quality q, so q = 100 is Q = 0.0 and q = 1 is Q = 0.99;
- audio: Q runs linearly in the bitrate from 0.0 at the highest bitrate of the grid to 1.0 at the lowest.

The uncompressed original (level None, label 'none') has no Q. It is the reference the compressed levels are judged
against, so it is kept apart: it is never q = 100, and the figures draw it with its own marker and a dashed line.

Every function here takes plain rows (lists of dicts, as `Store.runs()` / `Store.levels()` return them), so the
analysis runs the same on a store, on an export, or on rows a test builds by hand.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from helmholtz.errors import StoreError

Codec = Literal["none", "jpeg", "mp3"]
Modality = Literal["image", "audio"]

#: label of the uncompressed original, the reference level
REFERENCE = "none"


def level_label(level: int | None) -> str:
    """'none' for the original, else the level as text (JPEG quality or MP3 kbps), as the store labels levels."""
    return REFERENCE if level is None else str(int(level))


@dataclass(frozen=True)
class GridLevel:
    """One level of the grid: its label, its codec level, its Q, and its measured bits (a LevelStats row)."""

    label: str
    level: int | None                 # JPEG quality 1..100 or MP3 kbps; None = the uncompressed original
    Q: float | None                   # quantization axis; None for the reference
    stats: Mapping[str, Any] | None   # LevelStats row from the store; None while not yet measured

    @property
    def is_reference(self) -> bool:
        return self.level is None


@dataclass(frozen=True)
class Grid:
    """The levels of a sweep in walk order: the reference first, then the compressed levels by rising Q
    (best quality first). Levels come from the sweep spec when there is one, so a partial sweep keeps its axis."""

    codec: Codec
    modality: Modality
    levels: tuple[GridLevel, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(lv.label for lv in self.levels)

    @property
    def compressed(self) -> tuple[GridLevel, ...]:
        return tuple(lv for lv in self.levels if not lv.is_reference)

    def get(self, label: str) -> GridLevel | None:
        return next((lv for lv in self.levels if lv.label == label), None)

    @property
    def bits_unit(self) -> str:
        """Unit of the measured-bits axis: bits per pixel for images, kbps for audio."""
        return "kbps" if self.modality == "audio" else "bits/pixel"

    def name(self, label: str) -> str:
        """How a level reads in prose: 'q 20', '32 kbps', or 'the original'."""
        if label == REFERENCE:
            return "the original"
        return f"{label} kbps" if self.codec == "mp3" else f"q {label}"


def quantization_axis(level: int | None, *, codec: Codec, grid_levels: Iterable[int | None]) -> float | None:
    """Q of one level (paper Fig. 4/7). None for the original. Audio needs the grid's bitrates for its end points."""
    if level is None:
        return None
    if codec == "mp3":
        rates = sorted({int(x) for x in grid_levels if x is not None})
        lo, hi = rates[0], rates[-1]
        # a single bitrate has no range to normalise over: it is the grid's best quality
        return 0.0 if hi == lo else (hi - int(level)) / (hi - lo)
    return (100 - int(level)) / 100


def done_runs(runs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The finished runs (status 'done', or rows without a status) that carry a test accuracy."""
    return [dict(r) for r in runs if r.get("status", "done") == "done" and r.get("test_acc") is not None]


def parse_json(value: Any) -> Any:
    """A *_json column as Python: the store keeps JSON text, exports may already have parsed it."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _infer_codec(spec: Mapping[str, Any] | None, runs: Sequence[Mapping], levels: Sequence[Mapping]) -> Codec:
    if spec and spec.get("codec") in ("jpeg", "mp3", "none"):
        return spec["codec"]
    for row in (*runs, *levels):
        if row.get("level") is not None and row.get("codec") in ("jpeg", "mp3"):
            return row["codec"]
    return "none"


def build_grid(*, runs: Sequence[Mapping[str, Any]], levels: Sequence[Mapping[str, Any]],
               spec: Mapping[str, Any] | None = None) -> Grid:
    """The grid of a sweep from its spec (if any), its stored level statistics and its runs.

    Levels of the spec that have no run yet stay on the axis (a sweep still running keeps its Q values); a
    level that appears only in runs or level rows is added. Raises StoreError for a level that is not an integer.
    """
    codec = _infer_codec(spec, runs, levels)
    modality: Modality = (spec or {}).get("modality") or ("audio" if codec == "mp3" else "image")
    found: set[int | None] = set()
    for row in (*[{"level": x} for x in (spec or {}).get("levels", ())], *runs, *levels):
        value = row.get("level")
        if value is None and row.get("level_label") not in (None, REFERENCE):
            value = row["level_label"]
        try:
            found.add(None if value is None else int(value))
        except (TypeError, ValueError):
            raise StoreError(f"level {value!r} is not an integer", where="results store",
                             fix="re-run the sweep into a new --out directory") from None
    stats = {str(row.get("level_label") or level_label(row.get("level"))): dict(row) for row in levels}
    grid = [
        GridLevel(label=level_label(lv), level=lv,
                  Q=quantization_axis(lv, codec=codec, grid_levels=found), stats=stats.get(level_label(lv)))
        for lv in found
    ]
    grid.sort(key=lambda g: -1.0 if g.Q is None else g.Q)
    return Grid(codec=codec, modality=modality, levels=tuple(grid))


def arch_params(runs: Iterable[Mapping[str, Any]]) -> dict[str, int | None]:
    """Parameter count of each architecture (median over its runs), smallest first; None when not recorded."""
    counts: dict[str, list[int]] = {}
    for r in runs:
        counts.setdefault(str(r["arch"]), [])
        if r.get("n_params") is not None:
            counts[str(r["arch"])].append(int(r["n_params"]))
    sizes = {a: (int(statistics.median(c)) if c else None) for a, c in counts.items()}
    # unknown sizes sort after known ones, then by name, so the order is stable
    return dict(sorted(sizes.items(), key=lambda kv: (kv[1] is None, kv[1] or 0, kv[0])))
