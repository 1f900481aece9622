"""The 12 effect classes of IDMT-SMT-Audio-Effects, applied to one clean note with randomised parameters.

Real effect implementations come from pedalboard (Spotify's wrapper of JUCE: Chorus, Phaser, Reverb, Delay,
Distortion, filters). Where pedalboard has no such effect, numpy does it: Tremolo (amplitude LFO), Vibrato
(LFO-modulated fractional delay, 100 % wet) and SlapbackDelay (one echo). The Flanger is pedalboard's Chorus with a
short centre delay and strong feedback, which is how JUCE documents a flanger.

Every parameter is drawn from a musical range with the caller's seeded generator, so that the classes overlap in
level, tone and timing and the task is not trivial; the ranges of the two drive effects (Overdrive, Distortion) do
not overlap, so those two labels stay well defined. Each function returns the processed wave and the parameters it
drew, which the manifest records per file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from helmholtz.errors import ConfigError

EffectName = Literal[
    "Chorus", "Distortion", "EQ", "FeedbackDelay", "Flanger", "NoFX",
    "Overdrive", "Phaser", "Reverb", "SlapbackDelay", "Tremolo", "Vibrato",
]

#: the IDMT-SMT-Audio-Effects class (folder) names, sorted as a reader sorts them
EFFECT_CLASSES: tuple[str, ...] = (
    "Chorus", "Distortion", "EQ", "FeedbackDelay", "Flanger", "NoFX",
    "Overdrive", "Phaser", "Reverb", "SlapbackDelay", "Tremolo", "Vibrato",
)

PEAK_DBFS_RANGE = (-6.0, -1.0)  # every file is peak-normalised to a level drawn here, whatever its class

Params = dict[str, Any]


def _u(rng: np.random.Generator, lo: float, hi: float, digits: int = 4) -> float:
    """A uniform draw, rounded so the manifest shows the value that was actually used."""
    return round(float(rng.uniform(lo, hi)), digits)


def _pb(plugin, x: np.ndarray, sr: int) -> np.ndarray:
    """Run one pedalboard plugin on a mono wave (state reset first: every note starts from a clean effect)."""
    return np.asarray(plugin(x[None, :], float(sr), reset=True)[0], dtype=np.float32)


# ── effects ──────────────────────────────────────────────────────────────────────────────────────────────────────

def _nofx(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    return x, {}


def _chorus(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    import pedalboard

    # JUCE's depth d sweeps the delay over 20·d ms peak to peak (measured): 2–6 ms around 7–12 ms
    p = {"rate_hz": _u(rng, 0.5, 2.0), "depth": _u(rng, 0.1, 0.3), "centre_delay_ms": _u(rng, 7.0, 12.0),
         "feedback": _u(rng, 0.0, 0.15), "mix": _u(rng, 0.4, 0.6)}
    return _pb(pedalboard.Chorus(**p), x, sr), p


def _flanger(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    import pedalboard

    # JUCE's chorus becomes a flanger with a short delay and a lot of feedback: depth d sweeps the delay over
    # 20·d ms peak to peak, so 0.08–0.15 around 2–3.5 ms keeps it within the flanger's 0.5–5 ms
    p = {"rate_hz": _u(rng, 0.1, 0.8), "depth": _u(rng, 0.08, 0.15), "centre_delay_ms": _u(rng, 2.0, 3.5),
         "feedback": _u(rng, 0.5, 0.8), "mix": _u(rng, 0.45, 0.55)}
    return _pb(pedalboard.Chorus(**p), x, sr), p


def _phaser(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    import pedalboard

    p = {"rate_hz": _u(rng, 0.3, 2.0), "depth": _u(rng, 0.5, 1.0), "centre_frequency_hz": _u(rng, 400.0, 1600.0, 1),
         "feedback": _u(rng, 0.3, 0.7), "mix": _u(rng, 0.4, 0.6)}
    return _pb(pedalboard.Phaser(**p), x, sr), p


def _reverb(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    import pedalboard

    p = {"room_size": _u(rng, 0.5, 0.95), "damping": _u(rng, 0.2, 0.7), "wet_level": _u(rng, 0.25, 0.5),
         "dry_level": _u(rng, 0.5, 0.8), "width": 1.0}
    return _pb(pedalboard.Reverb(**p), x, sr), p


def _drive(x: np.ndarray, sr: int, rng: np.random.Generator, *, drive_db: tuple[float, float],
           tone_hz: tuple[float, float]) -> tuple[np.ndarray, Params]:
    import pedalboard

    # a drive stage (tanh waveshaper) followed by a tone low-pass, as in a pedal or an amp's speaker cabinet
    p = {"drive_db": _u(rng, *drive_db, 2), "tone_lowpass_hz": _u(rng, *tone_hz, 1)}
    board = pedalboard.Pedalboard([pedalboard.Distortion(drive_db=p["drive_db"]),
                                   pedalboard.LowpassFilter(cutoff_frequency_hz=p["tone_lowpass_hz"])])
    return _pb(board, x, sr), p


def _overdrive(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    return _drive(x, sr, rng, drive_db=(8.0, 16.0), tone_hz=(3000.0, 6000.0))


def _distortion(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    return _drive(x, sr, rng, drive_db=(26.0, 40.0), tone_hz=(4000.0, 8000.0))


def _eq(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    import pedalboard

    # 2–3 filters, each boosting or cutting by 6–15 dB (never ~0 dB, which would make EQ = NoFX)
    kinds = ("peak", "low_shelf", "high_shelf")
    bands, plugins = [], []
    for _ in range(int(rng.integers(2, 4))):
        kind = kinds[int(rng.integers(len(kinds)))]
        gain = _u(rng, 6.0, 15.0, 2) * (1 if rng.random() < 0.5 else -1)
        if kind == "peak":
            band = {"type": kind, "cutoff_hz": _u(rng, 200.0, 5000.0, 1), "gain_db": gain, "q": _u(rng, 0.7, 3.0, 3)}
            plugins.append(pedalboard.PeakFilter(cutoff_frequency_hz=band["cutoff_hz"], gain_db=gain, q=band["q"]))
        else:
            lo, hi = (100.0, 500.0) if kind == "low_shelf" else (2000.0, 8000.0)
            band = {"type": kind, "cutoff_hz": _u(rng, lo, hi, 1), "gain_db": gain}
            cls = pedalboard.LowShelfFilter if kind == "low_shelf" else pedalboard.HighShelfFilter
            plugins.append(cls(cutoff_frequency_hz=band["cutoff_hz"], gain_db=gain))
        bands.append(band)
    return _pb(pedalboard.Pedalboard(plugins), x, sr), {"bands": bands}


def _feedback_delay(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    import pedalboard

    p = {"delay_seconds": _u(rng, 0.2, 0.6), "feedback": _u(rng, 0.3, 0.6), "mix": _u(rng, 0.3, 0.5)}
    return _pb(pedalboard.Delay(**p), x, sr), p


def _slapback(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    p = {"delay_ms": _u(rng, 60.0, 150.0, 2), "echo_gain": _u(rng, 0.4, 0.8)}
    d = int(round(p["delay_ms"] * sr / 1000))
    y = x.copy()
    y[d:] += np.float32(p["echo_gain"]) * x[: len(x) - d]
    return y, p


def _tremolo(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    p = {"rate_hz": _u(rng, 3.0, 9.0), "depth": _u(rng, 0.4, 0.9), "phase": _u(rng, 0.0, 2 * np.pi)}
    t = np.arange(len(x)) / sr
    gain = 1.0 - p["depth"] * 0.5 * (1.0 + np.sin(2 * np.pi * p["rate_hz"] * t + p["phase"]))
    return (x * gain).astype(np.float32), p


def _vibrato(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    # pitch modulation through a delay line whose length follows a sine LFO (100 % wet, so only the pitch wobbles);
    # the peak pitch deviation is 2π·rate·depth: 6 Hz × 0.5 ms ≈ 1.9 %, about a third of a semitone
    p = {"rate_hz": _u(rng, 4.0, 8.0), "depth_ms": _u(rng, 0.25, 1.0), "phase": _u(rng, 0.0, 2 * np.pi)}
    n = len(x)
    depth = p["depth_ms"] * sr / 1000
    t = np.arange(n)
    delay = depth * (1.0 + np.sin(2 * np.pi * p["rate_hz"] * t / sr + p["phase"]))  # 0..2·depth samples
    pos = np.clip(t - delay, 0.0, n - 1)
    i0 = np.floor(pos).astype(np.int64)
    frac = (pos - i0).astype(np.float32)
    i1 = np.minimum(i0 + 1, n - 1)
    return (x[i0] * (1 - frac) + x[i1] * frac).astype(np.float32), p


EFFECTS: dict[str, Callable[[np.ndarray, int, np.random.Generator], tuple[np.ndarray, Params]]] = {
    "Chorus": _chorus, "Distortion": _distortion, "EQ": _eq, "FeedbackDelay": _feedback_delay, "Flanger": _flanger,
    "NoFX": _nofx, "Overdrive": _overdrive, "Phaser": _phaser, "Reverb": _reverb, "SlapbackDelay": _slapback,
    "Tremolo": _tremolo, "Vibrato": _vibrato,
}
assert tuple(sorted(EFFECTS)) == EFFECT_CLASSES


def apply_effect(name: EffectName, wave: np.ndarray, *, sample_rate: int, rng: np.random.Generator) -> tuple[np.ndarray, Params]:
    """Apply effect class ``name`` (an IDMT class) to a mono float32 wave with parameters drawn from ``rng``.

    Returns the processed wave (same length, float32, not yet normalised) and the parameters used.
    """
    if name not in EFFECTS:
        raise ConfigError(f"unknown effect {name!r}; expected one of {', '.join(EFFECT_CLASSES)}", where="effect",
                          fix="use an IDMT-SMT-Audio-Effects class name")
    x = np.ascontiguousarray(wave, dtype=np.float32)
    y, params = EFFECTS[name](x, int(sample_rate), rng)
    assert y.shape == x.shape, (name, y.shape, x.shape)
    return y, params


def normalise_peak(wave: np.ndarray, *, peak_dbfs: float) -> np.ndarray:
    """Scale so that the largest |sample| sits at ``peak_dbfs`` (no clipping at 16 bits); silence stays silence."""
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return np.zeros_like(wave, dtype=np.float32)
    return (wave * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """float in [-1, 1] → int16 by rounding (deterministic: no dither)."""
    return np.clip(np.round(wave.astype(np.float64) * 32767.0), -32768, 32767).astype("<i2")
