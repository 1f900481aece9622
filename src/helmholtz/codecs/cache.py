"""Apply a codec to every split of a dataset, once per level, cached on disk; and the level's measured statistics.

The Helmholtz method trains many models on the same compressed copy (every architecture and seed at one JPEG
quality q or MP3 bitrate), so the round trip runs once per level and is cached. The cache key covers everything
that changes the decoded bytes: the dataset's content hash, the codec, the level, the encoder's name and version
(different libjpeg-turbo builds write different bytes) and the chroma subsampling. A cache file is written to a
temp file in the same directory, fsynced and renamed into place, so a reader sees a whole file or none; a file that
fails to load or does not match is a miss and is rewritten, never used and never fatal.

``LevelStats`` are the measured bits beside the nominal level: bits per pixel (images) or per second (audio), whole
file and payload alone, the compression ratio and the fidelity (PSNR or SNR), over the training split.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

import numpy as np

from helmholtz.codecs.base import CodecResult
from helmholtz.data.dataset import Dataset
from helmholtz.errors import CodecError

CodecName = Literal["none", "jpeg", "mp3"]
CODECS: tuple[str, ...] = ("none", "jpeg", "mp3")
SPLITS: tuple[str, ...] = ("train", "val", "test")
_FORMAT_VERSION = 1  # bump when the cache file layout changes; old files then simply miss

Unit = Literal["pixel", "second"]
PSNR_CAP_DB = 100.0  # fidelity of an item decoded without error (the log of a zero error is infinite)


@dataclass(frozen=True)
class LevelStats:
    """Measured statistics of one compression level over the training split (the bits the codec really wrote).

    ``unit`` is 'pixel' for images and 'second' for audio. ``bits_total``/``bits_payload``: bits per pixel (8 ·
    bytes / (H·W)) or per second (8 · bytes / duration) of the whole file and of the payload alone (JPEG scan, MP3
    frames). ``raw_bits``: the uncompressed rate, 8·C per pixel or 16·sr per second. ``compression_ratio`` = raw /
    total. ``fidelity_db``: mean PSNR (images, 255 peak, capped at 100 dB) or mean SNR (audio); None for 'none'.
    """

    codec: str
    level: int | None
    encoder: str
    unit: Unit
    bytes_total_mean: float
    bytes_payload_mean: float
    bits_total: float
    bits_payload: float
    raw_bits: float
    compression_ratio: float
    fidelity_db: float | None
    n_items: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LevelStats:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


def _psnr_db(original: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """PSNR per image in dB (peak 255), capped at ``PSNR_CAP_DB``; computed in chunks to bound memory."""
    n = len(original)
    out = np.empty(n, dtype=np.float64)
    step = max(1, 2_000_000 // max(1, original[0].size)) if n else 1
    for lo in range(0, n, step):
        a = original[lo:lo + step].reshape(min(step, n - lo), -1).astype(np.float64)
        b = decoded[lo:lo + step].reshape(a.shape).astype(np.float64)
        mse = np.mean((a - b) ** 2, axis=1)
        with np.errstate(divide="ignore"):
            out[lo:lo + step] = np.minimum(10.0 * np.log10(255.0**2 / mse), PSNR_CAP_DB)
    return out


def _snr_db(original: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """SNR per clip in dB, capped at ``PSNR_CAP_DB``; silent clips (no signal power) are NaN and left out."""
    a = original.reshape(len(original), -1).astype(np.float64)
    b = decoded.reshape(a.shape).astype(np.float64)
    signal, noise = np.sum(a**2, axis=1), np.sum((a - b) ** 2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = 10.0 * np.log10(signal / noise)
    snr = np.where(noise == 0, PSNR_CAP_DB, np.minimum(snr, PSNR_CAP_DB))
    return np.where(signal == 0, np.nan, snr)


def _rate(x: np.ndarray, modality: str, sample_rate: int | None) -> tuple[Unit, float, float]:
    """(unit, units per item, raw bits per unit): pixels per image and 8·C, or seconds per clip and 16·sr."""
    if modality == "image":
        h, w = x.shape[1], x.shape[2]
        c = x.shape[3] if x.ndim == 4 else 1
        return "pixel", float(h * w), 8.0 * c
    assert sample_rate, "audio needs a sample rate"
    return "second", x.shape[1] / sample_rate, 16.0 * sample_rate


def level_stats(original: np.ndarray, result: CodecResult, *, codec: str, level: int, encoder: str,
                modality: Literal["image", "audio"], sample_rate: int | None = None) -> LevelStats:
    """``LevelStats`` of one round trip of ``original`` (the training split) through a codec."""
    unit, per_item, raw_bits = _rate(original, modality, sample_rate)
    total = float(np.mean(result.total_bytes)) if len(result) else 0.0
    payload = float(np.mean(result.payload_bytes)) if len(result) else 0.0
    fid = _psnr_db(original, result.data) if modality == "image" else _snr_db(original, result.data)
    bits_total = 8.0 * total / per_item
    return LevelStats(
        codec=codec, level=level, encoder=encoder, unit=unit, bytes_total_mean=total, bytes_payload_mean=payload,
        bits_total=bits_total, bits_payload=8.0 * payload / per_item, raw_bits=raw_bits,
        compression_ratio=raw_bits / bits_total if bits_total > 0 else float("nan"),
        fidelity_db=float(np.nanmean(fid)) if np.isfinite(fid).any() else None, n_items=len(result),
    )


def raw_stats(ds: Dataset) -> LevelStats:
    """Stats of the uncompressed training split (codec 'none'): raw bytes (16-bit for audio), ratio 1, no fidelity."""
    unit, per_item, raw_bits = _rate(ds.x_train, ds.modality, ds.sample_rate)
    nbytes = raw_bits * per_item / 8.0
    return LevelStats(
        codec="none", level=None, encoder="none", unit=unit, bytes_total_mean=nbytes, bytes_payload_mean=nbytes,
        bits_total=raw_bits, bits_payload=raw_bits, raw_bits=raw_bits, compression_ratio=1.0, fidelity_db=None,
        n_items=len(ds.y_train),
    )


def cache_dir_default() -> Path:
    """``$HELMHOLTZ_CACHE`` if set, else ``~/.cache/helmholtz/codec``."""
    env = os.environ.get("HELMHOLTZ_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "helmholtz" / "codec"


def check_level(codec: str, level: object) -> int | None:
    """Validate a (codec, level) pair: JPEG quality 1..100, MP3 Layer III bitrate 8..320 kbps, no level for 'none'."""
    if codec not in CODECS:
        raise CodecError(f"unknown codec {codec!r}; expected one of {', '.join(CODECS)}", where="codec",
                         fix="use --codec jpeg for images or --codec mp3 for audio")
    if codec == "none":
        if level is not None:
            raise CodecError(f"codec 'none' takes no level; got {level!r}", where="level", fix="leave the level unset")
        return None
    if codec == "jpeg":
        from helmholtz.codecs.quant import check_quality

        return check_quality(level, where="JPEG level (quality q)")
    from helmholtz.codecs.mp3 import check_bitrate

    return check_bitrate(level)


def codec_encoder(codec: str) -> str:
    """The encoder's name and version for ``codec`` (part of every cache key and result)."""
    if codec == "jpeg":
        from helmholtz.codecs.jpeg import jpeg_encoder

        return jpeg_encoder()
    if codec == "mp3":
        from helmholtz.codecs.mp3 import mp3_encoder

        return mp3_encoder()
    return "none"


