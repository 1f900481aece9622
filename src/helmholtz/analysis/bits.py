"""The paper's Sec. 4.1 arithmetic beside the measured bits of a level (JPEG only; pure Python, no torch).

Measured bits come from the level's stored statistics (`LevelInfo`): what the encoder wrote, payload and whole file.
The paper's estimate of the bits left of a 24-bit colour pixel (4:2:0, quantization by the scaled tables) exists
only for JPEG; it is shown in both flavours, the paper's constant S = 12487 and the real scaled tables
(`helmholtz.codecs.quant`).
"""

from __future__ import annotations


def paper_arithmetic(codec: str, level: int | None) -> tuple[float | None, float | None]:
    """(paper's bits left, real-table bits left) per pixel at JPEG quality q; (None, None) for other levels."""
    if codec != "jpeg" or level is None:
        return None, None
    try:
        from helmholtz.codecs import quant
    except ImportError:  # the codec stage is optional for reading a store; the measured bits stand on their own
        return None, None
    return float(quant.paper_bits_left(int(level))), float(quant.table_bits_left(int(level)))
