"""helmholtz: the Helmholtz method as a toolkit.

Measures how much of a sensor dataset is content and how much is noise, by training classifiers on perceptually
compressed copies of it (JPEG at quality q, MP3 at a bitrate) and finding the knee N_approx where accuracy collapses.

The Python API mirrors the CLI (see `helmholtz.api`)::

    import helmholtz as hz
    ds = hz.load_dataset("fashion-mnist", train_size=10_000)
    sw = hz.sweep(ds, out="runs/f", levels=[5, 20, None], archs="A,F", seeds=2, epochs=5, width=0.25)
    hz.results("runs/f"); hz.report("runs/f")

Importing this package is cheap and never imports torch: the heavy stages load only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: API functions, loaded from `helmholtz.api` on first use (train, sweep and report are callable subpackages)
_API = ("load_dataset", "compress", "bits", "train", "sweep", "open_sweep", "results", "export", "export_predictions",
        "analyze", "report", "plan",
        "Sweep", "TrainOutcome", "Compressed")
_PACKAGES = ("train", "sweep", "report")

__all__ = ["__version__", "errors", *_API]


def __getattr__(name: str) -> Any:
    if name in _PACKAGES or name == "errors":
        return importlib.import_module(f"helmholtz.{name}")
    if name in _API:
        return getattr(importlib.import_module("helmholtz.api"), name)
    raise AttributeError(f"module 'helmholtz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API, "errors"})
