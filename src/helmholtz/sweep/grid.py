"""The codec × level grid of a sweep, as the user writes it and as the sweep spec holds it. Pure Python, no torch.

Every codec fact (names, modalities, valid levels, default grids, labels) comes from ``codecs.registry``.

On the command line a sweep names one or several codecs and, optionally, their levels:

- ``--codec jpeg`` with ``--levels 5,10,20,none``: one codec, the levels given ('none' = the original);
- ``--codec jpeg,webp,avif``: several codecs in one sweep and one store, each at its default grid;
- ``--levels jpeg=5,10,20 --levels avif=20,40,60`` (or in one value: ``"jpeg=5,10,20 avif=20,40,60"``, groups
  separated by spaces or ';'): per-codec levels; ``--codec`` may then be left out (the codecs named are the sweep's);
- a plain list with several codecs (``--codec jpeg,webp --levels 10,50,90``) gives every codec those levels.

A sweep of several codecs always trains the original once: it is the shared reference of every codec.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from helmholtz.codecs.points import invalid_levels as invalid_levels
from helmholtz.codecs.registry import CODECS, REFERENCE, default_codec
from helmholtz.errors import ConfigError

#: levels by codec as parsed from ``--levels``; the key None holds a plain list (every codec without its own)
LevelsArg = Mapping[str | None, Sequence[int | None]]
_NONE_WORDS = ("none", "orig", "original")
# a new group starts at ';' or at whitespace followed by 'name='
_GROUPS = re.compile(r";|\s+(?=[A-Za-z][\w-]*\s*=)")


def known_codec(name: str, *, where: str = "--codec") -> str:
    """``name`` lower-cased when it is a registry codec or 'none'; else a ConfigError listing every codec."""
    n = str(name).strip().lower()
    if n == REFERENCE or n in CODECS:
        return n
    raise ConfigError(f"{where} got {name!r}; expected one of {', '.join(CODECS)} (or none)",
                      fix="see `helmholtz codecs` for every codec and its levels")


def parse_codecs(text: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """'jpeg,webp,avif' (or a list of names) → ('jpeg', 'webp', 'avif'), in the order given, without repeats."""
    if text is None:
        return None
    from helmholtz.checks import split_list

    example = "jpeg,webp,avif"
    items = (split_list(text, option="--codec", example=example) if isinstance(text, str)
             else [p for t in text for p in split_list(str(t), option="--codec", example=example)])
    names: list[str] = []
    for item in items:
        if (name := known_codec(item)) not in names:
            names.append(name)
    if not names:
        raise ConfigError("--codec is empty", fix="e.g. --codec jpeg, or --codec jpeg,webp,avif")
    if REFERENCE in names and len(names) > 1:
        raise ConfigError(f"--codec got {','.join(names)}: 'none' (the original) is not a codec to compare",
                          fix="drop none: a sweep of several codecs trains the original anyway, as their reference")
    return tuple(names)


def parse_level_list(text: str, *, option: str = "--levels") -> list[int | None]:
    """'5,10,20,none' → [5, 10, 20, None]. Whether each number is a valid level is the registry's to say."""
    from helmholtz.checks import split_list

    out: list[int | None] = []
    for item in split_list(text, option=option, example="5,10,20,none"):
        if item.lower() in _NONE_WORDS:
            out.append(None)
            continue
        try:
            out.append(int(item))
        except ValueError:
            raise ConfigError(f"{option} got {item!r}; expected comma-separated integers or 'none'",
                              fix=f"e.g. {option} 5,10,20,none") from None
    if not out:
        raise ConfigError(f"{option} is empty", fix=f"e.g. {option} 5,10,20,none")
    return out


