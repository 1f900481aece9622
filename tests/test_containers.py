"""The payload parsers against hand-built files and naive recomputations on real encoder output.

Oracles: files assembled here byte by byte (RIFF chunks with padding, ISOBMFF boxes with 64-bit and to-the-end
sizes, Ogg pages with a packet spanning pages); for real files, a naive marker search (JPEG 2000), the sum of the
``stsz`` sample sizes (M4A), and the bare JPEG XL codestream inside its container.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from helmholtz.codecs import containers
from helmholtz.errors import CodecError


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + len(data).to_bytes(4, "little") + data + (b"\0" if len(data) % 2 else b"")


def _riff(*chunks: bytes) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def test_webp_payload_is_the_vp8_chunk_only():
    vp8 = bytes(range(37))  # odd size: the chunk is padded to 38 bytes, the payload is 37
    f = _riff(_chunk(b"VP8X", bytes(10)), _chunk(b"ICCP", bytes(5)), _chunk(b"ALPH", bytes(9)), _chunk(b"VP8 ", vp8))
    assert containers.webp_payload(f) == 37
    assert containers.webp_payload(_riff(_chunk(b"VP8L", bytes(20)))) == 20
    with pytest.raises(CodecError, match="no VP8"):
        containers.webp_payload(_riff(_chunk(b"VP8X", bytes(10))))
    with pytest.raises(CodecError, match="not a WebP"):
        containers.webp_payload(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(CodecError, match="runs past"):
        containers.webp_payload(_riff(_chunk(b"VP8 ", vp8))[:-10])


def test_real_webp_payload():
    from helmholtz.codecs.registry import get_codec

    res = get_codec("webp").roundtrip(np.full((1, 16, 16), 100, np.uint8), level=50, keep_encoded=True)
    blob = res.encoded[0]
    assert res.payload_bytes[0] == int.from_bytes(blob[16:20], "little") == len(blob) - 20


def _box(kind: bytes, data: bytes, *, large: bool = False) -> bytes:
    if large:
        return (1).to_bytes(4, "big") + kind + (16 + len(data)).to_bytes(8, "big") + data
    return (8 + len(data)).to_bytes(4, "big") + kind + data


def test_isobmff_boxes_largesize_and_to_the_end():
    f = _box(b"ftyp", b"avif" + bytes(8)) + _box(b"meta", bytes(40)) + _box(b"mdat", bytes(100), large=True)
    f += (0).to_bytes(4, "big") + b"mdat" + bytes(7)  # size 0: runs to the end of the file
    assert [k for k, _, _ in containers.iter_boxes(f)] == [b"ftyp", b"meta", b"mdat", b"mdat"]
    assert containers.mdat_payload(f) == 107
    with pytest.raises(CodecError, match="no mdat"):
        containers.mdat_payload(_box(b"ftyp", bytes(8)))
    with pytest.raises(CodecError, match="bad size"):
        containers.mdat_payload((500).to_bytes(4, "big") + b"mdat" + bytes(10))


def test_real_avif_payload_is_the_mdat():
    from helmholtz.codecs.registry import get_codec

    spec = get_codec("avif")
    if not spec.available()[0]:
        pytest.skip(spec.available()[1])
    blob = spec.roundtrip(np.full((1, 16, 16, 3), 90, np.uint8), level=50, keep_encoded=True).encoded[0]
    kinds = [k for k, _, _ in containers.iter_boxes(blob)]
    assert kinds[0] == b"ftyp" and b"mdat" in kinds and b"meta" in kinds
    (lo, hi), = [(lo, hi) for k, lo, hi in containers.iter_boxes(blob) if k == b"mdat"]
    assert containers.mdat_payload(blob) == hi - lo < len(blob)


def _j2k_naive(data: bytes) -> int:
    """Bitstream bytes by searching markers: each SOT's Psot end minus the end of its SOD (0xFF93 cannot occur in
    the packet data, which the standard's bit stuffing keeps free of 0xFF followed by a byte > 0x8F)."""
    total, pos = 0, data.find(b"\xff\x90")
    while pos >= 0:
        end = pos + int.from_bytes(data[pos + 6:pos + 10], "big")
        total += end - (data.find(b"\xff\x93", pos) + 2)
        pos = data.find(b"\xff\x90", end) if data[end:end + 2] == b"\xff\x90" else -1
    return total


