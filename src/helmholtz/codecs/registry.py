"""Every codec as data: one frozen ``CodecSpec`` per codec, the only place that knows a codec's levels and labels.

The Helmholtz method compresses a dataset at a grid of levels (JPEG quality q, MP3 bitrate, …) and reads accuracy
against the measured bits. Everything a layer needs to know about a codec lives in its spec, the way architectures
A–F are data in ``models/archs.py``: the modality; the kind of level, its valid values and which direction keeps
more bits; the unit, the label and the prose name of a level; the default grid; the round trip; the encoder and its
library versions; what "payload" means for it and the parser that measures it; whether it runs on this machine.
The CLI, the sweep, the store, the analysis and the report read this registry and nothing else.

``codec "none"`` (the uncompressed original, the reference of every comparison) is not a codec here.

Cheap to import: no numpy, no codec library. Each spec's functions import their codec module when first called.
"""

from __future__ import annotations

import functools
import importlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from helmholtz.errors import CodecError

if TYPE_CHECKING:
    import numpy as np

    from helmholtz.codecs.base import CodecResult

Modality = Literal["image", "audio"]
LevelKind = Literal["quality", "bitrate", "distance"]
REFERENCE = "none"  # the uncompressed original: not a CodecSpec, handled by every layer on its own

_NOUN = {"quality": "quality", "bitrate": "bitrate", "distance": "distance"}
_PAPER_QUALITIES = (1, 5, 10, 15, 20, 25, 50, 75, 100)  # DESIGN.md: the paper's JPEG grid
_PAPER_KBPS = (8, 16, 32, 64, 96, 128, 160)  # DESIGN.md: the paper's MP3 grid
#: MPEG-1/2/2.5 Layer III bitrates in kbps (ISO 11172-3, 13818-3); tests check it against codecs.mp3's frame tables
LAYER3_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320)


