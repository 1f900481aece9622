"""WebP, AVIF and JPEG 2000 round trips through Pillow's bundled libwebp, libavif (aom encoder, dav1d decoder) and
OpenJPEG, with the bytes each encoder really wrote.

Every setting that changes the bytes is fixed here and written into the encoder string (part of every cache key
and result), so a result names exactly what produced it:

* **WebP** (lossy VP8): quality 0..100, ``method`` 4 (Pillow's and cwebp's default effort). VP8 is always YUV 4:2:0
  and has no gray mode: a gray image is coded as RGB R = G = B (luma with near-neutral chroma) and the decoded RGB
  is turned back into gray by Pillow's luma (ITU-R 601-2); the decoded channels differ by at most 1 (measured).
* **AVIF** (AV1 intra): quality 0..100, encoder speed 6 (libavif's default trade-off; 0 slowest … 10 fastest), one
  encoder thread per image (the images themselves run in parallel), full-range YUV. RGB is 4:2:0 unless another
  subsampling is asked for; gray is coded as monochrome 4:0:0.
* **JPEG 2000** (raw J2K codestream, no JP2 boxes): the level is the target PSNR in dB of OpenJPEG's rate control
  (one quality layer, truncated where it reaches that PSNR), the irreversible 9/7 wavelet, at most 6 resolution
  levels (fewer on images under 32 pixels a side, which OpenJPEG requires), the irreversible colour transform for
  RGB, no chroma subsampling (4:4:4). Not a compression ratio: OpenJPEG's ratio budget includes the 145-byte main
  header of a 28×28 codestream, so on Fashion-MNIST every ratio from 5:1 up wrote the same smallest file
  (measured), while the PSNR target spans 20–56 dB and 66–540 payload bytes.

Payloads (``codecs.containers``): WebP the VP8 chunk, AVIF the ``mdat`` box, JPEG 2000 the tile-part bitstreams.
"""

from __future__ import annotations

import functools
import io
import math

import numpy as np

from helmholtz.codecs import containers
from helmholtz.codecs.base import CodecResult
from helmholtz.codecs.imaging import roundtrip_images
from helmholtz.errors import CodecError

WEBP_METHOD = 4  # libwebp effort 0 (fast) … 6 (slowest, smallest)
AVIF_SPEED = 6  # libavif/aom speed 0 (slowest, smallest) … 10 (fastest)
AVIF_CODEC = "aom"  # the AV1 encoder inside Pillow's libavif; fixed so an extra encoder in a build changes nothing
AVIF_SUBSAMPLINGS: tuple[str, ...] = ("4:2:0", "4:2:2", "4:4:4")
JP2_MAX_RESOLUTIONS = 6  # OpenJPEG's default number of resolution levels (5 wavelet decompositions)


def _image(x: np.ndarray):
    from PIL import Image

    return Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x)


def _decode(blob: bytes, channels: int) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(blob)) as im:
        im.load()
        if channels == 1 and im.mode != "L":
            im = im.convert("L")  # WebP has no gray mode: luma of the decoded RGB (channels within 1 of each other)
        arr = np.asarray(im)
    return arr[..., None] if arr.ndim == 2 else arr


# ── WebP ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def webp_roundtrip(images: np.ndarray, *, quality: int, workers: int | None = None,
                   keep_encoded: bool = False) -> CodecResult:
    """Encode each image as lossy WebP at ``quality`` (0..100, method 4) and decode it with libwebp.

    ``images``: uint8 N×H×W (gray), N×H×W×1 or N×H×W×3. Returns the decoded images (same shape and dtype), the
    whole-file and VP8-chunk bytes per image, and the files when ``keep_encoded``.
    """
    from helmholtz.codecs.registry import get_codec

    q = get_codec("webp").check(quality, where="webp_roundtrip quality")

    def one(x: np.ndarray) -> tuple[bytes, np.ndarray]:
        buf = io.BytesIO()
        _image(x).save(buf, format="WEBP", quality=q, method=WEBP_METHOD, lossless=False)
        blob = buf.getvalue()
        return blob, _decode(blob, x.shape[-1])

    return roundtrip_images(images, one, containers.webp_payload, workers=workers, keep_encoded=keep_encoded,
                            where="webp_roundtrip")


@functools.lru_cache(maxsize=1)
def webp_encoder() -> str:
    """e.g. ``"Pillow 13.0.0 (libwebp 1.6.0), lossy VP8, method 4"``."""
    import PIL
    from PIL import features

    return f"Pillow {PIL.__version__} (libwebp {features.version('webp')}), lossy VP8, method {WEBP_METHOD}"


