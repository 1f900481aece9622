"""The vocabulary of an architecture: a layer spec (`Layer`), an architecture as data (`ArchSpec`), the layer
constructors, and the shape arithmetic of a layer. Torch-free.

The lowest module of `helmholtz.models`: the architecture tables (`models/archs.py`), the one torch builder
(`models/builder.py`) and the torch-free capacity arithmetic (`capacity/mec.py`) all read these, so the builder and
the tables import this module and not each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

LayerKind = Literal["conv", "dense", "relu", "elu", "dropout", "maxpool", "batchnorm", "flatten", "gap", "res"]
Padding = Literal["same", "valid"]
ArchModality = Literal["image", "audio"]

#: the output width of a layer that produces the logits: always the number of classes, never scaled by width
LOGITS = -1


@dataclass(frozen=True)
class Layer:
    """One layer spec. ``out`` is channels (conv, res) or units (dense); ``LOGITS`` means n_classes. A ``res``
    layer is a basic residual block: conv 3×3 (stride) → BN → ReLU → conv 3×3 → BN, plus the input (through a
    1×1 conv and BN when the shape changes), then ReLU."""

    kind: LayerKind
    out: int = 0
    kernel: int = 3
    stride: int = 1
    p: float = 0.0                    # dropout probability


@dataclass(frozen=True)
class ArchSpec:
    """An architecture as data: name A–F, modality, the paper's description and parameter count, and layers."""

    name: str
    modality: ArchModality
    description: str
    paper_params: int                 # the count printed in the paper / the original code's summaries
    layers: tuple[Layer, ...]
    padding: Padding                  # 'same' (images, Keras default of All-CNN) or 'valid' (audio)
    note: str = ""                    # why our count may differ from paper_params


# ---------------------------------------------------------------- layer vocabulary


def conv(out: int, kernel: int = 3, stride: int = 1) -> Layer:
    return Layer("conv", out=out, kernel=kernel, stride=stride)


def dense(out: int) -> Layer:
    return Layer("dense", out=out)


def dropout(p: float) -> Layer:
    return Layer("dropout", p=p)


RELU, ELU, FLATTEN, GAP = Layer("relu"), Layer("elu"), Layer("flatten"), Layer("gap")
BATCHNORM, MAXPOOL = Layer("batchnorm"), Layer("maxpool", kernel=2, stride=2)


def res(out: int, stride: int = 1) -> Layer:
    """A basic residual block (the built-in residual family R8/R20 of `models/archs.py`)."""
    return Layer("res", out=out, stride=stride)


# ---------------------------------------------------------------- shape arithmetic, shared by the torch builder
# (models/builder.py) and the torch-free capacity arithmetic (capacity/mec.py)

def scaled_units(out: int, *, width: float, n_classes: int) -> int:
    """Hidden sizes scale with width (rounded, at least 1); the logits layer always has n_classes outputs."""
    return n_classes if out == LOGITS else max(1, int(round(out * width)))


def conv_out(n: int, layer: Layer, padding: str) -> int:
    """One spatial size after a conv layer: 'same' keeps ⌈n / stride⌉, 'valid' loses the kernel's border."""
    if padding == "same":
        return math.ceil(n / layer.stride)
    return (n - layer.kernel) // layer.stride + 1


def pool_out(n: int, layer: Layer) -> int:
    """One spatial size after max pooling (Keras 'valid' pooling: floor)."""
    return (n - layer.kernel) // layer.stride + 1
