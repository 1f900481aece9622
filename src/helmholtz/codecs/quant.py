"""The paper's quantization arithmetic (Sec. 4.1): how many bits per pixel JPEG quality q removes.

The paper's reading: a 24-bit RGB pixel becomes 16 bits after 4:2:0 chroma subsampling (Y 8, U 4, V 4). JPEG divides
the DCT coefficients of Y by the luminance table K.1 and those of U and V by the chrominance table K.2, both scaled by
the libjpeg quality scale factor s(q). The bits lost per pixel are estimated as log2 of the sum of the scaled table
entries, with K.2 counted twice (once for U, once for V):

    bits_lost(q) = log2(S · s(q) / 100),   bits_left(q) = 16 − bits_lost(q)

The paper uses S = 12487 (``PAPER_TABLE_SUM``). The standard Annex K tables actually sum to 3688 + 2·5505 = 14698
(``STANDARD_TABLE_SUM``; DESIGN.md says 3689 and 14699, but K.1 sums to 3688, as libjpeg-turbo's own q = 50 DQT
tables confirm — see tests/test_quant.py), so we offer both: the paper's constant (``paper_bits_*``) and the real tables scaled and
clipped exactly as libjpeg's ``jpeg_set_quality`` does (``table_bits_*``). Both are estimates; the measured bits per
pixel of a real round trip belong beside them (``helmholtz bits --dataset``).

Pure Python on purpose: no numpy, importable anywhere (analysis and report use it).
"""

from __future__ import annotations

import math
import numbers

from helmholtz.errors import CodecError

# JPEG standard (ITU-T T.81) Annex K, Table K.1: luminance quantization table, row-major 8×8.
K1: tuple[int, ...] = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)

# Annex K, Table K.2: chrominance quantization table, row-major 8×8.
K2: tuple[int, ...] = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
)

STANDARD_TABLE_SUM = 14698  # sum(K1) + 2·sum(K2) = 3688 + 2·5505 (what libjpeg writes at q = 50)
PAPER_TABLE_SUM = 12487  # the sum the paper used (Sec. 4.1); it does not match the standard tables
BITS_AFTER_SUBSAMPLING = 16  # 24-bit RGB after 4:2:0: Y 8 + U 4 + V 4 bits per pixel (paper Sec. 4.1)


def check_quality(quality: object, *, where: str = "quality") -> int:
    """Return ``quality`` as an int if it is a JPEG quality level q in 1..100, else raise CodecError."""
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral):
        raise CodecError(
            f"JPEG quality must be an integer in 1..100; got {quality!r} ({type(quality).__name__})",
            where=where, fix="pass a whole number such as 20",
        )
    q = int(quality)
    if not 1 <= q <= 100:
        raise CodecError(f"JPEG quality must be in 1..100; got {q}", where=where, fix="pick a quality between 1 and 100")
    return q


def scale_factor(quality: int) -> float:
    """The quality scale factor s(q) in percent: 5000/q for q < 50, else 200 − 2q (libjpeg's ``jpeg_quality_scaling``).

    Returned as a real number, as the paper uses it (s(19) = 263.16). libjpeg itself truncates 5000/q to an integer;
    ``scaled_table`` does that.
    """
    q = check_quality(quality)
    return 5000.0 / q if q < 50 else 200.0 - 2.0 * q


def paper_bits_lost(quality: int) -> float:
    """The paper's bits lost per pixel at JPEG quality q: log2(12487 · s(q) / 100).

    Matches the paper's numbers: 13.6 at q = 50 and 12.2 at q = 80. The formula gives 12.29 at q = 80; the paper
    truncated it to 12.2. At q = 100, s(q) = 0 and the logarithm has no finite value; we return 0.0 (no quantization
    beyond the DCT's rounding, which the paper ignores).
    """
    s = scale_factor(quality)
    if s <= 0:
        return 0.0
    return math.log2(PAPER_TABLE_SUM * s / 100.0)


def paper_bits_left(quality: int) -> float:
    """The paper's bits left per pixel: 16 − ``paper_bits_lost(q)``.

    1.4 at q = 25 and about 1.0 at q = 19 (the paper's N_approx arithmetic). Not clipped: below q ≈ 10 the formula
    goes negative, which says only that the estimate has left its range.
    """
    return BITS_AFTER_SUBSAMPLING - paper_bits_lost(quality)


def scaled_table(table: tuple[int, ...], quality: int) -> tuple[int, ...]:
    """A quantization table scaled for quality q exactly as libjpeg does (``jpeg_add_quant_table``, baseline).

    entry = (K · s + 50) // 100 with s = 5000 // q (integer) or 200 − 2q, clipped to 1..255.
    """
    q = check_quality(quality)
    s = 5000 // q if q < 50 else 200 - 2 * q
    return tuple(min(max((k * s + 50) // 100, 1), 255) for k in table)


def table_sum(quality: int) -> int:
    """sum(K1') + 2·sum(K2') of the libjpeg-scaled standard tables at quality q (14698 at q = 50)."""
    return sum(scaled_table(K1, quality)) + 2 * sum(scaled_table(K2, quality))


def table_bits_lost(quality: int) -> float:
    """Bits lost per pixel with the real scaled tables: log2(sum(K1') + 2·sum(K2')). 13.84 at q = 50."""
    return math.log2(table_sum(quality))


def table_bits_left(quality: int) -> float:
    """Bits left per pixel with the real scaled tables: 16 − ``table_bits_lost(q)``."""
    return BITS_AFTER_SUBSAMPLING - table_bits_lost(quality)
