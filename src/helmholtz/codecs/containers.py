"""Payload parsers: how many bytes of an encoded file are the coded content, not container and headers.

Headers dominate the tiny files of the Helmholtz method (a 28×28 image, a 2 s clip), so every codec reports two
byte counts (DESIGN.md, "Measured bits"): the whole file, and the payload parsed here from the real bytes.

| format | payload |
|---|---|
| WebP (RIFF) | the data of the ``VP8 `` or ``VP8L`` chunk: the VP8/VP8L bitstream, without the RIFF and chunk headers |
| AVIF, M4A (ISOBMFF) | the contents of the ``mdat`` boxes: the AV1 OBUs / the raw AAC frames, without ``ftyp``/``meta``/``moov`` |
| JPEG 2000 (J2K codestream) | the tile-part bitstreams (SOD … end of tile-part), without the main and tile-part headers |
| JPEG XL | the codestream (a bare codestream is all payload; in the container, the ``jxlc``/``jxlp`` box contents) |
| Ogg (Opus, Vorbis) | the audio packets, without the page headers and the codec header packets (OpusHead/OpusTags, or the
  Vorbis identification, comment and setup headers) |

Every parser raises ``CodecError`` on bytes it cannot walk (truncated, another format) rather than guess.
Pure Python and numpy-free: cheap to import.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from helmholtz.errors import CodecError


def _bad(what: str, where: str) -> CodecError:
    return CodecError(what, where=where, fix="re-encode the item; this is not a complete file of that format")


# ── RIFF (WebP) ──────────────────────────────────────────────────────────────────────────────────────────────────

def webp_payload(data: bytes) -> int:
    """Bytes of the VP8 (lossy) or VP8L (lossless) bitstream in a WebP file: the chunk's data, without the 12-byte
    RIFF header, the 8-byte chunk header and any VP8X/ALPH/ICCP/EXIF/XMP chunks."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _bad("not a WebP file (no RIFF…WEBP header)", "webp_payload")
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos = 12
    while pos + 8 <= end:
        fourcc, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if pos + 8 + size > end:
            raise _bad(f"chunk {fourcc!r} runs past the end of the file", "webp_payload")
        if fourcc in (b"VP8 ", b"VP8L"):
            return size
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    raise _bad("no VP8 or VP8L chunk", "webp_payload")


# ── ISOBMFF (AVIF, M4A) ──────────────────────────────────────────────────────────────────────────────────────────

_CONTAINER_BOXES = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"})


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each ISOBMFF box in ``data[start:end]``, not descending."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise _bad(f"a box header at byte {pos} runs past the end", "iter_boxes")
        size, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        head = 8
        if size == 1:  # 64-bit largesize follows the type
            if pos + 16 > end:
                raise _bad("a largesize box header runs past the end", "iter_boxes")
            size, head = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:  # the box runs to the end of the file
            size = end - pos
        if size < head or pos + size > end:
            raise _bad(f"box {kind!r} at byte {pos} has a bad size {size}", "iter_boxes")
        yield kind, pos + head, pos + size
        pos += size