# ── AVIF ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def avif_roundtrip(images: np.ndarray, *, quality: int, subsampling: str = "4:2:0", workers: int | None = None,
                   keep_encoded: bool = False) -> CodecResult:
    """Encode each image as AVIF at ``quality`` (0..100; aom, speed 6, one thread) and decode it with dav1d.

    ``subsampling`` applies to RGB images (4:2:0, 4:2:2 or 4:4:4); gray images are coded as 4:0:0.
    """
    from helmholtz.codecs.registry import get_codec

    q = get_codec("avif").check(quality, where="avif_roundtrip quality")
    if subsampling not in AVIF_SUBSAMPLINGS:
        raise CodecError(f"AVIF subsampling must be one of {', '.join(AVIF_SUBSAMPLINGS)}; got {subsampling!r}",
                         where="avif_roundtrip", fix="use 4:2:0 (the default) or 4:4:4")

    def one(x: np.ndarray) -> tuple[bytes, np.ndarray]:
        buf = io.BytesIO()
        extra = {} if x.shape[-1] == 1 else {"subsampling": subsampling}  # gray: Pillow writes 4:0:0 itself
        _image(x).save(buf, format="AVIF", quality=q, speed=AVIF_SPEED, codec=AVIF_CODEC, max_threads=1,
                       range="full", **extra)
        blob = buf.getvalue()
        return blob, _decode(blob, x.shape[-1])

    return roundtrip_images(images, one, containers.mdat_payload, workers=workers, keep_encoded=keep_encoded,
                            where="avif_roundtrip")


@functools.lru_cache(maxsize=1)
def avif_encoder() -> str:
    """e.g. ``"Pillow 13.0.0 (libavif 1.4.2, aom 3.14.1 encoder, dav1d 1.5.3 decoder), speed 6, 1 thread"``."""
    import PIL
    from PIL import _avif, features

    codecs = {}
    for entry in _avif.codec_versions().split(", "):  # "dav1d [dec]:1.5.3-0-gb546257, aom [enc]:3.14.1"
        name, _, version = entry.partition(":")
        codecs[name.split(" [")[0]] = version.split("-")[0]
    dec = next((f"{k} {v} decoder" for k, v in codecs.items() if k != AVIF_CODEC), "decoder ?")
    return (f"Pillow {PIL.__version__} (libavif {features.version('avif')}, {AVIF_CODEC} "
            f"{codecs.get(AVIF_CODEC, '?')} encoder, {dec}), speed {AVIF_SPEED}, 1 thread, full range")


def avif_available() -> tuple[bool, str]:
    from PIL import _avif, features

    if not features.check("avif"):
        return False, "this Pillow build has no AVIF support (Pillow ≥ 11.3 wheels bundle libavif)"
    if not _avif.encoder_codec_available(AVIF_CODEC):
        return False, f"Pillow's libavif has no {AVIF_CODEC} encoder"
    return True, ""


# ── JPEG 2000 ────────────────────────────────────────────────────────────────────────────────────────────────────

def jp2_resolutions(height: int, width: int) -> int:
    """Resolution levels OpenJPEG may use: at most 6, and 2^(levels − 1) must not exceed the shorter side."""
    return max(1, min(JP2_MAX_RESOLUTIONS, int(math.log2(max(1, min(height, width)))) + 1))


def jp2_roundtrip(images: np.ndarray, *, psnr_db: int, workers: int | None = None,
                  keep_encoded: bool = False) -> CodecResult:
    """Encode each image as a JPEG 2000 codestream at a target PSNR of ``psnr_db`` dB and decode it (OpenJPEG).

    The target is the encoder's: the measured PSNR lands near it up to about 50 dB and falls short above (the 9/7
    wavelet's rounding; 60 dB gave 55.9 dB on Fashion-MNIST).
    """
    from helmholtz.codecs.registry import get_codec

    db = get_codec("jp2").check(psnr_db, where="jp2_roundtrip psnr_db")

    def one(x: np.ndarray) -> tuple[bytes, np.ndarray]:
        buf = io.BytesIO()
        _image(x).save(buf, format="JPEG2000", no_jp2=True, quality_mode="dB", quality_layers=[float(db)],
                       irreversible=True, num_resolutions=jp2_resolutions(x.shape[0], x.shape[1]),
                       mct=1 if x.shape[-1] == 3 else 0)
        blob = buf.getvalue()
        return blob, _decode(blob, x.shape[-1])

    return roundtrip_images(images, one, containers.j2k_payload, workers=workers, keep_encoded=keep_encoded,
                            where="jp2_roundtrip")


@functools.lru_cache(maxsize=1)
def jp2_encoder() -> str:
    """e.g. ``"Pillow 13.0.0 (OpenJPEG 2.5.4), J2K codestream, 9/7 wavelet, ≤ 6 resolutions, ICT"``."""
    import PIL
    from PIL import features

    return (f"Pillow {PIL.__version__} (OpenJPEG {features.version('jpg_2000')}), J2K codestream, one layer at "
            f"a target PSNR, irreversible 9/7 wavelet, ≤ {JP2_MAX_RESOLUTIONS} resolutions, ICT for RGB")
