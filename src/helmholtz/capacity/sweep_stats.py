"""The capacity facts a sweep records per level, so that its report can show them without the data.

For every level the sweep prepares, the data's capacity requirement on the model inputs of the training split: the
reference algorithm (energy sort, all items) and the nearest-neighbour variant that respects the data's geometry (on
at most `NN_ITEMS` items, seeded, so it costs a second or two per level). Stored in the level's statistics row
under ``capacity``; the model input shape and class count go to the store's meta (``model_input``), for the MEC of
each architecture. Torch-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helmholtz.capacity.requirement import capacity_requirement

#: items the nearest-neighbour variant looks at per level (its cost grows with n log n)
NN_ITEMS = 5000


def level_capacity(x: np.ndarray, y: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """The requirement of one level's training inputs: {'energy': Requirement dict, 'nn': Requirement dict}."""
    out = {"energy": capacity_requirement(x, y, method="energy").to_dict()}
    idx = np.arange(len(y))
    if len(idx) > NN_ITEMS:
        idx = np.sort(np.random.default_rng(seed).choice(len(y), NN_ITEMS, replace=False))
    out["nn"] = capacity_requirement(x[idx], y[idx], method="nn", seed=seed).to_dict()
    return out


def model_input(x: np.ndarray, *, modality: str, n_classes: int, n_train: int) -> dict[str, Any]:
    """The models' input (C, H, W) of a prepared dataset: images N×H×W×C, audio features N×1×F×T."""
    shape = (x.shape[3], x.shape[1], x.shape[2]) if modality == "image" else tuple(x.shape[1:])
    return {"input_shape": [int(v) for v in shape], "n_classes": int(n_classes), "modality": modality,
            "n_train": int(n_train)}
