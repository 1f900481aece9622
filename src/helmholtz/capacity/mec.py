"""Memory-equivalent capacity (MEC) of a network in bits, by shape arithmetic on its `ArchSpec` — no torch.

Friedland, Metere & Krell, "A Practical Approach to Sizing Neural Networks" (2018, arXiv 1810.02328), and its
reference implementation TFMeter (github.com/fractor/nntailoring, ``tfmeter/src/playground.ts``,
``getTotalCapacity``). A learner is memory-equivalent to N bits when it can represent all 2^N labelings of N random
inputs. The published rules, for networks of dense threshold-like neurons:

1. the output of a neuron carries at most one bit;
2. a neuron's capacity is its number of parameters (weights + bias) in bits;
3. the capacities of neurons in parallel add;
4. a layer's capacity is limited by the bits the layer it depends on can emit.

TFMeter totals them as: every unit of the first hidden layer adds fan-in + 1; every later layer (the output layer
included) adds the width of the narrowest layer before it, the input's width included. For a dense layer that is
the same as min(its parameter count, the narrowest earlier width), because a dense layer of w units on w' inputs has
w·(w' + 1) ≥ w' parameters. That form is the one we apply to every layer (`RULE`).

Convolutions are not covered by the published rules. Our extension (`CONV_RULE`), applied the same way everywhere:
a filter is one neuron whose weights are shared over positions (rule 2 counts its k²·C_in + 1 parameters once);
the filters of a layer add (rule 3); the activation a conv, pooling or global-average-pooling layer emits is its
number of scalar outputs C·H·W (or C), one bit each (rule 1), and rule 4 caps each later layer by the narrowest
activation before it, input included. BatchNorm adds no bits: a per-channel affine map after a conv is the same conv
with rescaled weights and bias (its 2·C parameters are still shown in the parameter count). Dropout and activations
change nothing (dropout is off when the network is used).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from helmholtz.errors import ConfigError
from helmholtz.models.archs import (
    ARCHS,
    PAPER_INPUT,
    ArchModality,
    ArchSpec,
    check_model_args,
    conv_out,
    get_arch,
    pool_out,
    scaled_units,
)

#: the rule `mec_bits` applies, in one sentence; printed by `helmholtz capacity model` and stored in every result
RULE = (
    "MEC (Friedland et al. 2018, TFMeter): the first weighted layer adds its parameter count; every later weighted "
    "layer adds min(its parameter count, the narrowest activation before it, input included, at 1 bit per scalar "
    "output). Conv (our extension): a filter is one neuron with k·k·C_in+1 shared weights, a conv/pool activation "
    "is C·H·W outputs; BatchNorm folds into its conv (0 bits); dropout and activations add nothing; a residual "
    "block adds its convs by the same rule and emits the C·H·W of its sum."
)

#: the convolution part of `RULE` on its own, for the docs and the report
CONV_RULE = (
    "a conv filter is one neuron (k·k·C_in + 1 shared parameters); a conv or pooling activation emits C·H·W bits; "
    "each layer after the first is capped by the narrowest activation before it, the input included"
)


@dataclass(frozen=True)
class LayerMEC:
    """One layer's share: its parameters, the activation it emits, the cap rule 4 put on it, and the bits it adds."""

    index: int                        # 1-based position in ArchSpec.layers
    kind: str
    params: int                       # trainable parameters (as `count_params` counts them)
    shape_out: tuple[int, ...]        # (C, H, W) before flatten/pooling to a vector, (units,) after
    units_out: int                    # scalar outputs = the bits this activation can emit (rule 1)
    cap_bits: int | None              # narrowest earlier activation (rule 4); None for the first weighted layer
    bits: int                         # capacity this layer adds

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MEC:
    """Memory-equivalent capacity of one architecture on one input shape, with the per-layer breakdown."""

    arch: str
    modality: str
    input_shape: tuple[int, int, int]
    n_classes: int
    width: float
    params: int
    mec_bits: int
    rule: str
    layers: tuple[LayerMEC, ...]
    uncounted: tuple[str, ...] = ()   # a user module's layers of types the rule does not know (`mec_module`)
    notes: tuple[str, ...] = ()

    def to_dict(self, *, layers: bool = True) -> dict:
        d = {
            "arch": self.arch, "params": self.params, "mec_bits": self.mec_bits, "rule": self.rule,
            "uncounted": list(self.uncounted), "notes": list(self.notes),
            "modality": self.modality, "input_shape": list(self.input_shape), "classes": self.n_classes,
            "width": self.width, "bits_per_param": self.mec_bits / self.params if self.params else None,
        }
        if layers:
            d["layers"] = [layer.to_dict() for layer in self.layers]
        return d


