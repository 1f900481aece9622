"""WAV dataset readers: class folders, train/test splits and the IDMT-SMT-Audio-Effects layout, written here with
soundfile in the published formats; the oracle is the signal we wrote (16-bit PCM is exact to 1/32768)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from helmholtz.data.audio_readers import read_wav, read_wav_folder
from helmholtz.data.locate import looks_like_audio
from helmholtz.errors import ConfigError, DataError

SR = 44100
T = 2 * SR
IDMT_CLASSES = ("Chorus", "Distortion", "EQ", "FeedbackDelay", "Flanger", "NoFX", "Overdrive", "Phaser", "Reverb",
                "SlapbackDelay", "Tremolo", "Vibrato")


def _tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _q16(x: np.ndarray) -> np.ndarray:
    """What `_write` stores in a 16-bit file and libsndfile reads back (int16 ÷ 32768)."""
    return (np.round(x * 32767) / 32768).astype(np.float32)


def _write(path: Path, x: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> None:
    """16-bit files get exact int16 samples, so the oracle does not depend on libsndfile's float→int rounding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.round(x * 32767).astype(np.int16) if subtype == "PCM_16" else x
    sf.write(str(path), data, sr, subtype=subtype)


@pytest.fixture
def class_folder(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Two classes; one plain file, one stereo, one at 22.05 kHz, one short (padded), one long (trimmed)."""
    root = tmp_path / "fx"
    want: dict[str, np.ndarray] = {}
    plain = _tone(440, 2.0)
    _write(root / "clean" / "a_plain.wav", plain)
    want["clean/a_plain.wav"] = _q16(plain)
    left, right = _tone(330, 2.0), _tone(550, 2.0, amp=0.25)
    _write(root / "clean" / "b_stereo.wav", np.stack([left, right], axis=1))
    want["clean/b_stereo.wav"] = (_q16(left) + _q16(right)) / 2
    short = _tone(220, 0.5)
    _write(root / "dist" / "c_short.wav", short)
    want["dist/c_short.wav"] = np.concatenate([_q16(short), np.zeros(T - len(short), np.float32)])
    long = _tone(660, 3.0)
    _write(root / "dist" / "d_long.wav", long)
    want["dist/d_long.wav"] = _q16(long)[:T]
    low = _tone(1000, 2.0, sr=22050)
    _write(root / "dist" / "e_22k.wav", low, sr=22050)
    want["dist/e_22k.wav"] = _tone(1000, 2.0)  # the resampled file should be this same tone at 44.1 kHz
    (root / "clean" / ".DS_Store").write_bytes(b"\x00junk")  # hidden OS files are skipped
    return root, want


def test_class_folder_reads_every_file_as_written(class_folder):
    root, want = class_folder
    raw = read_wav_folder(root)
    assert raw.modality == "audio" and raw.format == "wav-folder" and raw.sample_rate == SR
    assert raw.class_names == ("clean", "dist")
    assert raw.x_train.dtype == np.float32 and raw.x_train.shape == (5, T)
    assert raw.x_test is None and raw.y_test is None
    assert raw.y_train.tolist() == [0, 0, 1, 1, 1]
    rows = dict(zip(sorted(want), raw.x_train, strict=True))  # files are read in class, then name order
    for name in ("clean/a_plain.wav", "clean/b_stereo.wav", "dist/c_short.wav", "dist/d_long.wav"):
        np.testing.assert_allclose(rows[name], want[name], atol=1e-6, err_msg=name)
    # the 22.05 kHz file is resampled without delay: it matches the analytic tone away from the edges
    resampled = rows["dist/e_22k.wav"]
    inner = slice(2000, T - 2000)
    assert np.abs(resampled[inner] - want["dist/e_22k.wav"][inner]).max() < 2e-3


def test_load_dataset_detects_the_wav_folder(class_folder):
    from helmholtz.data import load_dataset

    root, _ = class_folder
    assert looks_like_audio(root)
    ds = load_dataset(root, split_seed=0)
    assert ds.modality == "audio" and ds.format == "wav-folder" and ds.sample_rate == SR and ds.item_shape == (T,)
    assert sum(ds.split_sizes().values()) == 5


def test_other_rate_and_duration(class_folder):
    root, want = class_folder
    raw = read_wav_folder(root, sample_rate=22050, duration_s=1.0)
    assert raw.x_train.shape == (5, 22050) and raw.sample_rate == 22050
    # the 22.05 kHz file needs no resampling now: exact samples of the first second
    np.testing.assert_allclose(raw.x_train[4], _q16(_tone(1000, 1.0, sr=22050)), atol=1e-6)


def test_accepted_sample_formats_read_back(tmp_path):
    x = _tone(440, 0.2)
    for subtype in ("PCM_24", "PCM_32", "FLOAT", "DOUBLE"):
        _write(tmp_path / f"{subtype}.wav", x, subtype=subtype)
        np.testing.assert_allclose(read_wav(tmp_path / f"{subtype}.wav", n_samples=len(x)), x, atol=1e-6)


def test_train_test_split_folders(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for cls, f in (("a", 200), ("b", 400)):
            for i in range(n):
                _write(tmp_path / split / cls / f"{i}.wav", _tone(f, 0.1))
    assert looks_like_audio(tmp_path)
    raw = read_wav_folder(tmp_path, duration_s=0.1)
    assert raw.class_names == ("a", "b") and raw.x_train.shape == (6, 4410) and raw.x_test.shape == (4, 4410)
    assert raw.y_train.tolist() == [0, 0, 0, 1, 1, 1] and raw.y_test.tolist() == [0, 0, 1, 1]


def test_idmt_layout_merges_sets_and_ignores_lists(tmp_path):
    root = tmp_path / "IDMT-SMT-AUDIO-EFFECTS"
    sets = {"Gitarre monophon": IDMT_CLASSES, "Bass monophon": ("Chorus", "NoFX", "Reverb")}
    for set_name, effects in sets.items():
        for k, effect in enumerate(effects):
            _write(root / set_name / "Samples" / effect / f"{set_name[0]}{k}-1.wav", _tone(100 + 10 * k, 0.05))
        (root / set_name / "Lists" / "Chorus").mkdir(parents=True)
        (root / set_name / "Lists" / "Chorus" / "a.xml").write_text("<xml/>")
    (root / "Gitarre monophon" / "Samples" / "Chorus" / "readme.txt").write_text("ignored in the IDMT layout")
    assert looks_like_audio(tmp_path) and looks_like_audio(root) and looks_like_audio(root / "Bass monophon")
    raw = read_wav_folder(tmp_path, duration_s=0.05)
    assert raw.format == "idmt" and raw.class_names == IDMT_CLASSES
    counts = np.bincount(raw.y_train, minlength=12)
    assert counts.tolist() == [2 if c in sets["Bass monophon"] else 1 for c in IDMT_CLASSES]
    assert raw.x_test is None and raw.x_train.shape == (15, round(0.05 * SR))


def test_looks_like_audio_is_false_for_images_and_files(tmp_path):
    from PIL import Image

    (tmp_path / "cat").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "cat" / "0.png")
    assert not looks_like_audio(tmp_path)
    assert not looks_like_audio(tmp_path / "cat" / "0.png")
    assert not looks_like_audio(tmp_path / "missing")


# ── errors: one DataError line naming the file and the fix ──────────────────────────────────────────────────────

def _one_good(root: Path) -> None:
    _write(root / "good" / "ok.wav", _tone(440, 0.1))


def test_corrupt_wav_names_the_file(tmp_path):
    _one_good(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(DataError, match=r"cannot read WAV file broken\.wav .*fix: .*re-export"):
        read_wav_folder(tmp_path, duration_s=0.1)


@pytest.mark.parametrize("subtype", ["ULAW", "IMA_ADPCM", "PCM_U8"])
def test_unsupported_sample_format(tmp_path, subtype):
    _one_good(tmp_path)
    _write(tmp_path / "lofi" / "x.wav", _tone(440, 0.1), subtype=subtype)
    with pytest.raises(DataError, match=rf"unsupported sample format {subtype} in x\.wav.*sox in\.wav -b 16 out\.wav"):
        read_wav_folder(tmp_path, duration_s=0.1)


def test_empty_class_folder(tmp_path):
    _one_good(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: class folder has no WAV files"):
        read_wav_folder(tmp_path, duration_s=0.1)


def test_non_wav_file_in_a_class_folder(tmp_path):
    _one_good(tmp_path)
    (tmp_path / "good" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"notes\.txt: not a WAV file"):
        read_wav_folder(tmp_path, duration_s=0.1)


def test_folder_without_wavs_and_bad_options(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.flac").write_bytes(b"fLaC")
    with pytest.raises(DataError, match="no WAV files found"):
        read_wav_folder(tmp_path)
    with pytest.raises(DataError, match="no class subfolders"):
        read_wav_folder(tmp_path / "a")
    with pytest.raises(ConfigError, match="--duration must be a number of seconds"):
        read_wav_folder(tmp_path, duration_s=0)
    with pytest.raises(ConfigError, match="--sample-rate must be an integer in 1000..192000"):
        read_wav_folder(tmp_path, sample_rate=44.1)


def test_cli_reports_a_corrupt_wav_in_one_line(tmp_path, capsys):
    from helmholtz.cli import main

    for i in range(4):
        _write(tmp_path / "a" / f"{i}.wav", _tone(440, 0.1))
        _write(tmp_path / "b" / f"{i}.wav", _tone(880, 0.1))
    (tmp_path / "b" / "9.wav").write_bytes(b"not a wav at all")
    with pytest.raises(SystemExit) as exc:
        main(["inspect", str(tmp_path), "--duration", "0.1"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "9.wav" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
