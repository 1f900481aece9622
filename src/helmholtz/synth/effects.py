"""The 12 effect classes of IDMT-SMT-Audio-Effects, applied to one clean note: fixed settings or random parameters.

Real effect implementations come from pedalboard (Spotify's wrapper of JUCE: Chorus, Phaser, Reverb, Delay,
Distortion, filters). Where pedalboard has no such effect, numpy does it: Tremolo (amplitude LFO), Vibrato
(LFO-modulated fractional delay, 100 % wet) and SlapbackDelay (one echo). The Flanger is pedalboard's Chorus with a
short centre delay and strong feedback, which is how JUCE documents a flanger.

Every effect is two functions: ``draw`` picks its parameters from a seeded generator, ``render`` applies given
parameters. Two variants of the dataset use them:

* ``idmt`` (IDMT's protocol): every effect has three fixed settings, `IDMT_SETTINGS`, and each file is rendered
  with one of them, as IDMT-SMT-Audio-Effects applies each effect "with three different parameter settings"
  (Stein et al., AES 2010). The task is then well posed: a class is a small set of sounds, not a region of
  parameter space that overlaps its neighbours.
* ``random``: every parameter is drawn from a musical range, so the classes overlap in level, tone and timing (EQ
  as 2–3 random bands, for example, is sometimes close to NoFX). The harder variant; the drive ranges of Overdrive
  and Distortion do not overlap, so those two labels stay defined.

Each call returns the processed wave and the parameters used, which the manifest records per file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
Rng = np.random.Generator


def _u(rng: Rng, lo: float, hi: float, digits: int = 4) -> float:
    """A uniform draw, rounded so the manifest shows the value that was actually used."""
    return round(float(rng.uniform(lo, hi)), digits)


def _pb(plugin, x: np.ndarray, sr: int) -> np.ndarray:
    """Run one pedalboard plugin on a mono wave (state reset first: every note starts from a clean effect)."""
    return np.asarray(plugin(x[None, :], float(sr), reset=True)[0], dtype=np.float32)


# ── random parameters (the `random` variant) ─────────────────────────────────────────────────────────────────────

def _draw_chorus(rng: Rng) -> Params:
    # JUCE's depth d sweeps the delay over 20·d ms peak to peak (measured): 2–6 ms around 7–12 ms
    return {"rate_hz": _u(rng, 0.5, 2.0), "depth": _u(rng, 0.1, 0.3), "centre_delay_ms": _u(rng, 7.0, 12.0),
            "feedback": _u(rng, 0.0, 0.15), "mix": _u(rng, 0.4, 0.6)}


def _draw_flanger(rng: Rng) -> Params:
    # depth d sweeps the delay over 20·d ms peak to peak, so 0.08–0.15 around 2–3.5 ms stays within 0.5–5 ms
    return {"rate_hz": _u(rng, 0.1, 0.8), "depth": _u(rng, 0.08, 0.15), "centre_delay_ms": _u(rng, 2.0, 3.5),
            "feedback": _u(rng, 0.5, 0.8), "mix": _u(rng, 0.45, 0.55)}


def _draw_phaser(rng: Rng) -> Params:
    return {"rate_hz": _u(rng, 0.3, 2.0), "depth": _u(rng, 0.5, 1.0), "centre_frequency_hz": _u(rng, 400.0, 1600.0, 1),
            "feedback": _u(rng, 0.3, 0.7), "mix": _u(rng, 0.4, 0.6)}


def _draw_reverb(rng: Rng) -> Params:
    return {"room_size": _u(rng, 0.5, 0.95), "damping": _u(rng, 0.2, 0.7), "wet_level": _u(rng, 0.25, 0.5),
            "dry_level": _u(rng, 0.5, 0.8), "width": 1.0}


def _draw_drive(drive_db: tuple[float, float], tone_hz: tuple[float, float]) -> Callable[[Rng], Params]:
    return lambda rng: {"drive_db": _u(rng, *drive_db, 2), "tone_lowpass_hz": _u(rng, *tone_hz, 1)}


def _draw_eq(rng: Rng) -> Params:
    # 2–3 filters, each boosting or cutting by 6–15 dB (never ~0 dB, which would make EQ = NoFX)
    kinds = ("peak", "low_shelf", "high_shelf")
    bands = []
    for _ in range(int(rng.integers(2, 4))):
        kind = kinds[int(rng.integers(len(kinds)))]
        gain = _u(rng, 6.0, 15.0, 2) * (1 if rng.random() < 0.5 else -1)
        if kind == "peak":
            bands.append({"type": kind, "cutoff_hz": _u(rng, 200.0, 5000.0, 1), "gain_db": gain, "q": _u(rng, 0.7, 3.0, 3)})
        else:
            lo, hi = (100.0, 500.0) if kind == "low_shelf" else (2000.0, 8000.0)
            bands.append({"type": kind, "cutoff_hz": _u(rng, lo, hi, 1), "gain_db": gain})
    return {"bands": bands}


def _draw_feedback_delay(rng: Rng) -> Params:
    return {"delay_seconds": _u(rng, 0.2, 0.6), "feedback": _u(rng, 0.3, 0.6), "mix": _u(rng, 0.3, 0.5)}


def _draw_slapback(rng: Rng) -> Params:
    return {"delay_ms": _u(rng, 60.0, 150.0, 2), "echo_gain": _u(rng, 0.4, 0.8)}


def _draw_tremolo(rng: Rng) -> Params:
    return {"rate_hz": _u(rng, 3.0, 9.0), "depth": _u(rng, 0.4, 0.9), "phase": _u(rng, 0.0, 2 * np.pi)}


def _draw_vibrato(rng: Rng) -> Params:
    # the peak pitch deviation is 2π·rate·depth: 6 Hz × 0.5 ms ≈ 1.9 %, about a third of a semitone
    return {"rate_hz": _u(rng, 4.0, 8.0), "depth_ms": _u(rng, 0.25, 1.0), "phase": _u(rng, 0.0, 2 * np.pi)}


# ── rendering given parameters ───────────────────────────────────────────────────────────────────────────────────

def _nofx(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    return x


def _chorus(x: np.ndarray, sr: int, p: Params) -> np.ndarray:  # Chorus and Flanger: JUCE's chorus
    import pedalboard

    return _pb(pedalboard.Chorus(**p), x, sr)


def _phaser(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    import pedalboard

    return _pb(pedalboard.Phaser(**p), x, sr)


def _reverb(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    import pedalboard

    return _pb(pedalboard.Reverb(**p), x, sr)


def _drive(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    import pedalboard

    # a drive stage (tanh waveshaper) followed by a tone low-pass, as in a pedal or an amp's speaker cabinet
    board = pedalboard.Pedalboard([pedalboard.Distortion(drive_db=p["drive_db"]),
                                   pedalboard.LowpassFilter(cutoff_frequency_hz=p["tone_lowpass_hz"])])
    return _pb(board, x, sr)


def _eq(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    import pedalboard

    plugins = []
    for band in p["bands"]:
        if band["type"] == "peak":
            plugins.append(pedalboard.PeakFilter(cutoff_frequency_hz=band["cutoff_hz"], gain_db=band["gain_db"], q=band["q"]))
        else:
            cls = pedalboard.LowShelfFilter if band["type"] == "low_shelf" else pedalboard.HighShelfFilter
            plugins.append(cls(cutoff_frequency_hz=band["cutoff_hz"], gain_db=band["gain_db"]))
    return _pb(pedalboard.Pedalboard(plugins), x, sr)


def _feedback_delay(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    import pedalboard

    return _pb(pedalboard.Delay(**p), x, sr)


def _slapback(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    d = int(round(p["delay_ms"] * sr / 1000))
    y = x.copy()
    y[d:] += np.float32(p["echo_gain"]) * x[: len(x) - d]
    return y


def _tremolo(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    t = np.arange(len(x)) / sr
    gain = 1.0 - p["depth"] * 0.5 * (1.0 + np.sin(2 * np.pi * p["rate_hz"] * t + p["phase"]))
    return (x * gain).astype(np.float32)


def _vibrato(x: np.ndarray, sr: int, p: Params) -> np.ndarray:
    # pitch modulation through a delay line whose length follows a sine LFO (100 % wet, so only the pitch wobbles)
    n = len(x)
    depth = p["depth_ms"] * sr / 1000
    t = np.arange(n)
    delay = depth * (1.0 + np.sin(2 * np.pi * p["rate_hz"] * t / sr + p["phase"]))  # 0..2·depth samples
    pos = np.clip(t - delay, 0.0, n - 1)
    i0 = np.floor(pos).astype(np.int64)
    frac = (pos - i0).astype(np.float32)
    i1 = np.minimum(i0 + 1, n - 1)
    return (x[i0] * (1 - frac) + x[i1] * frac).astype(np.float32)


@dataclass(frozen=True)
class Effect:
    """One effect class: how the `random` variant draws its parameters, and how given parameters are applied."""

    draw: Callable[[Rng], Params]
    render: Callable[[np.ndarray, int, Params], np.ndarray]


EFFECTS: dict[str, Effect] = {
    "Chorus": Effect(_draw_chorus, _chorus),
    "Distortion": Effect(_draw_drive((26.0, 40.0), (4000.0, 8000.0)), _drive),
    "EQ": Effect(_draw_eq, _eq),
    "FeedbackDelay": Effect(_draw_feedback_delay, _feedback_delay),
    "Flanger": Effect(_draw_flanger, _chorus),
    "NoFX": Effect(lambda rng: {}, _nofx),
    "Overdrive": Effect(_draw_drive((8.0, 16.0), (3000.0, 6000.0)), _drive),
    "Phaser": Effect(_draw_phaser, _phaser),
    "Reverb": Effect(_draw_reverb, _reverb),
    "SlapbackDelay": Effect(_draw_slapback, _slapback),
    "Tremolo": Effect(_draw_tremolo, _tremolo),
    "Vibrato": Effect(_draw_vibrato, _vibrato),
}
assert tuple(sorted(EFFECTS)) == EFFECT_CLASSES


# ── the fixed settings (the `idmt` variant) ──────────────────────────────────────────────────────────────────────

def _peq(cutoff_hz: float, gain_db: float, q: float) -> Params:
    return {"type": "peak", "cutoff_hz": cutoff_hz, "gain_db": gain_db, "q": q}


def _shelf(kind: str, cutoff_hz: float, gain_db: float) -> Params:
    return {"type": kind, "cutoff_hz": cutoff_hz, "gain_db": gain_db}


#: three fixed settings per effect (one for NoFX): mild, medium, strong, as a player would set a pedal, each clearly
#: audible (a first, milder table left Flanger, Phaser, Vibrato and EQ confused with NoFX about half the time even for
#: a feature oracle). Neighbours (Chorus/Flanger/Vibrato, Slapback/FeedbackDelay, Overdrive/Distortion) are kept
#: apart by their delay, feedback, drive or wet mix. The README prints this table (a test checks it).
IDMT_SETTINGS: dict[str, tuple[Params, ...]] = {
    "Chorus": (
        {"rate_hz": 1.0, "depth": 0.25, "centre_delay_ms": 8.0, "feedback": 0.0, "mix": 0.5},
        {"rate_hz": 1.6, "depth": 0.35, "centre_delay_ms": 10.0, "feedback": 0.1, "mix": 0.5},
        {"rate_hz": 2.4, "depth": 0.45, "centre_delay_ms": 12.0, "feedback": 0.2, "mix": 0.6},
    ),
    "Distortion": (
        {"drive_db": 28.0, "tone_lowpass_hz": 5000.0},
        {"drive_db": 34.0, "tone_lowpass_hz": 6500.0},
        {"drive_db": 40.0, "tone_lowpass_hz": 8000.0},
    ),
    "EQ": (
        {"bands": [_peq(1000.0, 15.0, 2.0), _shelf("high_shelf", 4000.0, -12.0)]},
        {"bands": [_shelf("low_shelf", 300.0, -15.0), _shelf("high_shelf", 2500.0, 12.0)]},
        {"bands": [_shelf("low_shelf", 200.0, 12.0), _peq(2000.0, -15.0, 1.5)]},
    ),
    "FeedbackDelay": (
        {"delay_seconds": 0.25, "feedback": 0.35, "mix": 0.35},
        {"delay_seconds": 0.38, "feedback": 0.45, "mix": 0.4},
        {"delay_seconds": 0.5, "feedback": 0.55, "mix": 0.45},
    ),
    "Flanger": (
        {"rate_hz": 0.5, "depth": 0.15, "centre_delay_ms": 2.0, "feedback": 0.75, "mix": 0.5},
        {"rate_hz": 1.0, "depth": 0.2, "centre_delay_ms": 2.7, "feedback": 0.85, "mix": 0.5},
        {"rate_hz": 2.0, "depth": 0.25, "centre_delay_ms": 3.5, "feedback": 0.9, "mix": 0.5},
    ),
    "NoFX": ({},),
    "Overdrive": (
        {"drive_db": 9.0, "tone_lowpass_hz": 3500.0},
        {"drive_db": 12.0, "tone_lowpass_hz": 4500.0},
        {"drive_db": 15.0, "tone_lowpass_hz": 6000.0},
    ),
    "Phaser": (
        {"rate_hz": 0.5, "depth": 1.0, "centre_frequency_hz": 600.0, "feedback": 0.6, "mix": 0.6},
        {"rate_hz": 1.0, "depth": 1.0, "centre_frequency_hz": 1000.0, "feedback": 0.7, "mix": 0.6},
        {"rate_hz": 2.0, "depth": 1.0, "centre_frequency_hz": 1500.0, "feedback": 0.8, "mix": 0.65},
    ),
    "Reverb": (
        {"room_size": 0.6, "damping": 0.5, "wet_level": 0.4, "dry_level": 0.7, "width": 1.0},
        {"room_size": 0.8, "damping": 0.35, "wet_level": 0.5, "dry_level": 0.6, "width": 1.0},
        {"room_size": 0.95, "damping": 0.2, "wet_level": 0.6, "dry_level": 0.5, "width": 1.0},
    ),
    "SlapbackDelay": (
        {"delay_ms": 70.0, "echo_gain": 0.6},
        {"delay_ms": 100.0, "echo_gain": 0.7},
        {"delay_ms": 140.0, "echo_gain": 0.8},
    ),
    "Tremolo": (
        {"rate_hz": 4.0, "depth": 0.7, "phase": 0.0},
        {"rate_hz": 6.0, "depth": 0.85, "phase": 0.0},
        {"rate_hz": 9.0, "depth": 1.0, "phase": 0.0},
    ),
    "Vibrato": (
        {"rate_hz": 5.0, "depth_ms": 1.0, "phase": 0.0},
        {"rate_hz": 6.0, "depth_ms": 1.5, "phase": 0.0},
        {"rate_hz": 7.0, "depth_ms": 2.0, "phase": 0.0},
    ),
}
assert tuple(sorted(IDMT_SETTINGS)) == EFFECT_CLASSES


def _check_name(name: str) -> None:
    if name not in EFFECTS:
        raise ConfigError(f"unknown effect {name!r}; expected one of {', '.join(EFFECT_CLASSES)}", where="effect",
                          fix="use an IDMT-SMT-Audio-Effects class name")


def idmt_setting(name: EffectName, setting: int) -> Params:
    """The parameters of fixed setting ``setting`` (1, 2 or 3; NoFX has only 1) of effect class ``name``."""
    _check_name(name)
    choices = IDMT_SETTINGS[name]
    if not 1 <= setting <= len(choices):
        raise ConfigError(f"effect {name} has settings 1..{len(choices)}; got {setting}", where="effect",
                          fix=f"pass a setting in 1..{len(choices)}")
    return choices[setting - 1]


def apply_effect(name: EffectName, wave: np.ndarray, *, sample_rate: int, rng: Rng | None = None,
                 params: Params | None = None) -> tuple[np.ndarray, Params]:
    """Apply effect class ``name`` (an IDMT class) to a mono float32 wave, with ``params`` (e.g. an `idmt_setting`)
    or, without them, parameters drawn from ``rng`` (the `random` variant).

    Returns the processed wave (same length, float32, not yet normalised) and the parameters used.
    """
    _check_name(name)
    if (params is None) == (rng is None):
        raise ConfigError("apply_effect needs exactly one of rng= (random parameters) and params= (a setting)",
                          where="effect", fix="pass params=idmt_setting(name, k) or rng=np.random.default_rng(seed)")
    x = np.ascontiguousarray(wave, dtype=np.float32)
    effect = EFFECTS[name]
    used = effect.draw(rng) if params is None else params
    y = effect.render(x, int(sample_rate), used)
    assert y.shape == x.shape, (name, y.shape, x.shape)
    return y, used


def normalise_peak(wave: np.ndarray, *, peak_dbfs: float) -> np.ndarray:
    """Scale so that the largest |sample| sits at ``peak_dbfs`` (no clipping at 16 bits); silence stays silence."""
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return np.zeros_like(wave, dtype=np.float32)
    return (wave * (10 ** (peak_dbfs / 20) / peak)).astype(np.float32)


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """float in [-1, 1] → int16 by rounding (deterministic: no dither)."""
    return np.clip(np.round(wave.astype(np.float64) * 32767.0), -32768, 32767).astype("<i2")
