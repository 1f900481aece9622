"""WebP, AVIF, JPEG XL and JPEG 2000: second decoders agree, the payload is less than the file, and on real
Fashion-MNIST more quality means more bits and a higher PSNR.

Oracles: imagecodecs' own libwebp/libavif/OpenJPEG decode the bytes we wrote to the pixels Pillow decoded; the
payload parsers against a naive marker search; a thread pool gives the same bytes as one thread.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FASHION_MNIST_DIR, requires_fashion_mnist
from helmholtz.codecs.registry import get_codec
from helmholtz.errors import CodecError
from helpers import available_codec

NEW_IMAGE_CODECS = ("webp", "avif", "jxl", "jp2")


def _images(n=6, shape=(20, 24), seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    base = (np.sin(xx / 3.0) * 60 + yy * 4 + 80)[None] + rng.normal(0, 12, (n, *shape))
    gray = np.clip(base, 0, 255).astype(np.uint8)
    return gray, np.ascontiguousarray(np.stack([gray, 255 - gray, np.roll(gray, 3, axis=1) // 2], -1))


def _luma(rgb: np.ndarray) -> np.ndarray:
    """Pillow's RGB → L (ITU-R 601-2, 16-bit fixed point), computed naively."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


SECOND_DECODER = {"webp": "webp_decode", "avif": "avif_decode", "jp2": "jpeg2k_decode"}


@pytest.mark.parametrize("name", NEW_IMAGE_CODECS)
@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_a_second_decoder_gives_the_same_pixels(name, color):
    spec = available_codec(name)
    if name not in SECOND_DECODER:
        pytest.skip("no second JPEG XL decoder is bundled here (Pillow 13 has no JPEG XL; pillow-jxl-plugin not "
                    "installed)")
    imagecodecs = pytest.importorskip("imagecodecs")
    gray, rgb = _images()
    x = gray if color == "gray" else rgb
    res = spec.roundtrip(x, level=spec.default_levels[3], keep_encoded=True)
    for blob, ours in zip(res.encoded, res.data, strict=True):
        theirs = getattr(imagecodecs, SECOND_DECODER[name])(blob)
        if color == "gray" and theirs.ndim == 3:  # WebP has no gray mode: both decoders give RGB, we keep the luma
            theirs = _luma(theirs)
        np.testing.assert_array_equal(theirs, ours)


@pytest.mark.parametrize("name", NEW_IMAGE_CODECS)
def test_payload_is_less_than_the_file_except_a_bare_jxl_codestream(name):
    spec = available_codec(name)
    gray, rgb = _images()
    for x in (gray, rgb):
        res = spec.roundtrip(x, level=spec.default_levels[4])
        if name == "jxl":  # no container: the codestream is the file (its bit-packed headers are not parsed out)
            np.testing.assert_array_equal(res.payload_bytes, res.total_bytes)
        else:
            assert np.all(res.payload_bytes < res.total_bytes)
            assert np.all(res.payload_bytes > 0)


@pytest.mark.parametrize("name", NEW_IMAGE_CODECS)
def test_threads_give_the_same_bytes_and_pixels_as_one(name):
    spec = available_codec(name)
    gray, _ = _images(n=80)
    one = spec.roundtrip(gray, level=spec.default_levels[2], workers=1)
    two = spec.roundtrip(gray, level=spec.default_levels[2], workers=2)
    np.testing.assert_array_equal(one.data, two.data)
    np.testing.assert_array_equal(one.total_bytes, two.total_bytes)
    np.testing.assert_array_equal(one.payload_bytes, two.payload_bytes)


def test_avif_subsampling_is_a_real_choice_for_rgb_and_ignored_for_gray():
    spec = available_codec("avif")
    gray, rgb = _images()
    s420 = spec.roundtrip(rgb, level=60)
    s444 = spec.roundtrip(rgb, level=60, subsampling="4:4:4")
    assert s444.total_bytes.sum() > s420.total_bytes.sum()
    np.testing.assert_array_equal(spec.roundtrip(gray, level=60, subsampling="4:4:4").data,
                                  spec.roundtrip(gray, level=60).data)
    with pytest.raises(CodecError, match="subsampling"):
        spec.roundtrip(rgb, level=60, subsampling="4:1:1")


def test_jpeg2000_works_on_images_smaller_than_its_wavelet_levels():
    from helmholtz.codecs.pillow_image import jp2_resolutions

    spec = available_codec("jp2")
    assert [jp2_resolutions(s, s) for s in (1, 2, 7, 8, 28, 32, 1000)] == [1, 2, 3, 4, 5, 6, 6]
    for shape in ((3, 5), (8, 8), (28, 28)):
        x = _images(n=2, shape=shape)[1]
        assert spec.roundtrip(x, level=40).data.shape == x.shape


def test_jpeg2000_reaches_its_psnr_target_on_gray_images():
    spec = available_codec("jp2")
    gray, _ = _images(n=20, shape=(32, 32))
    for target in (25, 35):
        res = spec.roundtrip(gray, level=target)
        err = (res.data.astype(np.float64) - gray) ** 2
        psnr = 10 * np.log10(255**2 / err.reshape(len(gray), -1).mean(axis=1))
        assert abs(np.median(psnr) - target) < 2.0


@pytest.mark.parametrize("name", NEW_IMAGE_CODECS)
def test_bad_images_are_refused_in_one_line(name):
    spec = get_codec(name)
    with pytest.raises(CodecError, match="uint8"):
        spec.roundtrip(np.zeros((2, 8, 8), np.float32), level=spec.default_levels[0])
    with pytest.raises(CodecError, match="C = 1 \\(gray\\) or 3"):
        spec.roundtrip(np.zeros((2, 8, 8, 4), np.uint8), level=spec.default_levels[0])


def test_empty_batch():
    spec = available_codec("webp")
    res = spec.roundtrip(np.zeros((0, 8, 8), np.uint8), level=50)
    assert res.data.shape == (0, 8, 8) and res.total_bytes.shape == (0,)


# ── real data ────────────────────────────────────────────────────────────────────────────────────────────────────

@pytest.fixture(scope="module")
def fashion() -> np.ndarray:
    from helmholtz.data.image_readers import read_idx_dir

    return read_idx_dir(FASHION_MNIST_DIR).x_train[:400]


LEVELS = {"webp": (10, 50, 90), "avif": (10, 50, 90), "jxl": (10, 50, 90), "jp2": (20, 30, 40)}


@requires_fashion_mnist
@pytest.mark.parametrize("name", NEW_IMAGE_CODECS)
def test_on_fashion_mnist_bits_and_psnr_rise_with_the_level(fashion, name):
    from helmholtz.codecs.stats import level_stats

    spec = available_codec(name)
    stats = [level_stats(fashion, spec.roundtrip(fashion, level=lv), codec=name, level=lv, encoder="", modality="image")
             for lv in LEVELS[name]]
    total = [s.bits_total for s in stats]
    payload = [s.bits_payload for s in stats]
    psnr = [s.fidelity_db for s in stats]
    assert total[0] < total[1] < total[2] and payload[0] < payload[1] < payload[2]
    assert psnr[0] < psnr[1] < psnr[2]
    assert all(p <= t for p, t in zip(payload, total, strict=True))
    assert all(s.raw_bits == 8 for s in stats)
