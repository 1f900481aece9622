"""Opus and AAC round trips through PyAV's bundled FFmpeg (libopus; FFmpeg's native AAC-LC encoder), aligned sample
for sample with the input, with the bytes each encoder really wrote.

**Opus** (Ogg/Opus, RFC 7845) at a target bitrate in kbps (6..256; libopus' range for one channel): libopus with
application "audio", VBR, complexity 10 and 20 ms frames (libopus' and FFmpeg's defaults, fixed here). Opus works
at 48 kHz: the clip is resampled to 48 kHz before encoding and back to its own rate after decoding
(``codecs.audio``, zero phase). The stream starts with the encoder's lookahead; the OpusHead's *pre-skip* says how
many decoded samples to drop, and the last page's granule position where the audio ends. FFmpeg's decoder applies
both; ``aligned_start`` checks the decoded length against those two numbers from the real stream and refuses any
length it cannot explain. Payload: the Ogg packets after OpusHead and OpusTags, without page headers.

**AAC** (AAC-LC in an M4A file) at a target bitrate in kbps (16..256): FFmpeg's native encoder (its default
two-loop search), average bitrate. The encoder's 1024 priming samples are recorded in the edit list (``elst``
media time); FFmpeg's MP4 demuxer and decoder drop them, and ``aligned_start`` checks that against the edit list
and the frame count (``stsz``). Below about 16 kbps FFmpeg's encoder no longer lowers its rate (6 and 8 kbps both
write about 18 kbps at 44.1 kHz), so lower levels are refused rather than mislabelled. Clips at a rate AAC does not
define are resampled to 48 kHz. Payload: the ``mdat`` box (the raw AAC frames), without ``ftyp``/``moov``.

Parallelism: none. PyAV 18 holds the GIL while it encodes and decodes (measured on 2 cores, 2 s clips at 48 kHz:
one thread 23.8 Opus clips/s, two threads 23.8; AAC 25.6 and 26.9), so a thread pool would add only overhead, and
a process pool would re-import the caller's ``__main__`` (spawn) or fork a process that may hold threads. Clips
run one after another in the calling thread; ``workers`` is accepted for the common signature.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np

from helmholtz.codecs import containers
from helmholtz.codecs.audio import back_to_rate, check_waves, clipped_float, resample, run_clip_jobs
from helmholtz.codecs.base import CodecResult
from helmholtz.errors import CodecError

OPUS_RATE = 48000
OPUS_OPTIONS = {"application": "audio", "vbr": "on", "compression_level": "10", "frame_duration": "20"}
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
AAC_FRAME = 1024  # samples per AAC-LC frame
AAC_MAX_BITS_PER_FRAME = 6144  # per channel (ISO 14496-3 4.5.3.2): the most one frame may carry


@dataclass(frozen=True)
class _Codec:
    """One PyAV codec as this module uses it: encoder name, container format, options, and its stream parser."""

    name: str
    encoder: str
    container: str
    options: dict


_OPUS = _Codec("opus", "libopus", "ogg", OPUS_OPTIONS)
_AAC = _Codec("aac", "aac", "ipod", {})


def _encode(x: np.ndarray, *, codec: _Codec, rate: int, bitrate_kbps: int) -> bytes:
    import av

    buf = io.BytesIO()
    try:
        with av.open(buf, "w", format=codec.container) as out:
            stream = out.add_stream(codec.encoder, rate=rate, options=dict(codec.options), layout="mono")
            stream.bit_rate = bitrate_kbps * 1000
            frame = av.AudioFrame.from_ndarray(clipped_float(x)[None], format="flt", layout="mono")
            frame.sample_rate, frame.pts = rate, 0
            for packet in (*stream.encode(frame), *stream.encode(None)):  # PyAV re-chunks to the codec's frame size
                out.mux(packet)
    except av.FFmpegError as ex:
        raise CodecError(f"FFmpeg's {codec.encoder} failed at {bitrate_kbps} kbps, {rate} Hz: {ex}",
                         where=f"{codec.name}_roundtrip", fix="use a bitrate within the codec's levels") from None
    return buf.getvalue()


def _decode(data: bytes, *, where: str) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate, decoded by FFmpeg through its demuxer (which applies trims)."""
    import av

    try:
        with av.open(io.BytesIO(data)) as f:
            frames = [fr.to_ndarray() for fr in f.decode(audio=0)]
            rate = f.streams.audio[0].rate
    except av.FFmpegError as ex:
        raise CodecError(f"FFmpeg could not decode the file it wrote: {ex}", where=where,
                         fix="report this PyAV version") from None
    samples = np.concatenate(frames, axis=1) if frames else np.zeros((1, 0), np.float32)
    return samples.mean(axis=0, dtype=np.float32) if samples.shape[0] > 1 else samples[0].astype(np.float32), rate


