"""The measured statistics of one compression level: bits per pixel (or second), the payload alone, fidelity.

``LevelStats`` are the measured bits beside the nominal level (JPEG quality q, a bitrate, …): bits per pixel
(images) or per second (audio) of the whole file and of the payload alone, the compression ratio and the fidelity
(PSNR for images, SNR for audio), over the training split. Pure numpy; no codec is imported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal

import numpy as np

from helmholtz.codecs.base import CodecResult
from helmholtz.data.dataset import Dataset

Unit = Literal["pixel", "second"]
PSNR_CAP_DB = 100.0  # fidelity of an item decoded without error (the log of a zero error is infinite)


@dataclass(frozen=True)
class LevelStats:
    """Measured statistics of one compression level over the training split (the bits the codec really wrote).

    ``unit`` is 'pixel' for images and 'second' for audio. ``bits_total``/``bits_payload``: bits per pixel (8 ·
    bytes / (H·W)) or per second (8 · bytes / duration) of the whole file and of the payload alone (what it is per codec:
    ``CodecSpec.payload``). ``raw_bits``: the uncompressed rate, 8·C per pixel or 16·sr per second. ``compression_ratio`` = raw /
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
