"""The codec cache and LevelStats: hits do not re-encode, keys move with what changes the bytes, bad files are
rewritten, no temp files are left, and the stats equal a naive recomputation."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from helmholtz.codecs import cache as cache_mod
from helmholtz.codecs import jpeg
from helmholtz.codecs.base import CodecResult
from helmholtz.codecs.cache import LevelStats, cache_path, compress_dataset, compress_splits, level_stats
from helmholtz.data.dataset import RawData, make_dataset
from helmholtz.errors import CodecError


def _dataset(n=240, shape=(28, 28, 1), seed=0, train_size=None):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]

    def imgs(k):
        base = np.sin(xx[None] / (2 + rng.random((k, 1, 1)) * 4)) * 80 + yy[None] * 3 + 90 + rng.normal(0, 8, (k, *shape[:2]))
        x = np.clip(base, 0, 255).astype(np.uint8)[..., None]
        return np.ascontiguousarray(np.repeat(x, shape[2], axis=-1))

    raw = RawData(x_train=imgs(n), y_train=np.arange(n) % 4, x_test=imgs(n // 4), y_test=np.arange(n // 4) % 4,
                  class_names=("a", "b", "c", "d"), format="npz")
    return make_dataset(raw, name="synthetic", source="memory", train_size=train_size)


def _files(d: Path) -> list[str]:
    return sorted(os.listdir(d))


def test_second_call_is_a_hit_without_encoding(tmp_path, monkeypatch):
    ds = _dataset()
    first, stats1 = compress_dataset(ds, codec="jpeg", level=20, cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    before = path.stat()

    def boom(*args, **kwargs):
        raise AssertionError("a cache hit must not re-encode")

    monkeypatch.setattr(jpeg, "jpeg_roundtrip", boom)
    second, stats2 = compress_dataset(ds, codec="jpeg", level=20, cache_dir=tmp_path)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert stats1 == stats2
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(first, f"x_{split}"), getattr(second, f"x_{split}"))
    assert first.content_hash == second.content_hash


def test_default_cache_dir_is_helmholtz_cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HELMHOLTZ_CACHE", str(tmp_path / "envcache"))
    compress_dataset(_dataset(), codec="jpeg", level=30)
    assert len(list((tmp_path / "envcache").glob("jpeg-30-*.npz"))) == 1


def test_returned_dataset_is_the_round_trip(tmp_path):
    ds = _dataset()
    out, stats = compress_dataset(ds, codec="jpeg", level=10, cache_dir=tmp_path)
    direct = jpeg.jpeg_roundtrip(ds.x_val, quality=10)
    np.testing.assert_array_equal(out.x_val, direct.data)
    np.testing.assert_array_equal(out.y_train, ds.y_train)
    assert out.info["codec"] == "jpeg" and out.info["level"] == 10 and out.info["encoder"] == jpeg.jpeg_encoder()
    assert out.content_hash != ds.content_hash
    assert not np.array_equal(out.x_train, ds.x_train)


def test_key_changes_with_level_dataset_subsampling_and_encoder(tmp_path):
    ds = _dataset()
    enc = jpeg.jpeg_encoder()
    p20 = cache_path(ds, codec="jpeg", level=20, encoder=enc, cache_dir=tmp_path)
    assert p20 == cache_path(ds, codec="jpeg", level=20, encoder=enc, cache_dir=tmp_path)
    assert p20 != cache_path(ds, codec="jpeg", level=21, encoder=enc, cache_dir=tmp_path)
    assert p20 != cache_path(_dataset(train_size=200), codec="jpeg", level=20, encoder=enc, cache_dir=tmp_path)
    rgb = _dataset(shape=(16, 16, 3))
    assert (cache_path(rgb, codec="jpeg", level=20, encoder=enc, cache_dir=tmp_path)
            != cache_path(rgb, codec="jpeg", level=20, encoder=enc, subsampling="4:4:4", cache_dir=tmp_path))
    # subsampling does not touch gray images, so it does not split their cache
    assert p20 == cache_path(ds, codec="jpeg", level=20, encoder=enc, subsampling="4:4:4", cache_dir=tmp_path)
    assert p20 != cache_path(ds, codec="jpeg", level=20, encoder=enc + "x", cache_dir=tmp_path)
    compress_dataset(ds, codec="jpeg", level=20, cache_dir=tmp_path)
    compress_dataset(ds, codec="jpeg", level=21, cache_dir=tmp_path)
    compress_dataset(_dataset(seed=1), codec="jpeg", level=20, cache_dir=tmp_path)
    assert len(_files(tmp_path)) == 3


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "wrong_shapes"])
def test_bad_cache_file_is_ignored_and_replaced(tmp_path, damage):
    ds = _dataset()
    good, stats = compress_dataset(ds, codec="jpeg", level=25, cache_dir=tmp_path)
    (path,) = tmp_path.iterdir()
    size = path.stat().st_size
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: size // 2])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a valid npz for a different dataset under this name
        np.savez(path, key=np.array(path.stem), x_train=np.zeros((3, 2, 2, 1), np.uint8))
    again, stats2 = compress_dataset(ds, codec="jpeg", level=25, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.x_train, good.x_train)
    assert stats2 == stats
    assert path.stat().st_size == size  # rewritten whole
    assert _files(tmp_path) == [path.name]  # and no temp files left behind
    with np.load(path) as z:
        np.testing.assert_array_equal(z["x_test"], good.x_test)


def test_no_temp_files_left_and_unwritable_cache_only_warns(tmp_path):
    ds = _dataset()
    for q in (5, 50, 95):
        compress_dataset(ds, codec="jpeg", level=q, cache_dir=tmp_path)
    assert all(name.endswith(".npz") and not name.startswith(".") for name in _files(tmp_path))
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    with pytest.warns(RuntimeWarning, match="not cached"):
        out, stats = compress_dataset(ds, codec="jpeg", level=50, cache_dir=blocker / "sub")
    assert stats.codec == "jpeg" and out.x_train.shape == ds.x_train.shape


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_level_stats_equal_naive_recomputation(tmp_path, shape):
    ds = _dataset(shape=shape)
    results, stats = compress_splits(ds, codec="jpeg", level=15, cache_dir=tmp_path)
    direct = jpeg.jpeg_roundtrip(ds.x_train, quality=15)
    np.testing.assert_array_equal(results["train"].total_bytes, direct.total_bytes)
    h, w, c = shape
    mean_total = float(np.mean(direct.total_bytes))
    assert stats.unit == "pixel" and stats.n_items == len(ds.x_train)
    assert stats.bytes_total_mean == pytest.approx(mean_total)
    assert stats.bits_total == pytest.approx(8 * mean_total / (h * w))
    assert stats.bits_payload == pytest.approx(8 * np.mean(direct.payload_bytes) / (h * w))
    assert stats.raw_bits == 8 * c
    assert stats.compression_ratio == pytest.approx(h * w * c / mean_total)
    psnrs = []
    for a, b in zip(ds.x_train, direct.data, strict=True):
        mse = sum((int(p) - int(q)) ** 2 for p, q in zip(a.ravel(), b.ravel(), strict=True)) / a.size
        psnrs.append(10 * math.log10(255**2 / mse))
    assert stats.fidelity_db == pytest.approx(sum(psnrs) / len(psnrs))
    assert LevelStats.from_dict(stats.to_dict()) == stats


def test_identical_images_cap_psnr_at_100_db():
    x = np.full((3, 8, 8, 1), 77, np.uint8)
    res = CodecResult(data=x.copy(), total_bytes=np.full(3, 100, np.int64), payload_bytes=np.full(3, 10, np.int64))
    stats = level_stats(x, res, codec="jpeg", level=100, encoder="e", modality="image")
    assert stats.fidelity_db == 100.0


def test_audio_stats_are_per_second():
    sr = 8000
    t = np.arange(2 * sr) / sr
    clean = np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 220 * t)]).astype(np.float32)
    noise = (clean * 0.1).astype(np.float32)  # error power 1% of signal: 20 dB SNR
    res = CodecResult(data=clean + noise, total_bytes=np.array([4000, 6000]), payload_bytes=np.array([3000, 5000]))
    stats = level_stats(clean, res, codec="mp3", level=16, encoder="e", modality="audio", sample_rate=sr)
    assert stats.unit == "second"
    assert stats.bits_total == pytest.approx(8 * 5000 / 2.0)
    assert stats.bits_payload == pytest.approx(8 * 4000 / 2.0)
    assert stats.raw_bits == 16 * sr
    assert stats.compression_ratio == pytest.approx(16 * sr / (8 * 5000 / 2.0))
    assert stats.fidelity_db == pytest.approx(20.0, abs=1e-3)


def test_codec_none_returns_the_dataset_unchanged():
    ds = _dataset(shape=(32, 32, 3))
    out, stats = compress_dataset(ds, codec="none", level=None)
    assert out is ds
    assert stats.codec == "none" and stats.level is None and stats.fidelity_db is None
    assert stats.compression_ratio == 1.0 and stats.bits_total == 24.0 and stats.bytes_total_mean == 32 * 32 * 3


def test_bad_codec_and_level():
    ds = _dataset()
    with pytest.raises(CodecError, match="quality"):
        compress_dataset(ds, codec="jpeg", level=0)
    with pytest.raises(CodecError, match="quality"):
        compress_dataset(ds, codec="jpeg", level=None)
    with pytest.raises(CodecError, match="unknown codec"):
        compress_dataset(ds, codec="png", level=20)
    with pytest.raises(CodecError, match="takes no level"):
        compress_dataset(ds, codec="none", level=20)
    with pytest.raises(CodecError, match="needs audio"):
        compress_dataset(ds, codec="mp3", level=32)
    audio = make_dataset(
        RawData(x_train=np.zeros((40, 800), np.float32), y_train=np.arange(40) % 2, x_test=None, y_test=None,
                class_names=("x", "y"), format="wav-folder", modality="audio", sample_rate=8000),
        name="a", source="memory")
    with pytest.raises(CodecError, match="needs image"):
        compress_dataset(audio, codec="jpeg", level=20)


def test_mp3_is_dispatched_to_the_mp3_codec(tmp_path):
    mp3 = pytest.importorskip("helmholtz.codecs.mp3", reason="helmholtz.codecs.mp3 (H6) not written yet")
    sr = 44100
    t = np.arange(int(0.5 * sr)) / sr
    waves = np.stack([0.3 * np.sin(2 * np.pi * f * t) for f in (220, 330, 440, 550) * 3]).astype(np.float32)
    raw = RawData(x_train=waves, y_train=np.arange(12) % 2, x_test=None, y_test=None, class_names=("lo", "hi"),
                  format="wav-folder", modality="audio", sample_rate=sr)
    ds = make_dataset(raw, name="tones", source="memory", val_fraction=0.25, test_fraction=0.25)
    out, stats = compress_dataset(ds, codec="mp3", level=64, cache_dir=tmp_path)
    assert stats.unit == "second" and stats.encoder == mp3.mp3_encoder()
    assert out.x_train.shape == ds.x_train.shape and out.x_train.dtype == ds.x_train.dtype
    assert 0 < stats.bits_total < stats.raw_bits
    assert len(_files(tmp_path)) == 1


def test_cache_module_exports_contract():
    from helmholtz.codecs import stats
    from helmholtz.codecs.registry import CODECS

    assert set(cache_mod.CODECS) == {"none", *CODECS} and {"jpeg", "mp3", "webp", "opus"} <= set(CODECS)
    assert cache_mod.LevelStats is stats.LevelStats and cache_mod.level_stats is stats.level_stats


def test_a_valid_file_of_another_key_is_a_miss(tmp_path):
    ds = _dataset()
    compress_dataset(ds, codec="jpeg", level=20, cache_dir=tmp_path)
    (p20,) = tmp_path.iterdir()
    p25 = cache_path(ds, codec="jpeg", level=25, encoder=jpeg.jpeg_encoder(), cache_dir=tmp_path)
    p25.write_bytes(p20.read_bytes())  # same shapes, wrong level: only the stored key tells them apart
    out, stats = compress_dataset(ds, codec="jpeg", level=25, cache_dir=tmp_path)
    assert stats.level == 25
    np.testing.assert_array_equal(out.x_train, jpeg.jpeg_roundtrip(ds.x_train, quality=25).data)
