"""Helpers several test modules share: signals that make a codec's alignment visible, the skip for a codec this
machine cannot run, and the kill of a running sweep once its store shows a given state (events, not sleeps)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

import numpy as np
import pytest

SR = 44100


def band_noise_clips(n: int, *, sr: int = SR, seconds: float = 2.0, band=(80.0, 2500.0), seed: int = 0) -> np.ndarray:
    """Band-limited noise with a slow envelope: every lag gives a distinct correlation, so the peak is sharp."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    t = int(seconds * sr)
    x = sosfilt(butter(4, band, btype="band", fs=sr, output="sos"), rng.standard_normal((n, t)), axis=1)
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0, (n, 1)) * np.arange(t) / sr)
    return (0.3 * x / np.abs(x).max(axis=1, keepdims=True)).astype(np.float32)


def fine_lag(y: np.ndarray, x: np.ndarray) -> float:
    """Lag of y behind x at the cross-correlation peak, to a fraction of a sample (parabola through the peak)."""
    from scipy.signal import correlate

    c = correlate(y.astype(np.float64), x.astype(np.float64), mode="full", method="fft")
    i = int(np.argmax(c))
    return i - (len(x) - 1) + (c[i - 1] - c[i + 1]) / (2 * (c[i - 1] - 2 * c[i] + c[i + 1]))


def available_codec(name: str):
    """The codec's `CodecSpec`, or skip the test with the codec's own reason when this machine cannot run it."""
    from helmholtz.codecs.registry import get_codec

    spec = get_codec(name)
    ok, why = spec.available()
    if not ok:
        pytest.skip(f"{name}: {why}")
    return spec


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], *, within_s: float, what: str) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` (a look at its store), and reap it; fails when the process ends first
    or ``what`` has not happened within ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    try:
        while not ready():
            assert proc.poll() is None, f"the sweep ended before the kill: {proc.stderr.read()}"
            assert time.monotonic() < deadline, f"{what} within {within_s:g} s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
