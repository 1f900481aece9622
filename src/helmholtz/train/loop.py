"""One training run: the paper's recipe, early stopping on validation, one test evaluation at the end.

The file reads like the run: resolve device and precision → put the data on the device (images as uint8) → build
the model (Keras init) → per epoch: shuffle, augment a whole batch on the device, step; evaluate on validation;
keep the best-validation weights (Algorithm 7.1) → restore them → read the test split once → `RunResult`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timezone

import numpy as np
import torch
from torch import nn

from helmholtz.data.dataset import Dataset
from helmholtz.errors import ConfigError, DataError
from helmholtz.models.archs import count_params
from helmholtz.models.factory import build, check_name, provenance
from helmholtz.provenance import code_version, host_info, library_versions
from helmholtz.train.augment import augment_nhwc
from helmholtz.train.batchnorm import calibration_indices, has_batchnorm, recalibrate_batchnorm
from helmholtz.train.convergence import EarlyStopping, epochs_to_converge
from helmholtz.train.device import describe_device, resolve_device, resolve_precision, use_channels_last
from helmholtz.train.schedule import make_schedule
from helmholtz.train.spec import EpochRow, RunResult, RunSpec, TrainOptions

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


def _input_shape(x: np.ndarray, modality: str) -> tuple[int, int, int]:
    return (x.shape[3], x.shape[1], x.shape[2]) if modality == "image" else tuple(x.shape[1:])


def _check_data(spec: RunSpec, data: Dataset) -> None:
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


def _maybe_compile(model: nn.Module, key: tuple, enabled: bool) -> nn.Module:
    """torch.compile; reset dynamo first when a different model was compiled before in this process, because a
    process that compiles many models otherwise hits the recompile limit and silently falls back to eager."""
    global _compiled_key
    if not enabled:
        return model
    if _compiled_key is not None and _compiled_key != key:
        torch._dynamo.reset()
    _compiled_key = key
    return torch.compile(model)


def _autocast(device: torch.device, precision: str):
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
        with _autocast(device, precision):
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


def _state_bytes(model: nn.Module) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
    return buf.getvalue()


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------- one run


def train_run(
    spec: RunSpec,
    data: Dataset,
    *,
    on_epoch: Callable[[EpochRow], None] | None = None,
    device: str | torch.device | None = None,
    on_progress: ProgressFn | None = None,
    keep_weights: bool = False,
) -> tuple[RunResult, list[EpochRow]]:
    """Train ``spec.arch`` on ``data`` (already through the codec and `prepare_inputs`) and measure it.

    Model selection is early stopping with patience on the validation split (Algorithm 7.1): the best-validation
    weights are kept, restored at the end, and only then is the test split read — exactly once. The history also
    yields the paper's epochs_to_converge. On CPU, a given ``spec.seed`` gives an identical history: the model
    init, dropout (global torch RNG), shuffling and augmentation (a seeded ``torch.Generator``) all derive from it.
    ``on_epoch`` gets each `EpochRow` as it is measured; ``on_progress`` is called after each training step.
    ``keep_weights`` returns the best-validation weights in the result (``RunResult.weights``, `save_state`'s bytes),
    which the sweep keeps to evaluate the model on the other levels' test splits.
    """
    started_at, t_start = _utc_now(), time.perf_counter()
    opts = spec.options
    _check_data(spec, data)
    check_name(spec.arch, modality=spec.modality)  # unknown names and unimportable factories fail before data moves
    dev = resolve_device(device)
    precision = resolve_precision(opts.precision, dev)
    channels_last = use_channels_last(dev, precision)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick the fastest kernels once

    torch.manual_seed(spec.seed)
    gen = torch.Generator(device=dev)
    gen.manual_seed(spec.seed)

    train = DeviceSplit(data.x_train, data.y_train, device=dev, channels_last=channels_last)
    val = DeviceSplit(data.x_val, data.y_val, device=dev, channels_last=channels_last)
    input_shape = _input_shape(data.x_train, spec.modality)
    model = build(spec.arch, modality=spec.modality, input_shape=input_shape, n_classes=data.n_classes, width=opts.width)
    model = model.to(dev, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    n_params = count_params(model)
    key = (spec.modality, spec.arch, input_shape, data.n_classes, opts.width, str(dev), precision)
    step_model = _maybe_compile(model, key, opts.compile)
    optimizer = make_optimizer(model.parameters(), opts)
    augment = opts.augment and spec.modality == "image"
    stopper = EarlyStopping(opts.patience)
    recalibrate_bn = has_batchnorm(model)  # audio models: exact BN statistics before each evaluation

    n, bs = len(train), opts.batch_size
    # annealing schedules span the epoch cap, so early stopping never changes the lr of the epochs that did run
    lr_at = make_schedule(opts.schedule, lr0=opts.resolved_lr, decay=opts.resolved_lr_decay, epochs=opts.epochs,
                          steps_per_epoch=-(-n // bs), warmup_epochs=opts.warmup_epochs)
    history: list[EpochRow] = []
    best_state: dict[str, torch.Tensor] | None = None
    step, train_seconds, train_items = 0, 0.0, 0
    for epoch in range(1, opts.epochs + 1):
        t_epoch = time.perf_counter()
        step_model.train()
        loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        perm = torch.randperm(n, device=dev, generator=gen)
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            x, y = train.batch(idx, augment=augment, generator=gen), train.y[idx]
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            with _autocast(dev, precision):
                logits = step_model(x)
            loss = nn.functional.cross_entropy(logits.float(), y, label_smoothing=opts.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            # accumulate on the device: a .item() per step would stall a GPU
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == y).sum()
            if on_progress is not None:
                on_progress(epoch, min(start + bs, n), n)
        train_loss, train_acc = loss_sum.item() / n, correct.item() / n   # .item() syncs, so the time is honest
        train_seconds += time.perf_counter() - t_epoch
        train_items += n

        if recalibrate_bn:
            with _autocast(dev, precision):
                recalibrate_batchnorm(model, (train.batch(i) for i in calibration_indices(n, device=dev)))
        val_loss, val_acc = evaluate(step_model, val, device=dev, precision=precision)
        if stopper.update(val_acc, epoch) and opts.select == "best":
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        row = EpochRow(
            epoch=epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss, val_acc=val_acc,
            lr=lr_at(step), seconds=time.perf_counter() - t_epoch,
        )
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if stopper.should_stop:
            break

    assert history, "at least one epoch ran"
    if opts.select == "best":
        assert best_state is not None
        model.load_state_dict(best_state)   # "last": the weights as the last epoch left them
    # The test split is touched here and nowhere else: one read, one evaluation, with the selected weights.
    test = DeviceSplit(data.x_test, data.y_test, device=dev, channels_last=channels_last)
    test_loss, test_acc, test_pred = evaluate(step_model, test, device=dev, precision=precision, predictions=True)

    result = RunResult(
        run_id=spec.run_id, spec=spec.to_dict(), test_acc=test_acc, test_loss=test_loss,
        best_val_acc=stopper.best, best_epoch=stopper.best_epoch,
        epochs_to_converge=epochs_to_converge([r.val_acc for r in history]),
        epochs_run=len(history), stopped_early=len(history) < opts.epochs,
        wall_s=time.perf_counter() - t_start, train_items_per_s=train_items / max(train_seconds, 1e-9),
        n_params=n_params, device=describe_device(dev), precision=precision,
        versions=library_versions(), code_version=code_version(), host=host_info(),
        started_at=started_at, finished_at=_utc_now(),
        test_predictions=test_pred.astype(np.uint8 if data.n_classes <= 256 else np.uint16),
        n_test=len(test), n_classes=data.n_classes,
        model=provenance(spec.arch, n_params=n_params, width=opts.width),
        weights=_state_bytes(model) if keep_weights else None,
    )
    return result, history


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
    model = build(spec.arch, modality=spec.modality, input_shape=_input_shape(x_test, spec.modality),
                  n_classes=n_classes, width=spec.options.width)
    model.load_state_dict(state)
    model = model.to(dev, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    split = DeviceSplit(x_test, y_test, device=dev, channels_last=channels_last)
    _, acc, pred = evaluate(model, split, device=dev, precision=precision, predictions=True)
    return acc, pred
