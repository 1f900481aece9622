"""Turn a (codec round-tripped) `Dataset` into what the models read.

Images pass through unchanged: they stay uint8 N×H×W×C so the training loop can hold them on the device at one
byte per pixel and convert each batch there (pixel/255, the paper's input scaling). Audio waves become log-mel
spectrograms (96 bands up to sr/2 by default, the paper's audio features; `TrainOptions.n_mels` and `fmax_hz` set
them), standardised by the training split's mean and standard deviation (one scalar each, so no statistic of the
validation or test split leaks in), as float32 N×1×n_mels×T.

The features of a level are computed once and cached on disk beside the codec cache (``<codec cache>/mel``), keyed
by the decoded dataset's content hash and every front-end setting, so an adaptive sweep that comes back to a level
in a later step, or a resumed sweep, reads them instead of extracting them again. Written atomically; a file that
fails to load or does not fit is a miss, never fatal.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from helmholtz.data.dataset import Dataset
from helmholtz.errors import DataError

SPLITS = ("train", "val", "test")
_FORMAT_VERSION = 1   # bump when the features of the same settings change; old files then simply miss


def is_prepared(ds: Dataset) -> bool:
    """True when ``ds`` already holds model inputs (images, or audio features N×1×F×T)."""
    return ds.modality == "image" or ds.x_train.ndim == 4


def feature_cache_path(ds: Dataset, *, n_mels: int, fmax_hz: float | None, hop: int = 512,
                       cache_dir: str | Path | None = None) -> Path:
    """Where the log-mel features of ``ds`` with these settings are cached."""
    from helmholtz.codecs.cache import cache_dir_default

    key = json.dumps([_FORMAT_VERSION, ds.content_hash, ds.sample_rate, n_mels, fmax_hz, 2048, hop], sort_keys=True)
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_dir_default() / "mel"
    return root / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


def _load(path: Path, ds: Dataset) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != path.stem:
                return None
            out = {s: z[f"x_{s}"] for s in SPLITS}
            meta = json.loads(str(z["meta"]))
    except Exception:   # any unreadable cache file is a miss: it is rewritten, never trusted
        return None
    if any(len(out[s]) != len(getattr(ds, f"x_{s}")) or out[s].ndim != 4 for s in SPLITS):
        return None
    return {**out, "meta": meta}


def _store(path: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    from helmholtz.errors import HelmholtzError, warn
    from helmholtz.fsutil import atomic_file

    try:
        with atomic_file(path, what="the feature cache", make_parents=True) as fh:
            np.savez(fh, key=np.array(path.stem), meta=np.array(json.dumps(meta)), **{f"x_{s}": arrays[s] for s in SPLITS})
    except HelmholtzError as ex:
        warn(f"feature cache not written ({ex.what.split(': ', 1)[-1]}) at {path}; results are correct, this level "
             "is only not cached")


def prepare_inputs(ds: Dataset, *, device: str = "cpu", n_mels: int = 96, fmax_hz: float | None = None,
                   hop: int = 512, cache: bool = True) -> Dataset:
    """Images: returned as they are. Audio: waves N×T → normalised log-mel float32 N×1×n_mels×(1 + T // hop) with
    the mel filterbank up to ``fmax_hz`` (None: sr/2), from the disk cache when ``cache`` and it holds them
    (idempotent)."""
    if is_prepared(ds):
        return ds
    if ds.x_train.ndim != 2:
        raise DataError(
            f"audio must be mono waves N×T; got x_train of shape {ds.x_train.shape}", where=ds.source,
            fix="load the audio with helmholtz.data.load_dataset",
        )
    if not ds.sample_rate:
        raise DataError("audio dataset has no sample_rate", where=ds.source, fix="load it with load_dataset(..., sample_rate=44100)")
    path = feature_cache_path(ds, n_mels=n_mels, fmax_hz=fmax_hz, hop=hop) if cache else None
    cached = _load(path, ds) if path is not None else None
    if cached is not None:
        out, meta = {s: cached[s] for s in SPLITS}, cached["meta"]
    else:
        from helmholtz.features.mel import log_mel

        mels = {
            split: log_mel(np.asarray(getattr(ds, f"x_{split}"), dtype=np.float32), sr=ds.sample_rate, n_mels=n_mels,
                           fmax=fmax_hz, hop=hop, device=device)
            for split in SPLITS
        }
        mean = float(mels["train"].mean(dtype=np.float64))
        std = float(mels["train"].std(dtype=np.float64))
        std = std if std > 0 else 1.0     # a constant training split: centre it, do not divide by zero
        out = {k: ((v - mean) / std).astype(np.float32)[:, None, :, :] for k, v in mels.items()}
        meta = {"feature_mean": mean, "feature_std": std}
        if path is not None:
            _store(path, out, meta)
    return ds.with_arrays(x_train=out["train"], x_val=out["val"], x_test=out["test"], features="log-mel",
                          n_mels=n_mels, fmax_hz=fmax_hz or ds.sample_rate / 2, hop=hop, **meta)
