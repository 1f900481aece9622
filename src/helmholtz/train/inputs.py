"""Turn a (codec round-tripped) `Dataset` into what the models read.

Images pass through unchanged: they stay uint8 N×H×W×C so the training loop can hold them on the device at one
byte per pixel and convert each batch there (pixel/255, the paper's input scaling). Audio waves become log-mel
spectrograms (96 bands, the paper's audio features), standardised by the training split's mean and standard
deviation (one scalar each, so no statistic of the validation or test split leaks in), as float32 N×1×96×T.
"""

from __future__ import annotations

import numpy as np

from helmholtz.data.dataset import Dataset
from helmholtz.errors import DataError


def is_prepared(ds: Dataset) -> bool:
    """True when ``ds`` already holds model inputs (images, or audio features N×1×F×T)."""
    return ds.modality == "image" or ds.x_train.ndim == 4


def prepare_inputs(ds: Dataset, *, device: str = "cpu", n_mels: int = 96) -> Dataset:
    """Images: returned as they are. Audio: waves N×T → normalised log-mel float32 N×1×n_mels×T' (idempotent)."""
    if is_prepared(ds):
        return ds
    if ds.x_train.ndim != 2:
        raise DataError(
            f"audio must be mono waves N×T; got x_train of shape {ds.x_train.shape}", where=ds.source,
            fix="load the audio with helmholtz.data.load_dataset",
        )
    if not ds.sample_rate:
        raise DataError("audio dataset has no sample_rate", where=ds.source, fix="load it with load_dataset(..., sample_rate=44100)")
    from helmholtz.features.mel import log_mel

    mels = {
        split: log_mel(np.asarray(getattr(ds, f"x_{split}"), dtype=np.float32), sr=ds.sample_rate, n_mels=n_mels, device=device)
        for split in ("train", "val", "test")
    }
    mean = float(mels["train"].mean(dtype=np.float64))
    std = float(mels["train"].std(dtype=np.float64))
    std = std if std > 0 else 1.0     # a constant training split: centre it, do not divide by zero
    out = {f"x_{k}": ((v - mean) / std).astype(np.float32)[:, None, :, :] for k, v in mels.items()}
    return ds.with_arrays(**out, features="log-mel", n_mels=n_mels, feature_mean=mean, feature_std=std)
