"""JPEG XL round trip through libjxl (imagecodecs' bundled build), with the bytes the encoder really wrote.

The level is an integer quality 0..100, ``cjxl -q``'s scale: imagecodecs hands it to libjxl's
``JxlEncoderDistanceFromQuality``, which maps it to the Butteraugli distance libjxl really works with (q 90 →
distance 1.0, "visually lossless"; q 50 → 4.6; q 30 → 6.4; q 0 → 25, libjxl's largest distance). Integer levels keep the
store's level column an INTEGER. Quality 100 is distance 0 in VarDCT mode, which is not mathematically lossless.

Fixed settings, in the encoder string: effort 7 (libjxl's default; 1 fastest … 9 slowest), one thread per image
(the images themselves run in parallel, see ``codecs.imaging``), the bare codestream (no ISOBMFF container, as
``cjxl`` writes by default). Colour images are coded in XYB without chroma subsampling (4:4:4); gray images as
one gray channel.

Payload: the codestream (``containers.jxl_payload``). A bare codestream has no container to strip, so payload and
whole file are equal; its headers are bit-packed and a few bytes long, and are not parsed out.
"""

from __future__ import annotations

import functools

import numpy as np

from helmholtz.codecs import containers
from helmholtz.codecs.base import CodecResult
from helmholtz.codecs.imaging import roundtrip_images

JXL_EFFORT = 7  # libjxl's default effort (cjxl -e 7)


def jxl_roundtrip(images: np.ndarray, *, quality: int, workers: int | None = None,
                  keep_encoded: bool = False) -> CodecResult:
    """Encode each image as JPEG XL at ``quality`` (0..100, effort 7) and decode it with libjxl.

    ``images``: uint8 N×H×W (gray), N×H×W×1 or N×H×W×3. Returns the decoded images (same shape and dtype), the
    whole-file and codestream bytes per image, and the files when ``keep_encoded``.
    """
    import imagecodecs

    from helmholtz.codecs.registry import get_codec

    q = get_codec("jxl").check(quality, where="jxl_roundtrip quality")

    def one(x: np.ndarray) -> tuple[bytes, np.ndarray]:
        plane = x[..., 0] if x.shape[-1] == 1 else x
        blob = bytes(imagecodecs.jpegxl_encode(plane, level=q, effort=JXL_EFFORT, numthreads=1))
        decoded = imagecodecs.jpegxl_decode(blob, numthreads=1)
        return blob, decoded.reshape(x.shape) if decoded.size == x.size else decoded

    return roundtrip_images(images, one, containers.jxl_payload, workers=workers, keep_encoded=keep_encoded,
                            where="jxl_roundtrip")


@functools.lru_cache(maxsize=1)
def jxl_encoder() -> str:
    """e.g. ``"imagecodecs 2026.3.6 (libjxl 0.11.2), effort 7, 1 thread, bare codestream"``."""
    import imagecodecs

    return (f"imagecodecs {imagecodecs.__version__} ({imagecodecs.jpegxl_version()}), effort {JXL_EFFORT}, "
            "1 thread, bare codestream")


def jxl_available() -> tuple[bool, str]:
    try:
        import imagecodecs
    except ImportError:
        return False, "imagecodecs is not installed (pip install imagecodecs)"
    if not imagecodecs.JPEGXL.available:
        return False, "this imagecodecs build has no JPEG XL (libjxl)"
    return True, ""
