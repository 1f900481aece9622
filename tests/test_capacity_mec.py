"""MEC by shape arithmetic: dense nets by hand and against a naive TFMeter oracle, the conv rule, parameter counts
equal to the built torch models, errors like `build_model`'s."""

from __future__ import annotations

import itertools
import random
import sys

import pytest

from helmholtz.capacity.mec import RULE, dense_mec_bits, generalization_ratio, mec_bits, mec_table
from helmholtz.errors import ConfigError
from helmholtz.models.archs import (
    FLATTEN,
    GAP,
    LOGITS,
    RELU,
    ArchSpec,
    conv,
    dense,
    dropout,
)


def _mlp(*hidden: int, name: str = "mlp") -> ArchSpec:
    """An MLP as an ArchSpec: flatten, hidden dense layers (ReLU, dropout), logits."""
    layers = [FLATTEN]
    for h in hidden:
        layers += [dense(h), RELU, dropout(0.5)]
    return ArchSpec(name, "image", "test mlp", 0, (*layers, dense(LOGITS)), padding="same")


def _tfmeter_total(widths: list[int]) -> int:
    """Oracle: TFMeter's getTotalCapacity for a fully connected net without dead nodes, written out naively.
    Layer 0 is the input; each first-hidden unit adds its in-links + 1; each later layer adds the smallest number
    of in-nodes seen by any layer up to it (= the narrowest earlier width)."""
    total = 0
    for _unit in range(widths[1]):
        total += widths[0] + 1
    for layer in range(2, len(widths)):
        smallest = widths[layer - 1]
        for earlier in range(1, layer):
            smallest = min(smallest, widths[earlier - 1])
        total += smallest
    return total


# ---------------------------------------------------------------- dense networks, by hand


@pytest.mark.parametrize(("d", "hidden", "classes", "expected"), [
    (2, (4,), 2, 4 * 3 + 2),                  # TFMeter's playground: 2 inputs, 4 hidden, output capped by the 2 inputs
    (784, (128,), 10, 128 * 785 + 128),        # the output layer gets at most the 128 hidden bits
    (784, (128, 64), 10, 128 * 785 + 128 + 64),
    (10, (2, 50), 3, 2 * 11 + 2 + 2),          # a 2-unit bottleneck caps every later layer
    (5, (), 2, 2 * 6),                         # two perceptrons in parallel: 2·(d + 1)
])
def test_dense_mec_by_hand(d, hidden, classes, expected):
    m = mec_bits(_mlp(*hidden), modality="image", input_shape=(1, 1, d), n_classes=classes)
    assert m.mec_bits == expected
    assert dense_mec_bits([d, *hidden, classes]) == expected
    assert m.params == sum(o * (i + 1) for i, o in itertools.pairwise([d, *hidden, classes]))


def test_a_single_perceptron_has_d_plus_one_bits():
    assert dense_mec_bits([7, 1]) == 8
    assert dense_mec_bits([1, 1]) == 2


def test_dense_mec_equals_the_naive_tfmeter_oracle_on_random_nets():
    rng = random.Random(0)
    for _ in range(200):
        widths = [rng.randint(1, 40) for _ in range(rng.randint(2, 6))]
        widths[-1] = max(widths[-1], 2)
        assert dense_mec_bits(widths) == _tfmeter_total(widths), widths
        m = mec_bits(_mlp(*widths[1:-1]), modality="image", input_shape=(1, 1, widths[0]), n_classes=widths[-1])
        assert m.mec_bits == _tfmeter_total(widths), widths


# ---------------------------------------------------------------- the conv rule


def test_conv_rule_by_hand():
    # 1×3×3 input (9 bits). conv 4 filters 3×3: 4·(9+1) = 40 params, first layer → 40 bits.
    # 1×1 conv to 2 logits: 2·(4+1) = 10 params, capped by the narrowest activation before it: min(9, 4·3·3) = 9.
    spec = ArchSpec("t", "image", "tiny conv", 0, (conv(4), RELU, conv(LOGITS, kernel=1), GAP), padding="same")
    m = mec_bits(spec, modality="image", input_shape=(1, 3, 3), n_classes=2)
    assert [(lay.kind, lay.params, lay.cap_bits, lay.bits) for lay in m.layers if lay.params] == [
        ("conv", 40, None, 40), ("conv", 10, 9, 9)]
    assert m.mec_bits == 49 and m.params == 50
    # a wider input lifts the cap above the parameter count: min(10, 25) = 10
    wide = mec_bits(spec, modality="image", input_shape=(1, 5, 5), n_classes=2)
    assert wide.mec_bits == 40 + 10