def codec_roundtrip(
    x: np.ndarray,
    *,
    codec: CodecName,
    level: int,
    sample_rate: int | None = None,
    subsampling: str = "4:2:0",
    workers: int | None = None,
    keep_encoded: bool = False,
) -> CodecResult:
    """One round trip of a batch through ``codec`` at ``level`` (JPEG quality q, or MP3 bitrate in kbps).

    MP3 is dispatched lazily to ``helmholtz.codecs.mp3``; it does not keep encoded files.
    """
    level = check_level(codec, level)
    if codec == "jpeg":
        from helmholtz.codecs.jpeg import jpeg_roundtrip

        return jpeg_roundtrip(x, quality=level, subsampling=subsampling, workers=workers, keep_encoded=keep_encoded)
    if codec == "mp3":
        from helmholtz.codecs.mp3 import mp3_roundtrip

        if sample_rate is None:
            raise CodecError("MP3 needs the audio's sample rate", where="codec_roundtrip",
                             fix="load the data as audio (a WAV folder)")
        return mp3_roundtrip(x, sr=sample_rate, bitrate_kbps=level, workers=workers)
    raise CodecError("codec 'none' has no round trip", where="codec_roundtrip", fix="use the data as it is")


def _check_modality(ds: Dataset, codec: str) -> None:
    want = {"jpeg": "image", "mp3": "audio"}.get(codec)
    if want is not None and ds.modality != want:
        other = "mp3" if codec == "jpeg" else "jpeg"
        raise CodecError(f"codec {codec!r} needs {want} data; {ds.name!r} is {ds.modality}", where="codec",
                         fix=f"use --codec {other} for {ds.modality} data")


