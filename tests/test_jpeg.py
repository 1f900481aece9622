"""JPEG round trip: shapes, Pillow as a second decoder, scan bytes against a naive parse, real Fashion-MNIST."""

from __future__ import annotations

import gzip
import io
from itertools import pairwise

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from conftest import FASHION_MNIST_DIR, requires_fashion_mnist
from helmholtz.codecs import jpeg
from helmholtz.codecs.jpeg import jpeg_encoder, jpeg_roundtrip, scan_bytes
from helmholtz.errors import CodecError


def _images(shape, seed=0):
    """Smooth images with edges (closer to photos than noise, so quality matters)."""
    rng = np.random.default_rng(seed)
    n, h, w = shape[:3]
    yy, xx = np.mgrid[0:h, 0:w]
    base = (np.sin(xx[None] / (2 + rng.random((n, 1, 1)) * 3)) * 90 + yy[None] * 3 + 100)
    base = base + (xx[None] > w // 2) * 40 + rng.normal(0, 6, (n, h, w))
    x = np.clip(base, 0, 255).astype(np.uint8)
    if len(shape) == 3:
        return x
    c = shape[3]
    return np.ascontiguousarray(np.stack([x, 255 - x, x[:, ::-1]][:c], axis=-1))


def _fashion_train(n):
    with gzip.open(FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz") as fh:
        raw = fh.read()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28, 1)[:n]


def _naive_scan_bytes(blob: bytes) -> int:
    """Oracle for a baseline single-scan file: from the end of the SOS header to the EOI at the very end."""
    sos = blob.find(b"\xff\xda")
    header_len = int.from_bytes(blob[sos + 2:sos + 4], "big")
    assert blob.endswith(b"\xff\xd9")
    return len(blob) - 2 - (sos + 2 + header_len)


@pytest.mark.parametrize("shape", [(4, 28, 28, 1), (3, 33, 17, 1), (3, 33, 17, 3), (5, 28, 28), (2, 1, 1, 3)])
def test_shape_and_dtype_unchanged(shape):
    x = _images(shape)
    r = jpeg_roundtrip(x, quality=50)
    assert r.data.shape == x.shape and r.data.dtype == np.uint8
    assert r.total_bytes.dtype == np.int64 and r.total_bytes.shape == (len(x),)
    assert r.encoded is None
    assert 0 < np.abs(r.data.astype(int) - x).mean() < 40  # lossy but close


@pytest.mark.parametrize("sub,sampling", [("4:2:0", 2), ("4:2:2", 1), ("4:4:4", 0)])
def test_pillow_decodes_our_rgb_bytes_to_the_same_pixels(sub, sampling):
    x = _images((6, 33, 17, 3))
    r = jpeg_roundtrip(x, quality=37, subsampling=sub, keep_encoded=True)
    for i, blob in enumerate(r.encoded):
        im = Image.open(io.BytesIO(blob))
        assert im.mode == "RGB"
        assert JpegImagePlugin.get_sampling(im) == sampling
        np.testing.assert_array_equal(np.asarray(im), r.data[i])
        assert r.total_bytes[i] == len(blob)


def test_pillow_decodes_our_gray_bytes_to_the_same_pixels():
    x = _images((6, 28, 28, 1))
    r = jpeg_roundtrip(x, quality=20, keep_encoded=True)
    for i, blob in enumerate(r.encoded):
        im = Image.open(io.BytesIO(blob))
        assert im.mode == "L"  # a real grayscale JPEG, one component
        np.testing.assert_array_equal(np.asarray(im), r.data[i, ..., 0])


def test_subsampling_changes_bytes():
    x = _images((4, 32, 32, 3))
    b420 = jpeg_roundtrip(x, quality=75, subsampling="4:2:0").total_bytes.sum()
    b444 = jpeg_roundtrip(x, quality=75, subsampling="4:4:4").total_bytes.sum()
    assert b420 < b444


def test_scan_bytes_match_naive_parse_and_fast_path():
    x = _images((40, 28, 28, 3))
    for q in (5, 50, 95):
        r = jpeg_roundtrip(x, quality=q, keep_encoded=True)
        for i, blob in enumerate(r.encoded):
            naive = _naive_scan_bytes(blob)
            assert scan_bytes(blob) == naive == r.payload_bytes[i]  # the batch fast path agrees with both
            assert 0 < r.payload_bytes[i] < r.total_bytes[i]


def test_scan_bytes_multiple_scans_restart_markers_and_fill_bytes():
    blob = jpeg_roundtrip(_images((1, 16, 16, 1)), quality=50, keep_encoded=True).encoded[0]
    sos = blob.find(b"\xff\xda")
    head_end = sos + 2 + int.from_bytes(blob[sos + 2:sos + 4], "big")
    head, scan = blob[:head_end], blob[head_end:-2]
    assert scan_bytes(blob) == len(scan)
    # a second scan (the same SOS header and data again) doubles the count
    assert scan_bytes(head + scan + blob[sos:head_end] + scan + b"\xff\xd9") == 2 * len(scan)
    # a restart marker inside the scan belongs to the scan; fill bytes before EOI do not
    k = len(scan) // 2
    assert scan_bytes(head + scan[:k] + b"\xff\xd3" + scan[k:] + b"\xff\xd9") == len(scan) + 2
    assert scan_bytes(head + scan + b"\xff\xff\xff\xd9") == len(scan)
    # stuffed 0xFF 0x00 is scan data
    assert scan_bytes(head + b"\x12\xff\x00\x34" + b"\xff\xd9") == 4


def test_scan_bytes_progressive_file_from_pillow():
    buf = io.BytesIO()
    Image.fromarray(_images((1, 64, 64, 3))[0]).save(buf, "JPEG", quality=60, progressive=True)
    blob = buf.getvalue()
    assert blob.count(b"\xff\xda") >= 2  # several scans
    n = scan_bytes(blob)
    first = _naive_scan_bytes(blob)  # the naive parse sees only up to the final EOI from the first SOS
    assert 0 < n < first < len(blob)  # later scans' headers are excluded


@pytest.mark.parametrize("bad", [b"", b"not a jpeg at all", b"\xff\xd8\xff"])
def test_scan_bytes_rejects_non_jpeg(bad):
    with pytest.raises(CodecError, match="JPEG|marker|EOI|truncated"):
        scan_bytes(bad)


def test_scan_bytes_rejects_truncated_file():
    blob = jpeg_roundtrip(_images((1, 28, 28, 1)), quality=50, keep_encoded=True).encoded[0]
    with pytest.raises(CodecError, match="EOI|truncated|past the end"):
        scan_bytes(blob[:-10])
    with pytest.raises(CodecError):
        scan_bytes(blob[:30])


@pytest.mark.parametrize("bad", [0, 101, 20.5, "20", None])
def test_bad_quality(bad):
    with pytest.raises(CodecError, match="quality"):
        jpeg_roundtrip(_images((1, 8, 8, 1)), quality=bad)


def test_bad_inputs():
    with pytest.raises(CodecError, match="uint8"):
        jpeg_roundtrip(np.zeros((1, 8, 8, 1), np.float32), quality=50)
    with pytest.raises(CodecError, match="C = 1"):
        jpeg_roundtrip(np.zeros((1, 8, 8, 2), np.uint8), quality=50)
    with pytest.raises(CodecError, match="subsampling"):
        jpeg_roundtrip(np.zeros((1, 8, 8, 3), np.uint8), quality=50, subsampling="4:1:1")
    with pytest.raises(CodecError, match="libjpeg-turbo failed"):
        jpeg_roundtrip(np.zeros((2, 0, 5, 1), np.uint8), quality=50)
    with pytest.raises(CodecError, match="workers"):
        jpeg_roundtrip(np.zeros((1, 8, 8, 1), np.uint8), quality=50, workers=0)


def test_threaded_equals_serial(monkeypatch):
    x = _images((300, 28, 28, 3), seed=3)
    serial = jpeg_roundtrip(x, quality=30, workers=1, keep_encoded=True)
    # force the pool on this small batch, with many chunks
    monkeypatch.setattr(jpeg, "PARALLEL_MIN_PIXELS", 0)
    monkeypatch.setattr(jpeg, "_CHUNK_PIXELS", 28 * 28 * 7)
    threaded = jpeg_roundtrip(x, quality=30, workers=3, keep_encoded=True)
    np.testing.assert_array_equal(serial.data, threaded.data)
    np.testing.assert_array_equal(serial.total_bytes, threaded.total_bytes)
    np.testing.assert_array_equal(serial.payload_bytes, threaded.payload_bytes)
    assert serial.encoded == threaded.encoded


def test_encoder_names_library_and_version():
    import simplejpeg

    name = jpeg_encoder()
    assert name.startswith(f"simplejpeg {simplejpeg.__version__}")
    assert "libjpeg-turbo" in name


def test_flat_image_bytes_are_constant_across_quality():
    # DESIGN.md: headers dominate; a flat gray 28×28 file has the same size at every quality
    x = np.full((1, 28, 28, 1), 128, np.uint8)
    sizes = {int(jpeg_roundtrip(x, quality=q).total_bytes[0]) for q in (10, 50, 90)}
    assert len(sizes) == 1


@requires_fashion_mnist
def test_real_fashion_mnist_bytes_and_psnr_rise_with_quality():
    x = _fashion_train(2000)
    qs = [1, 5, 10, 15, 20, 25, 50, 75, 90, 100]
    mean_bytes, mean_scan, psnr = [], [], []
    for q in qs:
        r = jpeg_roundtrip(x, quality=q)
        mean_bytes.append(r.total_bytes.mean())
        mean_scan.append(r.payload_bytes.mean())
        mse = ((r.data.astype(np.float64) - x) ** 2).reshape(len(x), -1).mean(axis=1)
        psnr.append(np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-12))))
    assert all(a <= b for a, b in pairwise(mean_bytes)), mean_bytes
    assert all(a <= b for a, b in pairwise(mean_scan)), mean_scan
    assert all(a < b for a, b in pairwise(psnr)), psnr
    assert mean_bytes[-1] > 2 * mean_bytes[0]
