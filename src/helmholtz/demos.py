"""The demos (`helmholtz demo`, `make demo`): adaptive sweeps on real data, sized for 2 CPU cores, then the report.

The image demo trains the paper's archs A and F at ¼ width with the fast recipe on a Fashion-MNIST subset, starting
from the original and the coarse JPEG grid (q 5, 25, 50, 90), and lets `helmholtz.adaptive` add seeds and levels
until N_approx is bracketed and A-vs-F at the paper's q 25 is decided, or the budget is spent; then it writes the
report. Every size is in `IMAGE_SIZES`, so a GPU user can run the same thing bigger through `helmholtz sweep`.
The CLI is a thin layer over `image_demo` / `demo_spec`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_ARCHS = ("A", "F")


@dataclass(frozen=True)
class DemoSize:
    """One size of the image demo: data, recipe budget, starting seeds and the adaptive sweep's budget."""

    train_size: int                   # the Fashion-MNIST training pool (before the 10 % validation split)
    test_size: int | None             # None: the whole 10k test split (more items, tighter paired differences)
    epochs: int                       # the fast recipe's cap (one-cycle anneals over it)
    seeds: int                        # seeds of the starting grid
    levels: tuple[int | None, ...]    # the starting grid (JPEG quality; None = the original)
    max_runs: int
    max_time_s: float                 # summed training time of the stored runs


IMAGE_SIZES: dict[str, DemoSize] = {
    # calibrated on a 2-core AMD EPYC VM (see README): ~12 s per run at 6 epochs, 2 runs at a time
    "full": DemoSize(train_size=10_000, test_size=None, epochs=6, seeds=3, levels=(5, 25, 50, 90, None),
                     max_runs=70, max_time_s=15 * 60),
    "quick": DemoSize(train_size=2_000, test_size=2_000, epochs=2, seeds=3, levels=(5, 25, None), max_runs=24,
                      max_time_s=120),
}


def demo_spec(*, quick: bool = False):
    """The image demo's starting `SweepSpec`: Fashion-MNIST subset, coarse JPEG grid, archs A and F, the fast
    recipe at ¼ width."""
    from helmholtz.sweep.spec import make_sweep_spec
    from helmholtz.train.recipes import resolve_recipe

    size = IMAGE_SIZES["quick" if quick else "full"]
    options = resolve_recipe("fast", "image", epochs=size.epochs, width=0.25)
    return make_sweep_spec(
        "fashion-mnist", modality="image", codec="jpeg", levels=size.levels, archs=DEMO_ARCHS, seeds=size.seeds,
        options=options, train_size=size.train_size, test_size=size.test_size,
    )


def _workers() -> tuple[int, int]:
    """(runs at once, threads per run): one single-threaded run per CPU, up to two. ¼-width models gain more from
    two runs at once than from two threads per run, and a single-threaded run never stalls on a busy core."""
    from helmholtz.checks import available_cpus

    return max(1, min(2, available_cpus())), 1


def image_demo(out: str | os.PathLike | None = None, *, quick: bool = False, quiet: bool = False,
               tolerance_pp: float = 1.0, **report_options: Any):
    """Run (or resume) the image demo into ``out`` (default runs/demo, or runs/demo-quick) and write its report;
    returns the `ReportFiles`."""
    from helmholtz.adaptive.loop import run_until_decided
    from helmholtz.report.build import build_report

    size = IMAGE_SIZES["quick" if quick else "full"]
    out = Path(out) if out is not None else Path("runs/demo-quick" if quick else "runs/demo")
    workers, threads = _workers()
    run_until_decided(demo_spec(quick=quick), out, max_runs=size.max_runs, max_time_s=size.max_time_s,
                      tolerance_pp=tolerance_pp, engine="local", workers=workers, threads_per_run=threads,
                      quiet=quiet)
    return build_report(out, tolerance_pp=tolerance_pp, **report_options)
