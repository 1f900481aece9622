"""The paper's classifiers A–F as data: each architecture is a tuple of layer specs (the vocabulary of
`models/layers.py`), built by one builder (`models/builder.py`, torch, imported only when a model is built).

Image models (Table 1 of the paper; 3×32×32 input, 10 classes, Keras 'same' padding) follow the All-CNN recipe:
a common stem, one or two "block X", then either the all-convolutional head (conv 3×3, conv 1×1, conv 1×1 to the
classes, global average pooling) or a flatten plus fully connected layers. Audio models (Table 2; 1×96×173 log-mel,
12 classes, 'valid' padding) are a conv + BatchNorm stem, k "Conv-loops" (conv, ELU, max-pool 2×2, dropout 0.5) and
an "FC-loop" (FC, ELU, dropout 0.6) before the logits.

Two deliberate differences from the original Keras code:
- no activation on the logits (the original put a ReLU on the final FC 10 of four image models — a bug);
- the audio BatchNorm is per channel (32 channels → 64 trainable parameters). The original normalised over the
  94-row frequency axis, which Keras counts as 4·94 = 376 parameters (γ, β, moving mean, moving variance), so each
  of our audio models has 312 fewer parameters than the paper's count (A: 101,412 → 101,100). See `AUDIO_BN_NOTE`.
"""

from __future__ import annotations

from collections.abc import Iterable

from helmholtz.errors import ConfigError
from helmholtz.models.layers import (
    BATCHNORM,
    ELU,
    FLATTEN,
    GAP,
    LOGITS,
    MAXPOOL,
    RELU,
    ArchModality,
    ArchSpec,
    Layer,
    conv,
    dense,
    dropout,
    res,
)

# the layer vocabulary and its shape arithmetic live in models/layers.py (torch-free, below the builder); the shape
# arithmetic stays importable from here, where the capacity arithmetic (capacity/mec.py) reads it
from helmholtz.models.layers import conv_out as conv_out
from helmholtz.models.layers import pool_out as pool_out
from helmholtz.models.layers import scaled_units as scaled_units

AUDIO_BN_NOTE = (
    "paper count minus 312: the original Keras BatchNorm normalised over the 94-row frequency axis "
    "(4·94 = 376 parameters incl. moving statistics); ours is per channel (2·32 = 64 trainable)"
)


# ---------------------------------------------------------------- image models (paper Table 1)

# The stride-2 convs carry no activation, as in the All-CNN Keras code the paper built on.
_STEM = (conv(32), RELU, conv(64), RELU, conv(128, stride=2), dropout(0.5))
_BLOCK_X = (conv(128), RELU, conv(128), RELU, conv(128, stride=2), dropout(0.5))
_ALLCONV_HEAD = (conv(128), RELU, conv(128, kernel=1), RELU, conv(LOGITS, kernel=1), GAP)


def _fc_head(*units: int, p: float = 0.5) -> tuple[Layer, ...]:
    hidden = tuple(layer for u in units for layer in (dense(u), RELU, dropout(p)))
    return (FLATTEN, *hidden, dense(LOGITS))


def _image(name: str, description: str, paper_params: int, *body: tuple[Layer, ...]) -> ArchSpec:
    layers = tuple(layer for part in (_STEM, *body) for layer in part)
    return ArchSpec(name, "image", description, paper_params, layers, padding="same")


IMAGE_ARCHS: dict[str, ArchSpec] = {
    a.name: a
    for a in (
        _image("A", "all-cnns: stem, X, all-conv head", 701_386, _BLOCK_X, _ALLCONV_HEAD),
        _image("B", "cnns-dense-64: stem, X, FC 64, FC 256", 1_079_562, _BLOCK_X, _fc_head(64, 256)),
        _image("C", "all-cnns x2: stem, X, X, all-conv head", 1_144_138, _BLOCK_X, _BLOCK_X, _ALLCONV_HEAD),
        _image("D", "cnns-x2-dense-128: stem, X, X, FC 128, FC 256", 1_276_618, _BLOCK_X, _BLOCK_X, _fc_head(128, 256)),
        _image("E", "cnns-dense-128: stem, X, FC 128, FC 256", 1_620_298, _BLOCK_X, _fc_head(128, 256)),
        _image("F", "cnns-dense-128-256: stem, X, FC 128, FC 256, FC 256", 1_686_090, _BLOCK_X, _fc_head(128, 256, 256)),
    )
}

# ---------------------------------------------------------------- audio models (paper Table 2)

_AUDIO_STEM = (conv(32), BATCHNORM, RELU)
_CONV_LOOP = (conv(32), ELU, MAXPOOL, dropout(0.5))


def _audio(name: str, k: int, fc: tuple[int, ...], paper_params: int) -> ArchSpec:
    fc_loop = tuple(layer for u in fc for layer in (dense(u), ELU, dropout(0.6)))
    layers = (*_AUDIO_STEM, *(_CONV_LOOP * k), FLATTEN, *fc_loop, dense(LOGITS))
    fc_text = ", ".join(f"FC {u}" for u in fc) or "no FC loop"
    description = f"conv+BN stem, {k}× Conv-loop, {fc_text}"
    return ArchSpec(name, "audio", description, paper_params, layers, padding="valid", note=AUDIO_BN_NOTE)


AUDIO_ARCHS: dict[str, ArchSpec] = {
    a.name: a
    for a in (
        _audio("A", 3, (), 101_412),
        _audio("B", 4, (128,), 170_436),
        _audio("C", 3, (64, 128), 427_492),
        _audio("D", 3, (128,), 808_356),
        _audio("E", 3, (128, 128), 824_868),
        _audio("F", 2, (128,), 3_715_460),
    )
}

