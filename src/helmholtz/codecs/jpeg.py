"""JPEG round trip through libjpeg-turbo (simplejpeg), with the bytes the encoder really wrote.

The Helmholtz method trains on perceptually compressed copies of a dataset: each image is encoded at JPEG quality q
and decoded again, and the model sees the decoded pixels. We keep two byte counts per image: the whole file, and the
entropy-coded scan alone (``scan_bytes``), because headers and tables dominate a 28×28 or 32×32 JPEG and only the
scan measures the content bits that survive quantization.

Parallelism, measured on this project's 2-core machine: simplejpeg releases the GIL inside libjpeg-turbo (with the
interpreter's switch interval set to 30 s, a second Python thread keeps running through a 4096×4096 encode and
decode; two threads round-trip 1024×1024 RGB images 1.7-1.8× faster than one). So large batches are split across a
thread pool that writes straight into one output array: no pickling, no process start-up. For 28×28 images the
per-call work that holds the GIL dominates: neither the thread pool nor a process pool gained anything on 2 cores
(about 72k images/s either way), and the pool costs nothing measurable either. Batches under
``PARALLEL_MIN_PIXELS`` stay in the calling thread.
"""

from __future__ import annotations

import functools
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np

from helmholtz.codecs.base import CodecResult
from helmholtz.codecs.quant import check_quality
from helmholtz.errors import CodecError

Subsampling = Literal["4:2:0", "4:2:2", "4:4:4"]
SUBSAMPLINGS: tuple[str, ...] = ("4:2:0", "4:2:2", "4:4:4")
_SIMPLEJPEG_SUBSAMPLING = {"4:2:0": "420", "4:2:2": "422", "4:4:4": "444"}

# Batches below this many pixels run in the calling thread (≈ 2000 Fashion-MNIST images): a pool's start-up and the
# Python-level work per image, which holds the GIL, outweigh the parallel part for them.
PARALLEL_MIN_PIXELS = 1_500_000
# Images per task handed to the pool: large enough to amortize scheduling, small enough to balance the load.
_CHUNK_PIXELS = 400_000

# Markers without a length field (ITU-T T.81 Table B.1): TEM, RST0-7, SOI, EOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, 0xD9})
_SOS, _EOI = 0xDA, 0xD9


def scan_bytes(jpeg: bytes) -> int:
    """Bytes of entropy-coded scan data in a JPEG file, summed over all scans (progressive files have several).

    A scan's data runs from the end of its SOS segment header to the next marker that is neither a restart marker
    (RST0-7) nor a stuffed 0xFF 0x00; the RST markers and stuffing bytes inside it are counted, the SOI, tables,
    frame and scan headers and the EOI are not. Raises CodecError on a file that is not a complete JPEG.
    """
    data = bytes(jpeg)
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise CodecError("not a JPEG file (no SOI marker 0xFFD8 at the start)", where="scan_bytes",
                         fix="pass the bytes of a JPEG file")
    total, pos = 0, 2
    while True:
        if pos >= n or data[pos] != 0xFF:
            raise CodecError(f"expected a marker at byte {pos} of {n}; the file is truncated or corrupt",
                             where="scan_bytes", fix="re-encode the image")
        while pos < n and data[pos] == 0xFF:  # fill bytes: any number of 0xFF may precede a marker code
            pos += 1
        if pos >= n:
            raise CodecError("the file ends inside a marker (no EOI)", where="scan_bytes", fix="re-encode the image")
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            return total
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            raise CodecError(f"marker 0xFF{marker:02X} has no length field", where="scan_bytes", fix="re-encode the image")
        end = pos + int.from_bytes(data[pos:pos + 2], "big")
        if end > n:
            raise CodecError(f"segment 0xFF{marker:02X} runs past the end of the file", where="scan_bytes",
                             fix="re-encode the image")
        pos = end
        if marker != _SOS:
            continue
        start = pos
        while True:  # walk the entropy-coded data: only 0xFF followed by a real marker code ends it
            pos = data.find(b"\xff", pos)
            if pos < 0 or pos + 1 >= n:
                raise CodecError("the entropy-coded scan has no end marker (no EOI)", where="scan_bytes",
                                 fix="re-encode the image")
            code = data[pos + 1]
            if code == 0x00 or 0xD0 <= code <= 0xD7:
                pos += 2
                continue
            break
        total += pos - start


@functools.lru_cache(maxsize=1)
def jpeg_encoder() -> str:
    """Encoder name and version, e.g. ``"simplejpeg 1.9.0 (libjpeg-turbo 3.1.2)"``.

    Different libjpeg-turbo builds write different bytes at the same quality, so this string is part of every cache
    key and every result. simplejpeg links libjpeg-turbo statically and exposes no version call; the library embeds
    its version banner, which we read from the extension module.
    """
    import simplejpeg

    name = f"simplejpeg {simplejpeg.__version__}"
    try:
        blob = Path(simplejpeg._jpeg.__file__).read_bytes()
        found = re.search(rb"libjpeg-turbo version ([0-9][0-9A-Za-z.\-]*)", blob)
    except (OSError, AttributeError):
        found = None
    return f"{name} (libjpeg-turbo {found.group(1).decode()})" if found else name


def _check_images(images: object) -> np.ndarray:
    if not isinstance(images, np.ndarray):
        raise CodecError(f"images must be a numpy array; got {type(images).__name__}", where="jpeg_roundtrip",
                         fix="pass a uint8 array N×H×W×C")
    if images.dtype != np.uint8:
        raise CodecError(f"images must be uint8; got {images.dtype}", where="jpeg_roundtrip",
                         fix="convert with np.clip(x, 0, 255).astype(np.uint8)")
    if images.ndim == 3:  # N×H×W grayscale: treat as one channel, hand back the same shape
        return images
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise CodecError(f"images must be N×H×W×C with C = 1 (gray) or 3 (RGB); got shape {images.shape}",
                         where="jpeg_roundtrip", fix="reshape to N×H×W×1 or N×H×W×3")
    return images


