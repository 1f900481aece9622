"""A stored sweep spec against the one given again: their differences in words (`spec_differences`), and the union
when the new one only adds to the grid (`merge_extend`, for ``--extend``). Spec dicts in, spec dicts out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from helmholtz.errors import StoreError
from helmholtz.sweep.spec import SweepSpec, show_value
from helmholtz.train.options import OPTIONS
from helmholtz.train.spec import ADDED_OPTION_DEFAULTS


def spec_differences(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Human-readable differences between two sweep spec dicts, field by field (nested dicts by key)."""
    out: list[str] = []
    for key in sorted(set(stored) | set(given)):
        a, b = stored.get(key), given.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    note = " (the dataset's content changed)" if (key, sub) == ("data", "data_hash") else ""
                    was = a.get(sub)
                    if key == "options" and sub not in a and sub in ADDED_OPTION_DEFAULTS:
                        was, flag = ADDED_OPTION_DEFAULTS[sub], OPTIONS[sub].flag   # fmax_hz's is --fmax
                        note = f" (the sweep predates {flag}: pass {flag} {was} to resume)"
                    out.append(f"{key}.{sub}: stored {was!r}, given {b.get(sub)!r}{note}")
        elif a != b:
            out.append(f"{key}: stored {show_value(a)}, given {show_value(b)}")
    return out


#: the keys of a spec dict that make up its grid: --extend may add to these, and only to these
_GRID_KEYS = ("codec", "levels", "more_codecs", "archs", "seeds")


def merge_extend(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The union sweep of ``stored`` and ``given`` when ``given`` only adds codecs, levels, archs or seeds.

    The stored codecs keep their order (the first stays the headline's); new codecs follow. Raises StoreError
    listing the other fields that differ (those would change every run's meaning).
    """
    fixed = {k: v for k, v in given.items() if k not in _GRID_KEYS}
    base = {k: v for k, v in stored.items() if k not in _GRID_KEYS}
    diffs = spec_differences(base, fixed)
    if diffs:
        raise StoreError(
            "--extend may only add codecs, levels, archs or seeds, but these differ from the stored sweep: "
            + "; ".join(diffs),
            fix="keep the other options as stored, or use a new --out",
        )
    a, b = SweepSpec.from_dict(stored), SweepSpec.from_dict(given)
    union = replace(a.with_points(dict.fromkeys((*a.points, *b.points))), archs=(*a.archs, *b.archs),
                    seeds=(*a.seeds, *b.seeds))
    return union.to_dict()
