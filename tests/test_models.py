"""Architectures A–F as data: the paper's parameter counts, shapes on other inputs, logits, width, init."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helmholtz.errors import ConfigError
from helmholtz.models.archs import AUDIO_ARCHS, IMAGE_ARCHS, PAPER_INPUT, build_model, count_params
from helmholtz.models.builder import output_shape

PAPER_IMAGE = {"A": 701_386, "B": 1_079_562, "C": 1_144_138, "D": 1_276_618, "E": 1_620_298, "F": 1_686_090}
PAPER_AUDIO = {"A": 101_412, "B": 170_436, "C": 427_492, "D": 808_356, "E": 824_868, "F": 3_715_460}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", sorted(PAPER_IMAGE))
def test_image_param_counts_equal_the_paper(name):
    model = build_model(name, modality="image", input_shape=(3, 32, 32), n_classes=10)
    assert count_params(model) == PAPER_IMAGE[name] == IMAGE_ARCHS[name].paper_params


@pytest.mark.parametrize("name", sorted(PAPER_AUDIO))
def test_audio_param_counts_are_the_paper_minus_312(name):
    model = build_model(name, modality="audio", input_shape=(1, 96, 173), n_classes=12)
    assert count_params(model) == PAPER_AUDIO[name] - 312
    spec = AUDIO_ARCHS[name]
    assert spec.paper_params == PAPER_AUDIO[name]
    assert "312" in spec.note and "94" in spec.note
    # the 312: Keras counted 4·94 BatchNorm weights over the frequency rows, we have 2·32 per channel
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bn) == 1 and sum(p.numel() for p in bn[0].parameters()) == 64 and 4 * 94 - 64 == 312


def _naive_allcnn_params(c_in: int, k: int, w: float) -> int:
    """Oracle: arch A's count written out by hand (3×3 and 1×1 convs with bias) for width w, k classes."""
    s = lambda n: max(1, round(n * w))  # noqa: E731
    convs = [(c_in, s(32), 9), (s(32), s(64), 9), (s(64), s(128), 9)] + [(s(128), s(128), 9)] * 4
    convs += [(s(128), s(128), 1), (s(128), k, 1)]
    return sum(i * o * kk + o for i, o, kk in convs)


@pytest.mark.parametrize("width", [0.125, 0.25, 0.5, 1.0, 1.5])
def test_width_scales_hidden_sizes_and_keeps_the_logits(width):
    model = build_model("A", modality="image", input_shape=(1, 28, 28), n_classes=7, width=width)
    assert count_params(model) == _naive_allcnn_params(1, 7, width)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].out_channels == max(1, round(32 * width)) and convs[-1].out_channels == 7
    dense = build_model("F", modality="image", input_shape=(3, 32, 32), n_classes=10, width=width)
    units = [m.out_features for m in dense.modules() if isinstance(m, nn.Linear)]
    assert units == [round(128 * width), round(256 * width), round(256 * width), 10]


def test_tiny_width_keeps_at_least_one_unit():
    model = build_model("B", modality="image", input_shape=(1, 28, 28), n_classes=10, width=0.001)
    sizes = [m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)]
    sizes += [m.out_features for m in model.modules() if isinstance(m, nn.Linear)][:-1]
    assert min(sizes) == 1
    assert output_shape(model, (1, 28, 28)) == (10,)


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28), (3, 17, 23)])
@pytest.mark.parametrize("name", sorted(IMAGE_ARCHS))
def test_image_output_shapes(name, shape):
    model = build_model(name, modality="image", input_shape=shape, n_classes=5, width=0.125)
    assert output_shape(model, shape) == (5,)


@pytest.mark.parametrize("shape", [(1, 96, 173), (1, 64, 100)])
@pytest.mark.parametrize("name", sorted(AUDIO_ARCHS))
def test_audio_output_shapes(name, shape):
    model = build_model(name, modality="audio", input_shape=shape, n_classes=12, width=0.25)
    assert output_shape(model, shape) == (12,)


def test_same_padding_matches_keras_output_sizes():
    # Keras 'same' with stride 2 gives ceil(n/2): 17×23 → 9×12 after the stem, → 5×6 after block X
    model = build_model("B", modality="image", input_shape=(3, 17, 23), n_classes=10, width=0.25)
    x = torch.zeros(2, 3, 17, 23)
    assert model[:6](x).shape == (2, 32, 9, 12)
    assert model[:12](x).shape == (2, 32, 5, 6)
    flatten_in = next(m for m in model if isinstance(m, nn.Linear)).in_features
    assert flatten_in == 32 * 5 * 6


def test_valid_padding_for_audio_shrinks_by_two_per_conv():
    model = build_model("A", modality="audio", input_shape=(1, 96, 173), n_classes=12)
    x = torch.zeros(2, 1, 96, 173)
    assert model[:3](x).shape == (2, 32, 94, 171)
    assert next(m for m in model if isinstance(m, nn.Linear)).in_features == 32 * 10 * 19


_SHAPE_ONLY = (nn.AdaptiveAvgPool2d, nn.Flatten, nn.Sequential)


@pytest.mark.parametrize("modality,name", [(m, n) for m in ("image", "audio") for n in "ABCDEF"])
def test_no_activation_on_the_logits(modality, name):
    shape, k = PAPER_INPUT[modality]
    model = build_model(name, modality=modality, input_shape=shape, n_classes=k, width=0.25)
    leaves = [m for m in model.modules() if not list(m.children())]
    last = max(i for i, m in enumerate(leaves) if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert all(isinstance(m, _SHAPE_ONLY) for m in leaves[last + 1 :]), leaves[last + 1 :]
    torch.manual_seed(0)
    out = model.eval()(torch.randn(8, *shape))
    assert (out < 0).any(), "a ReLU on the logits would make every output ≥ 0"


def test_keras_init_glorot_uniform_and_zero_bias():
    torch.manual_seed(0)
    model = build_model("E", modality="image", input_shape=(3, 32, 32), n_classes=10)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight.detach()
            fan_in = w.shape[1] * w[0, 0].numel()
            fan_out = w.shape[0] * w[0, 0].numel()
            limit = math.sqrt(6 / (fan_in + fan_out))
            assert w.abs().max() <= limit + 1e-7
            if w.numel() > 1000:  # uniform on [−a, a] has std a/√3
                assert abs(w.std().item() - limit / math.sqrt(3)) < 0.05 * limit
            assert torch.count_nonzero(m.bias) == 0


def test_unknown_arch_and_bad_inputs_raise_config_errors():
    with pytest.raises(ConfigError, match="unknown image architecture 'Z'"):
        build_model("Z", modality="image", input_shape=(3, 32, 32), n_classes=10)
    with pytest.raises(ConfigError, match="too small for audio arch B"):
        build_model("B", modality="audio", input_shape=(1, 20, 20), n_classes=12)
    with pytest.raises(ConfigError, match="width"):
        build_model("A", modality="image", input_shape=(3, 32, 32), n_classes=10, width=0)
    with pytest.raises(ConfigError, match="n_classes"):
        build_model("A", modality="image", input_shape=(3, 32, 32), n_classes=1)
    assert build_model("a", modality="image", input_shape=(1, 8, 8), n_classes=3, width=0.1) is not None
