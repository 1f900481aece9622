"""Effective capacity of an architecture A–F on a dataset: the glue between the data, the models and `memorise`.

The items are the dataset's training split as the models read them (images: pixel/255, N×C×H×W; audio: the
normalised log-mel of `prepare_inputs`), in a seeded random order, average-pooled by an integer factor so that a CPU
measures in minutes (Fashion-MNIST ×2 → 1×14×14). The MEC is computed for the same input shape, class count and
width, so the ratio compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from torch import nn

from helmholtz.capacity.memorise import (
    Budget,
    EffectiveCapacity,
    RecipeSpec,
    Trial,
    get_recipe,
    measure_effective_capacity,
)
from helmholtz.errors import ConfigError


def downsample(x: np.ndarray, factor: int) -> np.ndarray:
    """Average-pool N×C×H×W by an integer ``factor`` (H and W cropped to multiples of it); 1 returns x."""
    if factor < 1:
        raise ConfigError(f"--downsample must be an integer ≥ 1; got {factor}", where="--downsample", fix="e.g. --downsample 2")
    if factor == 1:
        return x
    n, c, h, w = x.shape
    hh, ww = h // factor, w // factor
    if hh < 1 or ww < 1:
        raise ConfigError(f"--downsample {factor} leaves nothing of {h}×{w} inputs", where="--downsample",
                          fix=f"use a factor ≤ {min(h, w)}")
    x = x[:, :, :hh * factor, :ww * factor].reshape(n, c, hh, factor, ww, factor)
    return x.mean(axis=(3, 5), dtype=np.float32)


def model_inputs(ds, *, factor: int = 1, max_items: int | None = None, seed: int = 0) -> np.ndarray:
    """The training split as model-ready float32 N×C×H×W, in a seeded random order (images: pixel/255; audio:
    the normalised log-mel of `prepare_inputs`), average-pooled by ``factor``, at most ``max_items`` items."""
    from helmholtz.train.inputs import prepare_inputs

    x = prepare_inputs(ds).x_train
    order = np.random.default_rng([seed, 0x0D3]).permutation(len(x))[:max_items]
    x = x[order]
    if ds.modality == "image":
        x = x.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(downsample(np.asarray(x, dtype=np.float32), factor))


def measure_arch(
    ds,
    *,
    arch: str,
    width: float = 0.25,
    recipe: str | RecipeSpec = "fast",
    budget: Budget = Budget(epochs=100, min_steps=1000),
    factor: int = 2,
    max_items: int | None = 16384,
    n_start: int = 256,
    threshold: float = 0.99,
    rel_tol: float = 0.1,
    seed: int = 0,
    dropout: bool = True,
    on_trial: Callable[[Trial], None] | None = None,
) -> EffectiveCapacity:
    """The effective capacity of model ``arch`` (A–F, R8/R20 or a factory MODULE:FACTORY, at ``width``) on random
    labels for ``ds``'s training items, downsampled by ``factor``, beside its MEC on that input shape.

    ``dropout=False`` sets every dropout probability to 0, to separate what the optimizer realises from what the
    architecture's dropout (part of A–F as the paper trains them) takes away."""
    from helmholtz.capacity.mec_module import model_mec
    from helmholtz.models.factory import build

    spec = get_recipe(recipe)
    x = model_inputs(ds, factor=factor, max_items=max_items, seed=seed)
    shape = tuple(int(s) for s in x.shape[1:])
    mec = model_mec(arch, modality=ds.modality, input_shape=shape, n_classes=ds.n_classes, width=width)

    def make_model() -> nn.Module:
        model = build(arch, modality=ds.modality, input_shape=shape, n_classes=ds.n_classes, width=width)
        if not dropout:
            for module in model.modules():
                if isinstance(module, nn.Dropout):
                    module.p = 0.0
        return model

    result = measure_effective_capacity(
        make_model, x, n_classes=ds.n_classes, recipe=spec, budget=budget, n_start=n_start, threshold=threshold,
        rel_tol=rel_tol, seed=seed, mec_bits=mec.mec_bits, arch=mec.arch, on_trial=on_trial,
    )
    notes = {**result.notes, "input": f"{ds.name} training items, {'×'.join(map(str, shape))} "
                                      f"(average-pooled ×{factor}), width {width:g}", "mec_rule": mec.rule,
             "dropout": "as in the architecture (off when accuracy is measured)" if dropout else "off (p = 0)"}
    return replace(result, notes=notes)
