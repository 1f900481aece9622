"""The audio front end as options: --n-mels and --fmax change the features, are recorded in the run's spec (out of
the run id at the paper's defaults), a resumed sweep with another value is refused, and each level's features are
extracted once and then read from the disk cache. Real log-mel (torch), real WAVs, real SQLite store.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helmholtz.data.dataset import RawData, make_dataset
from helmholtz.errors import ConfigError
from helmholtz.features.mel import log_mel, mel_filterbank
from helmholtz.train import inputs
from helmholtz.train.spec import TrainOptions

SR = 44100


def _sine(freq_hz: float, n: int = SR // 2) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq_hz * np.arange(n) / SR)).astype(np.float32)


def test_fmax_sets_the_top_of_the_filterbank() -> None:
    freqs = np.fft.rfftfreq(2048, 1 / SR)
    for fmax in (16000.0, 22050.0):
        fb = mel_filterbank(sr=SR, n_fft=2048, n_mels=96, fmax=fmax)
        reach = freqs[np.nonzero(fb.sum(0))[0].max()]
        assert fmax - 50 < reach <= fmax        # the top band ends at fmax, within one FFT bin
    # a 19 kHz tone: seen by the default (sr/2) front end, invisible to one that stops at 16 kHz
    x = _sine(19000.0)[None]
    full, cut = log_mel(x, sr=SR)[..., 4:-4], log_mel(x, sr=SR, fmax=16000.0)[..., 4:-4]   # away from the clip edges
    assert full.max() > -20 and cut.max() < -60
    # n_mels is the number of bands
    assert log_mel(x, sr=SR, n_mels=48).shape == (1, 48, 1 + x.shape[1] // 512)


def test_front_end_is_in_the_spec_but_out_of_the_run_id_at_its_defaults() -> None:
    default = TrainOptions()
    assert not {"n_mels", "fmax_hz", "hop"} & set(default.identity_dict())
    cut = TrainOptions(fmax_hz=16000.0, n_mels=64, hop=1024)
    assert (cut.identity_dict()["fmax_hz"], cut.identity_dict()["n_mels"], cut.identity_dict()["hop"]) == (16000.0, 64, 1024)


def test_bad_front_end_values_are_refused() -> None:
    from helmholtz.sweep.spec import check_fmax
    from helmholtz.train.recipes import checked_options

    with pytest.raises(ConfigError, match="--n-mels must be an integer in 8..256"):
        checked_options(modality="audio", recipe="fast", n_mels=4)
    with pytest.raises(ConfigError, match="--hop must be an integer in 64..8192"):
        checked_options(modality="audio", recipe="fast", hop=10)
    with pytest.raises(ConfigError, match=r"--fmax must be in 1000..22050 Hz"):
        check_fmax(30000.0, sample_rate=SR)
    check_fmax(22050.0, sample_rate=SR)


def _audio_dataset(n_per_class: int = 8) -> object:
    rng = np.random.default_rng(0)
    x = np.stack([_sine(f, SR // 4) * rng.uniform(0.5, 1.0) for f in ([300.0] * n_per_class + [3000.0] * n_per_class)])
    y = np.array([0] * n_per_class + [1] * n_per_class)
    raw = RawData(x_train=x, y_train=y, x_test=x[::2].copy(), y_test=y[::2].copy(), class_names=("low", "high"),
                  format="wav", modality="audio", sample_rate=SR)
    return make_dataset(raw, name="sines", source="sines", val_fraction=0.25, split_seed=0)


def test_features_are_extracted_once_then_read_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _audio_dataset()
    first = inputs.prepare_inputs(ds, n_mels=32, fmax_hz=16000.0)
    assert first.x_train.shape[1:] == (1, 32, 1 + ds.x_train.shape[1] // 512) and first.info["fmax_hz"] == 16000.0
    # --hop sets the frame rate: half the frames at twice the hop
    assert inputs.prepare_inputs(ds, n_mels=32, hop=1024).x_train.shape[-1] == 1 + ds.x_train.shape[1] // 1024
    path = inputs.feature_cache_path(ds, n_mels=32, fmax_hz=16000.0)
    assert path.is_file()

    import helmholtz.features.mel as mel

    def no_extraction(*args, **kwargs):
        raise AssertionError("features were extracted again instead of read from the cache")

    monkeypatch.setattr(mel, "log_mel", no_extraction)
    again = inputs.prepare_inputs(ds, n_mels=32, fmax_hz=16000.0)
    for split in ("train", "val", "test"):
        assert np.array_equal(getattr(first, f"x_{split}"), getattr(again, f"x_{split}"))
    assert again.info["feature_mean"] == first.info["feature_mean"]
    # other settings are another key: extracted, not confused with the cached ones
    with pytest.raises(AssertionError, match="extracted again"):
        inputs.prepare_inputs(ds, n_mels=32, fmax_hz=None)
    # a damaged cache file is a miss, never fatal
    monkeypatch.undo()
    path.write_bytes(b"not an npz")
    assert np.array_equal(inputs.prepare_inputs(ds, n_mels=32, fmax_hz=16000.0).x_train, first.x_train)


def _helmholtz(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from helmholtz.cli import main; main(sys.argv[1:])", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.mark.slow
def test_fmax_is_recorded_and_a_resume_with_another_fmax_is_refused(tmp_path: Path) -> None:
    from helmholtz.synth.guitar import make_guitar_fx
    from helmholtz.synth.notes import DEFAULT_SOUNDFONT

    if not DEFAULT_SOUNDFONT.exists():
        pytest.skip("Debian package fluid-soundfont-gm not installed")
    data, out = tmp_path / "gfx", tmp_path / "sweep"
    make_guitar_fx(data, notes_per_class=4, seed=1)
    sweep = ("sweep", str(data), "--codec", "none", "--archs", "A", "--seeds", "1", "--epochs", "1", "--width", "0.25",
             "--n-mels", "32", "--out", str(out), "--quiet")
    proc = _helmholtz(*sweep, "--fmax", "16000", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    from helmholtz.sweep.store import Store

    store = Store(out / "results.sqlite")
    assert store.spec()["options"]["fmax_hz"] == 16000.0 and store.spec()["options"]["n_mels"] == 32
    (run,) = store.runs()
    assert json.loads(run["spec_json"])["options"]["fmax_hz"] == 16000.0   # every run's row carries it
    before = (out / "results.sqlite").read_bytes()
    proc = _helmholtz(*sweep, "--fmax", "12000", cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "options.fmax_hz: stored 16000.0, given 12000.0" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "results.sqlite").read_bytes() == before, "nothing stored was changed"
