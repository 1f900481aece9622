"""Batch augmentation on the device, airbench style: one gather per batch, no per-sample Python.

The paper's Keras ImageDataGenerator used ``width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True``
with its default ``fill_mode='nearest'``: pixels shifted in from outside repeat the edge pixel. We draw integer
shifts uniformly from [−⌊0.1·W⌋, ⌊0.1·W⌋] (and likewise for H), so a shift never exceeds 10 % of the side
(Keras draws a real shift and rounds it, which can reach one pixel more). ``fill="zero"`` pads with black instead.
"""

from __future__ import annotations

from typing import Literal

import torch

Fill = Literal["nearest", "zero"]


def max_shift(size: int, fraction: float = 0.1) -> int:
    """Largest whole-pixel shift within ``fraction`` of ``size`` (28 → 2, 32 → 3)."""
    return int(size * fraction + 1e-9)


def augment_nhwc(
    images: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    shift: float = 0.1,
    flip: bool = True,
    fill: Fill = "nearest",
    return_params: bool = False,
):
    """Randomly shift (≤ ``shift`` of each side) and horizontally flip a batch of N×H×W×C images.

    Works on any dtype (the training loop passes the uint8 batch, so the gather moves 1 byte per pixel). The
    random numbers come from ``generator`` (on the images' device) so a seeded run is reproducible. With
    ``return_params`` also returns (dy, dx, flipped): each image is mirrored (if flipped), then shifted, so output
    pixel (i, j) = mirrored input (i − dy, j − dx), with 'nearest' clamping (or zero) outside the image.
    """
    n, h, w = images.shape[:3]
    dev = images.device
    sy, sx = max_shift(h, shift), max_shift(w, shift)
    dy = torch.randint(-sy, sy + 1, (n,), device=dev, generator=generator)
    dx = torch.randint(-sx, sx + 1, (n,), device=dev, generator=generator)
    flipped = (torch.rand(n, device=dev, generator=generator) < 0.5) if flip else torch.zeros(n, dtype=torch.bool, device=dev)
    rows = torch.arange(h, device=dev)[None, :] - dy[:, None]                       # N×H source rows
    cols = torch.arange(w, device=dev)[None, :] - dx[:, None]                       # N×W columns of the mirror
    src_cols = torch.where(flipped[:, None], w - 1 - cols.clamp(0, w - 1), cols.clamp(0, w - 1))
    out = images[torch.arange(n, device=dev)[:, None, None], rows.clamp(0, h - 1)[:, :, None], src_cols[:, None, :]]
    if fill == "zero":
        inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
        out = out * inside[..., None].to(out.dtype)
    elif fill != "nearest":
        raise ValueError(f"fill must be 'nearest' or 'zero'; got {fill!r}")
    if return_params:
        return out, (dy, dx, flipped)
    return out