@pytest.mark.parametrize("tile", [None, (16, 16)])
def test_j2k_payload_matches_a_naive_marker_search(tile):
    from PIL import Image

    x = (np.random.default_rng(0).random((40, 40)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    extra = {"tile_size": tile} if tile else {}
    Image.fromarray(x).save(buf, "JPEG2000", no_jp2=True, quality_mode="dB", quality_layers=[30.0],
                            irreversible=True, num_resolutions=3, **extra)
    data = buf.getvalue()
    assert data.count(b"\xff\x93") == (9 if tile else 1)  # 3×3 tiles of 16 px cover 40×40
    assert containers.j2k_payload(data) == _j2k_naive(data) < len(data)
    with pytest.raises(CodecError, match="SOC"):
        containers.j2k_payload(b"\xff\xd8" + data[2:])
    with pytest.raises(CodecError):
        containers.j2k_payload(data[:-30])


def test_jxl_payload_bare_and_in_the_container():
    imagecodecs = pytest.importorskip("imagecodecs")
    x = (np.random.default_rng(0).random((24, 24)) * 255).astype(np.uint8)
    bare = bytes(imagecodecs.jpegxl_encode(x, level=50, effort=7, numthreads=1))
    boxed = bytes(imagecodecs.jpegxl_encode(x, level=50, effort=7, numthreads=1, usecontainer=True))
    assert containers.jxl_payload(bare) == len(bare)
    assert containers.jxl_payload(boxed) == len(bare) < len(boxed)  # the same codestream inside a jxlc box
    jxlp = boxed[:12] + _box(b"ftyp", b"jxl " + bytes(8)) + _box(b"jxlp", bytes(4) + bare[:10]) + _box(b"jxlp", bytes(4) + bare[10:])
    assert containers.jxl_payload(jxlp) == len(bare)
    with pytest.raises(CodecError, match="not a JPEG XL"):
        containers.jxl_payload(b"\xff\xd8\xff\xe0" + bytes(20))


def _ogg_page(seq: int, granule: int, packets: list[bytes], *, continued: bool = False, last_open: bool = False) -> bytes:
    """One Ogg page; ``last_open``: the last packet continues on the next page (its lacing ends with 255)."""
    lacing = []
    for i, p in enumerate(packets):
        n = len(p)
        lacing += [255] * (n // 255)
        if not (last_open and i == len(packets) - 1):
            lacing.append(n % 255)
    header = b"OggS" + bytes([0, 1 if continued else 0]) + struct.pack("<qIII", granule, 7, seq, 0)
    return header + bytes([len(lacing)]) + bytes(lacing) + b"".join(packets)


def test_ogg_packets_span_pages_and_page_headers_are_not_payload():
    head = b"OpusHead" + bytes([1, 1]) + (312).to_bytes(2, "little") + bytes(7)
    tags = b"OpusTags" + bytes(20)
    big = bytes(600)  # 2×255 + 90: split over two pages as 510 bytes + 90 bytes
    f = (_ogg_page(0, 0, [head]) + _ogg_page(1, 0, [tags]) + _ogg_page(2, -1, [big[:510]], last_open=True)
         + _ogg_page(3, 1272, [big[510:], bytes(33)], continued=True))
    stream = containers.parse_ogg(f)
    assert stream.packet_sizes == (19, 28, 600, 33) and stream.last_granule == 1272
    assert stream.opus_pre_skip() == 312 and stream.payload(2) == 633 and stream.total_bytes == len(f)
    with pytest.raises(CodecError, match="no Ogg page"):
        containers.parse_ogg(f[:47] + b"junk" + f[51:])  # page 1 starts at 27 + 1 + 19 = 47
    with pytest.raises(CodecError, match="truncated"):
        containers.parse_ogg(f[:-5])


def test_real_opus_and_vorbis_streams():
    from helmholtz.codecs.registry import get_codec

    t = np.arange(16000) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)
    for name, headers in (("opus", 2), ("vorbis", 3)):
        spec = get_codec(name)
        if not spec.available()[0]:
            continue
        blob = spec.roundtrip(wave, level=spec.default_levels[2], sample_rate=16000, keep_encoded=True).encoded[0]
        stream = containers.parse_ogg(blob)
        n_pages = blob.count(b"OggS")
        lacing = sum(blob[p + 26] for p in range(len(blob)) if blob.startswith(b"OggS", p))
        assert sum(stream.packet_sizes) == len(blob) - 27 * n_pages - lacing  # everything but the page headers
        assert stream.payload(headers) == sum(stream.packet_sizes[headers:])
        if name == "opus":
            assert stream.opus_pre_skip() == 312  # libopus' lookahead at 48 kHz: 2.5 ms + 4 ms
            assert stream.last_granule == 312 + 48000  # 1 s at 16 kHz, coded at 48 kHz
        else:
            assert stream.first_packet[1:7] == b"vorbis" and stream.last_granule == 16000


def test_real_m4a_frame_count_priming_and_payload():
    from helmholtz.codecs.registry import get_codec

    spec = get_codec("aac")
    if not spec.available()[0]:
        pytest.skip(spec.available()[1])
    wave = (0.2 * np.sin(2 * np.pi * 330 * np.arange(44100) / 44100))[None].astype(np.float32)
    blob = spec.roundtrip(wave, level=64, sample_rate=44100, keep_encoded=True).encoded[0]
    mp4 = containers.parse_mp4_audio(blob)
    stsz = blob.find(b"stsz")
    count = int.from_bytes(blob[stsz + 12:stsz + 16], "big")
    sizes = [int.from_bytes(blob[stsz + 16 + 4 * i:stsz + 20 + 4 * i], "big") for i in range(count)]
    assert mp4.n_frames == count and mp4.payload_bytes == sum(sizes) < len(blob)
    assert mp4.media_time == 1024 and mp4.timescale == 44100  # FFmpeg's AAC priming, in the edit list
    assert mp4.n_frames * 1024 >= 44100 + 1024
