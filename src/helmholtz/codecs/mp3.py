"""MP3 round trip through real LAME (lameenc) at a constant bitrate, aligned sample for sample with the input.

The Helmholtz method's audio experiments compress every clip with LAME at a target bitrate (the paper's audio
"quality level") and train on the decoded audio. We encode mono CBR with lameenc, which, unlike pedalboard's
writer (32–320 kbps only), reaches 8 and 16 kbps; we decode with pedalboard and measure two byte counts per clip:
the whole file and the MPEG frame payload (ID3 tags and a Xing/Info/LAME header frame excluded).

Three things make the decoded clip line up with the original:

* LAME lowers the output rate at low bitrates (from 44.1 kHz input: 8 kbps → 8 kHz, 16 and 24 → 16 kHz,
  32 → 22.05 kHz, 40 → 24 kHz, 48 and 56 → 32 kHz), so the decoded clip is resampled back to ``sr``
  (``codecs.audio.back_to_rate``: scipy.signal.resample_poly, zero phase, by the gcd ratio).
* The stream starts with LAME's encoder delay (576 samples at the output rate) and the decoder's own 529-sample
  delay, and ends with padding to a whole frame. Decoders disagree on trimming them: pedalboard keeps every frame
  and trims nothing, while libsndfile/mpg123 trims exactly when a LAME tag states delay and padding (lameenc writes
  no tag). `aligned_offset` therefore infers what the decoder did from the decoded length and the frame count, and
  refuses (CodecError) any length it cannot explain rather than guess. tests/test_mp3.py proves the alignment by
  cross-correlation (best lag 0) at every output rate, with both decoders, with and without a LAME tag.
* LAME silently snaps a bitrate it cannot write to a nearby one (100 → 96 kbps; 320 at an 8 kHz input → 64), so
  we accept only the Layer III bitrates and check the frames LAME wrote against the bitrate asked for.

Quality: LAME's algorithm quality -q 3, the library's and the ``lame`` command's default (LAME_DEFAULT_QUALITY 3),
i.e. what the paper's ``lame -b N`` calls produced. -q 2 (``-h``) measured 1.9× slower here for no gain in SNR
(within 0.05 dB at 8–64 kbps and 1.8 dB *lower* at 128 kbps, on band-limited noise).

Parallelism: lameenc and pedalboard release the GIL (measured on 2 cores, 2 s clips: two threads encode 1.9× and
decode 1.4× faster than one), so clips are spread over a thread pool writing into one output array.
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from helmholtz.codecs.audio import back_to_rate, check_waves, run_clips, to_pcm16
from helmholtz.codecs.base import CodecResult
from helmholtz.errors import CodecError

LAME_QUALITY = 3  # LAME's -q: 0 best/slowest … 9 worst/fastest; 3 is LAME's own default
ENCODER_DELAY = 576  # samples at the output rate that LAME puts before the first input sample
DECODER_DELAY = 529  # samples of the Layer III synthesis filterbank's delay, added by every decoder
MIN_KBPS, MAX_KBPS = 8, 320
# Layer III bitrates (ISO 11172-3 / 13818-3), kbps, index 1..14; index 0 is "free format", 15 is invalid.
_MPEG1_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
LAYER3_KBPS: tuple[int, ...] = tuple(sorted(set(_MPEG1_KBPS[1:]) | set(_MPEG2_KBPS[1:])))
# version bits of the frame header → its sampling rates (index 0..2); 0b01 is reserved
_RATES = {0b11: (44100, 48000, 32000), 0b10: (22050, 24000, 16000), 0b00: (11025, 12000, 8000)}


# ------------------------------------------------------------------------------------------------ stream parsing
@dataclass(frozen=True)
class Mp3Stream:
    """What the frame headers of one MP3 file say.

    ``payload_bytes`` sums the audio frames (header, side info and main data), leaving out ID3v1/ID3v2 tags,
    anything between frames, and the Xing/Info/VBRI header frame; ``n_frames`` counts the audio frames only.
    ``enc_delay``/``enc_padding`` come from a LAME tag when there is one, else None.
    """

    sample_rate: int
    samples_per_frame: int
    n_frames: int
    bitrates_kbps: tuple[int, ...]
    total_bytes: int
    payload_bytes: int
    enc_delay: int | None = None
    enc_padding: int | None = None


def _frame_header(data: bytes, pos: int) -> tuple[int, int, int, int] | None:
    """(frame length, sample rate, samples per frame, kbps) of a Layer III frame header at ``pos``, or None."""
    if pos + 4 > len(data) or data[pos] != 0xFF or (data[pos + 1] & 0xE0) != 0xE0:
        return None
    b1, b2 = data[pos + 1], data[pos + 2]
    version, layer = (b1 >> 3) & 0b11, (b1 >> 1) & 0b11
    br_index, sr_index, padding = b2 >> 4, (b2 >> 2) & 0b11, (b2 >> 1) & 1
    if version == 0b01 or layer != 0b01 or br_index in (0, 15) or sr_index == 3:
        return None  # reserved version, not Layer III, free format / bad bitrate, reserved rate
    mpeg1 = version == 0b11
    kbps = (_MPEG1_KBPS if mpeg1 else _MPEG2_KBPS)[br_index]
    rate = _RATES[version][sr_index]
    spf = 1152 if mpeg1 else 576
    return (spf // 8) * kbps * 1000 // rate + padding, rate, spf, kbps


def _tag_frame(data: bytes, pos: int) -> tuple[bool, int | None, int | None]:
    """Is the frame at ``pos`` a Xing/Info/VBRI header frame, and the LAME tag's (delay, padding) if it has one."""
    b1, b3 = data[pos + 1], data[pos + 3]
    mpeg1, mono, crc = ((b1 >> 3) & 0b11) == 0b11, (b3 >> 6) == 0b11, not (b1 & 1)
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    off = pos + 4 + (2 if crc else 0) + side
    if data[pos + 36:pos + 40] == b"VBRI":
        return True, None, None
    if data[off:off + 4] not in (b"Xing", b"Info"):
        return False, None, None
    flags = int.from_bytes(data[off + 4:off + 8], "big")
    lame = off + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    if data[lame:lame + 4] not in (b"LAME", b"Lavf", b"Lavc", b"L3.9"):
        return True, None, None
    packed = int.from_bytes(data[lame + 21:lame + 24], "big")  # 12 bits delay, 12 bits padding
    return True, packed >> 12, packed & 0xFFF


