"""Log-mel spectrograms, the audio classifier's input (the paper's "mel-spectrograms with 96 mel coefficients").

``log_mel`` computes, in torch and a batch of clips at a time, exactly what librosa computes one clip at a time::

    librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=96),
                        ref=1.0, amin=1e-10, top_db=None)

i.e. a centred STFT with a periodic Hann window, the power spectrogram |X|², the Slaney-style mel filterbank
(Slaney mel scale, Slaney area normalisation — librosa's defaults) and 10·log10(max(amin, S)). The filterbank is
built here in numpy rather than with ``librosa.filters.mel``: importing librosa costs seconds and its first call
compiles numba for ~16 s, which would dominate a small sweep. tests/test_mel.py checks both against librosa.

Two seconds at 44.1 kHz with hop 512 give 1 + 88200 // 512 = 173 frames, so a clip becomes 96×173.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

from helmholtz.errors import ConfigError, DataError

PadMode = Literal["constant", "reflect"]

_CPU_BATCH = 8  # clips per torch call on the CPU (measured: 8 → ~1000 clips/s, 256 → ~200 clips/s on 2 cores)
_ACCEL_BATCH = 256

# Slaney's mel scale (librosa's htk=False): linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3  # Hz per mel in the linear part
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # = 15 mel
_LOGSTEP = np.log(6.4) / 27.0  # mel step of the log part


def hz_to_mel(freqs: np.ndarray | float) -> np.ndarray:
    """Slaney mel of each frequency in Hz (librosa.hz_to_mel with htk=False)."""
    f = np.asarray(freqs, dtype=np.float64)
    mels = f / _F_SP
    log_part = f >= _MIN_LOG_HZ
    return np.where(log_part, _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP, mels)


def mel_to_hz(mels: np.ndarray | float) -> np.ndarray:
    """Inverse of `hz_to_mel` (librosa.mel_to_hz with htk=False)."""
    m = np.asarray(mels, dtype=np.float64)
    return np.where(m >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), _F_SP * m)


@lru_cache(maxsize=16)
def mel_filterbank(*, sr: int, n_fft: int, n_mels: int = 96, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """The n_mels × (1 + n_fft // 2) mel filterbank, float64, equal to ``librosa.filters.mel`` (Slaney scale and norm).

    Triangles whose corners are ``n_mels + 2`` points evenly spaced in mel between fmin and fmax (default sr/2),
    each scaled by 2 / (its width in Hz) so that every filter has the same area. The returned array is read-only
    because it is cached and shared.
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    fft_freqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    weights.setflags(write=False)
    return weights


def n_frames(n_samples: int, *, hop: int = 512) -> int:
    """Frames of a centred STFT: 1 + T // hop (2 s at 44.1 kHz, hop 512 → 173)."""
    return 1 + n_samples // hop


def _check(waves: np.ndarray, *, sr: int, n_mels: int, n_fft: int, hop: int, batch: int, pad_mode: str,
           top_db: float | None) -> np.ndarray:
    for name, value in (("sr", sr), ("n_mels", n_mels), ("n_fft", n_fft), ("hop", hop), ("batch", batch)):
        if int(value) != value or value < 1:
            raise ConfigError(f"log_mel {name} must be a positive integer; got {value!r}", where="features.mel", fix=f"pass {name}=N with N ≥ 1")
    if n_fft < 2 or n_fft % 2:
        raise ConfigError(f"log_mel n_fft must be even and ≥ 2; got {n_fft}", where="features.mel", fix="use n_fft=2048")
    if top_db is not None and not top_db >= 0:
        raise ConfigError(f"log_mel top_db must be ≥ 0 or None; got {top_db!r}", where="features.mel", fix="use top_db=80 or None")
    if pad_mode not in ("constant", "reflect"):
        raise ConfigError(f"log_mel pad_mode must be 'constant' or 'reflect'; got {pad_mode!r}", where="features.mel",
                          fix="use pad_mode='constant' (librosa's default)")
    w = np.asarray(waves)
    if w.ndim != 2 or w.shape[1] == 0:
        raise DataError(f"log_mel expects waves of shape N×T (mono clips); got shape {w.shape}", where="features.mel",
                        fix="pass a 2-D float array, one clip per row")
    if not np.issubdtype(w.dtype, np.floating):
        raise DataError(f"log_mel expects float waves in [-1, 1]; got dtype {w.dtype}", where="features.mel",
                        fix="convert PCM to float, e.g. x.astype(np.float32) / 32768")
    if pad_mode == "reflect" and w.shape[1] <= n_fft // 2:
        raise DataError(f"clips of {w.shape[1]} samples are too short for reflect padding of {n_fft // 2}",
                        where="features.mel", fix="use pad_mode='constant' or longer clips")
    return w


def log_mel(
    waves: np.ndarray,
    *,
    sr: int,
    n_mels: int = 96,
    n_fft: int = 2048,
    hop: int = 512,
    batch: int | None = None,
    device: str = "cpu",
    pad_mode: PadMode = "constant",
    amin: float = 1e-10,
    top_db: float | None = None,
    fmax: float | None = None,
) -> np.ndarray:
    """Log-mel spectrograms in dB (ref 1.0) of mono clips: float32 N × n_mels × (1 + T // hop).

    ``waves`` is float N×T at sample rate ``sr``. ``pad_mode`` pads the centred STFT as librosa does ("constant",
    zeros — librosa's default since 0.10 — or "reflect"). ``top_db`` clips each clip at its maximum minus top_db
    dB as ``librosa.power_to_db`` can; the default None keeps the plain 10·log10(max(amin, S)). ``batch`` clips go
    through torch at a time, on ``device`` ("cpu", "cuda", "cuda:1", ...); None picks 8 on the CPU, where a
    batch that fits the cache is ~4× faster than 256 clips (1.4 MB of spectrum each), and 256 elsewhere. ``fmax``
    is the top of the mel filterbank in Hz (default None: sr/2, librosa's and so the paper's).
    """
    if batch is None:
        batch = _CPU_BATCH if str(device).startswith("cpu") else _ACCEL_BATCH
    w = _check(waves, sr=sr, n_mels=n_mels, n_fft=n_fft, hop=hop, batch=batch, pad_mode=pad_mode, top_db=top_db)
    if fmax is not None and not 0 < fmax <= sr / 2:
        raise ConfigError(f"log_mel fmax must be in (0, sr/2 = {sr / 2:g}] Hz; got {fmax!r}", where="features.mel",
                          fix="pass e.g. fmax=16000, or None for sr/2")
    import torch  # features is one of the stages allowed to import torch; lazily, so `helmholtz --help` stays fast

    try:
        dev = torch.device(device)
        fb = torch.tensor(mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax), dtype=torch.float32, device=dev)
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float32, device=dev)  # librosa's 'hann' is periodic
    except (RuntimeError, ValueError, AssertionError) as exc:  # a CPU-only torch asserts on "cuda"
        raise ConfigError(f"cannot use device {device!r}: {str(exc).splitlines()[0]}", where="features.mel",
                          fix="use device='cpu' or an available GPU such as 'cuda'") from None
    n, t = w.shape
    out = np.empty((n, n_mels, n_frames(t, hop=hop)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, n, batch):
            x = torch.as_tensor(np.ascontiguousarray(w[start:start + batch], dtype=np.float32), device=dev)
            spec = torch.stft(x, n_fft=n_fft, hop_length=hop, window=window, center=True, pad_mode=pad_mode,
                              return_complex=True)
            power = spec.real.square() + spec.imag.square()  # B × (1 + n_fft/2) × frames
            db = 10.0 * torch.log10(torch.clamp(torch.matmul(fb, power), min=amin))
            if top_db is not None:
                db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - top_db)
            out[start:start + len(x)] = db.cpu().numpy()
    return out