def _ref(path: str) -> Callable[..., Any]:
    """'module:function' → the function, imported on first use (keeps this module cheap to import)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True, kw_only=True)
class CodecSpec:
    """One codec as data. Levels are integers everywhere (the store's level column is INTEGER).

    ``level_range`` bounds the levels (inclusive); ``allowed`` lists them when not every integer in the range is
    valid (MP3: the Layer III bitrates), and ``gap_reason`` says why the others are refused. ``display_format``
    renders a level in prose ('q {}' → 'q 20'). JPEG 2000's quality is a target PSNR in dB (unit 'dB'). ``payload`` is one line: what the payload byte count is for this
    codec; ``coding`` one line on the fixed choices (chroma subsampling, coding rate). ``subsamplings`` are the
    chroma choices a caller may pass for RGB images (first = default; empty = fixed by the codec). ``impl``,
    ``encoder_impl``, ``payload_impl`` and ``available_impl`` name 'module:function' to call.
    """

    name: str
    title: str
    modality: Modality
    level_kind: LevelKind
    higher_is_better: bool
    unit: str
    level_range: tuple[int, int]
    default_levels: tuple[int, ...]
    display_format: str
    payload: str
    coding: str
    extension: str
    library: str
    impl: str
    encoder_impl: str
    payload_impl: str
    available_impl: str = ""
    allowed: tuple[int, ...] = ()
    gap_reason: str = ""
    subsamplings: tuple[str, ...] = ()
    level_param: str = "level"  # the keyword the codec's own function names the level with (quality, psnr_db, …)
    #: the paper's codec for its modality (JPEG for images, MP3 for audio): the default of a sweep, labelled by its
    #: bare number in the store ('20', as before the registry existed), and the only codecs with the paper's Q axis
    paper: bool = False
    requires: tuple[str, ...] = ()  # Python modules the codec imports (checked by available())

    def __post_init__(self) -> None:
        lo, hi = self.level_range
        assert lo <= hi and all(lo <= v <= hi for v in (*self.allowed, *self.default_levels)), self.name
        assert all(self.check(v) == v for v in self.default_levels), f"{self.name}: a default level is invalid"

    # ── levels ──────────────────────────────────────────────────────────────────────────────────────────────────
    def valid_levels(self) -> tuple[int, ...]:
        """Every valid level, ascending (JPEG 1..100, MP3 the Layer III bitrates, …)."""
        return self.allowed or tuple(range(self.level_range[0], self.level_range[1] + 1))

    def check(self, level: object, *, where: str = "--levels") -> int:
        """``level`` as an int if it is a valid level of this codec; else a one-line CodecError (what, where, fix)."""
        noun, lo, hi = f"{self.title} {_NOUN[self.level_kind]}", *self.level_range
        unit = self.display_format.split("{}")[1]  # ' kbps' or ':1' after the number; '' when it comes first (q 20)
        example = ",".join(map(str, self.default_levels[:4]))
        if isinstance(level, bool) or not isinstance(level, numbers.Integral):
            raise CodecError(f"{noun} must be an integer in {lo}..{hi}{unit}; got {level!r} "
                             f"({type(level).__name__})", where=where, fix=f"pass whole numbers such as {example}")
        v = int(level)
        if not lo <= v <= hi:
            raise CodecError(f"{noun} must be {lo}..{hi}{unit}; got {v}", where=where,
                             fix=f"pick levels in {lo}..{hi}, e.g. {example}")
        if self.allowed and v not in self.allowed:
            raise CodecError(f"{v}{unit} is not {self.gap_reason}", where=where,
                             fix=f"use one of {', '.join(map(str, self.allowed))}")
        return v

    def label(self, level: int, *, check: bool = True) -> str:
        """How the store, the tables and ``--compare-at`` name a level, unique across codecs: the paper's codecs
        by the bare number ('20' for JPEG q 20, '32' for MP3 32 kbps: the labels of every store written before
        other codecs existed), every other codec as 'name:level' ('webp:40'). ``check=False`` labels a level
        without validating it (reading a store that holds an invalid level)."""
        v = self.check(level, where=f"{self.name} level") if check else int(level)
        return str(v) if self.paper else f"{self.name}:{v}"

    def display(self, level: int) -> str:
        """A level in prose: 'q 20' (JPEG), '32 kbps' (MP3), 'WebP q 40', 'Opus 24 kbps', 'JPEG 2000 30 dB'."""
        return self.display_format.format(self.check(level, where=f"{self.name} level"))

    def between(self, lo: int, hi: int) -> int | None:
        """A valid level strictly between ``lo`` and ``hi`` (either order), the one nearest their middle (the lower
        on a tie); None when no valid level lies between them."""
        a, b = sorted((int(lo), int(hi)))
        inside = [v for v in self.valid_levels() if a < v < b]
        return min(inside, key=lambda v: (abs(2 * v - a - b), v)) if inside else None

    # ── the codec itself ────────────────────────────────────────────────────────────────────────────────────────
    def encoder(self) -> str:
        """Encoder (and decoder) name, library versions and fixed settings: part of every cache key and result."""
        return _encoder(self.name)

    def available(self) -> tuple[bool, str]:
        """(True, '') when this codec runs on this machine, else (False, why not and what to install)."""
        return _available(self.name)

    def payload_bytes(self, encoded: bytes) -> int:
        """The payload byte count of one encoded file of this codec (see ``payload``), parsed from its bytes."""
        return int(_ref(self.payload_impl)(encoded))

    def roundtrip(self, x: np.ndarray, *, level: int, sample_rate: int | None = None, workers: int | None = None,
                  keep_encoded: bool = False, subsampling: str | None = None, checked: bool = False) -> CodecResult:
        """Encode and decode a batch at ``level``: decoded data of ``x``'s shape and dtype, bytes per item.

        Images: uint8 N×H×W, N×H×W×1 or N×H×W×3. Audio: float N×T mono clips at ``sample_rate`` Hz (required).
        ``subsampling``: a chroma choice from ``subsamplings`` (None: the codec's default). ``workers``: threads
        (None: every CPU). ``keep_encoded``: also return the encoded files. ``checked``: the level is a
        `codecs.level.Level`'s value, checked where it entered, and is not checked again.
        """
        v = int(level) if checked else self.check(level, where=f"{self.name} level")
        kwargs: dict[str, Any] = {self.level_param: v, "workers": workers, "keep_encoded": keep_encoded}
        if subsampling is not None:
            if subsampling not in self.subsamplings:
                choices = ", ".join(self.subsamplings) or "none: it is fixed by the codec"
                raise CodecError(f"{self.title} takes no subsampling {subsampling!r} (choices: {choices})",
                                 where="subsampling", fix=f"leave it unset for {self.title}'s {self.coding}")
            kwargs["subsampling"] = subsampling
        if self.modality == "audio":
            if sample_rate is None:
                raise CodecError(f"{self.title} needs the audio's sample rate", where=f"{self.name} round trip",
                                 fix="load the data as audio (a WAV folder), or pass sample_rate")
            kwargs["sr"] = sample_rate
        return _ref(self.impl)(x, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """What `helmholtz codecs --json` prints for this codec (the encoder only when it is available)."""
        ok, why = self.available()
        lo, hi = self.level_range
        return {
            "name": self.name, "title": self.title, "modality": self.modality, "level_kind": self.level_kind,
            "higher_is_better": self.higher_is_better, "unit": self.unit, "level_range": [lo, hi],
            "valid_levels": list(self.allowed) if self.allowed else f"every integer in {lo}..{hi}",
            "default_levels": list(self.default_levels), "example": self.display(self.default_levels[0]),
            "label_example": self.label(self.default_levels[0]), "paper": self.paper,
            "payload": self.payload, "coding": self.coding, "subsamplings": list(self.subsamplings),
            "extension": self.extension, "library": self.library, "encoder": self.encoder() if ok else None,
            "available": ok, "unavailable_reason": why or None,
        }


@functools.cache
def _encoder(name: str) -> str:
    return str(_ref(CODECS[name].encoder_impl)())


@functools.cache
def _available(name: str) -> tuple[bool, str]:
    spec = CODECS[name]
    for module in spec.requires:
        try:
            importlib.import_module(module)
        except (ImportError, OSError) as ex:
            return False, f"cannot import {module} ({ex.__class__.__name__}); pip install {spec.library}"
    if spec.available_impl:
        return _ref(spec.available_impl)()
    return True, ""


# ── the codecs ───────────────────────────────────────────────────────────────────────────────────────────────────

_C = "helmholtz.codecs"

_SPECS = (
    CodecSpec(
        name="jpeg", title="JPEG", modality="image", level_kind="quality", higher_is_better=True, unit="q",
        level_range=(1, 100), default_levels=_PAPER_QUALITIES, display_format="q {}", extension=".jpg",
        payload="the entropy-coded scan data (SOS…EOI), without SOI, tables, frame and scan headers",
        coding="RGB: YCbCr 4:2:0 (the paper's; 4:2:2 or 4:4:4 on request); gray: one channel",
        library="simplejpeg", impl=f"{_C}.jpeg:jpeg_roundtrip", level_param="quality", paper=True,
        encoder_impl=f"{_C}.jpeg:jpeg_encoder", payload_impl=f"{_C}.jpeg:scan_bytes",
        subsamplings=("4:2:0", "4:2:2", "4:4:4"), requires=("simplejpeg",),
    ),
    CodecSpec(
        name="webp", title="WebP", modality="image", level_kind="quality", higher_is_better=True, unit="q",
        level_range=(0, 100), default_levels=_PAPER_QUALITIES, display_format="WebP q {}", extension=".webp",
        payload="the VP8 chunk's data (the VP8 bitstream), without the RIFF and chunk headers",
        coding="lossy VP8: always YUV 4:2:0; gray: coded as R = G = B, decoded back to gray by its luma",
        library="pillow", impl=f"{_C}.pillow_image:webp_roundtrip", level_param="quality",
        encoder_impl=f"{_C}.pillow_image:webp_encoder", payload_impl=f"{_C}.containers:webp_payload",
        available_impl=f"{_C}.adapters:webp_available", requires=("PIL",),
    ),
    CodecSpec(
        name="avif", title="AVIF", modality="image", level_kind="quality", higher_is_better=True, unit="q",
        level_range=(0, 100), default_levels=_PAPER_QUALITIES, display_format="AVIF q {}", extension=".avif",
        payload="the mdat box's contents (the AV1 OBUs), without ftyp and the meta box",
        coding="AV1 intra, full range; RGB: 4:2:0 (4:2:2 or 4:4:4 on request); gray: monochrome 4:0:0",
        library="pillow>=11.3", impl=f"{_C}.pillow_image:avif_roundtrip", level_param="quality",
        encoder_impl=f"{_C}.pillow_image:avif_encoder", payload_impl=f"{_C}.containers:mdat_payload",
        available_impl=f"{_C}.pillow_image:avif_available", subsamplings=("4:2:0", "4:2:2", "4:4:4"),
        requires=("PIL",),
    ),
    CodecSpec(
        name="jxl", title="JPEG XL", modality="image", level_kind="quality", higher_is_better=True, unit="q",
        level_range=(0, 100), default_levels=_PAPER_QUALITIES, display_format="JPEG XL q {}", extension=".jxl",
        payload="the codestream: a bare codestream is the whole file (its few bytes of bit-packed headers are not "
                "parsed out)",
        coding="quality q → Butteraugli distance (cjxl -q; q 90 = d 1.0); RGB: XYB, no subsampling; gray: one "
               "channel",
        library="imagecodecs", impl=f"{_C}.jxl:jxl_roundtrip", level_param="quality",
        encoder_impl=f"{_C}.jxl:jxl_encoder", payload_impl=f"{_C}.containers:jxl_payload",
        available_impl=f"{_C}.jxl:jxl_available",
    ),
    CodecSpec(
        name="jp2", title="JPEG 2000", modality="image", level_kind="quality", higher_is_better=True, unit="dB",
        level_range=(10, 70), default_levels=(20, 25, 30, 35, 40, 50, 60), display_format="JPEG 2000 {} dB",
        extension=".j2k",
        payload="the tile-part bitstreams (after each SOD), without the main and tile-part headers",
        coding="level = the encoder's target PSNR in dB; 9/7 wavelet; RGB: irreversible colour transform, no "
               "subsampling (4:4:4); gray: one channel",
        library="pillow", impl=f"{_C}.pillow_image:jp2_roundtrip", level_param="psnr_db",
        encoder_impl=f"{_C}.pillow_image:jp2_encoder", payload_impl=f"{_C}.containers:j2k_payload",
        available_impl=f"{_C}.adapters:jp2_available", requires=("PIL",),
    ),
    CodecSpec(
        name="mp3", title="MP3", modality="audio", level_kind="bitrate", higher_is_better=True, unit="kbps",
        level_range=(8, 320), allowed=LAYER3_KBPS, default_levels=_PAPER_KBPS, display_format="{} kbps",
        gap_reason="an MP3 (Layer III) bitrate and LAME would silently use another", extension=".mp3",
        payload="the MPEG audio frames, without ID3 tags and the Xing/Info/LAME header frame",
        coding="mono CBR; LAME lowers the rate at 8–56 kbps, resampled back to the input's rate",
        library="lameenc pedalboard", impl=f"{_C}.mp3:mp3_roundtrip", level_param="bitrate_kbps", paper=True,
        encoder_impl=f"{_C}.mp3:mp3_encoder", payload_impl=f"{_C}.adapters:mp3_payload",
        requires=("lameenc", "pedalboard"),
    ),
    CodecSpec(
        name="opus", title="Opus", modality="audio", level_kind="bitrate", higher_is_better=True, unit="kbps",
        level_range=(6, 256), default_levels=_PAPER_KBPS, display_format="Opus {} kbps", extension=".opus",
        payload="the Ogg packets after OpusHead and OpusTags, without page headers",
        coding="mono VBR target; coded at 48 kHz (resampled there and back); pre-skip from the OpusHead",
        library="av", impl=f"{_C}.pyav_audio:opus_roundtrip", level_param="bitrate_kbps",
        encoder_impl=f"{_C}.pyav_audio:opus_encoder", payload_impl=f"{_C}.adapters:opus_payload",
        available_impl=f"{_C}.adapters:opus_available",
    ),
    CodecSpec(
        name="vorbis", title="Vorbis", modality="audio", level_kind="quality", higher_is_better=True, unit="q",
        level_range=(0, 10), default_levels=(0, 2, 4, 6, 8, 10), display_format="Vorbis q {}", extension=".ogg",
        payload="the Ogg audio packets, without page headers and the three Vorbis header packets",
        coding="mono VBR at quality q (oggenc -q scale, no bitrate target), at the input's rate",
        library="soundfile", impl=f"{_C}.vorbis:vorbis_roundtrip", level_param="quality",
        encoder_impl=f"{_C}.vorbis:vorbis_encoder", payload_impl=f"{_C}.adapters:vorbis_payload",
        available_impl=f"{_C}.vorbis:vorbis_available",
    ),
    CodecSpec(
        name="aac", title="AAC", modality="audio", level_kind="bitrate", higher_is_better=True, unit="kbps",
        level_range=(16, 256), default_levels=(16, 32, 64, 96, 128, 160), display_format="AAC {} kbps",
        extension=".m4a",
        payload="the mdat box's contents (the raw AAC frames), without ftyp and moov",
        coding="mono AAC-LC, average bitrate, in M4A; priming from the edit list; non-AAC rates coded at 48 kHz",
        library="av", impl=f"{_C}.pyav_audio:aac_roundtrip", level_param="bitrate_kbps",
        encoder_impl=f"{_C}.pyav_audio:aac_encoder", payload_impl=f"{_C}.containers:mdat_payload",
        available_impl=f"{_C}.adapters:aac_available",
    ),
)

#: every codec by name, in the order `helmholtz codecs` lists them (images, then audio)
CODECS: dict[str, CodecSpec] = {spec.name: spec for spec in _SPECS}


def get_codec(name: str) -> CodecSpec:
    """The spec of codec ``name``; CodecError naming the known codecs when there is none."""
    spec = CODECS.get(name) if isinstance(name, str) else None
    if spec is not None:
        return spec
    if name == REFERENCE:
        raise CodecError("codec 'none' is the uncompressed original and has no levels or round trip", where="codec",
                         fix=f"use one of {', '.join(CODECS)} to compress")
    raise CodecError(f"unknown codec {name!r}; expected one of {', '.join(CODECS)} (or none)", where="codec",
                     fix="see `helmholtz codecs` for every codec, its levels and whether it runs here")


def codecs_for(modality: Modality) -> tuple[CodecSpec, ...]:
    """The codecs of one modality ('image' or 'audio'), in registry order."""
    return tuple(spec for spec in CODECS.values() if spec.modality == modality)


def default_codec(modality: str) -> str:
    """The paper's codec of a modality (JPEG for images, MP3 for audio): a sweep's codec when none is given."""
    return next(spec.name for spec in CODECS.values() if spec.paper and spec.modality == modality)


# ── levels as the other layers name them ─────────────────────────────────────────────────────────────────────────

def level_label(codec: str, level: int | None, *, check: bool = True) -> str:
    """The store's label of one level: 'none' for the original (codec 'none' or level None), else
    ``get_codec(codec).label(level)`` ('20', '32', 'webp:40'). The one place labels are made."""
    if level is None or codec == REFERENCE:
        return REFERENCE
    return get_codec(codec).label(level, check=check)


def level_display(codec: str, level: int | None) -> str:
    """A level in prose: 'the original', 'q 20', '32 kbps', 'WebP q 40'. Never raises: an invalid level (kept in an
    old store) is formatted all the same ('100 kbps'), an unknown codec reads as 'codec level'."""
    if level is None or codec == REFERENCE:
        return "the original"
    spec = CODECS.get(codec)
    if spec is None:
        return f"{codec} {level}"
    try:
        return spec.display(level)
    except CodecError:
        return spec.display_format.format(level)


def parse_level_label(text: str, *, codecs: tuple[str, ...] | list[str], where: str = "level") -> tuple[str, int | None]:
    """A label as the user or the store writes it → (codec, level): 'none'/'original' → ('none', None); 'webp:40' →
    ('webp', 40); a bare number → the paper's codec among ``codecs`` (JPEG, MP3). CodecError when it names no
    valid level of ``codecs``."""
    t = str(text).strip().lower()
    if t in (REFERENCE, "orig", "original"):
        return REFERENCE, None
    name, sep, number = t.rpartition(":")
    if not sep:
        bare = [c for c in codecs if c in CODECS and CODECS[c].paper]
        if not bare:
            example = f"{codecs[0]}:{CODECS[codecs[0]].default_levels[0]}" if codecs and codecs[0] in CODECS else "webp:40"
            raise CodecError(f"level {text!r} names no codec", where=where, fix=f"write codec:level, e.g. {example}")
        name = bare[0]
    spec = get_codec(name)
    if name not in codecs:
        raise CodecError(f"level {text!r} is a {spec.title} level, but the codecs here are {', '.join(codecs)}",
                         where=where, fix="pick a level of one of those codecs")
    try:
        value = int(number)
    except ValueError:
        raise CodecError(f"level {text!r} is not a number", where=where, fix=f"e.g. {spec.label(spec.default_levels[0])}") from None
    return name, spec.check(value, where=where)
