"""Log-mel features against librosa, the oracle (librosa.feature.melspectrogram + librosa.power_to_db).

Relative error, as tested:
- power mel (before the log): max |P − P_librosa| / max P_librosa per clip ≤ 1e-4. Float32 FFT error scales with
  the clip's peak, so the error is measured against the peak, not against bins 130 dB below it.
- dB: elementwise |dB − dB_librosa| ≤ 1e-4 · |dB_librosa| (+1e-4 dB) with librosa's own top_db=80 (its full
  defaults); and with top_db=None, on every bin within 60 dB of the clip's peak, |ΔdB| ≤ 10·log10(1 + 1e-4), i.e.
  each such bin's power agrees to 1e-4 relative. (Bins further down sit at float32 round-off in both.)
"""

from __future__ import annotations

import numpy as np
import pytest

from helmholtz.errors import ConfigError, DataError
from helmholtz.features.mel import hz_to_mel, log_mel, mel_filterbank, mel_to_hz, n_frames

librosa = pytest.importorskip("librosa")

SR = 44100


def _clips(sr: int = SR, seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(sr * seconds)) / sr
    chirp = 0.4 * np.sin(2 * np.pi * (100 * t + 2000 * t**2))
    return np.stack([
        0.5 * np.sin(2 * np.pi * 440 * t) * np.exp(-2 * t),  # a decaying note: 130 dB of dynamic range
        0.1 * rng.standard_normal(len(t)),
        chirp,
        0.3 * np.sin(2 * np.pi * 3000 * t) + 1e-3 * rng.standard_normal(len(t)),
        np.zeros(len(t)),  # silence: every bin is amin → -100 dB
    ]).astype(np.float32)


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    return _clips()


@pytest.fixture(scope="module")
def reference(clips) -> list[np.ndarray]:
    return [librosa.feature.melspectrogram(y=x, sr=SR, n_fft=2048, hop_length=512, n_mels=96) for x in clips]


@pytest.mark.parametrize(("sr", "n_fft", "n_mels"), [(44100, 2048, 96), (22050, 1024, 64), (16000, 512, 40)])
def test_filterbank_equals_librosa(sr, n_fft, n_mels):
    ours = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, dtype=np.float64)
    assert ours.shape == (n_mels, 1 + n_fft // 2)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_mel_scale_matches_librosa_and_inverts():
    f = np.array([0.0, 200.0, 999.0, 1000.0, 1001.0, 4000.0, 22050.0])
    np.testing.assert_allclose(hz_to_mel(f), librosa.hz_to_mel(f), rtol=1e-12)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, rtol=1e-12, atol=1e-9)


def test_shape_is_96_by_173_for_two_seconds(clips):
    out = log_mel(clips[:2], sr=SR)
    assert out.shape == (2, 96, 173) and out.dtype == np.float32
    assert n_frames(2 * SR) == 173


def test_power_mel_matches_librosa(clips, reference):
    db = log_mel(clips, sr=SR)
    for i, ref in enumerate(reference):
        power = 10.0 ** (db[i].astype(np.float64) / 10)
        if ref.max() == 0:  # silence: we hold amin, librosa 0
            assert np.all(db[i] == -100.0)
            continue
        assert np.abs(power - ref).max() / ref.max() <= 1e-4, f"clip {i}"


def test_db_matches_librosa_defaults(clips, reference):
    ours = log_mel(clips, sr=SR, top_db=80.0)
    for i, ref in enumerate(reference):
        np.testing.assert_allclose(ours[i], librosa.power_to_db(ref), rtol=1e-4, atol=1e-4, err_msg=f"clip {i}")


def test_db_without_clipping_matches_librosa_near_the_peak(clips, reference):
    ours = log_mel(clips, sr=SR)
    for i, ref in enumerate(reference):
        ref_db = librosa.power_to_db(ref, ref=1.0, amin=1e-10, top_db=None)
        near = ref_db >= ref_db.max() - 60
        assert np.abs(ours[i] - ref_db)[near].max() <= 10 * np.log10(1 + 1e-4), f"clip {i}"


def test_reflect_padding_and_other_rates_match_librosa():
    x = _clips(sr=22050, seconds=1.0)[:3]
    ours = log_mel(x, sr=22050, n_mels=64, n_fft=1024, hop=256, pad_mode="reflect", top_db=80.0)
    assert ours.shape == (3, 64, 1 + 22050 // 256)
    for i, clip in enumerate(x):
        ref = librosa.power_to_db(librosa.feature.melspectrogram(y=clip, sr=22050, n_fft=1024, hop_length=256,
                                                                 n_mels=64, pad_mode="reflect"))
        np.testing.assert_allclose(ours[i], ref, rtol=1e-4, atol=1e-4)


def test_batch_size_does_not_change_the_result(clips):
    np.testing.assert_allclose(log_mel(clips, sr=SR, batch=1), log_mel(clips, sr=SR, batch=256), rtol=0, atol=1e-4)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"waves": np.zeros(100, np.float32)}, DataError, "N×T"),
    ({"waves": np.zeros((1, 100), np.int16)}, DataError, "float waves"),
    ({"n_fft": 2047}, ConfigError, "n_fft must be even"),
    ({"hop": 0}, ConfigError, "hop must be a positive integer"),
    ({"top_db": -1.0}, ConfigError, "top_db must be"),
    ({"pad_mode": "wrap"}, ConfigError, "pad_mode"),
    ({"device": "nosuchdevice"}, ConfigError, "cannot use device"),
    ({"device": "cuda:63"}, ConfigError, "cannot use device"),  # no such GPU (or a CPU-only torch)
])
def test_bad_inputs(kwargs, error, match):
    args = {"waves": np.zeros((1, 4096), np.float32), "sr": SR, **kwargs}
    with pytest.raises(error, match=match):
        log_mel(args.pop("waves"), **args)
