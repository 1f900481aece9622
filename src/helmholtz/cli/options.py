"""Arguments and options shared by several commands (`inspect`, `compress`, `train`, `sweep`, `demo`), declared once so help texts and defaults never drift.

The training options are generated, not written here: `recipe_options` adds every option of their one
declaration (`helmholtz.train.options.RECIPE_OPTIONS`, read through ``helmholtz.api.RECIPE_OPTIONS``) to a
command. They come from a named recipe (`helmholtz.train.recipes`): ``paper`` (images: Keras SGD, batch 128,
≤200 epochs; audio: Adadelta, batch 50) or ``fast`` (few epochs on a CPU). Options left unset (None) take the
recipe's value for the modality (`helmholtz.api.train_options`); options given explicitly override it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from helmholtz.api import RECIPE_OPTIONS

_Command = TypeVar("_Command", bound=Callable[..., Any])
_DECLARED = {opt.name: opt for opt in RECIPE_OPTIONS}


def _option(name: str) -> Any:
    """The typer annotation of the declared training option ``name``: its flag, type and help (brackets escaped
    for rich); None is the type's other value where None means the recipe's value."""
    opt = _DECLARED[name]
    kind = opt.type | None if opt.from_recipe else opt.type
    return Annotated[kind, typer.Option(opt.flag, help=opt.help.replace("[", "\\["))]


def recipe_options(*, recipe: str, after: str) -> Callable[[_Command], _Command]:
    """Give a typer command every declared training option, in the declaration's order after its parameter
    ``after``; the command collects them in ``**recipe`` (a dict of every option: its value, or its keyword
    default when not given, None for the recipe's), to pass on to the API as ``**recipe``. ``recipe``: the
    default of --recipe. Sets the command's ``__signature__``, which typer reads; the function is unchanged."""

    def decorate(command: _Command) -> _Command:
        sig = inspect.signature(command, eval_str=True)
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()
                  if p.kind is not inspect.Parameter.VAR_KEYWORD]
        assert len(params) < len(sig.parameters), f"{command.__name__} needs **recipe to take the recipe options"
        added = [inspect.Parameter(opt.name, inspect.Parameter.KEYWORD_ONLY, annotation=_option(opt.name),
                                   default=recipe if opt.name == "recipe" else opt.keyword_default)
                 for opt in RECIPE_OPTIONS]
        at = [p.name for p in params].index(after) + 1
        command.__signature__ = sig.replace(parameters=[*params[:at], *added, *params[at:]])  # type: ignore[attr-defined]
        return command

    return decorate


DatasetArg = Annotated[str, typer.Argument(
    metavar="DATASET", help="A known name (fashion-mnist, mnist, cifar10) or a path: CIFAR-10 batches folder, "
                            "IDX folder, image folder with one subfolder per class, .npz, or WAV folder.")]
SampleRate = Annotated[int, typer.Option("--sample-rate", help="Audio: resample every clip to this rate (Hz).")]
Duration = Annotated[float, typer.Option("--duration", help="Audio: cut or pad every clip to this length (s).")]
TrainSize = Annotated[int | None, typer.Option("--train-size", help="Stratified subset of the training pool (before the validation split).")]
TestSize = Annotated[int | None, typer.Option("--test-size", help="Stratified subset of the test split.")]
ValFraction = Annotated[float | None, typer.Option("--val-fraction", help="Share of the training pool held out for validation \\[default: 0.1 images, 0.25 audio].")]
SplitSeed = Annotated[int, typer.Option("--split-seed", help="Seed of the fixed train/validation split (independent of --seed).")]
Width = _option("width")   # also an option of `archs` and `capacity`
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON only.")]

ModelOpt = Annotated[str | None, typer.Option("--model", help="Your own model: MODULE:FACTORY, called as factory(input_shape=(C, H, W), n_classes=K, width=w) and returning an nn.Module (logits); a comma list may mix in built-ins (A..F, R8, R20). NAME@W fixes a width.")]
Widths = Annotated[str | None, typer.Option("--widths", help="A family of sizes from each model: 0.25,0.5,1 (each member's parameter count is reported).")]
ImageColumn = Annotated[str | None, typer.Option("--image-column", help="Parquet: the column holding the images (default: detected: a struct with bytes, or raw encoded bytes).")]
LabelColumn = Annotated[str | None, typer.Option("--label-column", help="Parquet: the column holding the labels (default: label/labels/class/target, else the only integer or string column).")]
