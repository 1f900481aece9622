"""The knee in bits: what the codec really wrote at a level, beside the paper's arithmetic for the same quality.

Measured bits come from the level's LevelStats row (bytes the encoder wrote over the training split): per pixel for
images, per second (shown as kbps) for audio. The entropy-coded payload (JPEG scan, MP3 frames) is the honest
measure of content bits: headers dominate a 28×28 JPEG. The paper's Sec. 4.1 arithmetic (bits left of a 24-bit
pixel after 4:2:0 and quantization) only exists for JPEG; it is shown in both flavours, the paper's constant
S = 12487 and the real scaled tables, from `helmholtz.codecs.quant` (pure Python, no torch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from helmholtz.analysis.table import Codec


@dataclass(frozen=True)
class BitsAtLevel:
    """Bits a task needs at one level: measured (payload and whole file), raw, ratios, and the paper's estimates."""

    label: str
    unit: str                         # 'bits/pixel' or 'kbps'
    payload: float | None             # measured entropy-coded bits (JPEG scan / MP3 frames) per pixel, or kbps
    total: float | None               # measured bits of the whole file, headers included
    raw: float | None                 # bits of the uncompressed original in the same unit (8·C per pixel, 16·sr/1000 kbps)
    compression_ratio: float | None   # raw / whole file
    payload_ratio: float | None       # raw / payload
    fidelity_db: float | None         # PSNR (images) or SNR (audio) of the round trip
    bytes_total_mean: float | None    # mean bytes per item, whole file
    paper_bits_left: float | None     # Sec. 4.1 with the paper's S = 12487 (JPEG only)
    table_bits_left: float | None     # Sec. 4.1 with the real libjpeg-scaled tables (JPEG only)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _num(row: Mapping[str, Any] | None, key: str) -> float | None:
    value = None if row is None else row.get(key)
    return None if value is None else float(value)


def paper_arithmetic(quality: int) -> tuple[float | None, float | None]:
    """(paper's bits left, real-table bits left) per pixel at JPEG quality q; (None, None) if quant is missing."""
    try:
        from helmholtz.codecs import quant
    except ImportError:  # the codec stage is optional for reading a store; the measured bits stand on their own
        return None, None
    return float(quant.paper_bits_left(quality)), float(quant.table_bits_left(quality))


def bits_at_level(stats: Mapping[str, Any] | None, *, label: str, codec: Codec, level: int | None) -> BitsAtLevel:
    """Measured and estimated bits at one level. `stats` is the level's LevelStats row, or None if not stored."""
    audio = codec == "mp3" or (stats is not None and stats.get("unit") == "second")
    scale = 1e-3 if audio else 1.0          # audio: bits per second → kbps
    payload, total, raw = (None if v is None else v * scale
                           for v in (_num(stats, "bits_payload"), _num(stats, "bits_total"), _num(stats, "raw_bits")))
    if level is None:
        # the original: nothing was encoded, so its bits are the raw bits
        payload = total = raw if total is None else total
    paper = table = None
    if codec == "jpeg" and level is not None:
        paper, table = paper_arithmetic(int(level))
    ratio = _num(stats, "compression_ratio")
    if ratio is None and raw and total:
        ratio = raw / total
    return BitsAtLevel(
        label=label, unit="kbps" if audio else "bits/pixel", payload=payload, total=total, raw=raw,
        compression_ratio=ratio, payload_ratio=(raw / payload) if raw and payload else None,
        fidelity_db=_num(stats, "fidelity_db"), bytes_total_mean=_num(stats, "bytes_total_mean"),
        paper_bits_left=paper, table_bits_left=table,
    )