def test_pooling_narrows_the_cap_and_batchnorm_adds_no_bits():
    m = mec_bits("A", modality="audio", input_shape=(1, 96, 173), n_classes=12)
    bn = [lay for lay in m.layers if lay.kind == "batchnorm"]
    assert len(bn) == 1 and bn[0].params == 64 and bn[0].bits == 0
    pools = [lay for lay in m.layers if lay.kind == "maxpool"]
    assert len(pools) == 3 and pools[-1].units_out == 32 * 10 * 19 < 96 * 173
    logits = m.layers[-1]   # A's logits read the flattened last pool: 6080 bits in, 12·6081 parameters
    assert logits.kind == "dense" and logits.cap_bits == 6080 and logits.bits == 6080 < logits.params
    # every layer after the first is capped by the narrowest activation before it
    narrowest = 96 * 173
    for lay in m.layers:
        if lay.cap_bits is not None:
            assert lay.cap_bits == narrowest and lay.bits == min(lay.params, narrowest)
        narrowest = min(narrowest, lay.units_out)


def test_image_archs_at_the_paper_input():
    rows = {m.arch: m for m in mec_table(modality="image")}
    assert list(rows) == list("ABCDEF")
    # A: conv 32 on 3×3×3 (896 bits), 7 convs capped by the 3072 input bits, the 1×1 logits conv's 1290 params
    assert rows["A"].mec_bits == 896 + 7 * 3072 + 1290
    # F: its FC 128 → 256 → 256 → 10 head is capped by the 128-unit layer after the first FC
    assert rows["F"].mec_bits == 896 + 5 * 3072 + 3072 + 3 * 128
    assert all(m.rule == RULE for m in rows.values())


# ---------------------------------------------------------------- parameter counts and shapes agree with torch


@pytest.mark.parametrize(("modality", "shape", "classes", "width"), [
    ("image", (3, 32, 32), 10, 1.0), ("image", (1, 28, 28), 10, 0.25), ("image", (1, 14, 14), 7, 0.125),
    ("audio", (1, 96, 173), 12, 1.0), ("audio", (1, 64, 100), 5, 0.5),
])
def test_params_equal_the_built_model(modality, shape, classes, width, one_torch_thread):
    from helmholtz.models.archs import build_model, count_params

    for m in mec_table(modality=modality, input_shape=shape, n_classes=classes, width=width):
        model = build_model(m.arch, modality=modality, input_shape=shape, n_classes=classes, width=width)
        assert m.params == count_params(model), m.arch


def test_mec_never_imports_torch():
    import subprocess

    code = "import sys, helmholtz.capacity as c; c.mec_table(); c.capacity_requirement([[1]], [0]); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"arch": "G"}, "unknown image architecture"),
    ({"arch": "A", "width": 0.0}, "width must be a multiplier"),
    ({"arch": "A", "width": 9.0}, "width must be a multiplier"),
    ({"arch": "A", "n_classes": 1}, "n_classes must be ≥ 2"),
    ({"arch": "A", "input_shape": (3, 32)}, "input_shape must be"),
    ({"arch": "A", "input_shape": (0, 32, 32)}, "input_shape must be"),
    ({"arch": "A", "modality": "audio", "input_shape": (1, 8, 8)}, "too small for audio arch A"),
])
def test_bad_arguments_raise_config_error(kwargs, match):
    arch = kwargs.pop("arch")
    with pytest.raises(ConfigError, match=match):
        mec_bits(arch, **kwargs)


def test_too_small_input_fails_in_torch_too(one_torch_thread):
    from helmholtz.models.archs import build_model

    with pytest.raises(ConfigError, match="too small"):
        build_model("A", modality="audio", input_shape=(1, 8, 8), n_classes=12)


def test_generalization_ratio():
    assert generalization_ratio(correct=500, mec_bits=250) == 2.0
    with pytest.raises(ConfigError, match="mec_bits must be positive"):
        generalization_ratio(correct=1, mec_bits=0)
    with pytest.raises(ConfigError, match="correct must be"):
        generalization_ratio(correct=-1, mec_bits=10)
    with pytest.raises(ConfigError, match="widths must be"):
        dense_mec_bits([5])
