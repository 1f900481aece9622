"""Model names, the one string every result, store row and table knows a model by. Pure text: no torch.

    NAME[@WIDTH]      NAME: a built-in (A–F, R8, R20; case-insensitive) or a factory MODULE:FACTORY

``R8@0.5`` is the residual family's member at half width; ``mynet.zoo:make@0.25`` calls the user's
``make(input_shape=(C, H, W), n_classes=K, width=0.25)``. Without ``@WIDTH`` the run's ``--width`` applies; with
it, the member's width is that value (``--widths 0.25,0.5,1`` makes one member per value, so "how small a model
holds" is answered within one family).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from helmholtz.errors import ConfigError

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_FACTORY = re.compile(rf"^{_IDENT}(\.{_IDENT})*:{_IDENT}(\.{_IDENT})*$")
_BUILTIN = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
WIDTH_MAX = 8.0


@dataclass(frozen=True)
class ModelName:
    base: str                         # 'A', 'R8' or 'pkg.module:factory'
    width: float | None = None        # the member's width ('@W'); None: the run's --width

    @property
    def is_factory(self) -> bool:
        return ":" in self.base

    def __str__(self) -> str:
        return self.base if self.width is None else f"{self.base}@{self.width:g}"

    def effective_width(self, width_option: float) -> float:
        return width_option if self.width is None else self.width


def _bad(text: str, why: str) -> ConfigError:
    return ConfigError(f"model name {text!r}: {why}", where="--model/--archs",
                       fix="use A..F, R8, R20 or MODULE:FACTORY, optionally with @WIDTH (e.g. R8@0.5, mynet:make)")


def parse_model(text: object) -> ModelName:
    """'r8@0.5' → ModelName('R8', 0.5); 'pkg.mod:make' → ModelName('pkg.mod:make'). Built-in names go upper case;
    a factory's import path keeps its case. Raises one ConfigError line for anything else."""
    raw = str(text).strip()
    base, sep, w = raw.rpartition("@") if "@" in raw else (raw, "", "")
    base = base.strip()
    width = None
    if sep:
        try:
            width = float(w)
        except ValueError:
            raise _bad(raw, f"the width after @ must be a number; got {w!r}") from None
        if not 0.0 < width <= WIDTH_MAX:
            raise _bad(raw, f"the width must be in (0, {WIDTH_MAX:g}]; got {w}")
    if ":" in base:
        if not _FACTORY.match(base):
            raise _bad(raw, "a factory is MODULE:FACTORY with a dotted module path and a name")
        return ModelName(base, width)
    if not _BUILTIN.match(base):
        raise _bad(raw, "not a model name")
    return ModelName(base.upper(), width)


def canonical(text: object) -> str:
    """The stored spelling of a model name ('r8@0.50' → 'R8@0.5')."""
    return str(parse_model(text))


def with_widths(names: Iterable[str], widths: Iterable[float] | None) -> tuple[str, ...]:
    """Each model at each width: ('R8',) × (0.25, 1) → ('R8@0.25', 'R8@1'). A name that already has a width is
    refused (one way to say it); ``widths`` None or empty leaves the names as they are."""
    ws = [float(w) for w in (widths or ())]
    out: list[str] = []
    for name in names:
        m = parse_model(name)
        if not ws:
            out.append(str(m))
            continue
        if m.width is not None:
            raise ConfigError(f"model {name!r} has a width already and --widths gives more", where="--widths",
                              fix=f"drop @{m.width:g} from the name, or drop --widths")
        for w in ws:
            out.append(str(parse_model(f"{m.base}@{w}")))
    if len(set(out)) != len(out):
        raise ConfigError(f"the models repeat: {','.join(out)}", where="--widths", fix="list each width once")
    return tuple(out)


def parse_widths(text: str | Iterable[float] | None) -> tuple[float, ...] | None:
    """'0.25,0.5,1' → (0.25, 0.5, 1.0); each in (0, 8]. None stays None."""
    if text is None:
        return None
    items = [p.strip() for p in text.split(",")] if isinstance(text, str) else [str(v) for v in text]
    out = []
    for item in items:
        try:
            w = float(item)
        except ValueError:
            raise ConfigError(f"--widths: {item!r} is not a number", where="--widths", fix="e.g. --widths 0.25,0.5,1") from None
        if not 0.0 < w <= WIDTH_MAX:
            raise ConfigError(f"--widths: {item} is outside (0, {WIDTH_MAX:g}]", where="--widths", fix="e.g. --widths 0.25,0.5,1")
        out.append(w)
    if not out:
        raise ConfigError("--widths is empty", where="--widths", fix="e.g. --widths 0.25,0.5,1")
    return tuple(out)
