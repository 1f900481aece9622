"""A training run as an object that is stepped, an epoch at a time: `TrainingRun`, and the part of it that every
trainer shares, `EpochTrainer`.

The file reads like the run: resolve device and precision → put the data on the device (images as uint8) → build
the model (Keras init) → per epoch: `step()` (shuffle, augment a whole batch on the device, one optimizer step per
batch), then `evaluate()` on validation, keeping the best-validation weights (Algorithm 7.1) → `finish()`: restore
them, read the test split once → `RunResult`. `train_run` is the loop ``while not run.done: step;
evaluate``; an engine that trains several models on one level's data can interleave their steps instead.
`capacity/memorise.py` trains with `EpochTrainer` alone (no validation split, its own stopping rule).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from helmholtz.data.dataset import Dataset
from helmholtz.models.archs import count_params
from helmholtz.models.factory import build, check_name, provenance
from helmholtz.provenance import code_version, host_info, library_versions
from helmholtz.train.batchnorm import calibration_indices, has_batchnorm, recalibrate_batchnorm
from helmholtz.train.convergence import EarlyStopping, epochs_to_converge
from helmholtz.train.device import describe_device, resolve_device, resolve_precision, use_channels_last
from helmholtz.train.loop import (
    DeviceSplit,
    ProgressFn,
    autocast_for,
    check_data,
    evaluate,
    make_optimizer,
    maybe_compile,
    model_input_shape,
    state_bytes,
    utc_now,
)
from helmholtz.train.schedule import make_schedule
from helmholtz.train.spec import EpochRow, RunResult, RunSpec

BatchFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]   # item indices → (model inputs, labels)


class EpochTrainer:
    """A model, its optimizer and learning-rate schedule, and a seeded shuffle. `train_epoch` is one epoch: a fresh
    permutation of the n training items from ``generator``, then one optimizer step per batch of ``batch_size``
    items (the last batch may be smaller), the learning rate of update number s (0-based, counted over the whole
    run) being ``lr_at(s)``. ``batch(idx)`` gives the model inputs and labels of the items ``idx`` (augmented, for
    a training split that augments: it may draw from the same generator, after the permutation)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, lr_at: Callable[[int], float], *,
                 batch: BatchFn, n: int, batch_size: int, generator: torch.Generator, device: torch.device,
                 precision: str = "fp32", label_smoothing: float = 0.0, grad_clip: float = 0.0) -> None:
        self.model, self.optimizer, self.lr_at, self.batch = model, optimizer, lr_at, batch
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.device, self.precision, self.label_smoothing = device, precision, label_smoothing
        self.grad_clip = grad_clip    # > 0: the gradients' global norm is clipped to it before every step
        self.epoch = 0                # epochs trained
        self.steps = 0                # optimizer steps taken

    def train_epoch(self, on_progress: ProgressFn | None = None) -> tuple[float, float]:
        """Train one epoch; returns its mean training loss and accuracy (train mode, as the batches went by).
        ``on_progress(epoch, items done, items per epoch)`` is called after each optimizer step."""
        self.epoch += 1
        model, opt, dev, n, bs = self.model, self.optimizer, self.device, self.n, self.batch_size
        model.train()
        loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        perm = torch.randperm(n, device=dev, generator=self.generator)
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            x, y = self.batch(idx)
            for group in opt.param_groups:
                group["lr"] = self.lr_at(self.steps)
            with autocast_for(dev, self.precision):
                logits = model(x)
            loss = nn.functional.cross_entropy(logits.float(), y, label_smoothing=self.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), self.grad_clip)
            opt.step()
            self.steps += 1
            # accumulate on the device: a .item() per step would stall a GPU
            loss_sum += loss.detach() * len(idx)
            correct += (logits.detach().argmax(1) == y).sum()
            if on_progress is not None:
                on_progress(self.epoch, min(start + bs, n), n)
        return loss_sum.item() / n, correct.item() / n   # .item() syncs, so a caller's timing is honest


