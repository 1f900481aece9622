"""What every audio codec of the Helmholtz method shares: input checks, resampling, and the clip thread pool.

Every audio round trip (MP3, Opus, Vorbis, AAC) makes the same promise: the decoded clip has the input's length,
shape and dtype, is aligned sample for sample with it (the encoder delay removed; tests prove it by
cross-correlation), and is at the input's rate (resampled back where the codec works at another rate).

Resampling is ``scipy.signal.resample_poly`` by the gcd ratio: a zero-phase polyphase FIR, so it adds no delay
that would have to be compensated.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from helmholtz.codecs.base import CodecResult
from helmholtz.errors import CodecError

#: one clip's round trip: (decoded clip at the input's rate and length, file bytes, payload bytes, the file)
ClipJob = Callable[..., tuple[np.ndarray, int, int, bytes]]

PARALLEL_MIN_CLIPS = 4  # fewer clips than this run in the calling thread


def check_waves(waves: object, sr: object, *, where: str) -> np.ndarray:
    """``waves`` if it is a finite float N×T array and ``sr`` an integer rate in 1000..192000 Hz; else CodecError."""
    if not isinstance(waves, np.ndarray) or waves.ndim != 2 or not np.issubdtype(waves.dtype, np.floating):
        got = f"{waves.dtype} array of shape {waves.shape}" if isinstance(waves, np.ndarray) else type(waves).__name__
        raise CodecError(f"waves must be a float array N×T (mono clips); got {got}", where=where,
                         fix="pass float32 waves in [-1, 1], one clip per row")
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not 1000 <= sr <= 192000:
        raise CodecError(f"sample rate must be an integer in Hz (1000..192000); got {sr!r}", where=where,
                         fix="pass the dataset's rate, e.g. sr=44100")
    if not np.isfinite(waves).all():
        raise CodecError("waves contain NaN or infinite samples", where=where, fix="clean the audio first")
    return waves


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """16-bit PCM the way decoders scale back (÷32768), so a clean round trip returns the input's levels."""
    return np.clip(np.rint(wave.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")


def clipped_float(wave: np.ndarray) -> np.ndarray:
    """float32 samples clipped to [-1, 1): what a float-input encoder gets (louder samples clip, as in PCM)."""
    return np.clip(wave.astype(np.float32), -1.0, 32767.0 / 32768.0)


def resample(wave: np.ndarray, *, rate_in: int, rate_out: int) -> np.ndarray:
    """``wave`` from ``rate_in`` to ``rate_out`` Hz (zero phase, so no delay), float32."""
    from scipy.signal import resample_poly

    if rate_in == rate_out:
        return wave.astype(np.float32, copy=False)
    g = math.gcd(rate_in, rate_out)
    return resample_poly(wave.astype(np.float64), rate_out // g, rate_in // g).astype(np.float32)


def back_to_rate(decoded: np.ndarray, *, start: int, n_out: int, rate: int, sr: int) -> np.ndarray:
    """``n_out`` samples at ``sr`` from ``decoded[start:]`` at ``rate``, padded with zeros where the decoder stopped."""
    from scipy.signal import resample_poly

    if rate == sr:
        seg = decoded[start:start + n_out]
        return np.pad(seg, (0, n_out - len(seg)))
    g = math.gcd(sr, rate)
    up, down = sr // g, rate // g
    need = -(-n_out * down // up)  # ceil: samples at `rate` that cover n_out at `sr`
    margin = 64  # real decoded context past the end keeps the filter's tail from ringing against zeros
    seg = decoded[start:start + need + margin]
    out = resample_poly(seg.astype(np.float64), up, down)[:n_out]
    return np.pad(out, (0, n_out - len(out))).astype(np.float32)


def run_clips(n: int, one: Callable[[int], None], *, workers: int | None, name: str) -> None:
    """Call ``one(i)`` for every clip: clip 0 in this thread first (a level the encoder cannot write fails once,
    before a pool starts), the rest on ``workers`` threads (default: every CPU) when there are enough of them.

    The encoders and decoders used here release the GIL (measured per codec; see each module), so threads that
    write into one shared output array beat processes: nothing is pickled.
    """
    if n == 0:
        return
    one(0)
    n_workers = max(1, min(workers or os.cpu_count() or 1, n - 1))
    if n - 1 < PARALLEL_MIN_CLIPS or n_workers == 1:
        for i in range(1, n):
            one(i)
        return
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix=name) as pool:
        list(pool.map(one, range(1, n)))  # list() re-raises the first worker error here


def run_clip_jobs(waves: np.ndarray, job: ClipJob, kwargs: dict[str, Any], *, workers: int | None,
                  keep_encoded: bool, name: str, threads: bool = True) -> CodecResult:
    """Run ``job(wave, **kwargs)`` for every clip of ``waves`` into one ``CodecResult`` (decoded clips of the input's
    shape and dtype). ``threads=False`` for libraries that hold the GIL, where a pool would only add overhead."""
    n = len(waves)
    out = np.empty_like(waves)
    total = np.zeros(n, dtype=np.int64)
    payload = np.zeros(n, dtype=np.int64)
    encoded: list[bytes] | None = [b""] * n if keep_encoded else None

    def one(i: int) -> None:
        decoded, total[i], payload[i], blob = job(waves[i], **kwargs)
        assert decoded.shape == waves[i].shape, "a clip job returns the clip's length"
        out[i] = decoded
        if encoded is not None:
            encoded[i] = blob

    run_clips(n, one, workers=workers if threads else 1, name=name)
    return CodecResult(data=out, total_bytes=total, payload_bytes=payload, encoded=encoded)