def parse_mp3(data: bytes) -> Mp3Stream:
    """Walk the frames of an MPEG Layer III file: rates, frame count, bitrates and the payload byte count.

    Raises CodecError when no two consecutive valid frame headers are found (not an MP3 file).
    """
    data = bytes(data)
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # ID3v2: 10-byte header, syncsafe size, optional 10-byte footer
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    # find the first header that is followed by another (a lone 0xFFE… pattern inside a tag is not a frame)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0:
            raise CodecError("no MPEG audio frame found", where="parse_mp3", fix="pass the bytes of an MP3 file")
        head = _frame_header(data, pos)
        if head and (pos + head[0] == len(data) or _frame_header(data, pos + head[0])):
            break
        pos += 1
    rate, spf = head[1], head[2]
    is_tag, delay, padding = _tag_frame(data, pos)
    if is_tag:
        pos += head[0]
    n_frames, payload, rates = 0, 0, set()
    while (head := _frame_header(data, pos)) is not None:
        length = min(head[0], len(data) - pos)  # a truncated last frame counts the bytes that are there
        n_frames, payload = n_frames + 1, payload + length
        rates.add(head[3])
        pos += head[0]
    return Mp3Stream(sample_rate=rate, samples_per_frame=spf, n_frames=n_frames, bitrates_kbps=tuple(sorted(rates)),
                     total_bytes=len(data), payload_bytes=payload, enc_delay=delay, enc_padding=padding)


def aligned_offset(n_decoded: int, stream: Mp3Stream, *, decoder: str = "decoder") -> int:
    """Index of the decoded sample that lines up with the first input sample, inferred from what the decoder kept.

    A decoder that keeps every audio frame returns n_frames × samples_per_frame samples, starting with the
    encoder delay (576) plus the synthesis delay (529): offset 1105. A gapless decoder that honours a LAME tag
    returns exactly that minus the tag's delay and padding, already aligned: offset 0. Anything else is refused.
    """
    full = stream.n_frames * stream.samples_per_frame
    if n_decoded == full:
        return ENCODER_DELAY + DECODER_DELAY
    if stream.enc_delay is not None and n_decoded == full - stream.enc_delay - stream.enc_padding:
        return 0
    raise CodecError(
        f"{decoder} returned {n_decoded} samples for {stream.n_frames} frames of {stream.samples_per_frame}; "
        "cannot tell how it trimmed the encoder delay", where="mp3_roundtrip",
        fix="report this decoder version; pin pedalboard to a version tested with helmholtz",
    )


# ------------------------------------------------------------------------------------------------ encode / decode
def check_bitrate(bitrate_kbps: object) -> int:
    """The bitrate as an int, or CodecError if it is not a Layer III bitrate within 8..320 kbps."""
    if isinstance(bitrate_kbps, bool) or not isinstance(bitrate_kbps, (int, np.integer)):
        raise CodecError(f"MP3 bitrate must be an integer in kbps; got {bitrate_kbps!r}", where="bitrate_kbps",
                         fix="use e.g. 8, 16, 32, 64, 96, 128, 160")
    br = int(bitrate_kbps)
    if not MIN_KBPS <= br <= MAX_KBPS:
        raise CodecError(f"MP3 bitrate must be {MIN_KBPS}..{MAX_KBPS} kbps; got {br}", where="bitrate_kbps",
                         fix="use a Layer III bitrate such as 8, 16, 32, 64, 128 or 320")
    if br not in LAYER3_KBPS:
        raise CodecError(f"{br} kbps is not an MP3 (Layer III) bitrate and LAME would silently use another",
                         where="bitrate_kbps", fix=f"use one of {', '.join(map(str, LAYER3_KBPS))}")
    return br


