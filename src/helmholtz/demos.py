"""The demos (`helmholtz demo`, `make demo`): adaptive sweeps on real data, sized for 2 CPU cores, then the report.

The image demo trains the paper's archs A and F at ¼ width with the fast recipe on a Fashion-MNIST subset, starting
from the original and a JPEG grid around the knee (q 2, 5, 25), and lets `helmholtz.adaptive` add seeds and levels
until N_approx is bracketed and A-vs-F at the paper's q 25 is decided, or the budget is spent; then it writes the
report. Every size is in `IMAGE_SIZES`, so a GPU user can run the same thing bigger through `helmholtz sweep`.
The CLI reaches them through `helmholtz.api.demo` / `demo_audio` (`image_demo`, `run_audio_demo`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP
from helmholtz.kernels import KERNEL_SETS, pinned_kernels

DEMO_ARCHS = ("A", "F")


@dataclass(frozen=True)
class DemoSize:
    """One size of the image demo: data, recipe budget, starting seeds and the adaptive sweep's budget."""

    train_size: int                   # the Fashion-MNIST training pool (before the 10 % validation split)
    test_size: int | None             # None: the whole 10k test split (more items, tighter paired differences)
    epochs: int                       # the fast recipe's cap (one-cycle anneals over it)
    seeds: int                        # seeds of the starting grid
    levels: tuple[int | None, ...]    # the starting grid (JPEG quality; None = the original)
    max_runs: int                     # the budget that steers the plan: the same runs on every machine
    max_time_s: float | None = None   # a guard only (stops between steps); None in the demos


IMAGE_SIZES: dict[str, DemoSize] = {
    # a budget in runs, never in seconds: a time budget bought 60 runs on a CPU with native bf16 (~12 s a run) and
    # 19 on an AVX2-only EPYC (53-62 s a run), so the answer depended on the machine. 10,000 training images for
    # 3 epochs rather than 5,000 for 6 (the same compute): measured on 3 seeds, A's paired losses against the
    # original went from −0.9/−0.8/−1.0 pp at q 50/25/5 (every level about δ: undecidable) to +0.2/−0.2/−1.3 pp,
    # with q 2 at −2.0 — a knee instead of a uniform loss (8,000 for 3 epochs fell back to −1.0/−0.8 at q 25/5).
    # The focused start: A at the original and q 2, 5, 25, F at q 25 only, 3 seeds (15 runs); the adaptive steps
    # and the training-budget check (A's boundary and both comparison cells at 6 epochs with 3 seeds: 12 runs
    # counting twice) share the rest of the 48.
    "full": DemoSize(train_size=10_000, test_size=None, epochs=3, seeds=3, levels=(2, 5, 25, None),
                     max_runs=48),
    "quick": DemoSize(train_size=2_000, test_size=2_000, epochs=2, seeds=3, levels=(5, 25, None), max_runs=24),
}


def demo_spec(*, quick: bool = False):
    """The image demo's starting `SweepSpec`: Fashion-MNIST subset, coarse JPEG grid, archs A and F, the fast
    recipe at ¼ width."""
    from helmholtz.sweep.spec import make_sweep_spec
    from helmholtz.train.recipes import resolve_recipe

    size = IMAGE_SIZES["quick" if quick else "full"]
    # fp32 everywhere: "auto" would train bf16 where the CPU has it natively and fp32 elsewhere, and the runs (so the
    # plan and the answer) would then differ by machine
    options = resolve_recipe("fast", "image", epochs=size.epochs, width=0.25, precision="fp32")
    return make_sweep_spec(
        "fashion-mnist", modality="image", codec="jpeg", levels=size.levels, archs=DEMO_ARCHS, seeds=size.seeds,
        options=options, train_size=size.train_size, test_size=size.test_size,
    )


def _workers() -> tuple[int, int]:
    """(runs at once, threads per run): one single-threaded run per CPU, up to two. ¼-width models gain more from
    two runs at once than from two threads per run, and a single-threaded run never stalls on a busy core."""
    from helmholtz.checks import available_cpus

    return max(1, min(2, available_cpus())), 1


#: the instruction set the demos hold the CPU kernels to (`helmholtz.kernels`: the same runs on AVX2-only and
#: AVX-512 CPUs). On the Zen 4 the AVX2 kernels were also the faster ones in fp32 (53.5 against 47.9 GFLOP/s,
#: `bench/bench_flops.py`).
DEMO_KERNELS = KERNEL_SETS["avx2"]


def _decide_and_report(spec, out: Path, size, *, quiet: bool, tolerance_pp: float = DEFAULT_TOLERANCE_PP, **report_options: Any):
    """Both demos' last two steps: the adaptive sweep from ``spec`` within ``size``'s budget (one single-threaded
    run per CPU, up to two), then the report. No train × test-level matrix: on the 10k-image demo it cost 14.2 s
    of evaluation per model against ~33 s of training (native-bf16 Xeon, fp32), and the demo's budget is for
    deciding N_approx; `helmholtz sweep` keeps it on."""
    from helmholtz.adaptive.loop import run_until_decided
    from helmholtz.report.build import build_report

    workers, threads = _workers()
    with pinned_kernels("avx2") as kernels:
        if not quiet:
            print("CPU kernels held to " + " ".join(f"{k}={v}" for k, v in kernels.items())
                  + ": the same seed gives the same run on AVX2-only and AVX-512 CPUs alike")
        run_until_decided(spec, out, max_runs=size.max_runs, max_time_s=size.max_time_s, tolerance_pp=tolerance_pp,
                          focus=True, budget_check=True, engine="local", workers=workers, threads_per_run=threads,
                          quiet=quiet, keep_weights=False)
    return build_report(out, tolerance_pp=tolerance_pp, **report_options)