def _find(data: bytes, path: tuple[bytes, ...], start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    """Payload span of the first box along ``path`` (e.g. moov/trak/mdia/mdhd), or None."""
    for kind, lo, hi in iter_boxes(data, start, end):
        if kind == path[0]:
            return (lo, hi) if len(path) == 1 else _find(data, path[1:], lo, hi)
    return None


def mdat_payload(data: bytes) -> int:
    """Bytes inside the top-level ``mdat`` boxes of an ISOBMFF file (AVIF: the AV1 OBUs; M4A: the AAC frames)."""
    spans = [hi - lo for kind, lo, hi in iter_boxes(data) if kind == b"mdat"]
    if not spans:
        raise _bad("no mdat box (not an AVIF/MP4 file)", "mdat_payload")
    return sum(spans)


@dataclass(frozen=True)
class Mp4Audio:
    """What the boxes of a one-track M4A say: the payload, the number of coded frames (``stsz``), the media
    timescale (``mdhd``), and the edit list's first media time (the encoder priming to skip) and duration."""

    total_bytes: int
    payload_bytes: int
    n_frames: int
    timescale: int
    media_time: int
    edit_duration: int | None  # in the movie timescale (mvhd), None without an edit list


def parse_mp4_audio(data: bytes) -> Mp4Audio:
    """Parse the ``moov`` of a one-track audio MP4/M4A: frame count, timescale, priming from the edit list."""
    data = bytes(data)
    trak = _find(data, (b"moov", b"trak"))
    mvhd = _find(data, (b"moov", b"mvhd"))
    if trak is None or mvhd is None:
        raise _bad("no moov/trak box", "parse_mp4_audio")
    mdhd = _find(data, (b"mdia", b"mdhd"), *trak)
    stsz = _find(data, (b"mdia", b"minf", b"stbl", b"stsz"), *trak)
    if mdhd is None or stsz is None:
        raise _bad("no mdhd or stsz box in the track", "parse_mp4_audio")
    v = data[mdhd[0]]
    timescale = int.from_bytes(data[mdhd[0] + (20 if v == 1 else 12):][:4], "big")
    n_frames = int.from_bytes(data[stsz[0] + 8:stsz[0] + 12], "big")
    media_time, duration = 0, None
    elst = _find(data, (b"edts", b"elst"), *trak)
    if elst is not None:
        lo = elst[0]
        v, count = data[lo], int.from_bytes(data[lo + 4:lo + 8], "big")
        if count:
            if v == 1:
                duration, media_time = struct.unpack(">Qq", data[lo + 8:lo + 24])
            else:
                duration, media_time = struct.unpack(">Ii", data[lo + 8:lo + 16])
    return Mp4Audio(total_bytes=len(data), payload_bytes=mdat_payload(data), n_frames=n_frames, timescale=timescale,
                    media_time=max(media_time, 0), edit_duration=duration)


# ── JPEG 2000 codestream ─────────────────────────────────────────────────────────────────────────────────────────

_SOC, _SOT, _SOD, _EOC = 0xFF4F, 0xFF90, 0xFF93, 0xFFD9


def j2k_payload(data: bytes) -> int:
    """Bytes of tile-part bitstream data in a raw JPEG 2000 codestream (ISO 15444-1 Annex A): for each tile-part,
    from the end of its SOD marker to the end given by SOT's Psot. The main header (SIZ, COD, QCD, COM, …), the
    tile-part headers and EOC are not counted."""
    data = bytes(data)
    n = len(data)
    if n < 4 or int.from_bytes(data[:2], "big") != _SOC:
        raise _bad("not a JPEG 2000 codestream (no SOC marker 0xFF4F)", "j2k_payload")
    pos = 2
    while pos + 4 <= n and int.from_bytes(data[pos:pos + 2], "big") != _SOT:  # main header segments
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    total = 0
    while pos + 12 <= n and int.from_bytes(data[pos:pos + 2], "big") == _SOT:
        psot = int.from_bytes(data[pos + 6:pos + 10], "big")
        end = n - 2 if psot == 0 else pos + psot  # Psot 0: the last tile-part runs to EOC
        if end > n:
            raise _bad("a tile-part runs past the end of the codestream", "j2k_payload")
        seg = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        while seg + 2 <= end and int.from_bytes(data[seg:seg + 2], "big") != _SOD:  # tile-part header segments
            seg += 2 + int.from_bytes(data[seg + 2:seg + 4], "big")
        if seg + 2 > end:
            raise _bad("a tile-part has no SOD marker", "j2k_payload")
        total += end - (seg + 2)
        pos = end
    if pos + 2 > n or int.from_bytes(data[pos:pos + 2], "big") != _EOC:
        raise _bad("the codestream does not end with EOC after its tile-parts", "j2k_payload")
    return total


# ── JPEG XL ──────────────────────────────────────────────────────────────────────────────────────────────────────

def jxl_payload(data: bytes) -> int:
    """Bytes of JPEG XL codestream: all of a bare codestream (signature 0xFF0A), or the ``jxlc`` box contents (and
    the ``jxlp`` boxes' contents without their 4-byte part index) of a file in the ISOBMFF-style container. The
    codestream's own headers (size, image metadata, frame header and TOC, a few bytes, bit-packed) are not parsed
    out."""
    data = bytes(data)
    if data[:2] == b"\xff\x0a":
        return len(data)
    if data[4:8] != b"JXL ":
        raise _bad("not a JPEG XL file (no codestream signature or JXL container)", "jxl_payload")
    total, found = 0, False
    for kind, lo, hi in iter_boxes(data):
        if kind == b"jxlc":
            total, found = total + hi - lo, True
        elif kind == b"jxlp":
            total, found = total + hi - lo - 4, True
    if not found:
        raise _bad("a JXL container without a jxlc/jxlp codestream box", "jxl_payload")
    return total


# ── Ogg (Opus, Vorbis) ───────────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class OggStream:
    """The packets of a single-stream Ogg file (RFC 3533): their sizes in order (without the page headers), the
    first packet's bytes (the codec's identification header), and the last page's granule position."""

    total_bytes: int
    packet_sizes: tuple[int, ...]
    first_packet: bytes
    last_granule: int

    def payload(self, n_header_packets: int) -> int:
        """Bytes of the packets after the codec's ``n_header_packets`` header packets (Opus 2, Vorbis 3)."""
        return sum(self.packet_sizes[n_header_packets:])

    def opus_pre_skip(self) -> int:
        """The pre-skip of an Opus stream (RFC 7845 §5.1): samples at 48 kHz to drop from the decoder's output."""
        head = self.first_packet
        if head[:8] != b"OpusHead" or len(head) < 19:
            raise _bad("the first Ogg packet is not an OpusHead", "opus_pre_skip")
        return int.from_bytes(head[10:12], "little")


def parse_ogg(data: bytes) -> OggStream:
    """Walk the pages of an Ogg file: packet sizes from the lacing values (a packet ends on a value < 255, and may
    span pages), and the last granule position. Raises CodecError on a missing capture pattern or a short page."""
    data = bytes(data)
    n, pos = len(data), 0
    sizes: list[int] = []
    current, granule, first = 0, -1, None
    while pos < n:
        if data[pos:pos + 4] != b"OggS" or pos + 27 > n:
            raise _bad(f"no Ogg page at byte {pos}", "parse_ogg")
        n_segs = data[pos + 26]
        lacing = data[pos + 27:pos + 27 + n_segs]
        body = pos + 27 + n_segs
        if len(lacing) < n_segs or body + sum(lacing) > n:
            raise _bad(f"the Ogg page at byte {pos} is truncated", "parse_ogg")
        page_granule = struct.unpack("<q", data[pos + 6:pos + 14])[0]
        if page_granule != -1:
            granule = page_granule
        at = body
        for lace in lacing:
            current += lace
            at += lace
            if lace < 255:
                if first is None:
                    first = data[at - current:at]
                sizes.append(current)
                current = 0
        pos = body + sum(lacing)
    if not sizes:
        raise _bad("no complete Ogg packet", "parse_ogg")
    return OggStream(total_bytes=n, packet_sizes=tuple(sizes), first_packet=first or b"", last_granule=granule)
