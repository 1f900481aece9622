"""The codec registry: every spec is walked, so a new codec is covered by these tests the day it is registered.

Oracles: the set of valid levels computed naively (every integer in a window around the range, refused or not);
MP3's Layer III table against the frame-header tables of codecs.mp3; a round trip of every available codec keeps
shape and dtype and reports the payload its own parser measures on the kept files.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from helmholtz.codecs import mp3
from helmholtz.codecs.registry import (
    CODECS,
    LAYER3_KBPS,
    REFERENCE,
    CodecSpec,
    codecs_for,
    default_codec,
    get_codec,
    level_display,
    level_label,
    parse_level_label,
)
from helmholtz.errors import CodecError

SPECS = list(CODECS.values())
IDS = [s.name for s in SPECS]


def _skip_unless_available(spec: CodecSpec) -> None:
    ok, why = spec.available()
    if not ok:
        pytest.skip(f"{spec.name} not available here: {why}")


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_invalid_level_is_refused_and_every_valid_one_accepted(spec):
    valid = spec.valid_levels()
    assert list(valid) == sorted(set(valid)) and valid[0] == spec.level_range[0] and valid[-1] == spec.level_range[1]
    lo, hi = spec.level_range
    for v in range(lo - 10, hi + 11):
        if v in valid:
            assert spec.check(v) == v and spec.check(np.int64(v)) == v
        else:
            with pytest.raises(CodecError, match=spec.title) as info:
                spec.check(v, where="--levels")
            assert str(info.value).startswith("--levels: ") and "fix:" in str(info.value)
            assert "\n" not in str(info.value)
    for bad in (float(lo), True, None, str(lo), [lo]):
        with pytest.raises(CodecError, match="must be an integer"):
            spec.check(bad)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_is_complete_data(spec):
    assert spec.modality in ("image", "audio") and spec.level_kind in ("quality", "bitrate", "distance")
    assert spec.default_levels and all(spec.check(v) == v for v in spec.default_levels)
    assert list(spec.default_levels) == sorted(spec.default_levels)
    assert spec.payload and spec.coding and spec.extension.startswith(".") and spec.unit
    level = spec.default_levels[0]
    assert spec.label(level) == (str(level) if spec.paper else f"{spec.name}:{level}")
    assert str(level) in spec.display(level) and "{" not in spec.display(level)
    assert set(spec.subsamplings) <= {"4:2:0", "4:2:2", "4:4:4"}
    if spec.modality == "audio":
        assert not spec.subsamplings
    with pytest.raises(CodecError):
        spec.label(spec.level_range[1] + 1)
    doc = spec.to_dict()
    json.dumps(doc)  # `helmholtz codecs --json` prints it
    assert doc["name"] == spec.name and doc["available"] == spec.available()[0]


def test_displays_match_the_paper_and_the_brief():
    assert get_codec("jpeg").display(20) == "q 20" and get_codec("mp3").display(32) == "32 kbps"
    assert get_codec("webp").display(40) == "WebP q 40" and get_codec("avif").display(60) == "AVIF q 60"
    assert get_codec("opus").display(24) == "Opus 24 kbps" and get_codec("jp2").display(30) == "JPEG 2000 30 dB"
    assert get_codec("jpeg").default_levels == (1, 5, 10, 15, 20, 25, 50, 75, 100)
    assert get_codec("mp3").default_levels == (8, 16, 32, 64, 96, 128, 160)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_between_is_strictly_inside_and_near_the_middle(spec):
    valid = spec.valid_levels()
    rng = np.random.default_rng(0)
    for _ in range(50):
        a, b = sorted(rng.choice(valid, 2, replace=False).tolist())
        mid = spec.between(a, b)
        inside = [v for v in valid if a < v < b]
        if not inside:
            assert mid is None
            continue
        assert a < mid < b and spec.between(b, a) == mid
        assert abs(2 * mid - a - b) == min(abs(2 * v - a - b) for v in inside)
    assert spec.between(valid[0], valid[1]) is None


def test_labels_are_unique_across_every_codec_and_parse_back():
    # one store may hold several codecs of a modality: no two (codec, level) pairs may share a label
    for modality in ("image", "audio"):
        names = tuple(c.name for c in codecs_for(modality))
        labels = {}
        for spec in codecs_for(modality):
            for v in spec.valid_levels():
                label = level_label(spec.name, v)
                assert label not in labels, (label, spec.name, labels.get(label))
                labels[label] = (spec.name, v)
                assert parse_level_label(label, codecs=names) == (spec.name, v)
        assert REFERENCE not in labels and parse_level_label("none", codecs=names) == (REFERENCE, None)
    # the labels every store written before other codecs existed: the bare number, and 'none'
    assert level_label("jpeg", 20) == "20" and level_label("mp3", 32) == "32" and level_label("none", None) == "none"
    assert level_label("webp", 40) == "webp:40" and level_label("opus", 24) == "opus:24"
    with pytest.raises(CodecError, match="100 kbps is not an MP3"):
        level_label("mp3", 100)
    assert level_label("mp3", 100, check=False) == "100" and level_display("mp3", 100) == "100 kbps"
    with pytest.raises(CodecError, match="names no codec"):
        parse_level_label("40", codecs=("webp", "avif"))


def test_one_paper_codec_per_modality():
    assert default_codec("image") == "jpeg" and default_codec("audio") == "mp3"
    assert {c.name for c in CODECS.values() if c.paper} == {"jpeg", "mp3"}


def test_between_examples():
    assert get_codec("mp3").between(32, 64) == 48 and get_codec("mp3").between(8, 16) is None
    assert get_codec("mp3").between(160, 320) == 224  # 240 is not a Layer III rate: 224 and 256 tie, lower wins
    assert get_codec("jpeg").between(20, 25) == 22 and get_codec("jpeg").between(20, 21) is None


def test_the_100_kbps_bug_is_caught_before_any_encoding():
    # the review's bug: `sweep --codec mp3 --levels 32,100` trained 32 kbps, then failed at 100
    with pytest.raises(CodecError, match="100 kbps is not an MP3 \\(Layer III\\) bitrate"):
        get_codec("mp3").check(100)
    with pytest.raises(CodecError, match="MP3 bitrate must be 8..320 kbps; got 7"):
        get_codec("mp3").check(7)


def test_layer3_table_equals_the_frame_header_tables():
    assert LAYER3_KBPS == mp3.LAYER3_KBPS


def test_get_codec_and_codecs_for():
    assert get_codec("webp") is CODECS["webp"]
    with pytest.raises(CodecError, match="unknown codec 'png'.*jpeg.*aac"):
        get_codec("png")
    with pytest.raises(CodecError, match="uncompressed original"):
        get_codec(REFERENCE)
    images, audio = codecs_for("image"), codecs_for("audio")
    assert {s.name for s in images} >= {"jpeg", "webp", "avif", "jxl"} and {s.name for s in audio} >= {"mp3", "opus"}
    assert set(images) | set(audio) == set(SPECS) and not set(images) & set(audio)


def test_registry_imports_no_codec_library_and_no_numpy():
    code = ("import sys, helmholtz.codecs.registry as r; r.CODECS['jpeg'].check(20); r.CODECS['mp3'].display(32);"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'PIL', 'av', 'imagecodecs', 'soundfile', 'torch', 'simplejpeg', 'lameenc')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_encoder_names_library_versions(spec):
    _skip_unless_available(spec)
    enc = spec.encoder()
    assert enc and any(ch.isdigit() for ch in enc) and enc == spec.encoder()


def _inputs(spec: CodecSpec):
    rng = np.random.default_rng(1)
    if spec.modality == "image":
        yy, xx = np.mgrid[0:20, 0:24]
        base = (np.sin(xx / 3.0) * 60 + yy * 4 + 80)[None] + rng.normal(0, 10, (5, 20, 24))
        gray = np.clip(base, 0, 255).astype(np.uint8)
        return [gray, gray[..., None], np.ascontiguousarray(np.stack([gray, 255 - gray, gray // 2], -1))]
    t = np.arange(8000) / 16000
    waves = np.stack([0.3 * np.sin(2 * np.pi * f * t) * (1 + 0.2 * np.sin(7 * t)) for f in (220, 440, 660)])
    return [waves.astype(np.float32), waves.astype(np.float64)]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_round_trip_keeps_shape_dtype_and_measures_its_own_payload(spec):
    _skip_unless_available(spec)
    level = spec.default_levels[len(spec.default_levels) // 2]
    for x in _inputs(spec):
        res = spec.roundtrip(x, level=level, sample_rate=16000 if spec.modality == "audio" else None,
                             keep_encoded=True)
        assert res.data.shape == x.shape and res.data.dtype == x.dtype
        assert res.total_bytes.shape == res.payload_bytes.shape == (len(x),)
        assert np.all(res.payload_bytes > 0) and np.all(res.payload_bytes <= res.total_bytes)
        assert [len(b) for b in res.encoded] == res.total_bytes.tolist()
        assert [spec.payload_bytes(b) for b in res.encoded] == res.payload_bytes.tolist()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_round_trip_refuses_bad_levels_and_options_in_one_line(spec):
    x = _inputs(spec)[0]
    with pytest.raises(CodecError, match=spec.title):
        spec.roundtrip(x, level=spec.level_range[1] + 1, sample_rate=16000)
    if not spec.subsamplings:
        with pytest.raises(CodecError, match="subsampling"):
            spec.roundtrip(x, level=spec.default_levels[0], sample_rate=16000, subsampling="4:4:4")
    if spec.modality == "audio":
        with pytest.raises(CodecError, match="sample rate"):
            spec.roundtrip(x, level=spec.default_levels[0])
