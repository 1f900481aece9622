"""The one builder that turns an `ArchSpec` (layer specs) into a torch ``nn.Sequential``.

Shapes are tracked by arithmetic while building, so any input C×H×W works and flatten sizes need no dry run.
'same' padding reproduces Keras' output sizes: ceil(n / stride) (a 3×3 stride-2 conv uses padding 1).
"""

from __future__ import annotations

import torch
from torch import nn

from helmholtz.errors import ConfigError
from helmholtz.models.layers import ArchSpec, conv_out, pool_out, scaled_units


def keras_init_(model: nn.Module) -> nn.Module:
    """Keras defaults: glorot_uniform kernels, zero biases (BatchNorm keeps γ = 1, β = 0)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Glorot & Bengio's uniform limit sqrt(6/(fan_in+fan_out))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


class StridedPointwise(nn.Conv2d):
    """A 1×1 convolution with a stride, computed as the subsampled input through a stride-1 1×1 convolution: the
    same function and the same parameters (``weight``), but torch 2.13's CPU backward of a strided 1×1 conv in
    channels_last with ≤ 4 input channels hangs or corrupts the heap ("double free or corruption", measured on an
    AVX2-only AMD EPYC with R8 at ¼ width), and this form never calls it."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__(c_in, c_out, 1, bias=False)
        self.step = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x[:, :, ::self.step, ::self.step] if self.step > 1 else x)


class BasicBlock(nn.Module):
    """The residual block of a ``res`` layer (He et al. 2016): two 3×3 convs with BatchNorm, the input added back
    (through a 1×1 projection with BatchNorm when the stride or the channel count changes), ReLU after the sum."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(StridedPointwise(c_in, c_out, stride),
                                          nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def build_sequential(spec: ArchSpec, *, input_shape: tuple[int, int, int], n_classes: int, width: float) -> nn.Sequential:
    """Walk the layer specs, tracking the activation shape (C, H, W) or flat features, and emit torch modules."""
    c, h, w = input_shape
    flat: int | None = None           # feature count once flattened (or pooled)
    modules: list[nn.Module] = []
    for i, layer in enumerate(spec.layers):
        kind = layer.kind
        if kind == "conv":
            assert flat is None, f"{spec.name}: conv after flatten"
            out = scaled_units(layer.out, width=width, n_classes=n_classes)
            pad = layer.kernel // 2 if spec.padding == "same" else 0
            modules.append(nn.Conv2d(c, out, layer.kernel, stride=layer.stride, padding=pad))
            c, h, w = out, conv_out(h, layer, spec.padding), conv_out(w, layer, spec.padding)
        elif kind == "res":
            assert flat is None, f"{spec.name}: residual block after flatten"
            out = scaled_units(layer.out, width=width, n_classes=n_classes)
            modules.append(BasicBlock(c, out, layer.stride))
            c, h, w = out, conv_out(h, layer, "same"), conv_out(w, layer, "same")
        elif kind == "maxpool":
            modules.append(nn.MaxPool2d(layer.kernel, stride=layer.stride))  # Keras 'valid' pooling: floor
            h, w = pool_out(h, layer), pool_out(w, layer)
        elif kind == "batchnorm":
            # per-channel BatchNorm; Keras' default momentum 0.99 is PyTorch momentum 0.01, eps 1e-3
            modules.append(nn.BatchNorm2d(c, eps=1e-3, momentum=0.01))
        elif kind == "dense":
            assert flat is not None, f"{spec.name}: dense before flatten"
            out = scaled_units(layer.out, width=width, n_classes=n_classes)
            modules.append(nn.Linear(flat, out))
            flat = out
        elif kind == "flatten":
            modules.append(nn.Flatten())
            flat = c * h * w
        elif kind == "gap":
            modules.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
            flat = c
        elif kind == "relu":
            modules.append(nn.ReLU(inplace=True))
        elif kind == "elu":
            modules.append(nn.ELU(inplace=True))
        elif kind == "dropout":
            modules.append(nn.Dropout(layer.p))
        else:  # pragma: no cover - the Literal type closes the set
            raise AssertionError(f"unknown layer kind {kind!r}")
        if flat is None and (h < 1 or w < 1):
            raise ConfigError(
                f"input {'×'.join(map(str, input_shape))} is too small for {spec.modality} arch {spec.name}: "
                f"layer {i + 1} ({kind}) would output {h}×{w}",
                where="input_shape",
                fix=("use longer clips (--duration), a smaller --hop or more --n-mels, or an architecture with "
                     "fewer downsampling layers" if spec.modality == "audio"
                     else "use larger inputs or an architecture with fewer downsampling layers"),
            )
    assert flat == n_classes, f"{spec.name}: the last layer must produce the logits"
    return keras_init_(nn.Sequential(*modules))


@torch.no_grad()
def output_shape(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the model's output for one input (a dry run in eval mode; used by tests and `archs`)."""
    was = model.training
    model.eval()
    out = model(torch.zeros(1, *input_shape))
    model.train(was)
    return tuple(out.shape[1:])
