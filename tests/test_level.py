"""`codecs.level.Level`: a codec level checked once where it enters, trusted inside (the cache, the round trip)."""

from __future__ import annotations

import numpy as np
import pytest

from helmholtz.codecs import registry
from helmholtz.codecs.cache import compress_dataset
from helmholtz.codecs.level import Level
from helmholtz.data.dataset import RawData, make_dataset
from helmholtz.errors import CodecError


def _ds():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(60, 8, 8), dtype=np.uint8)
    y = np.repeat(np.arange(3), 20)
    raw = RawData(x, y, None, None, class_names=("a", "b", "c"), format="npz", modality="image")
    return make_dataset(raw, name="tiny", source="tiny")


def test_of_checks_with_the_registry_s_words():
    assert Level.of("jpeg", 20) == Level("jpeg", 20)
    assert Level.of("none", None) == Level.original() == Level.of("mp3", None)
    with pytest.raises(CodecError) as bad:
        Level.of("mp3", 100, where="--levels")
    with pytest.raises(CodecError) as same:
        registry.get_codec("mp3").check(100, where="--levels")
    assert str(bad.value) == str(same.value)
    with pytest.raises(CodecError, match="takes no level"):
        Level.of("none", 5)


def test_label_and_display_are_the_registry_s():
    for codec, value in (("jpeg", 20), ("mp3", 32), ("webp", 40), ("none", None)):
        lv = Level.trusted(codec, value)
        assert lv.label == registry.level_label(codec, value)
        assert lv.display == registry.level_display(codec, value)
    assert Level.trusted("jpeg", 20).with_bits(1.5) == Level("jpeg", 20)   # bits are not identity


def test_a_level_is_checked_once_and_the_cache_gives_the_same_data(tmp_path, monkeypatch):
    ds = _ds()
    plain, plain_stats = compress_dataset(ds, codec="jpeg", level=25, cache_dir=tmp_path / "a")
    calls = []
    check = registry.CodecSpec.check

    def counting(self, level, *, where="--levels"):
        calls.append(level)
        return check(self, level, where=where)

    monkeypatch.setattr(registry.CodecSpec, "check", counting)
    lv = Level.of("jpeg", 25)
    assert calls == [25]                                          # checked where it entered …
    data, stats = compress_dataset(ds, codec="jpeg", level=lv, cache_dir=tmp_path / "b")
    assert calls == [25]                                          # … and not again on the way to the codec
    assert np.array_equal(data.x_train, plain.x_train) and stats.bits_total == plain_stats.bits_total
    assert data.info["level"] == 25
    compress_dataset(ds, codec="jpeg", level=25, cache_dir=tmp_path / "c")
    assert len(calls) == 2                                        # a bare level is still checked, once
    original, _ = compress_dataset(ds, codec="none", level=Level.original())
    assert original is ds
