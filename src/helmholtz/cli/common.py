"""Small helpers shared by the CLI modules: parsing lists, printing JSON, the console."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from helmholtz.errors import ConfigError

console = Console()
err_console = Console(stderr=True)


def parse_int_list(text: str, *, option: str, allow_none: bool = False) -> list[int | None]:
    """'5,10,20,none' → [5, 10, 20, None]. Raises ConfigError naming the option and the bad item."""
    out: list[int | None] = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        if allow_none and item.lower() in ("none", "orig", "original"):
            out.append(None)
            continue
        try:
            out.append(int(item))
        except ValueError:
            allowed = "integers" + (" or 'none'" if allow_none else "")
            raise ConfigError(f"{option} got {item!r}; expected comma-separated {allowed}", fix=f"e.g. {option} 5,10,20") from None
    if not out:
        raise ConfigError(f"{option} is empty", fix=f"e.g. {option} 5,10,20")
    return out


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout, nothing else."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
