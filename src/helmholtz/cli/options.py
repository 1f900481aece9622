"""Arguments and options shared by several commands (`inspect`, `compress`, `train`, `sweep`, `demo`), declared once so help texts and defaults never drift.

Training options come from a named recipe (`helmholtz.train.recipes`): ``paper`` (images: Keras SGD, batch 128,
≤200 epochs; audio: Adadelta, batch 50) or ``fast`` (few epochs on a CPU). Options left unset (None) take the
recipe's value for the modality in `train_options`; options given explicitly override it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from helmholtz.train.recipes import checked_options

DatasetArg = Annotated[str, typer.Argument(
    metavar="DATASET", help="A known name (fashion-mnist, mnist, cifar10) or a path: CIFAR-10 batches folder, "
                            "IDX folder, image folder with one subfolder per class, .npz, or WAV folder.")]
SampleRate = Annotated[int, typer.Option("--sample-rate", help="Audio: resample every clip to this rate (Hz).")]
Duration = Annotated[float, typer.Option("--duration", help="Audio: cut or pad every clip to this length (s).")]
TrainSize = Annotated[int | None, typer.Option("--train-size", help="Stratified subset of the training pool (before the validation split).")]
TestSize = Annotated[int | None, typer.Option("--test-size", help="Stratified subset of the test split.")]
ValFraction = Annotated[float | None, typer.Option("--val-fraction", help="Share of the training pool held out for validation \\[default: 0.1 images, 0.25 audio].")]
SplitSeed = Annotated[int, typer.Option("--split-seed", help="Seed of the fixed train/validation split (independent of --seed).")]
RecipeOpt = Annotated[str, typer.Option("--recipe", help="paper | fast: the preset every training option below starts from "
                                                        "(paper: the paper's, up to 200 epochs; fast: converges in few epochs on a CPU).")]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Maximum epochs per run; onecycle/cosine schedules span it \\[default: the recipe's; paper 200, fast 24].")]
Patience = Annotated[int | None, typer.Option("--patience", help="Early stopping: epochs without a better validation accuracy \\[default: the recipe's].")]
OptimizerOpt = Annotated[str | None, typer.Option("--optimizer", help="sgd | adadelta | adam \\[default: the recipe's; paper: sgd images, adadelta audio; fast: adam].")]
Lr = Annotated[float | None, typer.Option("--lr", help="Learning rate (the peak of onecycle/cosine) \\[default: the recipe's; paper: sgd 0.01, adadelta 1.0; fast: adam 0.004 images, 0.01 audio].")]
LrDecay = Annotated[float | None, typer.Option("--lr-decay", help="Keras-style decay per step: lr / (1 + decay·step), schedule keras_decay \\[default: 1e-6 for sgd (the paper), 0 for adadelta and adam (Keras)].")]
Schedule = Annotated[str | None, typer.Option("--schedule", help="keras_decay | onecycle | cosine: lr schedule; onecycle and cosine "
                                                                 "anneal to 0 at the epoch cap \\[default: the recipe's].")]
Select = Annotated[str | None, typer.Option("--select", help="The weights tested: best (the best validation epoch, the paper's) or last (the last epoch: an annealed schedule's endpoint) \\[default: the recipe's].")]
NMels = Annotated[int | None, typer.Option("--n-mels", help="Audio: log-mel bands of the features \\[default: the recipe's; paper 96, fast 48].")]
Fmax = Annotated[float | None, typer.Option("--fmax", help="Audio: top of the mel filterbank in Hz \\[default: sr/2, 22050 at 44.1 kHz: librosa's, the paper's].")]
Hop = Annotated[int | None, typer.Option("--hop", help="Audio: STFT hop of the features in samples \\[default: the recipe's; paper 512, librosa's: 2 s → 173 frames; fast 1024].")]
WarmupEpochs = Annotated[float | None, typer.Option("--warmup-epochs", help="Linear lr warm-up from 0 over this many epochs \\[default: the recipe's].")]
Momentum = Annotated[float | None, typer.Option("--momentum", help="Nesterov momentum for sgd.")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Items per step \\[default: the recipe's; paper 128 images, 50 audio; fast 128 images, 16 audio].")]
Width = Annotated[float, typer.Option("--width", help="Multiplier on every hidden channel and unit count (0.25 for CPU-sized runs).")]
WeightDecay = Annotated[float | None, typer.Option("--weight-decay", help="L2 weight decay coefficient.")]
LabelSmoothing = Annotated[float | None, typer.Option("--label-smoothing", help="Label smoothing ε \\[default: the recipe's; 0].")]
Augment = Annotated[bool | None, typer.Option("--augment/--no-augment", help="Images: random shift ≤10% and horizontal flip \\[default: the recipe's; paper on, fast off].")]
PrecisionOpt = Annotated[str, typer.Option("--precision", help="auto | fp32 | bf16 (auto: bf16 autocast where supported).")]
Compile = Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile each model.")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]

# validated against the recipe's preset in `helmholtz.train.recipes.checked_options` (the CLI and the API share it)
train_options = checked_options
ModelOpt = Annotated[str | None, typer.Option("--model", help="Your own model: MODULE:FACTORY, called as factory(input_shape=(C, H, W), n_classes=K, width=w) and returning an nn.Module (logits); a comma list may mix in built-ins (A..F, R8, R20). NAME@W fixes a width.")]
Widths = Annotated[str | None, typer.Option("--widths", help="A family of sizes from each model: 0.25,0.5,1 (each member's parameter count is reported).")]
ImageColumn = Annotated[str | None, typer.Option("--image-column", help="Parquet: the column holding the images (default: detected: a struct with bytes, or raw encoded bytes).")]
LabelColumn = Annotated[str | None, typer.Option("--label-column", help="Parquet: the column holding the labels (default: label/labels/class/target, else the only integer or string column).")]
