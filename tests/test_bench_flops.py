"""bench/bench_flops.py's pure helpers: peak FLOP/cycle from the flags, the AVX2 cap, the clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_flops import cap_flags, clock_mhz, cpu_identity, peak_flop_per_cycle  # noqa: E402

XEON = {"fma", "avx", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}
ZEN3 = {"fma", "avx", "avx2"}


def test_peak_per_isa():
    assert peak_flop_per_cycle(ZEN3, "fp32") == (32, "AVX2+FMA")   # 2 FMA units × 8 lanes × 2
    assert peak_flop_per_cycle(XEON, "fp32") == (64, "AVX-512 FMA")
    assert peak_flop_per_cycle(XEON, "bf16") == (1024, "AMX-BF16")
    assert peak_flop_per_cycle({"avx512f", "avx512_bf16"}, "bf16") == (128, "AVX512_BF16")
    assert peak_flop_per_cycle(ZEN3, "bf16") == (0, "none")
    with pytest.raises(ValueError, match="fp16"):
        peak_flop_per_cycle(ZEN3, "fp16")


def test_avx2_cap_drops_avx512_and_amx():
    capped = cap_flags(XEON, "avx2")
    assert capped == ZEN3
    assert peak_flop_per_cycle(capped, "fp32") == (32, "AVX2+FMA")
    assert cap_flags(XEON, "native") == frozenset(XEON)


def test_clock_takes_the_largest():
    assert clock_mhz("cpu MHz\t\t: 2000.000\ncpu MHz\t\t: 1999.9\n") == 2000.0
    assert clock_mhz("cpu MHz : 2000.0", "  CPU max MHz:   3500.0000") == 3500.0
    assert clock_mhz("") == 0.0


def test_zen1_has_half_the_avx2_peak_of_zen2_and_later():
    info = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\nmodel\t\t: 1\nmodel name\t: AMD EPYC\n"
    zen1 = cpu_identity(info)
    assert zen1 == ("AuthenticAMD", 23, 1)
    assert peak_flop_per_cycle(ZEN3, "fp32", zen1) == (16, "AVX2+FMA on 128-bit units (Zen 1)")
    assert peak_flop_per_cycle(ZEN3, "fp32", ("AuthenticAMD", 23, 49)) == (32, "AVX2+FMA")    # Zen 2 (0x31)
    assert peak_flop_per_cycle(ZEN3, "fp32", ("AuthenticAMD", 25, 1)) == (32, "AVX2+FMA")     # Zen 3
    assert peak_flop_per_cycle(ZEN3, "fp32", ("GenuineIntel", 6, 143)) == (32, "AVX2+FMA")
    assert cpu_identity("model name : x\n") is None


def test_zen4_runs_avx512_on_256_bit_units():
    zen4 = ("AuthenticAMD", 25, 17)                       # EPYC 9004 (Genoa): family 0x19, model 0x11
    flags = {"avx2", "fma", "avx512f", "avx512_bf16"}
    assert peak_flop_per_cycle(flags, "fp32", zen4) == (32, "AVX-512 FMA on 256-bit units (Zen 4)")
    assert peak_flop_per_cycle(flags, "bf16", zen4) == (64, "AVX512_BF16 on 256-bit units (Zen 4)")
    assert peak_flop_per_cycle(flags, "fp32", ("GenuineIntel", 6, 143)) == (64, "AVX-512 FMA")
    assert peak_flop_per_cycle(cap_flags(flags, "avx2"), "fp32", zen4) == (32, "AVX2+FMA")
