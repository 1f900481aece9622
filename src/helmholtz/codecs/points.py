"""The (codec, level) points of a grid, in canonical order, and which of them no codec can run.

A sweep's grid is a first codec with its levels (None: the uncompressed original, the reference every codec
shares) and, for a multi-codec sweep, more codecs with theirs. The sweep spec (`helmholtz.sweep.spec.SweepSpec`)
and the analysis of a stored spec both read the grid through these functions, so the order of the points and the
check of their levels are written once, here, below both. Pure Python, no numpy: only the codec registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from helmholtz.codecs.registry import CODECS, REFERENCE, level_display
from helmholtz.errors import CodecError

#: one point of the grid: (codec, level); the original is (REFERENCE, None)
Point = tuple[str, int | None]
#: the other codecs of a multi-codec grid, each with its levels
MoreCodecs = tuple[tuple[str, tuple[int, ...]], ...]


def _level_key(level: int | None) -> tuple[int, Any]:
    # numeric levels ascending, the original ('none') last
    return (1, 0) if level is None else (0, level)


def canonical_grid(codec: str, levels: Iterable[int | None],
                   more_codecs: Iterable[tuple[str, Iterable[int | None]]] = ()) -> tuple[tuple[int | None, ...], MoreCodecs]:
    """(levels, more_codecs) of a grid in canonical order: levels ascending with the original last, no duplicates;
    a codec named twice keeps one entry with the union of its levels; the original always sits in ``levels``."""
    first = set(levels)
    more: dict[str, set[Any]] = {}
    for name, lvls in more_codecs:
        lvls = set(lvls)
        if None in lvls:
            first.add(None)
            lvls.discard(None)
        if name == codec:
            first |= lvls
        else:
            more.setdefault(name, set()).update(lvls)
    return tuple(sorted(first, key=_level_key)), tuple((n, tuple(sorted(v))) for n, v in more.items())


def grid_points(codec: str, levels: Sequence[int | None], more_codecs: MoreCodecs = ()) -> tuple[Point, ...]:
    """Every (codec, level) of a canonical grid (`canonical_grid`): each codec's levels in order, the first codec
    first, then the original (REFERENCE, None) when the grid has it. A grid of codec 'none' is the original only."""
    pts: list[Point] = [] if codec == REFERENCE else [(codec, v) for v in levels if v is not None]
    pts += [(name, v) for name, lvls in more_codecs for v in lvls]
    return (*pts, (REFERENCE, None)) if None in levels else tuple(pts)


def invalid_levels(codec: str, levels: Sequence[int | None]) -> list[tuple[int, str]]:
    """(level, why) for each level of ``codec`` the registry refuses (None, the original, is always valid)."""
    spec = CODECS.get(codec)
    out = []
    for v in levels:
        if v is None or spec is None:
            continue
        try:
            spec.check(v)
        except CodecError as ex:
            out.append((v, ex.what))
    return out


def invalid_points(points: Iterable[Point]) -> list[tuple[str, int, str]]:
    """(codec, level, why) for every point the registry refuses — what an older helmholtz let through, e.g. MP3
    100 kbps. Unknown codecs count with every level; the original is always valid. Codec by codec, in the order
    the codecs first appear."""
    by_codec: dict[str, list[int]] = {}
    for name, v in points:
        if name != REFERENCE and v is not None:
            by_codec.setdefault(name, []).append(v)
    out: list[tuple[str, int, str]] = []
    for name, levels in by_codec.items():
        if name not in CODECS:
            out += [(name, v, f"{name} is not a codec of this helmholtz") for v in levels]
            continue
        out += [(name, v, why) for v, why in invalid_levels(name, levels)]
    return out


def points_text(points: Iterable[Point]) -> str:
    """'MP3 100 kbps, WebP q 101' — points in prose, for messages."""
    return ", ".join(level_display(c, v) for c, v in points)


__all__ = ["MoreCodecs", "Point", "canonical_grid", "grid_points", "invalid_levels", "invalid_points", "points_text"]
