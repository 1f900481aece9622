"""MP3 round trip through real LAME (lameenc) and real decoders (pedalboard, libsndfile/mpg123).

Oracles: cross-correlation with the input (best lag 0 proves the alignment), the CBR byte budget
bitrate × duration / 8, a second decoder (soundfile) and a second encoder build (pedalboard's LAME 3.100, which
writes an Info/LAME tag that gapless decoders honour), and the spectrum (LAME's low-pass at 8 kbps).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import correlate

from helmholtz.codecs.mp3 import (
    DECODER_DELAY,
    ENCODER_DELAY,
    LAYER3_KBPS,
    aligned_offset,
    check_bitrate,
    mp3_encoder,
    mp3_roundtrip,
    parse_mp3,
)
from helmholtz.errors import CodecError
from helpers import SR, band_noise_clips, fine_lag


def _best_lag(y: np.ndarray, x: np.ndarray) -> int:
    """Lag of y behind x at the cross-correlation peak (0 = aligned)."""
    c = correlate(y.astype(np.float64), x.astype(np.float64), mode="full", method="fft")
    return int(np.argmax(c)) - (len(x) - 1)


@pytest.fixture(scope="module")
def clips() -> np.ndarray:
    return band_noise_clips(2)


# LAME's output rate for a 44.1 kHz input: 8 → 8 kHz, 16/24 → 16 kHz, 32 → 22.05 kHz, 40 → 24 kHz, 48 → 32 kHz,
# 64+ → 44.1 kHz
@pytest.mark.parametrize("kbps", [8, 16, 24, 32, 40, 48, 64, 128, 320])
def test_roundtrip_keeps_length_and_aligns_at_every_output_rate(clips, kbps):
    res = mp3_roundtrip(clips, sr=SR, bitrate_kbps=kbps)
    assert res.data.shape == clips.shape and res.data.dtype == np.float32
    for x, y in zip(clips, res.data, strict=True):
        assert _best_lag(y, x) == 0
        assert abs(fine_lag(y, x)) < 0.1  # no fractional delay left by LAME's or our resampling (measured ≤ 0.03)
        corr = np.corrcoef(x, y)[0, 1]
        assert corr > {8: 0.6, 16: 0.8, 24: 0.9, 32: 0.9, 40: 0.9, 48: 0.95}.get(kbps, 0.98)
        if kbps >= 128:
            assert corr > 0.99


@pytest.mark.parametrize(("sr", "kbps"), [(16000, 8), (22050, 32), (48000, 128)])
def test_alignment_at_other_input_rates(sr, kbps):
    x = band_noise_clips(1, sr=sr, seconds=1.0, band=(80.0, min(2500.0, sr / 4)), seed=3)
    y = mp3_roundtrip(x, sr=sr, bitrate_kbps=kbps).data
    assert y.shape == x.shape and _best_lag(y[0], x[0]) == 0


@pytest.mark.parametrize("kbps", [64, 128])
def test_cbr_bytes_match_the_bitrate(clips, kbps):
    res = mp3_roundtrip(clips, sr=SR, bitrate_kbps=kbps, keep_encoded=True)
    budget = kbps * 1000 * 2.0 / 8  # 2 s clips
    assert np.all(np.abs(res.total_bytes - budget) <= 0.10 * budget)
    # lameenc writes bare frames (no ID3, no Xing/Info tag): all of the file is payload
    assert np.array_equal(res.payload_bytes, res.total_bytes)
    assert [len(b) for b in res.encoded] == res.total_bytes.tolist()
    assert all(parse_mp3(b).bitrates_kbps == (kbps,) for b in res.encoded)


def test_8kbps_removes_the_energy_above_4khz():
    x = band_noise_clips(1, band=(100.0, 15000.0), seed=5)
    y = mp3_roundtrip(x, sr=SR, bitrate_kbps=8).data

    def high(z: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(z[0].astype(np.float64))) ** 2
        return float(spec[np.fft.rfftfreq(len(z[0]), 1 / SR) > 4000].sum())

    assert high(y) < 0.01 * high(x)  # an 8 kHz output rate cannot carry anything above 4 kHz


def test_deterministic_across_worker_counts(clips):
    many = np.concatenate([clips, clips[::-1], clips])
    one = mp3_roundtrip(many, sr=SR, bitrate_kbps=32, workers=1)
    two = mp3_roundtrip(many, sr=SR, bitrate_kbps=32, workers=2)
    assert np.array_equal(one.data, two.data) and np.array_equal(one.total_bytes, two.total_bytes)
    assert np.array_equal(one.data[0], one.data[3])  # the same clip encodes to the same result


def test_float64_input_keeps_its_dtype_and_silence_stays_silent():
    res = mp3_roundtrip(np.zeros((1, 4410)), sr=SR, bitrate_kbps=64)
    assert res.data.dtype == np.float64 and res.data.shape == (1, 4410) and np.abs(res.data).max() < 1e-4
    empty = mp3_roundtrip(np.zeros((0, 4410), np.float32), sr=SR, bitrate_kbps=64)
    assert empty.data.shape == (0, 4410) and empty.total_bytes.shape == (0,)


# ── the alignment rule, checked against two decoders, with and without a LAME tag ──────────────────────────────

def _pedalboard_decode(data: bytes) -> np.ndarray:
    from pedalboard.io import AudioFile

    with AudioFile(io.BytesIO(data)) as f:
        return f.read(f.frames)[0]


def _soundfile_decode(data: bytes) -> np.ndarray:
    return sf.read(io.BytesIO(data), dtype="float32")[0]


@pytest.fixture(scope="module")
def tagged_mp3(clips) -> bytes:
    """The same clip written by pedalboard's LAME 3.100: an Info frame with a LAME tag (delay 576, padding)."""
    from pedalboard.io import AudioFile

    buf = io.BytesIO()
    with AudioFile(buf, "w", samplerate=SR, num_channels=1, format="mp3", quality=128) as f:
        f.write(clips[0])
    return buf.getvalue()