def aligned_start(n_decoded: int, *, full: int, skip: int, decoder: str, codec: str) -> int:
    """Index of the decoded sample that lines up with the first input sample.

    ``full``: the samples the stream holds including the encoder's delay (Opus: the last granule position; AAC:
    frames × 1024); ``skip``: that delay as the stream states it (Opus pre-skip; AAC edit-list media time). A decoder
    that applied the skip returns ``full − skip`` samples (start 0), one that did not returns ``full`` (start
    ``skip``). Any other length is refused: we never guess an alignment.
    """
    if n_decoded == full - skip:
        return 0
    if n_decoded == full:
        return skip
    raise CodecError(f"{decoder} returned {n_decoded} samples; the {codec} stream holds {full} with a delay of "
                     f"{skip}, so the alignment cannot be told", where=f"{codec}_roundtrip",
                     fix="report this PyAV version; pin av to a version tested with helmholtz")


def opus_roundtrip(waves: np.ndarray, *, sr: int, bitrate_kbps: int, workers: int | None = None,
                   keep_encoded: bool = False) -> CodecResult:
    """Encode each clip as Ogg/Opus at ``bitrate_kbps`` (VBR target) and decode it, aligned to the input.

    ``waves``: float N×T mono clips at ``sr`` Hz, in [-1, 1]. Returns the decoded clips (same shape and dtype), the
    bytes of each file and of its audio packets, and the files when ``keep_encoded``.
    """
    from helmholtz.codecs.registry import get_codec

    br = get_codec("opus").check(bitrate_kbps, where="opus_roundtrip bitrate_kbps")
    waves = check_waves(waves, sr, where="opus_roundtrip")
    return run_clip_jobs(waves, _opus_one, dict(sr=int(sr), br=br), workers=workers, keep_encoded=keep_encoded,
                         name="opus", threads=False)


def _opus_one(wave: np.ndarray, *, sr: int, br: int) -> tuple[np.ndarray, int, int, bytes]:
    data = _encode(resample(wave, rate_in=sr, rate_out=OPUS_RATE), codec=_OPUS, rate=OPUS_RATE, bitrate_kbps=br)
    stream = containers.parse_ogg(data)
    decoded, rate = _decode(data, where="opus_roundtrip")
    start = aligned_start(len(decoded), full=stream.last_granule, skip=stream.opus_pre_skip(),
                          decoder="FFmpeg's opus decoder", codec="opus")
    out = back_to_rate(decoded, start=start, n_out=len(wave), rate=rate, sr=sr)
    return out, stream.total_bytes, stream.payload(2), data


def aac_rate(sr: int) -> int:
    """The rate AAC is coded at: ``sr`` when AAC defines it, else 48 kHz."""
    return sr if sr in AAC_RATES else 48000


