"""What a sweep is asked for, as the API and the CLI give it, parsed once: levels, models, seeds.

`level_texts` brings the API's forms of ``levels`` to the grid parser's; `model_list` resolves ``archs`` or
``model`` (with ``widths``) to model names, importing a factory now so a bad one fails before any data is read;
`seed_list` reads a count or a list. The sweep itself starts in `helmholtz.adaptive.start` (plain or adaptive).
"""

from __future__ import annotations

from typing import Any

from helmholtz.errors import ConfigError


def level_texts(levels: Any) -> str | list[str] | None:
    """``levels`` as `sweep.grid.parse_grid` reads them: a string ('5,10,none', 'jpeg=5,10 avif=20'), a list of such
    strings (the repeatable --levels), a dict {codec: levels}, or a list of numbers (None = the original)."""
    if levels is None or isinstance(levels, str):
        return levels
    if isinstance(levels, dict):
        return [f"{c}={','.join('none' if v is None else str(v) for v in vs)}" if c else
                ",".join("none" if v is None else str(v) for v in vs) for c, vs in levels.items()]
    items = list(levels)
    if all(isinstance(v, str) for v in items):
        return items
    return ",".join("none" if v is None else str(v) for v in items)


def level_values(levels: Any) -> list[int | None] | None:
    """A single codec's levels as numbers (None = the original): from '5,10,none' or a list of numbers/strings."""
    if levels is None:
        return None
    if isinstance(levels, str):
        from helmholtz.checks import parse_int_list

        return parse_int_list(levels, option="--levels", allow_none=True)
    out: list[int | None] = []
    for lv in levels:
        if lv is None or (isinstance(lv, str) and lv.strip().lower() in ("none", "orig", "original")):
            out.append(None)
        elif isinstance(lv, str):
            out += level_values(lv) or []
        else:
            out.append(lv)
    return out


def arch_list(archs: Any) -> tuple[str, ...]:
    """'A,F' or a list of names → checked architecture names."""
    from helmholtz.sweep.spec import parse_archs

    return parse_archs(archs if isinstance(archs, str) else ",".join(map(str, archs)))


def model_list(archs: Any, model: Any, widths: Any, width: Any = None) -> tuple[str, ...]:
    """The sweep's models: ``archs`` or ``model`` (not both; default A–F), each at each of ``widths``. A
    factory is imported now, so a bad one fails before any data is read."""
    from helmholtz.models.names import parse_widths, with_widths

    if archs is not None and model is not None:
        raise ConfigError("--archs and --model both name the models", where="--model",
                          fix="use --model for your factory (a comma list may mix in built-ins: --model A,mynet:make)")
    ws = parse_widths(widths)
    if ws is not None and width not in (None, 1, 1.0):
        raise ConfigError(f"--widths and --width {width} both set the width", where="--widths",
                          fix="use --widths for a family of sizes, or --width for one")
    names = with_widths(arch_list("A,B,C,D,E,F" if archs is None and model is None else archs if model is None
                                  else model), ws)
    from helmholtz.models.factory import import_factories

    import_factories(names)
    return names


def seed_list(seeds: Any) -> tuple[int, ...]:
    """A count (3 → 0, 1, 2), a list, or '0,5,7' → the seeds."""
    from helmholtz.sweep.spec import parse_seeds

    if isinstance(seeds, str):
        return parse_seeds(seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        return parse_seeds(str(seeds))
    return parse_seeds(",".join(map(str, seeds)) + ",")


def yes_no(value: Any, *, option: str) -> bool:
    """'yes'/'no' (also true/false, on/off, 1/0) or a bool → bool; anything else is one line."""
    if isinstance(value, bool):
        return value
    t = str(value).strip().lower()
    if t in ("yes", "y", "true", "on", "1"):
        return True
    if t in ("no", "n", "false", "off", "0"):
        return False
    raise ConfigError(f"{option} got {value!r}; expected yes or no", where=option, fix=f"e.g. {option} no")