class TrainingRun:
    """One run of ``spec`` on ``data`` (already through the codec and `prepare_inputs`), stepped by its caller.

    A step is one epoch: `step()` trains it, `evaluate()` measures it on the validation split and appends its
    `EpochRow` to ``history`` (one row per step), keeping the weights of the best validation accuracy. ``done``
    turns True after the `evaluate()` of the epoch cap or of the epoch at which early stopping's patience ran out.
    `finish()` restores the kept weights and reads the test split, once, into the `RunResult`. Everything random
    is seeded from ``spec.seed`` here, in `__init__`, in the same order as `train_run` always did: the global torch
    RNG (model init, dropout), then one ``torch.Generator`` for shuffling and augmentation.
    """

    def __init__(self, spec: RunSpec, data: Dataset, *, device: str | torch.device | None = None) -> None:
        self.started_at, self._t_start = utc_now(), time.perf_counter()
        self.spec, self.data = spec, data
        opts = self.options = spec.options
        check_data(spec, data)
        check_name(spec.arch, modality=spec.modality)  # unknown names and unimportable factories fail before data moves
        dev = self.device = resolve_device(device)
        precision = self.precision = resolve_precision(opts.precision, dev)
        self.channels_last = use_channels_last(dev, precision)
        if dev.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input shapes: let cuDNN pick the fastest kernels once

        torch.manual_seed(spec.seed)
        gen = torch.Generator(device=dev)
        gen.manual_seed(spec.seed)

        self.train = train = DeviceSplit(data.x_train, data.y_train, device=dev, channels_last=self.channels_last)
        self.val = DeviceSplit(data.x_val, data.y_val, device=dev, channels_last=self.channels_last)
        input_shape = model_input_shape(data.x_train, spec.modality)
        model = build(spec.arch, modality=spec.modality, input_shape=input_shape, n_classes=data.n_classes,
                      width=opts.width)
        self.model = model.to(dev, memory_format=torch.channels_last if self.channels_last else torch.contiguous_format)
        self.n_params = count_params(self.model)
        key = (spec.modality, spec.arch, input_shape, data.n_classes, opts.width, str(dev), precision)
        self.step_model = maybe_compile(self.model, key, opts.compile)
        self.optimizer = make_optimizer(self.model.parameters(), opts)
        augment = opts.augment and spec.modality == "image"
        self.stopper = EarlyStopping(opts.patience)
        self.recalibrate_bn = has_batchnorm(self.model)  # audio models: exact BN statistics before each evaluation

        n, bs = len(train), opts.batch_size
        # annealing schedules span the epoch cap, so early stopping never changes the lr of the epochs that did run
        self.lr_at = make_schedule(opts.schedule, lr0=opts.resolved_lr, decay=opts.resolved_lr_decay,
                                   epochs=opts.epochs, steps_per_epoch=-(-n // bs), warmup_epochs=opts.warmup_epochs)
        self.trainer = EpochTrainer(
            self.step_model, self.optimizer, self.lr_at, n=n, batch_size=bs, generator=gen, device=dev,
            batch=lambda idx: (train.batch(idx, augment=augment, generator=gen), train.y[idx]),
            precision=precision, label_smoothing=opts.label_smoothing, grad_clip=opts.grad_clip,
        )
        self.history: list[EpochRow] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.train_seconds, self.train_items = 0.0, 0
        self.done = False
        self.finished = False
        self._pending: tuple[float, float, float] | None = None   # a stepped epoch: (its start, train loss, acc)

    @property
    def epoch(self) -> int:
        """Epochs trained so far (1-based number of the last one)."""
        return self.trainer.epoch

    def step(self, on_progress: ProgressFn | None = None) -> None:
        """Train one epoch (shuffle, augment, one optimizer step per batch); `evaluate` must follow before the
        next step. ``on_progress(epoch, items done, items per epoch)`` is called after each optimizer step."""
        assert not self.done and self._pending is None, "step() after the run is done, or twice without evaluate()"
        t_epoch = time.perf_counter()
        train_loss, train_acc = self.trainer.train_epoch(on_progress)
        self.train_seconds += time.perf_counter() - t_epoch
        self.train_items += self.trainer.n
        self._pending = (t_epoch, train_loss, train_acc)

    def evaluate(self) -> EpochRow:
        """Measure the epoch just stepped on the validation split, keep its weights when they are the best so far,
        append its `EpochRow` to ``history``, and set ``done`` when the run should stop."""
        assert self._pending is not None, "evaluate() needs a step() first"
        t_epoch, train_loss, train_acc = self._pending
        self._pending = None
        dev, precision, epoch = self.device, self.precision, self.trainer.epoch
        if self.recalibrate_bn:
            with autocast_for(dev, precision):
                recalibrate_batchnorm(self.model, (self.train.batch(i)
                                                   for i in calibration_indices(len(self.train), device=dev)))
        val_loss, val_acc = evaluate(self.step_model, self.val, device=dev, precision=precision)
        if self.stopper.update(val_acc, epoch) and self.options.select == "best":
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        row = EpochRow(
            epoch=epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss, val_acc=val_acc,
            lr=self.lr_at(self.trainer.steps), seconds=time.perf_counter() - t_epoch,
        )
        self.history.append(row)
        self.done = self.stopper.should_stop or epoch >= self.options.epochs
        return row

    def finish(self, *, keep_weights: bool = False) -> RunResult:
        """Restore the selected weights (best validation, or the last epoch's with ``select='last'``), evaluate
        them on the test split — its one read — and return the `RunResult`; ``keep_weights`` puts the weights in
        it (`RunResult.weights`). The run is over afterwards, whether or not it was ``done``."""
        assert self.history and self._pending is None and not self.finished, "finish() needs evaluated epochs, once"
        self.done = self.finished = True
        spec, opts, data, dev = self.spec, self.options, self.data, self.device
        if opts.select == "best":
            assert self.best_state is not None
            self.model.load_state_dict(self.best_state)   # "last": the weights as the last epoch left them
        # The test split is touched here and nowhere else: one read, one evaluation, with the selected weights.
        test = DeviceSplit(data.x_test, data.y_test, device=dev, channels_last=self.channels_last)
        test_loss, test_acc, test_pred = evaluate(self.step_model, test, device=dev, precision=self.precision,
                                                  predictions=True)
        history = self.history
        return RunResult(
            run_id=spec.run_id, spec=spec.to_dict(), test_acc=test_acc, test_loss=test_loss,
            best_val_acc=self.stopper.best, best_epoch=self.stopper.best_epoch,
            epochs_to_converge=epochs_to_converge([r.val_acc for r in history]),
            epochs_run=len(history), stopped_early=len(history) < opts.epochs,
            wall_s=time.perf_counter() - self._t_start,
            train_items_per_s=self.train_items / max(self.train_seconds, 1e-9),
            n_params=self.n_params, device=describe_device(dev), precision=self.precision,
            versions=library_versions(), code_version=code_version(),
            host={**host_info(), "cpu_capability": torch.backends.cpu.get_cpu_capability()},   # the kernels it ran
            started_at=self.started_at, finished_at=utc_now(),
            test_predictions=test_pred.astype(np.uint8 if data.n_classes <= 256 else np.uint16),
            n_test=len(test), n_classes=data.n_classes,
            model=provenance(spec.arch, n_params=self.n_params, width=opts.width),
            weights=state_bytes(self.model) if keep_weights else None,
        )


def train_run(
    spec: RunSpec,
    data: Dataset,
    *,
    on_epoch: Callable[[EpochRow], None] | None = None,
    device: str | torch.device | None = None,
    on_progress: ProgressFn | None = None,
    keep_weights: bool = False,
) -> tuple[RunResult, list[EpochRow]]:
    """Train ``spec.arch`` on ``data`` (already through the codec and `prepare_inputs`) and measure it: a
    `TrainingRun` stepped an epoch at a time until it is done, then finished.

    Model selection is early stopping with patience on the validation split (Algorithm 7.1): the best-validation
    weights are kept, restored at the end, and only then is the test split read — exactly once. The history also
    yields the paper's epochs_to_converge. On CPU, a given ``spec.seed`` gives an identical history: the model
    init, dropout (global torch RNG), shuffling and augmentation (a seeded ``torch.Generator``) all derive from it.
    ``on_epoch`` gets each `EpochRow` as it is measured; ``on_progress`` is called after each training step.
    ``keep_weights`` returns the best-validation weights in the result (``RunResult.weights``, `save_state`'s bytes),
    which the sweep keeps to evaluate the model on the other levels' test splits.
    """
    run = TrainingRun(spec, data, device=device)
    while not run.done:
        run.step(on_progress)
        row = run.evaluate()
        if on_epoch is not None:
            on_epoch(row)
    return run.finish(keep_weights=keep_weights), run.history