def parse_levels(texts: str | Sequence[str] | None) -> dict[str | None, list[int | None]] | None:
    """The values of ``--levels`` (repeatable) → {codec: levels}, with the key None for a plain list."""
    if texts is None:
        return None
    values = [texts] if isinstance(texts, str) else list(texts)
    if not values:
        return None
    out: dict[str | None, list[int | None]] = {}
    for value in values:
        for group in (g.strip() for g in _GROUPS.split(value)):
            if not group:
                continue
            name, eq, rest = group.partition("=")
            key = known_codec(name, where="--levels") if eq else None
            option = f"--levels {key}=" if key else "--levels"
            if key in out:
                twice = f"names {key} twice" if key else "has two plain lists"
                raise ConfigError(f"--levels {twice}", fix="give each codec one list, e.g. --levels jpeg=5,10,20")
            out[key] = parse_level_list(rest if eq else group, option=option)
    if not out:
        raise ConfigError("--levels is empty", fix="e.g. --levels 5,10,20,none or --levels jpeg=5,10 avif=20,40")
    return out


def parse_grid(codec: str | None, levels: str | Sequence[str] | None
               ) -> tuple[tuple[str, ...] | None, dict[str | None, list[int | None]] | None]:
    """``--codec`` and ``--levels`` as typed → (codecs or None, levels by codec or None), for `make_sweep_spec`.
    Checks names and syntax only; the levels themselves are checked by `validate_sweep` against the registry."""
    return parse_codecs(codec), parse_levels(levels)


def implied_modality(codecs: Sequence[str] | None, levels: LevelsArg | None) -> str | None:
    """The modality the named codecs compress (the first named), or None when no codec is named (or only 'none'):
    what a sweep can be validated against before its dataset is read."""
    named = [*(codecs or ()), *(k for k in (levels or {}) if k is not None)]
    return next((CODECS[c].modality for c in named if c in CODECS), None)


def default_levels(codec: str) -> tuple[int | None, ...]:
    """The registry's default grid of ``codec`` plus the original (None); codec 'none': the original only."""
    if codec == REFERENCE:
        return (None,)
    return (*CODECS[known_codec(codec)].default_levels, None)


def resolve_grid(codec: str | Sequence[str] | None, levels: Sequence[int | None] | LevelsArg | None, *,
                 modality: str) -> tuple[str, tuple[int | None, ...], tuple[tuple[str, tuple[int, ...]], ...]]:
    """(first codec, its levels with None for the original, the other codecs with their levels) of a sweep.

    ``codec``: one name, 'a,b,c', a sequence, or None (the codecs named in ``levels``, else the modality's paper
    codec). ``levels``: None (each codec's default grid), a plain list (every codec), or {codec: levels} with an
    optional None key for the codecs not named. With several codecs the original is always in the grid.
    Levels are not validated here (`validate_sweep` does, against the registry).
    """
    mapping: dict[str | None, Sequence[int | None]]
    if levels is None:
        mapping = {}
    elif isinstance(levels, Mapping):
        mapping = dict(levels)
    else:
        mapping = {None: list(levels)}
    names = parse_codecs(codec) if codec is not None else None
    named = [k for k in mapping if k is not None]
    if names is None:
        names = tuple(named) or (default_codec(modality),)
    for k in named:
        if k not in names:
            raise ConfigError(f"--levels gives levels for {k}, which is not in --codec {','.join(names)}",
                              fix=f"add it: --codec {','.join((*names, k))}, or drop its levels")

    def levels_for(name: str) -> list[int | None]:
        given = mapping.get(name, mapping.get(None))
        return list(default_levels(name) if given is None else given)

    per = {name: levels_for(name) for name in names}
    reference = len(names) > 1 or any(None in lv for lv in per.values())
    first, *rest = names
    first_levels = tuple([v for v in per[first] if v is not None] + ([None] if reference else []))
    more = tuple((n, tuple(v for v in per[n] if v is not None)) for n in rest)
    return first, first_levels, more


__all__ = ["LevelsArg", "default_levels", "implied_modality", "invalid_levels", "known_codec", "parse_codecs",
           "parse_grid", "parse_level_list", "parse_levels", "resolve_grid"]
