"""The paper's Sec. 4.1 quantization arithmetic, against the paper's own numbers and libjpeg-turbo's real tables."""

from __future__ import annotations

import io
import math
from itertools import pairwise

import numpy as np
import pytest
from PIL import Image

from helmholtz.codecs import quant
from helmholtz.codecs.quant import (
    K1,
    K2,
    PAPER_TABLE_SUM,
    STANDARD_TABLE_SUM,
    check_quality,
    paper_bits_left,
    paper_bits_lost,
    scale_factor,
    scaled_table,
    table_bits_left,
    table_bits_lost,
    table_sum,
)
from helmholtz.errors import CodecError


def test_paper_numbers():
    # Sec. 4.1: 13.6 bits lost at q = 50, 12.2 at q = 80 (the formula gives 12.29; the paper truncated),
    # 1.4 bits left at q = 25, one bit left at q ≈ 19.
    assert paper_bits_lost(50) == pytest.approx(13.6, abs=0.05)
    assert paper_bits_lost(80) == pytest.approx(12.2, abs=0.1)
    assert paper_bits_left(25) == pytest.approx(1.4, abs=0.05)
    assert paper_bits_left(19) == pytest.approx(1.0, abs=0.05)
    assert paper_bits_lost(50) == pytest.approx(math.log2(12487))
    assert PAPER_TABLE_SUM == 12487


def test_standard_tables_sum_and_shape():
    assert len(K1) == 64 and len(K2) == 64
    assert sum(K1) == 3688 and sum(K2) == 5505
    assert STANDARD_TABLE_SUM == sum(K1) + 2 * sum(K2) == 14698
    assert table_sum(50) == STANDARD_TABLE_SUM  # at q = 50, s = 100: the tables unscaled
    assert table_bits_lost(50) == pytest.approx(math.log2(14698))
    assert table_bits_left(50) == pytest.approx(16 - math.log2(14698))


@pytest.mark.parametrize("q", [1, 5, 19, 37, 50, 80, 95, 100])
def test_scaled_tables_equal_libjpeg_turbo(q):
    # Oracle: the DQT tables libjpeg-turbo writes into a real file, read back by Pillow (natural order).
    import simplejpeg

    blob = simplejpeg.encode_jpeg(np.zeros((16, 16, 3), np.uint8), quality=q, colorspace="RGB", colorsubsampling="420")
    tables = Image.open(io.BytesIO(blob)).quantization
    assert list(tables[0]) == list(scaled_table(K1, q))
    assert list(tables[1]) == list(scaled_table(K2, q))
    assert table_sum(q) == sum(tables[0]) + 2 * sum(tables[1])


def test_scale_factor_boundaries():
    assert scale_factor(1) == 5000
    assert scale_factor(49) == pytest.approx(5000 / 49)
    assert scale_factor(50) == 100
    assert scale_factor(100) == 0
    assert scale_factor(80) == 40


def test_clipping_to_1_and_255():
    # q = 1: s = 5000, every entry ≥ 500 before clipping → 255 (baseline 8-bit tables)
    assert set(scaled_table(K1, 1)) == {255} and set(scaled_table(K2, 1)) == {255}
    assert table_sum(1) == 255 * 192
    # q = 100: s = 0, every entry rounds to 0 → clipped to 1
    assert set(scaled_table(K1, 100)) == {1} and table_sum(100) == 192
    # q = 50 is the identity; rounding is (K·s + 50) // 100, e.g. K = 11 at s = 40 → 4.9 → 4
    assert scaled_table(K1, 50) == K1
    assert scaled_table(K1, 80)[1] == (11 * 40 + 50) // 100 == 4


def test_bits_monotone_in_quality():
    qs = range(1, 101)
    lost = [table_bits_lost(q) for q in qs]
    assert all(a >= b for a, b in pairwise(lost))
    paper = [paper_bits_lost(q) for q in range(1, 100)]
    assert all(a > b for a, b in pairwise(paper))
    assert paper_bits_lost(100) == 0.0  # s(100) = 0: documented special case, not -inf


@pytest.mark.parametrize("bad", [0, 101, -5, 20.5, "20", None, True])
def test_bad_quality_raises(bad):
    with pytest.raises(CodecError, match="quality"):
        check_quality(bad)
    with pytest.raises(CodecError, match="quality"):
        quant.paper_bits_lost(bad)


def test_numpy_integer_quality_is_accepted():
    assert check_quality(np.int64(20)) == 20