def jpeg_roundtrip(
    images: np.ndarray,
    *,
    quality: int,
    subsampling: Subsampling = "4:2:0",
    workers: int | None = None,
    keep_encoded: bool = False,
) -> CodecResult:
    """Encode every image as JPEG at quality q and decode it again (the Helmholtz method's perceptual compression).

    ``images``: uint8 N×H×W×C, C = 1 (encoded as a grayscale JPEG) or C = 3 (RGB, YCbCr with the given chroma
    ``subsampling``; 4:2:0 is the paper's). N×H×W is taken as grayscale. ``quality``: the JPEG quality q, an integer
    1..100. ``workers``: threads for large batches (default: the CPUs this process may use); 1 forces serial work.
    Returns the decoded images (same shape and dtype), the whole-file and scan-only bytes per image, and the
    encoded files when ``keep_encoded``. Raises CodecError for bad input or an encoder failure.
    """
    images = _check_images(images)
    q = check_quality(quality, where="jpeg_roundtrip quality")
    if subsampling not in SUBSAMPLINGS:
        raise CodecError(f"subsampling must be one of {', '.join(SUBSAMPLINGS)}; got {subsampling!r}",
                         where="jpeg_roundtrip", fix="use 4:2:0 (the paper's), 4:2:2 or 4:4:4")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise CodecError(f"workers must be a positive integer or None; got {workers!r}", where="jpeg_roundtrip",
                         fix="leave it unset to use every CPU")
    n = len(images)
    src = np.ascontiguousarray(images if images.ndim == 4 else images[..., None])
    gray = src.shape[-1] == 1
    out = np.empty_like(src)
    total = np.zeros(n, dtype=np.int64)
    payload = np.zeros(n, dtype=np.int64)
    encoded: list[bytes] | None = [b""] * n if keep_encoded else None
    job = _Job(src, out, total, payload, encoded, q, "GRAY" if gray else "RGB",
               "Gray" if gray else _SIMPLEJPEG_SUBSAMPLING[subsampling])

    n_workers = workers if workers is not None else _available_cpus()
    pixels = int(np.prod(src.shape[:3], dtype=np.int64))
    if n_workers <= 1 or pixels < PARALLEL_MIN_PIXELS or n < 2:
        job.run(0, n)
    else:
        per_chunk = max(1, _CHUNK_PIXELS // max(1, src.shape[1] * src.shape[2]))
        bounds = [(lo, min(lo + per_chunk, n)) for lo in range(0, n, per_chunk)]
        with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="jpeg") as pool:
            for fut in [pool.submit(job.run, lo, hi) for lo, hi in bounds]:
                fut.result()  # re-raises a worker's CodecError here
    return CodecResult(data=out if images.ndim == 4 else out[..., 0], total_bytes=total, payload_bytes=payload,
                       encoded=encoded)


class _Job:
    """One batch's shared buffers; ``run(lo, hi)`` round-trips images lo..hi-1 in place (threads own disjoint ranges)."""

    def __init__(self, src, out, total, payload, encoded, quality, colorspace, subsampling) -> None:
        self.src, self.out, self.total, self.payload, self.encoded = src, out, total, payload, encoded
        self.quality, self.colorspace, self.subsampling = quality, colorspace, subsampling

    def run(self, lo: int, hi: int) -> None:
        import simplejpeg

        encode, decode = simplejpeg.encode_jpeg, simplejpeg.decode_jpeg
        src, out, q, cs, sub = self.src, self.out, self.quality, self.colorspace, self.subsampling
        header = b""  # the headers of the last fully parsed file (SOI … end of its only SOS header)
        for i in range(lo, hi):
            try:
                blob = encode(src[i], quality=q, colorspace=cs, colorsubsampling=sub)
                decode(blob, colorspace=cs, buffer=out[i])
            except (ValueError, RuntimeError, TypeError) as ex:
                raise CodecError(f"libjpeg-turbo failed on image {i} at quality {q}: {ex}", where="jpeg_roundtrip",
                                 fix="check the image (uint8, non-empty, at most 65500 pixels a side)") from None
            n = len(blob)
            self.total[i] = n
            # Fast path, exact: images of one batch share shape, quality and tables, so libjpeg writes byte-identical
            # headers. A file whose headers equal those of a fully parsed single-scan sequential file is one scan
            # followed by EOI, and its scan is everything in between. Anything else gets the full marker walk.
            if header and blob.startswith(header) and blob.endswith(b"\xff\xd9"):
                self.payload[i] = n - len(header) - 2
            else:
                self.payload[i] = scan_bytes(blob)
                header = _single_scan_header(blob, self.payload[i])
            if self.encoded is not None:
                self.encoded[i] = blob


def _single_scan_header(blob: bytes, scan: int) -> bytes:
    """The header bytes of ``blob`` (SOI … end of the SOS header) if it is a sequential (SOF0/SOF1) file holding
    exactly one scan that runs to the final EOI; b"" otherwise. ``scan`` is ``scan_bytes(blob)``."""
    head = blob[: len(blob) - scan - 2]
    if not blob.endswith(b"\xff\xd9"):
        return b""
    pos, n, sequential = 2, len(head), False
    while pos + 4 <= n and head[pos] == 0xFF:
        marker = head[pos + 1]
        end = pos + 2 + int.from_bytes(head[pos + 2:pos + 4], "big")
        sequential |= marker in (0xC0, 0xC1)
        if marker == _SOS:
            return head if end == n and sequential else b""
        pos = end
    return b""


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