def cache_path(ds: Dataset, *, codec: str, level: int, encoder: str, subsampling: str = "4:2:0",
               cache_dir: str | Path | None = None) -> Path:
    """Where the cached round trip of ``ds`` at (codec, level) lives; the name ends in a hash of the full key."""
    key = {
        "format": _FORMAT_VERSION, "dataset": ds.content_hash, "codec": codec, "level": level, "encoder": encoder,
        # chroma subsampling changes only colour JPEGs; gray images share one cache file whatever it says
        "subsampling": subsampling if codec == "jpeg" and ds.item_shape[-1] == 3 else None,
        "sample_rate": ds.sample_rate if codec == "mp3" else None,
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
    level: int,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    subsampling: str = "4:2:0",
) -> tuple[dict[str, CodecResult], LevelStats]:
    """The codec round trip of every split ({'train','val','test'} → CodecResult) and the level's stats, cached.

    ``compress_dataset`` wraps this; use it directly when the per-item byte counts are needed (``helmholtz
    compress`` writes them out). ``codec`` must be 'jpeg' or 'mp3' here.
    """
    level = check_level(codec, level)
    if codec == "none":
        raise CodecError("compress_splits needs a real codec", where="codec", fix="use compress_dataset for 'none'")
    _check_modality(ds, codec)
    encoder = codec_encoder(codec)
    path = cache_path(ds, codec=codec, level=level, encoder=encoder, subsampling=subsampling, cache_dir=cache_dir)
    cached = _load(path, ds)
    if cached is not None:
        return cached
    results = {
        split: codec_roundtrip(getattr(ds, f"x_{split}"), codec=codec, level=level, sample_rate=ds.sample_rate,
                               subsampling=subsampling, workers=workers)
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
    level: int | None,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    subsampling: str = "4:2:0",
) -> tuple[Dataset, LevelStats]:
    """The dataset as the model sees it at one compression level, and that level's measured ``LevelStats``.

    Applies ``codec`` at ``level`` (JPEG quality q, or MP3 bitrate in kbps) to train, validation and test, cached on
    disk (see the module docstring). ``codec="none"`` returns ``ds`` unchanged with the stats of the raw data (the
    uncompressed reference). The result is ``ds.with_arrays(...)`` with ``codec``, ``level`` and ``encoder`` in its
    ``info``; stats are over the training split.
    """
    level = check_level(codec, level)
    if codec == "none":
        return ds, raw_stats(ds)
    results, stats = compress_splits(ds, codec=codec, level=level, cache_dir=cache_dir, workers=workers,
                                     subsampling=subsampling)
    out = ds.with_arrays(x_train=results["train"].data, x_val=results["val"].data, x_test=results["test"].data,
                         codec=codec, level=level, encoder=stats.encoder)
    return out, stats

