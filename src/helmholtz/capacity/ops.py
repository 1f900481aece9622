"""The capacity commands of the API: the MEC of models (`capacity model`), the data's requirement per level
(`capacity data`) and measured memorisation (`capacity measure`), each with its options checked and its data
loaded here, so the CLI only parses and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helmholtz.errors import ConfigError


@dataclass(frozen=True)
class ModelCapacity:
    """`capacity model`: one MEC row per model, and the counting rule they follow."""

    rows: list[Any]
    rule: str


def model_capacity(*, modality: str = "image", arch: str = "all", input_shape: str | None = None,
                   classes: int | None = None, width: float = 1.0, model: str | None = None) -> ModelCapacity:
    """The MEC of A–F, R8/R20 (shape arithmetic, no torch) or of --model factories (traced, torch)."""
    from helmholtz.capacity.mec import RULE
    from helmholtz.models.catalog import input_of, model_names

    names = model_names(arch, modality, model)
    shape, k = input_of(modality, input_shape, classes)
    if model is not None:   # a factory is traced (torch); the built-ins stay torch-free shape arithmetic
        from helmholtz.capacity.mec_module import model_mec

        rows = [model_mec(n, modality=modality, input_shape=shape, n_classes=k, width=width) for n in names]
    else:
        from helmholtz.capacity.mec import mec_table

        rows = mec_table(names, modality=modality, input_shape=shape, n_classes=k, width=width)  # type: ignore[arg-type]
    return ModelCapacity(rows=list(rows), rule=RULE)


def data_capacity(dataset: Any, *, codec: str = "jpeg", levels: str | None = None, train_size: int | None = None,
                  split_seed: int = 0, methods: str = "energy,projection,nn", fractions: str | None = None,
                  projections: int = 16, nn_dims: int = 64, sigdigits: int | None = None,
                  rise: float = 0.02, seed: int = 0, sample_rate: int = 44100, duration_s: float = 2.0,
                  on_level: Callable[[Any], None] | None = None):
    """The capacity the data requires at each level (`capacity data`); ``fractions`` None: no progression;
    ``rise``: the turning point's relative rise above the lowest requirement."""
    from helmholtz.capacity.levels import requirement_by_level
    from helmholtz.checks import parse_float_list, parse_int_list, split_list
    from helmholtz.data import load_dataset

    level_list = parse_int_list(levels, option="--levels", allow_none=True) if levels is not None else None
    fr = None if fractions is None else parse_float_list(fractions, option="--fractions",
                                                          example="0.05,0.1,0.2,0.4,0.8,1")
    kwargs = {"projections": projections, "nn_dims": nn_dims or None, "sigdigits": sigdigits}
    ds = load_dataset(dataset, train_size=train_size, split_seed=split_seed, sample_rate=sample_rate,
                      duration_s=duration_s)
    return requirement_by_level(ds, codec=codec, levels=level_list,
                                methods=split_list(methods, option="--methods", example="energy,nn"), fractions=fr,
                                rise=rise, seed=seed, on_level=on_level, **kwargs)


def measured_capacity(dataset: Any, *, arch: str = "A", width: float = 0.25, model: str | None = None,
                      recipe: str = "paper", budget: int = 100, min_steps: int = 1000,
                      budget_seconds: float | None = None, downsample: int = 2, max_items: int = 16384,
                      n_start: int = 256, threshold: float = 0.99, seed: int = 0, dropout: bool = True,
                      train_size: int | None = None, sample_rate: int = 44100, duration_s: float = 2.0,
                      on_trial: Callable[[str, str, Any], None] | None = None) -> list[Any]:
    """Memorisation of random labels (`capacity measure`): one result per model × recipe (comma lists), each
    trial reported to ``on_trial(arch, recipe, trial)``. Runs on at most two torch threads."""
    import torch

    from helmholtz.capacity.measure import measure_arch
    from helmholtz.capacity.memorise import Budget, get_recipe
    from helmholtz.checks import split_list
    from helmholtz.data import load_dataset
    from helmholtz.models.catalog import model_names

    recipes = [get_recipe(r) for r in split_list(recipe, option="--recipe", example="paper,fast")]
    plan = Budget(epochs=budget, seconds=budget_seconds, min_steps=min_steps)
    if max_items < 2 or n_start < 2:
        raise ConfigError(f"--max-items and --n-start must be ≥ 2; got {max_items}, {n_start}", fix="e.g. --n-start 256")
    names = model_names(arch, "image", model)   # both modalities share the built-in names
    ds = load_dataset(dataset, train_size=train_size, sample_rate=sample_rate, duration_s=duration_s)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, min(threads, 2)))
    results = []
    try:
        for a in names:
            for rs in recipes:
                def report(t: Any, a: str = a, name: str = rs.name) -> None:
                    if on_trial is not None:
                        on_trial(a, name, t)

                results.append(measure_arch(ds, arch=a, width=width, recipe=rs, budget=plan, factor=downsample,
                                            max_items=max_items, n_start=n_start, threshold=threshold, seed=seed,
                                            dropout=dropout, on_trial=report))
    finally:
        torch.set_num_threads(threads)   # the caller's thread count, as it was
    return results
