"""Small helpers shared by the CLI modules: parsing lists, printing JSON, the console."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from helmholtz.checks import parse_int_list  # noqa: F401  (re-exported for the CLI modules)

console = Console()
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout, nothing else."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