def image_demo(out: str | os.PathLike | None = None, *, quick: bool = False, quiet: bool = False,
               tolerance_pp: float = DEFAULT_TOLERANCE_PP, **report_options: Any):
    """Run (or resume) the image demo into ``out`` (default runs/demo, or runs/demo-quick) and write its report;
    returns the `ReportFiles`."""
    size = IMAGE_SIZES["quick" if quick else "full"]
    out = Path(out) if out is not None else Path("runs/demo-quick" if quick else "runs/demo")
    return _decide_and_report(demo_spec(quick=quick), out, size, quiet=quiet, tolerance_pp=tolerance_pp,
                              **report_options)


# ---------------------------------------------------------------- the audio demo

@dataclass(frozen=True)
class AudioDemoSize:
    """One size of the audio demo: the synth set, the recipe budget and the adaptive sweep's budget."""

    notes_per_class: int              # 12 classes; 25 % test, 25 % of the rest validation
    levels: tuple[int | None, ...]    # MP3 kbps (None = the original); 40 kbps is Q 0.75 on 16..112: the paper's level
    archs: tuple[str, ...]
    seeds: int
    epochs: int
    width: float
    max_runs: int
    max_time_s: float | None = None   # a guard only (stops between steps)
    settings: str = "idmt"            # the synth variant (`helmholtz synth guitar-fx --settings`)
    instruments: str = "guitar"       # … and its instruments: the paper's task is IDMT's monophonic guitar set


AUDIO_SIZES: dict[str, AudioDemoSize] = {
    # the idmt synth set's guitar notes (three fixed settings per effect), the smallest and the largest audio model
    # (A, F: the paper's Fig. 9 question at Q 0.75 = 40 kbps on 16..112), the fast audio recipe capped at 12 epochs
    # (A ½ width ≈ 83–85 % on the original, 90–100 s per run on one thread of an AVX2-only Zen 1 EPYC, 33–36 s on a
    # Zen 4 held to AVX2); the focused start is 15 runs (A at every level, F at 40 kbps). It decides there
    # (2026-12-07), then spends 8 runs narrowing at 40 kbps: 23 runs, 8 min 18 s on the Zen 4. The training-budget
    # check (the bracket's cells and both comparison cells, 3 seeds at 24 epochs: 24 run-equivalents) fits only a
    # budget of about 47, ~15 min there and ~35 on the Zen 1, past the demo's 15-minute mark
    "full": AudioDemoSize(notes_per_class=200, levels=(16, 40, 112, None), archs=("A", "F"), seeds=3, epochs=12,
                          width=0.5, max_runs=33),
    "quick": AudioDemoSize(notes_per_class=8, levels=(16, None), archs=("A",), seeds=3, epochs=1, width=0.25,
                           max_runs=6),
}


def audio_demo_spec(data_dir: str | os.PathLike, size: AudioDemoSize):
    """The audio demo's starting `SweepSpec` on the synth set in ``data_dir``: MP3 levels × archs × seeds, the fast
    audio recipe (AdamW one-cycle at lr 5e-3, batch 16, 48×87 log-mel) capped at ``size.epochs``."""
    from helmholtz.sweep.spec import make_sweep_spec, validate_sweep
    from helmholtz.train.recipes import resolve_recipe

    options = resolve_recipe("fast", "audio", epochs=size.epochs, width=size.width)
    spec = make_sweep_spec(str(Path(data_dir)), modality="audio", codec="mp3", levels=size.levels, archs=size.archs,
                           seeds=size.seeds, options=options)
    validate_sweep(spec)
    return spec


def audio_demo(out: str | os.PathLike, size: AudioDemoSize, *, quiet: bool = False, ensure_data=None, **report_options):
    """Run (or resume) the audio demo: the synth set under ``out/data`` (made by ``ensure_data(data_dir)`` when
    given), an adaptive MP3 sweep into ``out``, then its report; returns the `ReportFiles`."""
    from helmholtz.adaptive.loop import check_adaptive

    out = Path(out)
    spec = audio_demo_spec(out / "data", size)      # validated before any data is made
    check_adaptive(spec, max_runs=size.max_runs, focus=True)
    if ensure_data is not None:
        ensure_data(out / "data")
    return _decide_and_report(spec, out, size, quiet=quiet, **report_options)


def run_audio_demo(out: str | os.PathLike, *, quick: bool = False, notes_per_class: int | None = None,
                   epochs: int | None = None, width: float | None = None, max_runs: int | None = None, seed: int = 0,
                   quiet: bool = False, on_synth_progress: Any = None, on_synth_made: Any = None):
    """`helmholtz demo-audio`: the demo's size (quick or full, with any of its numbers given), the synth set under
    ``out/data`` made or reused (``on_synth_progress(done, total)`` while notes are made, ``on_synth_made(summary)``
    after), then `audio_demo`. Returns the `ReportFiles`."""
    from dataclasses import replace

    from helmholtz.synth.guitar import ensure_synth_set

    size = AUDIO_SIZES["quick" if quick else "full"]
    given = {"notes_per_class": notes_per_class, "epochs": epochs, "width": width, "max_runs": max_runs}
    size = replace(size, **{k: v for k, v in given.items() if v is not None})

    def ensure(data_dir: Path) -> None:
        made = ensure_synth_set(data_dir, notes_per_class=size.notes_per_class, seed=seed, settings=size.settings,
                                instruments=size.instruments, on_progress=on_synth_progress)
        if made is not None and on_synth_made is not None:
            on_synth_made(made)

    return audio_demo(out, size, quiet=quiet, ensure_data=ensure)
