"""The pieces of one training run: a split held on the device (images as uint8, converted per batch), the paper's
optimizers, the evaluation of a model on a whole split, compilation and autocast; `evaluate_stored` measures a
stored model on another level's test split. The run itself, and `train_run`, the loop over it, are `train.run`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import torch
from torch import nn

from helmholtz.data.dataset import Dataset
from helmholtz.errors import ConfigError, DataError
from helmholtz.models.factory import build
from helmholtz.train.augment import augment_nhwc
from helmholtz.train.device import resolve_device, use_channels_last
from helmholtz.train.spec import RunSpec, TrainOptions

ProgressFn = Callable[[int, int, int], None]   # (epoch, items done in this epoch, items per epoch)

_EVAL_BATCH = 1024                             # items per evaluation step (no gradients, so larger than training)

# ---------------------------------------------------------------- data on the device


class DeviceSplit:
    """One split held on the device: images as uint8 N×H×W×C (converted per batch), audio as float32 N×1×F×T."""

    def __init__(self, x: np.ndarray, y: np.ndarray, *, device: torch.device, channels_last: bool) -> None:
        x = np.ascontiguousarray(x)
        if not x.flags.writeable:  # e.g. a memory-mapped cache file: torch wants a writable buffer
            x = x.copy()
        self.x = torch.from_numpy(x).to(device)
        self.y = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)
        self.is_image = self.x.dtype == torch.uint8
        self.channels_last = channels_last

    def __len__(self) -> int:
        return len(self.y)

    def batch(self, idx: torch.Tensor, *, augment: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
        """Model inputs for the items ``idx``: images → (augmented) float in [0, 1], N×C×H×W."""
        x = self.x[idx]
        if self.is_image:
            if augment:
                x = augment_nhwc(x, generator=generator)
            # NHWC → NCHW is a view whose memory already is channels_last; .float() keeps those strides
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
        return x.contiguous(memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)


def model_input_shape(x: np.ndarray, modality: str) -> tuple[int, int, int]:
    return (x.shape[3], x.shape[1], x.shape[2]) if modality == "image" else tuple(x.shape[1:])


def check_data(spec: RunSpec, data: Dataset) -> None:
    if spec.modality != data.modality:
        raise ConfigError(
            f"the run is for {spec.modality} but the dataset holds {data.modality}", where=data.source,
            fix=f"use modality={data.modality!r} in the RunSpec",
        )
    x = data.x_train
    if data.modality == "image" and (x.dtype != np.uint8 or x.ndim != 4):
        raise DataError(
            f"images must be uint8 N×H×W×C; got {x.dtype} of shape {x.shape}", where=data.source,
            fix="load images with helmholtz.data.load_dataset",
        )
    if data.modality == "audio" and x.ndim != 4:
        raise DataError(
            f"audio must be features N×1×F×T for training; got shape {x.shape}", where=data.source,
            fix="pass the dataset through helmholtz.train.inputs.prepare_inputs first",
        )


# ---------------------------------------------------------------- the recipe


def make_optimizer(params, opts: TrainOptions) -> torch.optim.Optimizer:
    """The paper's Keras optimizers: SGD with Nesterov momentum (lr 0.01) or Adadelta (lr 1.0, ρ 0.95, ε 1e-7);
    Adam as an option. ``weight_decay`` is L2 added to the gradient for sgd/adadelta, decoupled (AdamW) for adam."""
    lr, wd = opts.resolved_lr, opts.weight_decay
    if opts.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=opts.momentum, nesterov=opts.momentum > 0, weight_decay=wd)
    if opts.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=1e-7, weight_decay=wd)
    if opts.optimizer == "adam":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ConfigError(f"optimizer must be sgd, adadelta or adam; got {opts.optimizer!r}", where="--optimizer", fix="e.g. --optimizer sgd")


_compiled_key: tuple | None = None


def maybe_compile(model: nn.Module, key: tuple, enabled: bool) -> nn.Module:
    """torch.compile; reset dynamo first when a different model was compiled before in this process, because a
    process that compiles many models otherwise hits the recompile limit and silently falls back to eager."""
    global _compiled_key
    if not enabled:
        return model
    if _compiled_key is not None and _compiled_key != key:
        torch._dynamo.reset()
    _compiled_key = key
    return torch.compile(model)


def autocast_for(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def evaluate(model: nn.Module, split: DeviceSplit, *, device: torch.device, precision: str,
             predictions: bool = False) -> tuple[float, float] | tuple[float, float, np.ndarray]:
    """Mean cross-entropy and accuracy of ``model`` on a whole split (eval mode, no augmentation); with
    ``predictions``, also the predicted class of every item in the split's order (int64 numpy)."""
    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    preds = []
    for start in range(0, len(split), _EVAL_BATCH):
        idx = torch.arange(start, min(start + _EVAL_BATCH, len(split)), device=device)
        with autocast_for(device, precision):
            logits = model(split.batch(idx))
        logits = logits.float()
        y = split.y[idx]
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum")
        guess = logits.argmax(1)
        correct += (guess == y).sum()
        if predictions:
            preds.append(guess)
    n = len(split)
    if predictions:
        return loss_sum.item() / n, correct.item() / n, torch.cat(preds).cpu().numpy()
    return loss_sum.item() / n, correct.item() / n


def state_bytes(model: nn.Module) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
    return buf.getvalue()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------- a stored model on another test split


def load_state(blob: bytes) -> dict[str, torch.Tensor]:
    """The inverse of the bytes in `RunResult.weights` (a state dict of CPU tensors)."""
    import io

    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)


def evaluate_stored(spec: RunSpec, state: dict[str, torch.Tensor], x_test: np.ndarray, y_test: np.ndarray, *,
                    n_classes: int, precision: str, device: str | torch.device | None = None) -> tuple[float, np.ndarray]:
    """Accuracy and per-item predictions of the run ``spec``'s stored best-validation weights on a test split (of
    any level of its sweep): the model rebuilt as in `train_run`, the weights loaded, one evaluation in eval mode
    with the run's precision and memory format, so on the run's own level it repeats the run's test accuracy."""
    dev = resolve_device(device)
    channels_last = use_channels_last(dev, precision)
    model = build(spec.arch, modality=spec.modality, input_shape=model_input_shape(x_test, spec.modality),
                  n_classes=n_classes, width=spec.options.width)
    model.load_state_dict(state)
    model = model.to(dev, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    split = DeviceSplit(x_test, y_test, device=dev, channels_last=channels_last)
    _, acc, pred = evaluate(model, split, device=dev, precision=precision, predictions=True)
    return acc, pred
