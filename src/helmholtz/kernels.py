"""Which CPU kernels the runs use: the machine's own (``native``) or ATen's and oneDNN's held to AVX2 (``avx2``).

x86-64 CPUs of the last decade run AVX2. With the kernels held there, the same seed gives the same run bit for bit
on an AVX2-only EPYC (Zen 1) and on an AVX-512 one (Zen 4) — measured: test accuracy 0.7264 for A at q 25, seed 0,
on both. With each machine's own kernels the rounding differs, runs differ in their last digits, and a borderline
verdict can come out differently. The demos hold them to AVX2; `helmholtz sweep --kernels avx2` does the same for
any sweep. What was in force is recorded with every run (`provenance.host_info`: ``kernel_caps``, and the run's
``cpu_capability`` as torch reports it). No torch here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from helmholtz.errors import ConfigError

Kernels = Literal["native", "avx2"]
#: the environment each choice sets (the user's own values of these variables win)
KERNEL_SETS: dict[str, dict[str, str]] = {
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def check_kernels(name: str) -> str:
    """``name`` if it is a kernel choice, else a one-line ConfigError."""
    if name not in KERNEL_SETS:
        raise ConfigError(f"--kernels got {name!r}; expected {' or '.join(KERNEL_SETS)}",
                          fix="e.g. --kernels avx2 (the same runs on every x86-64 CPU)")
    return name


@contextmanager
def pinned_kernels(name: Kernels = "avx2") -> Iterator[dict[str, str]]:
    """Hold the CPU kernels of the runs started inside to ``name``'s set (spawned workers read the environment before
    they import torch; a run in this process reads it at its first kernel), except where the user set a variable;
    yields what is in force, and restores the environment after."""
    wanted = KERNEL_SETS[check_kernels(name)]
    saved = {key: os.environ.get(key) for key in wanted}
    try:
        for key, value in wanted.items():
            os.environ.setdefault(key, value)
        yield {key: os.environ[key] for key in wanted}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