def mec_bits(
    arch: str | ArchSpec,
    *,
    modality: ArchModality = "image",
    input_shape: tuple[int, int, int] | None = None,
    n_classes: int | None = None,
    width: float = 1.0,
) -> MEC:
    """MEC in bits of architecture ``arch`` (A–F or an `ArchSpec`) on inputs C×H×W with ``n_classes`` logits.

    Walks the layer specs as `build_model` does (same shapes, same parameter counts, same width rounding), and
    applies `RULE` layer by layer. ``input_shape``/``n_classes`` default to the paper's (3×32×32, 10 classes for
    images; 1×96×173, 12 for audio). Raises ConfigError for unknown architectures, bad widths or class counts, and
    inputs too small for the architecture's downsampling.
    """
    spec = get_arch(arch, modality=modality)
    paper_shape, paper_classes = PAPER_INPUT[spec.modality]
    shape = check_model_args(paper_shape if input_shape is None else input_shape,
                             paper_classes if n_classes is None else int(n_classes), width)
    k = paper_classes if n_classes is None else int(n_classes)
    c, h, w = shape
    flat: int | None = None
    narrowest = c * h * w             # rule 4's running cap: the narrowest activation so far, input included
    first_weighted = True
    rows: list[LayerMEC] = []
    for i, layer in enumerate(spec.layers, start=1):
        params, cap, bits = 0, None, 0
        if layer.kind == "conv":
            assert flat is None, f"{spec.name}: conv after flatten"
            out = scaled_units(layer.out, width=width, n_classes=k)
            params = out * (layer.kernel * layer.kernel * c + 1)
            c, h, w = out, conv_out(h, layer, spec.padding), conv_out(w, layer, spec.padding)
        elif layer.kind == "res":
            # a basic block is its convs (rule 2 each, capped by rule 4 each; BN folds in, 0 bits) and the add,
            # whose output C·H·W is the next activation; the shortcut projection is a conv too
            assert flat is None, f"{spec.name}: residual block after flatten"
            out = scaled_units(layer.out, width=width, n_classes=k)
            h2, w2 = conv_out(h, layer, "same"), conv_out(w, layer, "same")
            convs = [9 * c * out, 9 * out * out] + ([c * out] if (layer.stride != 1 or c != out) else [])
            params = sum(convs) + 2 * out * len(convs)
            inner = min(narrowest, out * h2 * w2)
            # conv 2 reads conv 1's activation; conv 1 and the shortcut read the block's input
            bits = sum(min(p, inner if j == 1 else narrowest) for j, p in enumerate(convs))
            cap = narrowest
            c, h, w = out, h2, w2
        elif layer.kind == "dense":
            assert flat is not None, f"{spec.name}: dense before flatten"
            out = scaled_units(layer.out, width=width, n_classes=k)
            params = out * (flat + 1)
            flat = out
        elif layer.kind == "maxpool":
            h, w = pool_out(h, layer), pool_out(w, layer)
        elif layer.kind == "batchnorm":
            params = 2 * c            # γ and β; they fold into the conv before, so they add no bits
        elif layer.kind == "flatten":
            flat = c * h * w
        elif layer.kind == "gap":
            flat = c
        if flat is None and (h < 1 or w < 1):
            raise ConfigError(
                f"input {'×'.join(map(str, shape))} is too small for {spec.modality} arch {spec.name}: "
                f"layer {i} ({layer.kind}) would output {h}×{w}",
                where="--input-shape", fix="use larger inputs or an architecture with fewer downsampling layers",
            )
        if layer.kind == "res":
            first_weighted = False
        elif layer.kind in ("conv", "dense"):
            if first_weighted:
                bits, first_weighted = params, False
            else:
                cap = narrowest
                bits = min(params, cap)
        units = flat if flat is not None else c * h * w
        rows.append(LayerMEC(index=i, kind=layer.kind, params=params,
                             shape_out=(flat,) if flat is not None else (c, h, w), units_out=units,
                             cap_bits=cap, bits=bits))
        narrowest = min(narrowest, units)
    assert flat == k, f"{spec.name}: the last layer must produce the logits"
    return MEC(arch=spec.name, modality=spec.modality, input_shape=shape, n_classes=k, width=float(width),
               params=sum(r.params for r in rows), mec_bits=sum(r.bits for r in rows), rule=RULE, layers=tuple(rows))


def mec_table(
    archs: Iterable[str] | None = None,
    *,
    modality: ArchModality = "image",
    input_shape: tuple[int, int, int] | None = None,
    n_classes: int | None = None,
    width: float = 1.0,
) -> list[MEC]:
    """`mec_bits` for several architectures (default: all of the modality's A–F), in the order given."""
    names = list(ARCHS[modality]) if archs is None else [str(a) for a in archs]
    return [mec_bits(a, modality=modality, input_shape=input_shape, n_classes=n_classes, width=width) for a in names]


def dense_mec_bits(widths: Iterable[int]) -> int:
    """MEC of a fully connected network with layer widths [d, h1, …, out] (input first), by TFMeter's total:
    h1·(d + 1) + Σ over later layers of the narrowest earlier width. A single perceptron [d, 1] has d + 1 bits."""
    ws = [int(v) for v in widths]
    if len(ws) < 2 or any(v < 1 for v in ws):
        raise ConfigError(f"widths must be ≥ 2 positive layer sizes (input first); got {ws}", fix="e.g. [784, 128, 10]")
    return ws[1] * (ws[0] + 1) + sum(min(ws[:j]) for j in range(2, len(ws)))


def generalization_ratio(*, correct: int, mec_bits: float) -> float:
    """TFMeter's generalisation: correctly classified items per bit of MEC. TFMeter counts the correct items of the
    training and the test set together (``(correct train + correct test) / total capacity``); pass that sum. Above
    1 the model classifies more items than it could have memorised, so it must have generalised."""
    if mec_bits <= 0:
        raise ConfigError(f"mec_bits must be positive; got {mec_bits}", fix="compute it with mec_bits(...)")
    if correct < 0:
        raise ConfigError(f"correct must be a count ≥ 0; got {correct}", fix="count the correctly classified items")
    return float(correct) / float(mec_bits)
