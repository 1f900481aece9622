"""An example model factory for `--model mynet:make` (run with PYTHONPATH=examples).

helmholtz calls ``make(input_shape=(C, H, W), n_classes=K, width=w)`` and trains what it returns: any
``torch.nn.Module`` mapping a float batch N×C×H×W in [0, 1] to N×K logits. ``width`` lets `--widths 0.25,0.5,1`
make a family of sizes from this one function.
"""

from torch import nn


def make(input_shape, n_classes, width=1.0):
    c, _, _ = input_shape
    k = max(4, round(32 * width))
    return nn.Sequential(
        nn.Conv2d(c, k, 3, padding=1), nn.BatchNorm2d(k), nn.ReLU(),
        nn.Conv2d(k, 2 * k, 3, stride=2, padding=1), nn.BatchNorm2d(2 * k), nn.ReLU(),
        nn.Conv2d(2 * k, 2 * k, 3, stride=2, padding=1), nn.BatchNorm2d(2 * k), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * k, n_classes),
    )
