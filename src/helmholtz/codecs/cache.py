"""Apply a codec to every split of a dataset, once per level, cached on disk.

The Helmholtz method trains many models on the same compressed copy (every architecture and seed at one JPEG
quality q, MP3 bitrate, WebP quality, …), so the round trip runs once per level and is cached. The cache key covers
everything that changes the decoded bytes: the dataset's content hash, the codec, the level, the encoder string
(names, library versions and fixed settings; different libjpeg-turbo builds write different bytes), the chroma
subsampling of colour images for codecs that offer a choice, and the sample rate of audio. A cache file is written
to a temp file in the same directory, fsynced and renamed into place, so a reader sees a whole file or none; a file
that fails to load or does not match is a miss and is rewritten, never used and never fatal.

This module is only the cache: the codecs are reached through ``codecs.registry`` and the level's statistics are
computed by ``codecs.stats`` (``LevelStats``, ``level_stats`` and ``raw_stats`` are re-exported here, where callers
have always imported them from).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from helmholtz.codecs import registry
from helmholtz.codecs.base import CodecResult
from helmholtz.codecs.level import Level
from helmholtz.codecs.stats import LevelStats, level_stats, raw_stats
from helmholtz.data.dataset import Dataset
from helmholtz.errors import CodecError

__all__ = ["CODECS", "SPLITS", "LevelStats", "cache_dir_default", "cache_path", "check_level", "codec_encoder",
           "codec_roundtrip", "compress_dataset", "compress_splits", "level_stats", "raw_stats"]

CodecName = str  # 'none' or any name in codecs.registry.CODECS
#: 'none' (the uncompressed original) and every registry codec
CODECS: tuple[str, ...] = (registry.REFERENCE, *registry.CODECS)
SPLITS: tuple[str, ...] = ("train", "val", "test")
_FORMAT_VERSION = 1  # bump when the cache file layout changes; old files then simply miss


def cache_dir_default() -> Path:
    """``$HELMHOLTZ_CACHE`` if set, else ``~/.cache/helmholtz/codec``."""
    env = os.environ.get("HELMHOLTZ_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "helmholtz" / "codec"


def check_level(codec: str, level: object) -> int | None:
    """Validate a bare (codec, level) pair through the registry (`Level.of`'s check; a codec needs a level); codec
    'none' takes no level (returns None). The cache checks a bare level with it; a `Level` is not checked again."""
    if codec != registry.REFERENCE and level is None:
        registry.get_codec(codec).check(level, where="level")   # raises: a codec needs a level
    return Level.of(codec, level, where="level").value


def codec_encoder(codec: str) -> str:
    """The encoder string of ``codec`` (part of every cache key and result); 'none' for the original."""
    return "none" if codec == registry.REFERENCE else registry.get_codec(codec).encoder()


def codec_roundtrip(
    x: np.ndarray,
    *,
    codec: CodecName,
    level: int,
    sample_rate: int | None = None,
    subsampling: str | None = None,
    workers: int | None = None,
    keep_encoded: bool = False,
) -> CodecResult:
    """One round trip of a batch through ``codec`` at ``level``: ``get_codec(codec).roundtrip(...)``."""
    return registry.get_codec(codec).roundtrip(x, level=level, sample_rate=sample_rate, workers=workers,
                                               keep_encoded=keep_encoded, subsampling=subsampling)


def _check_modality(ds: Dataset, spec: registry.CodecSpec) -> None:
    if ds.modality != spec.modality:
        others = ", ".join(c.name for c in registry.codecs_for(ds.modality))
        raise CodecError(f"codec {spec.name!r} needs {spec.modality} data; {ds.name!r} is {ds.modality}",
                         where="codec", fix=f"use a codec for {ds.modality} data: {others}")


def _subsampling(ds: Dataset, spec: registry.CodecSpec, subsampling: str | None) -> str | None:
    """The chroma subsampling that changes the bytes: only colour images of a codec that offers a choice."""
    if subsampling is not None and subsampling not in spec.subsamplings:
        if not spec.subsamplings:
            raise CodecError(f"{spec.title} has no subsampling choice ({spec.coding})", where="subsampling",
                             fix="leave the subsampling unset")
        raise CodecError(f"{spec.title} subsampling must be one of {', '.join(spec.subsamplings)}; got "
                         f"{subsampling!r}", where="subsampling", fix=f"use {spec.subsamplings[0]}")
    if not spec.subsamplings or ds.modality != "image" or ds.item_shape[-1] != 3:
        return None
    return subsampling or spec.subsamplings[0]


def cache_path(ds: Dataset, *, codec: str, level: int, encoder: str, subsampling: str | None = None,
               cache_dir: str | Path | None = None) -> Path:
    """Where the cached round trip of ``ds`` at (codec, level) lives; the name ends in a hash of the full key."""
    spec = registry.get_codec(codec)
    key = {
        "format": _FORMAT_VERSION, "dataset": ds.content_hash, "codec": codec, "level": level, "encoder": encoder,
        # chroma subsampling changes only colour images; gray images share one cache file whatever it says
        "subsampling": _subsampling(ds, spec, subsampling),
        "sample_rate": ds.sample_rate if spec.modality == "audio" else None,
    }
    digest = hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=16).hexdigest()
    root = Path(cache_dir).expanduser() if cache_dir is not None else cache_dir_default()
    return root / f"{codec}-{level}-{digest}.npz"


def _legacy_temp(path: Path) -> bool:
    """A temporary of the cache's earlier naming (``.jpeg-20-<hash>.<random>.tmp``, no PID): stale after a day."""
    import time

    if not (path.name.startswith(".") and path.name.endswith(".tmp")):
        return False
    try:
        return time.time() - path.stat().st_mtime > 24 * 3600
    except OSError:
        return False


def _load(path: Path, ds: Dataset) -> tuple[dict[str, CodecResult], LevelStats] | None:
    """The cached results, or None when the file is missing, unreadable, truncated or does not fit ``ds``."""
    from helmholtz.fsutil import clean_stale_temps

    # a killed writer leaves a temporary of up to a whole level's size: remove it once its process is gone
    clean_stale_temps(path.parent, also=_legacy_temp)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != path.stem:
                return None
            results = {}
            for split in SPLITS:
                x = getattr(ds, f"x_{split}")
                data, total, payload = z[f"x_{split}"], z[f"total_{split}"], z[f"payload_{split}"]
                if data.shape != x.shape or data.dtype != x.dtype or total.shape != (len(x),) or payload.shape != (len(x),):
                    return None
                results[split] = CodecResult(data=data, total_bytes=total.astype(np.int64),
                                             payload_bytes=payload.astype(np.int64))
            stats = LevelStats.from_dict(json.loads(str(z["stats"])))
    except Exception:  # any unreadable cache file is a miss: it is rewritten, never trusted
        return None
    return results, stats


def _store(path: Path, results: dict[str, CodecResult], stats: LevelStats) -> None:
    """Write atomically (fsutil: temporary beside it, fsync, rename). A failure warns in one line and leaves no file."""
    from helmholtz.errors import HelmholtzError, warn
    from helmholtz.fsutil import atomic_file

    arrays: dict[str, np.ndarray] = {"key": np.array(path.stem), "stats": np.array(json.dumps(stats.to_dict()))}
    for split, res in results.items():
        arrays[f"x_{split}"] = res.data
        arrays[f"total_{split}"] = res.total_bytes
        arrays[f"payload_{split}"] = res.payload_bytes
    try:
        with atomic_file(path, what="the codec cache", make_parents=True) as fh:
            np.savez(fh, **arrays)  # uncompressed: decoded pixels compress poorly and zlib would cost more than JPEG
    except HelmholtzError as ex:
        reason = ex.what.split(": ", 1)[-1].replace("; nothing there was changed", "")
        warn(f"codec cache not written ({reason}) at {path}; results are correct, this level is only not cached "
             "(set $HELMHOLTZ_CACHE to a writable folder to cache it)")


def compress_splits(
    ds: Dataset,
    *,
    codec: CodecName,
    level: int | Level,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    subsampling: str | None = None,
) -> tuple[dict[str, CodecResult], LevelStats]:
    """The codec round trip of every split ({'train','val','test'} → CodecResult) and the level's stats, cached.

    ``compress_dataset`` wraps this; use it directly when the per-item byte counts are needed (``helmholtz
    compress`` writes them out). ``codec`` is any registry codec (not 'none'); ``subsampling`` a chroma choice of
    that codec for colour images (None: its default).
    """
    if codec == registry.REFERENCE:
        raise CodecError("compress_splits needs a real codec", where="codec", fix="use compress_dataset for 'none'")
    spec = registry.get_codec(codec)
    checked = isinstance(level, Level)   # a Level was checked where it entered
    level = level.value if checked else spec.check(level, where="level")
    _check_modality(ds, spec)
    sub = _subsampling(ds, spec, subsampling)
    encoder = spec.encoder()
    path = cache_path(ds, codec=codec, level=level, encoder=encoder, subsampling=sub, cache_dir=cache_dir)
    cached = _load(path, ds)
    if cached is not None:
        return cached
    results = {
        split: spec.roundtrip(getattr(ds, f"x_{split}"), level=level, sample_rate=ds.sample_rate, workers=workers,
                              subsampling=sub, checked=True)
        for split in SPLITS
    }
    stats = level_stats(ds.x_train, results["train"], codec=codec, level=level, encoder=encoder,
                        modality=ds.modality, sample_rate=ds.sample_rate)
    results = {k: CodecResult(v.data, v.total_bytes, v.payload_bytes) for k, v in results.items()}
    _store(path, results, stats)
    return results, stats


def compress_dataset(
    ds: Dataset,
    *,
    codec: CodecName,
    level: int | Level | None,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    subsampling: str | None = None,
) -> tuple[Dataset, LevelStats]:
    """The dataset as the model sees it at one compression level, and that level's measured ``LevelStats``.

    Applies ``codec`` (any registry codec) at ``level`` to train, validation and test, cached on disk (see the
    module docstring). ``codec="none"`` returns ``ds`` unchanged with the stats of the raw data (the uncompressed
    reference). The result is ``ds.with_arrays(...)`` with ``codec``, ``level`` and ``encoder`` in its ``info``;
    stats are over the training split. A `Level` (checked where it entered) brings its codec and is not checked
    again; a bare level is checked once, here.
    """
    if isinstance(level, Level):   # checked where it entered: the codec is the level's
        codec = level.codec
        if level.is_original:
            return ds, raw_stats(ds)
    elif codec == registry.REFERENCE:
        check_level(codec, level)
        return ds, raw_stats(ds)
    # a bare level is checked once, in compress_splits; a Level not again
    results, stats = compress_splits(ds, codec=codec, level=level, cache_dir=cache_dir, workers=workers,
                                     subsampling=subsampling)
    out = ds.with_arrays(x_train=results["train"].data, x_val=results["val"].data, x_test=results["test"].data,
                         codec=codec, level=level.value if isinstance(level, Level) else level, encoder=stats.encoder)
    return out, stats