@pytest.mark.parametrize("decode", [_pedalboard_decode, _soundfile_decode])
@pytest.mark.parametrize("tagged", [False, True])
def test_aligned_offset_explains_both_decoders(clips, tagged_mp3, decode, tagged):
    data = tagged_mp3 if tagged else mp3_roundtrip(clips[:1], sr=SR, bitrate_kbps=128, keep_encoded=True).encoded[0]
    stream = parse_mp3(data)
    assert (stream.enc_delay is not None) == tagged
    y = decode(data)
    start = aligned_offset(len(y), stream)
    # pedalboard never trims; libsndfile/mpg123 trims exactly when a LAME tag says how much
    assert start == (0 if tagged and decode is _soundfile_decode else ENCODER_DELAY + DECODER_DELAY)
    x = clips[0]
    assert _best_lag(y[start:start + len(x)], x) == 0


def test_parse_mp3_excludes_tags_from_the_payload(tagged_mp3):
    plain = parse_mp3(tagged_mp3)
    info_frame = 144 * 128_000 // SR  # the Info frame is one (unpadded) 128 kbps frame: 417 bytes
    assert plain.enc_delay == ENCODER_DELAY and plain.payload_bytes == len(tagged_mp3) - info_frame
    body = b"TIT2" + (7).to_bytes(4, "big") + b"\x00\x00\x00title!"
    id3v2 = b"ID3\x04\x00\x00" + bytes([0, 0, 0, len(body)]) + body
    id3v1 = b"TAG" + bytes(125)
    wrapped = parse_mp3(id3v2 + tagged_mp3 + id3v1)
    assert wrapped.total_bytes == len(tagged_mp3) + len(id3v2) + 128
    assert wrapped.payload_bytes == plain.payload_bytes and wrapped.n_frames == plain.n_frames


def test_aligned_offset_refuses_a_length_it_cannot_explain(tagged_mp3):
    stream = parse_mp3(tagged_mp3)
    with pytest.raises(CodecError, match="cannot tell how it trimmed"):
        aligned_offset(stream.n_frames * stream.samples_per_frame - 7, stream)
    with pytest.raises(CodecError, match="no MPEG audio frame"):
        parse_mp3(b"RIFF0000WAVEfmt ")


# ── bad levels ─────────────────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("kbps", "message"), [(7, r"8\.\.320 kbps; got 7"), (400, r"8\.\.320 kbps; got 400"),
                                               (100, "not an MP3 \\(Layer III\\) bitrate"), (64.0, "integer")])
def test_bad_bitrates(clips, kbps, message):
    with pytest.raises(CodecError, match=message):
        mp3_roundtrip(clips, sr=SR, bitrate_kbps=kbps)


def test_bitrate_the_output_rate_cannot_carry():
    # an 8 kHz input makes LAME write MPEG-2.5, whose top bitrate is 64 kbps: it would silently encode 64
    with pytest.raises(CodecError, match="LAME wrote 64 kbps frames when asked for 320"):
        mp3_roundtrip(np.zeros((1, 800), np.float32), sr=8000, bitrate_kbps=320)


def test_bad_waves():
    with pytest.raises(CodecError, match="N×T"):
        mp3_roundtrip(np.zeros(100, np.float32), sr=SR, bitrate_kbps=64)
    with pytest.raises(CodecError, match="NaN"):
        mp3_roundtrip(np.full((1, 100), np.nan, np.float32), sr=SR, bitrate_kbps=64)
    with pytest.raises(CodecError, match="sample rate"):
        mp3_roundtrip(np.zeros((1, 100), np.float32), sr=0, bitrate_kbps=64)


def test_layer3_table_and_encoder_string():
    assert LAYER3_KBPS[0] == 8 and LAYER3_KBPS[-1] == 320 and 144 in LAYER3_KBPS and 100 not in LAYER3_KBPS
    assert all(check_bitrate(b) == b for b in (8, 16, 32, 64, 96, 128, 160))
    name = mp3_encoder()
    assert name.startswith("lameenc ") and "LAME " in name and "-q 3" in name and "pedalboard" in name


def test_cli_rejects_a_bad_bitrate_in_one_line(tmp_path, capsys):
    from helmholtz.cli import main

    t = np.arange(4410) / SR
    for cls, f in (("a", 300.0), ("b", 600.0)):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(4):
            sf.write(str(tmp_path / "data" / cls / f"{i}.wav"), (0.3 * np.sin(2 * np.pi * f * t) * 32767).astype(np.int16), SR)
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "data"), "--codec", "mp3", "--level", "7", "--out", str(tmp_path / "o.npz")])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert exc.value.code == 2 and "Traceback" not in err
    assert len(errors) == 1 and "MP3 bitrate must be 8..320 kbps; got 7" in errors[0]