# ---------------------------------------------------------------- the built-in residual family (not in the paper)


RESIDUAL_NOTE = "not a paper model: a CIFAR-style ResNet (He et al. 2016, Sec. 4.2) whose width is set by width"


def _resnet(name: str, blocks: int, modality: ArchModality) -> ArchSpec:
    """ResNet-(6n+2) in the CIFAR layout: conv 16 + BN stem, three stages of ``blocks`` basic blocks at 16, 32 and
    64 channels (stride 2 into stages 2 and 3), global average pooling, FC to the classes. 'same' padding, so
    any input of at least 4×4 fits."""
    stages = tuple(res(c, stride=2 if (i > 0 and b == 0) else 1) for i, c in enumerate((16, 32, 64)) for b in range(blocks))
    layers = (conv(16), BATCHNORM, RELU, *stages, GAP, dense(LOGITS))
    description = f"ResNet-{6 * blocks + 2}: conv+BN stem, 3 stages × {blocks} basic block(s) at 16/32/64, GAP, FC"
    return ArchSpec(name, modality, description, 0, layers, padding="same", note=RESIDUAL_NOTE)


#: the built-in family beside the paper's models, for either modality: R8 (~78 k parameters at width 1) and R20
RESIDUAL_ARCHS: dict[str, dict[str, ArchSpec]] = {
    m: {"R8": _resnet("R8", 1, m), "R20": _resnet("R20", 3, m)} for m in ("image", "audio")  # type: ignore[misc]
}

#: the paper's A–F of each modality (their parameter counts are checked against the paper)
ARCHS: dict[str, dict[str, ArchSpec]] = {"image": IMAGE_ARCHS, "audio": AUDIO_ARCHS}


def builtin_archs(modality: str) -> dict[str, ArchSpec]:
    """Every built-in architecture of a modality: the paper's A–F, then the residual family."""
    return {**ARCHS.get(modality, {}), **RESIDUAL_ARCHS.get(modality, {})}

#: the input each modality's paper models were defined on (C, H, W) and their class count
PAPER_INPUT: dict[str, tuple[tuple[int, int, int], int]] = {"image": ((3, 32, 32), 10), "audio": ((1, 96, 173), 12)}


def get_arch(arch: str | ArchSpec, *, modality: ArchModality) -> ArchSpec:
    """Look up an architecture by name (case-insensitive) for a modality; ConfigError lists the valid names."""
    if isinstance(arch, ArchSpec):
        return arch
    if modality not in ARCHS:
        raise ConfigError(f"modality must be 'image' or 'audio'; got {modality!r}", where="--modality", fix="use image or audio")
    table = builtin_archs(modality)
    spec = table.get(str(arch).strip().upper())
    if spec is None:
        raise ConfigError(
            f"unknown {modality} architecture {arch!r}; expected one of {', '.join(table)}", where="--arch",
            fix="pass --arch A, a residual R8/R20, or your own --model MODULE:FACTORY (see `helmholtz archs`)",
        )
    return spec


#: input bounds: more than this is a typo (1x100000x100000), not a sensor; a 4096-pixel side is a 16-megapixel frame
INPUT_SIDE_MAX = 4096
INPUT_CHANNELS_MAX = 64


def check_model_args(input_shape: Iterable[int], n_classes: int, width: float) -> tuple[int, int, int]:
    """The checks of `build_model` and `capacity.mec_bits`, with one set of messages; returns the shape as ints."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or any(s < 1 for s in shape):
        raise ConfigError(f"input_shape must be (C, H, W) of positive sizes; got {shape}", where="--input-shape",
                          fix="e.g. --input-shape 3x32x32")
    c, h, w = shape
    if c > INPUT_CHANNELS_MAX or max(h, w) > INPUT_SIDE_MAX:
        raise ConfigError(f"input_shape {c}×{h}×{w} is beyond the bounds (≤ {INPUT_CHANNELS_MAX} channels, sides ≤ "
                          f"{INPUT_SIDE_MAX})", where="--input-shape",
                          fix="give the shape of one input, e.g. --input-shape 3x224x224")
    if n_classes < 2:
        raise ConfigError(f"n_classes must be ≥ 2; got {n_classes}", where="--classes", fix="e.g. --classes 10")
    if not 0.0 < width <= 8.0:
        raise ConfigError(f"width must be a multiplier in (0, 8]; got {width}", where="--width", fix="e.g. --width 0.25")
    return shape  # type: ignore[return-value]


def build_model(
    arch: str | ArchSpec,
    *,
    modality: ArchModality,
    input_shape: tuple[int, int, int],
    n_classes: int,
    width: float = 1.0,
):
    """Build architecture ``arch`` (A–F) as an ``nn.Sequential`` for inputs C×H×W and ``n_classes`` logits.

    ``width`` multiplies every hidden channel and unit count (rounded, at least 1); the logits layer keeps
    ``n_classes``. Weights use Keras' defaults, which the paper's recipe was tuned for: glorot_uniform for conv
    and dense kernels, zero biases (BatchNorm: γ = 1, β = 0). The model returns logits (no softmax, no ReLU).
    """
    from helmholtz.models.builder import build_sequential

    spec = get_arch(arch, modality=modality)
    shape = check_model_args(input_shape, n_classes, width)
    return build_sequential(spec, input_shape=shape, n_classes=int(n_classes), width=width)


def count_params(model) -> int:
    """Trainable parameters, as Keras' ``count_params`` reports them for our layers (buffers excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
