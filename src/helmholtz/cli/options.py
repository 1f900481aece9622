"""Arguments and options shared by several commands (`inspect`, `compress`, `train`, `sweep`, `demo`), declared once so help texts and defaults never drift.

Recipe defaults depend on the modality (DESIGN.md): images use the paper's Keras SGD recipe with batch 128, audio
uses Adadelta with batch 50. Options left unset (None) take the modality's default in `train_options`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from helmholtz.errors import ConfigError
from helmholtz.train.spec import TrainOptions

DatasetArg = Annotated[str, typer.Argument(
    metavar="DATASET", help="A known name (fashion-mnist, mnist, cifar10) or a path: CIFAR-10 batches folder, "
                            "IDX folder, image folder with one subfolder per class, .npz, or WAV folder.")]
SampleRate = Annotated[int, typer.Option("--sample-rate", help="Audio: resample every clip to this rate (Hz).")]
Duration = Annotated[float, typer.Option("--duration", help="Audio: cut or pad every clip to this length (s).")]
TrainSize = Annotated[int | None, typer.Option("--train-size", help="Stratified subset of the training pool (before the validation split).")]
TestSize = Annotated[int | None, typer.Option("--test-size", help="Stratified subset of the test split.")]
ValFraction = Annotated[float | None, typer.Option("--val-fraction", help="Share of the training pool held out for validation \\[default: 0.1 images, 0.25 audio].")]
SplitSeed = Annotated[int, typer.Option("--split-seed", help="Seed of the fixed train/validation split (independent of --seed).")]
Epochs = Annotated[int, typer.Option("--epochs", help="Maximum epochs per run (paper: 200).")]
Patience = Annotated[int, typer.Option("--patience", help="Early stopping: epochs without a better validation accuracy.")]
OptimizerOpt = Annotated[str | None, typer.Option("--optimizer", help="sgd | adadelta | adam \\[default: sgd for images, adadelta for audio].")]
Lr = Annotated[float | None, typer.Option("--lr", help="Learning rate \\[default: sgd 0.01, adadelta 1.0, adam 0.001].")]
LrDecay = Annotated[float | None, typer.Option("--lr-decay", help="Keras-style decay per step: lr / (1 + decay·step) \\[default: 1e-6 for sgd (the paper), 0 for adadelta and adam (Keras)].")]
Momentum = Annotated[float, typer.Option("--momentum", help="Nesterov momentum for sgd.")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Items per step \\[default: 128 images, 50 audio].")]
Width = Annotated[float, typer.Option("--width", help="Multiplier on every hidden channel and unit count (0.25 for CPU-sized runs).")]
WeightDecay = Annotated[float, typer.Option("--weight-decay", help="L2 weight decay coefficient.")]
LabelSmoothing = Annotated[float, typer.Option("--label-smoothing", help="Label smoothing ε.")]
Augment = Annotated[bool, typer.Option("--augment/--no-augment", help="Images: random shift ≤10% and horizontal flip.")]
PrecisionOpt = Annotated[str, typer.Option("--precision", help="auto | fp32 | bf16 (auto: bf16 autocast where supported).")]
Compile = Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile each model.")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]

_CHOICES = {"optimizer": ("sgd", "adadelta", "adam"), "precision": ("auto", "fp32", "bf16")}


def train_options(
    *,
    modality: Literal["image", "audio"],
    epochs: int = 200,
    patience: int = 10,
    optimizer: str | None = None,
    lr: float | None = None,
    lr_decay: float | None = None,
    momentum: float = 0.9,
    batch_size: int | None = None,
    width: float = 1.0,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    augment: bool = True,
    precision: str = "auto",
    compile: bool = False,
) -> TrainOptions:
    """Validate CLI values and fill the modality's recipe defaults. Raises ConfigError naming the option."""
    optimizer = optimizer or ("sgd" if modality == "image" else "adadelta")
    batch_size = batch_size or (128 if modality == "image" else 50)
    for name, value in (("optimizer", optimizer), ("precision", precision)):
        if value not in _CHOICES[name]:
            raise ConfigError(f"--{name} got {value!r}; expected one of {', '.join(_CHOICES[name])}", fix=f"e.g. --{name} {_CHOICES[name][0]}")
    checks = (
        ("--epochs", epochs, epochs >= 1, "an integer ≥ 1"),
        ("--patience", patience, patience >= 1, "an integer ≥ 1"),
        ("--batch-size", batch_size, batch_size >= 1, "an integer ≥ 1"),
        ("--width", width, 0.0 < width <= 8.0, "a multiplier in (0, 8]"),
        ("--lr", lr, lr is None or lr > 0, "a positive number"),
        ("--lr-decay", lr_decay, lr_decay is None or lr_decay >= 0, "a number ≥ 0"),
        ("--momentum", momentum, 0 <= momentum < 1, "a number in [0, 1)"),
        ("--weight-decay", weight_decay, weight_decay >= 0, "a number ≥ 0"),
        ("--label-smoothing", label_smoothing, 0 <= label_smoothing < 1, "a number in [0, 1)"),
    )
    for flag, value, ok, expected in checks:
        if not ok:
            raise ConfigError(f"{flag} must be {expected}; got {value}", fix=f"pass a valid {flag}")
    return TrainOptions(
        epochs=epochs, patience=patience, optimizer=optimizer, lr=lr, lr_decay=lr_decay, momentum=momentum,
        batch_size=batch_size, width=width, weight_decay=weight_decay, label_smoothing=label_smoothing,
        augment=augment and modality == "image", precision=precision, compile=compile,
    )