def aac_roundtrip(waves: np.ndarray, *, sr: int, bitrate_kbps: int, workers: int | None = None,
                  keep_encoded: bool = False) -> CodecResult:
    """Encode each clip as AAC-LC (M4A) at ``bitrate_kbps`` (average) and decode it, aligned to the input."""
    from helmholtz.codecs.registry import get_codec

    br = get_codec("aac").check(bitrate_kbps, where="aac_roundtrip bitrate_kbps")
    waves = check_waves(waves, sr, where="aac_roundtrip")
    rate = aac_rate(int(sr))
    most = AAC_MAX_BITS_PER_FRAME * rate // AAC_FRAME // 1000
    if br > most:
        raise CodecError(f"AAC at {rate} Hz carries at most {most} kbps per channel; got {br}",
                         where="aac_roundtrip bitrate_kbps", fix=f"use a bitrate ≤ {most} kbps at this rate")
    return run_clip_jobs(waves, _aac_one, dict(sr=int(sr), br=br), workers=workers, keep_encoded=keep_encoded,
                         name="aac", threads=False)


def _aac_one(wave: np.ndarray, *, sr: int, br: int) -> tuple[np.ndarray, int, int, bytes]:
    rate = aac_rate(sr)
    data = _encode(resample(wave, rate_in=sr, rate_out=rate), codec=_AAC, rate=rate, bitrate_kbps=br)
    mp4 = containers.parse_mp4_audio(data)
    decoded, out_rate = _decode(data, where="aac_roundtrip")
    start = aligned_start(len(decoded), full=mp4.n_frames * AAC_FRAME, skip=mp4.media_time,
                          decoder="FFmpeg's aac decoder", codec="aac")
    out = back_to_rate(decoded, start=start, n_out=len(wave), rate=out_rate, sr=sr)
    return out, mp4.total_bytes, mp4.payload_bytes, data


def _versions() -> str:
    import av

    lib = av.library_versions
    return f"PyAV {av.__version__} (FFmpeg libavcodec {'.'.join(map(str, lib['libavcodec']))}"


@functools.lru_cache(maxsize=1)
def opus_encoder() -> str:
    """e.g. ``"PyAV 18.1.0 (FFmpeg libavcodec 62.28.102, libopus 1.5.2), VBR, complexity 10, 20 ms / FFmpeg opus
    decoder"``. libopus' version is read from its banner in the bundled library, when it can be found."""
    opts = OPUS_OPTIONS
    return (f"{_versions()}{_bundled_version(rb'libopus ([0-9][0-9.]*)', 'libopus')}), "
            f"{'VBR' if opts['vbr'] == 'on' else 'CBR'}, complexity {opts['compression_level']}, "
            f"{opts['frame_duration']} ms frames, application {opts['application']} / FFmpeg opus decoder")


@functools.lru_cache(maxsize=1)
def aac_encoder() -> str:
    """e.g. ``"PyAV 18.1.0 (FFmpeg libavcodec 62.28.102), native AAC-LC encoder, M4A / FFmpeg aac decoder"``."""
    return f"{_versions()}), FFmpeg native AAC-LC encoder (twoloop), average bitrate, M4A / FFmpeg aac decoder"


def _bundled_version(pattern: bytes, name: str) -> str:
    """', libopus 1.5.2' from the banner inside the library that PyAV's wheel bundles; '' when not found."""
    import re
    from pathlib import Path

    import av

    root = Path(av.__file__).resolve().parent
    for lib in sorted((*root.parent.glob("av.libs/*"), *root.glob("**/*.so*"), *root.glob("**/*.dylib"))):
        if name not in lib.name and "avcodec" not in lib.name:
            continue
        try:
            found = re.search(pattern, lib.read_bytes())
        except OSError:
            continue
        if found:
            return f", {name} {found.group(1).decode().rstrip('.')}"
    return ""


def available(encoder: str) -> tuple[bool, str]:
    """Whether PyAV is installed and its FFmpeg has ``encoder``."""
    try:
        import av
    except ImportError:
        return False, "PyAV is not installed (pip install av)"
    try:
        av.codec.Codec(encoder, "w")
    except Exception:
        return False, f"PyAV's FFmpeg has no {encoder} encoder"
    return True, ""
