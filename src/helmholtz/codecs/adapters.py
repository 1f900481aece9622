"""Small adapters the codec registry names by 'module:function' (`codecs.registry._SPECS`): whether a codec runs on
this machine, and the payload byte count of one encoded file, for the codecs whose own modules do not say it in
that shape. Each imports its codec library when called, so the registry stays cheap to import.
"""

from __future__ import annotations


def _pillow_has(feature: str, what: str) -> tuple[bool, str]:
    from PIL import features

    return (True, "") if features.check(feature) else (False, f"this Pillow build has no {what} support")


def webp_available() -> tuple[bool, str]:
    return _pillow_has("webp", "WebP (libwebp)")


def jp2_available() -> tuple[bool, str]:
    return _pillow_has("jpg_2000", "JPEG 2000 (OpenJPEG)")


def opus_available() -> tuple[bool, str]:
    from helmholtz.codecs.pyav_audio import available

    return available("libopus")


def aac_available() -> tuple[bool, str]:
    from helmholtz.codecs.pyav_audio import available

    return available("aac")


def mp3_payload(data: bytes) -> int:
    from helmholtz.codecs.mp3 import parse_mp3

    return parse_mp3(data).payload_bytes


def opus_payload(data: bytes) -> int:
    from helmholtz.codecs.containers import parse_ogg

    return parse_ogg(data).payload(2)


def vorbis_payload(data: bytes) -> int:
    from helmholtz.codecs.containers import parse_ogg

    return parse_ogg(data).payload(3)