def _encode(pcm: np.ndarray, *, sr: int, bitrate_kbps: int) -> bytes:
    import lameenc

    try:
        enc = lameenc.Encoder()
        enc.set_bit_rate(bitrate_kbps)
        enc.set_in_sample_rate(sr)
        enc.set_channels(1)
        enc.set_quality(LAME_QUALITY)
        return bytes(enc.encode(pcm.tobytes()) + enc.flush())
    except Exception as exc:  # lameenc raises bare RuntimeError/ValueError with LAME's message
        raise CodecError(f"LAME failed at {bitrate_kbps} kbps, input rate {sr} Hz: {exc}", where="mp3_roundtrip",
                         fix="use a sample rate of 8–48 kHz and a bitrate of 8–320 kbps") from None


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the output rate, via pedalboard (which keeps every audio frame, trimming nothing)."""
    from pedalboard.io import AudioFile

    with AudioFile(io.BytesIO(data)) as f:
        samples = f.read(f.frames)
        rate = int(round(f.samplerate))
    return samples.mean(axis=0, dtype=np.float32) if samples.shape[0] > 1 else samples[0], rate


@functools.lru_cache(maxsize=1)
def mp3_encoder() -> str:
    """Encoder and decoder names and versions, part of every cache key: e.g.
    ``"lameenc 1.9.0 (LAME 4.0, CBR mono -q 3) / pedalboard 0.9.26 decoder"``.

    lameenc exposes no LAME version call; LAME writes its short version ("LAME3.100") into the ancillary bits of
    the frames it encodes, so we read it from a tiny encode.
    """
    import pedalboard

    try:
        lameenc_version = metadata.version("lameenc")
    except metadata.PackageNotFoundError:
        lameenc_version = "?"
    blob = _encode(np.zeros(4608, dtype="<i2"), sr=44100, bitrate_kbps=128)
    found = re.search(rb"LAME(\d+\.\d+)", blob)
    lame = f"LAME {found.group(1).decode()}, " if found else ""
    return f"lameenc {lameenc_version} ({lame}CBR mono -q {LAME_QUALITY}) / pedalboard {pedalboard.__version__} decoder"


# ------------------------------------------------------------------------------------------------ round trip
def mp3_roundtrip(
    waves: np.ndarray, *, sr: int, bitrate_kbps: int, workers: int | None = None, keep_encoded: bool = False
) -> CodecResult:
    """Encode each clip with LAME at ``bitrate_kbps`` CBR (mono) and decode it, aligned to the input.

    ``waves``: float N×T mono clips at ``sr`` Hz, in [-1, 1] (louder samples clip, as 16-bit PCM would). Returns
    the decoded clips (same shape and dtype, sample for sample aligned with the input), the bytes of each MP3 file
    and of its frame payload, and the files themselves if ``keep_encoded``. ``workers`` threads (default: all
    cores) share the clips. Raises CodecError for a bitrate LAME cannot write as asked.
    """
    br = check_bitrate(bitrate_kbps)
    waves = check_waves(waves, sr, where="mp3_roundtrip")
    sr = int(sr)
    n, t = waves.shape
    out = np.empty_like(waves)
    total = np.zeros(n, dtype=np.int64)
    payload = np.zeros(n, dtype=np.int64)
    encoded: list[bytes] | None = [b""] * n if keep_encoded else None

    def one(i: int) -> None:
        data = _encode(to_pcm16(waves[i]), sr=sr, bitrate_kbps=br)
        stream = parse_mp3(data)
        if stream.bitrates_kbps != (br,):
            raise CodecError(
                f"LAME wrote {'/'.join(map(str, stream.bitrates_kbps))} kbps frames when asked for {br} kbps at an "
                f"input rate of {sr} Hz", where="bitrate_kbps",
                fix="choose a bitrate the MP3 output rate allows (8 kHz input: at most 64 kbps; 16–24 kHz: ≤ 160)",
            )
        decoded, rate = _decode(data)
        start = aligned_offset(len(decoded), stream, decoder="pedalboard")
        out[i] = back_to_rate(decoded, start=start, n_out=t, rate=rate, sr=sr)
        total[i], payload[i] = stream.total_bytes, stream.payload_bytes
        if encoded is not None:
            encoded[i] = data

    run_clips(n, one, workers=workers, name="mp3")
    return CodecResult(data=out, total_bytes=total, payload_bytes=payload, encoded=encoded)
