"""Start a sweep, plain or adaptive: `helmholtz sweep` and `helmholtz.api.sweep`.

Everything that needs no data (grid, models, seeds, recipe, engine, budget, output folder) is checked before the
dataset is read; then the spec is built and handed to `sweep.runner.run_sweep`, or, with ``until_decided``, to the
adaptive loop (`adaptive.loop.run_until_decided`), which runs the same runner step by step.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP, check_tolerance
from helmholtz.errors import ConfigError, warn
from helmholtz.kernels import KERNEL_SETS, Kernels, check_kernels, pinned_kernels

if TYPE_CHECKING:
    from helmholtz.sweep.runner import SweepSummary


def start_sweep(
    dataset: Any, *, out: str | os.PathLike, codec: str | None = None, levels: Any = None, archs: Any = None,
    seeds: Any = 3, model: Any = None, widths: Any = None, keep_weights: Any = True, engine: str = "local",
    workers: int = 1, threads_per_run: int | None = None, address: str | None = None, gpus_per_run: float = 0.0,
    max_retries: int = 2, extend: bool = False, quiet: bool = True,
    on_event: Callable[[dict[str, Any]], None] | None = None, train_size: int | None = None,
    test_size: int | None = None, val_fraction: float | None = None, split_seed: int = 0, sample_rate: int = 44100,
    duration_s: float = 2.0, image_column: str | None = None, label_column: str | None = None,
    run_fn: Callable[..., Any] | None = None, until_decided: bool = False, max_runs: int | None = None,
    max_time: str | float | None = None, tolerance_pp: float = DEFAULT_TOLERANCE_PP, compare_at: str | None = None,
    focus: bool = False, budget_check: bool = False, tolerance: float | None = None, kernels: Kernels = "native",
    **recipe: Any,
) -> SweepSummary:
    """Run the sweep `helmholtz.api.sweep` describes into ``out`` and return its `SweepSummary`. ``tolerance_pp``
    is the margin δ in percentage points (``tolerance``: its older name, still accepted); ``kernels`` 'avx2' holds
    the runs' CPU kernels to AVX2 (`helmholtz.kernels`: the same runs on every x86-64 CPU), 'native' leaves them."""
    from helmholtz.adaptive.loop import coarse_levels, parse_duration
    from helmholtz.codecs.registry import default_codec
    from helmholtz.data import check_split_options
    from helmholtz.data.source import columns, resolve_dataset, source_name
    from helmholtz.sweep.engines import get_engine
    from helmholtz.sweep.grid import implied_modality, parse_grid
    from helmholtz.sweep.parse import level_texts, model_list, seed_list, yes_no
    from helmholtz.sweep.runner import check_out_dir, check_threads, run_sweep
    from helmholtz.sweep.spec import make_sweep_spec, validate_sweep
    from helmholtz.train.recipes import train_options

    # everything that needs no data is checked before the dataset is read
    if tolerance is not None:
        if tolerance_pp != DEFAULT_TOLERANCE_PP and tolerance_pp != tolerance:
            raise ConfigError(f"tolerance={tolerance} and tolerance_pp={tolerance_pp} both set δ",
                              fix="pass tolerance_pp alone (the older name tolerance means the same)")
        tolerance_pp = tolerance
    if until_decided:
        check_tolerance(tolerance_pp)
    keep = yes_no(keep_weights, option="--keep-weights")
    check_kernels(kernels)
    if kernels != "native" and engine == "ray" and address is not None:
        raise ConfigError(f"--kernels {kernels} holds this machine's runs; an existing Ray cluster's workers keep "
                          "their own environment", where="--kernels",
                          fix=f"set {' '.join(f'{k}={v}' for k, v in KERNEL_SETS[kernels].items())} on the cluster's "
                              "nodes, or drop --address to start a Ray here")
    codecs, level_map = parse_grid(codec, level_texts(levels))
    arch_list, seed_values = model_list(archs, model, widths, recipe.get("width")), seed_list(seeds)
    if not until_decided and (max_runs is not None or max_time is not None or focus or budget_check):
        raise ConfigError("--max-runs, --max-time, --focus and --budget-check are options of an adaptive sweep",
                          fix="add --until-decided")
    if max_runs is not None and max_runs < 1:
        raise ConfigError(f"--max-runs must be ≥ 1; got {max_runs}", fix="e.g. --max-runs 60")
    max_time_s = max_time if isinstance(max_time, (int, float)) else parse_duration(max_time)
    get_engine(engine)
    load = dict(train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed,
                sample_rate=sample_rate, duration_s=duration_s)
    check_split_options(**load)
    # every level of every codec named is checked against the registry now; without a codec, once the dataset's
    # modality (and so the codec) is known — still before anything is stored or trained
    guess = implied_modality(codecs, level_map)
    validate_sweep(make_sweep_spec(
        "dataset", modality=guess or "image", codec=codecs if guess else "none",
        levels=level_map if guess else None, archs=arch_list, seeds=seed_values,
        options=train_options(modality=guess or "image", **recipe), train_size=train_size, test_size=test_size,
        val_fraction=val_fraction, split_seed=split_seed,
    ))
    out_dir = Path(out)
    check_out_dir(out_dir)
    check_threads(threads_per_run, workers, engine=engine)
    ds = resolve_dataset(dataset, **load, **columns(image_column, label_column))
    if until_decided and level_map is None:
        level_map = {c: list(coarse_levels(c)) for c in codecs or (default_codec(ds.modality),)}
    spec = make_sweep_spec(
        source_name(dataset, ds), modality=ds.modality, codec=codecs, levels=level_map, archs=arch_list,
        seeds=seed_values, options=train_options(modality=ds.modality, **recipe), train_size=train_size,
        test_size=test_size, val_fraction=ds.info.get("val_fraction", val_fraction), split_seed=split_seed,
        data_hash=ds.content_hash, sample_rate=sample_rate if ds.modality == "audio" else None,
        duration_s=duration_s if ds.modality == "audio" else None,
        image_column=image_column, label_column=label_column,
    )
    options = dict(engine=engine, workers=workers, address=address, gpus_per_run=gpus_per_run, extend=extend,
                   quiet=quiet, on_event=on_event, dataset=ds, threads_per_run=threads_per_run,
                   max_retries=max_retries, run_fn=run_fn, keep_weights=keep)
    with pinned_kernels(kernels):
        _warn_if_fixed(kernels, engine=engine, workers=workers)
        if not until_decided:
            return run_sweep(spec, out_dir, **options)
        from helmholtz.adaptive.loop import run_until_decided

        return run_until_decided(spec, out_dir, max_runs=max_runs, max_time_s=max_time_s, tolerance_pp=tolerance_pp,
                                 compare_level=compare_at, focus=focus, budget_check=budget_check, **options)


def _warn_if_fixed(kernels: str, *, engine: str, workers: int) -> None:
    """Runs in this process (the local engine, one worker) use the kernels torch chose at its first kernel; when that
    was before the sweep and differs from ``kernels``, say so (each run's row records the kernels it really used)."""
    import sys

    wanted = KERNEL_SETS[kernels].get("ATEN_CPU_CAPABILITY")
    if wanted is None or engine != "local" or workers > 1 or "torch" not in sys.modules:
        return
    import torch

    now = torch.backends.cpu.get_cpu_capability()
    if now.lower() != os.environ.get("ATEN_CPU_CAPABILITY", wanted).lower():
        warn(f"--kernels {kernels}: this process already runs torch's {now} kernels (torch chose them before the "
             "sweep), so its runs use them; run the sweep from a fresh process, or with --workers 2")
