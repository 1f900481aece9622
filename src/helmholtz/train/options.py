"""The training options, declared once: name, CLI flag, type, the paper's default, bounds or choices, help text.

Every layer reads this table. `TrainOptions` (train/spec.py) takes its field defaults from it; `checked_options`
(train/recipes.py) and the sweep's check of a spec (sweep/spec.py) validate through `check_options`; the CLI
(`helmholtz.cli.options.recipe_options`) generates the ``train`` and ``sweep`` flags from it, through
``helmholtz.api.RECIPE_OPTIONS``. The named presets that fill these options (``paper``, ``fast``) are
`helmholtz.train.recipes.RECIPES`. Pure data: no torch here.

A default is the paper's image recipe (Keras SGD, Sec. 5.2). ``from_recipe``: the option is None unless given,
and None takes the recipe's value for the modality (and this default where the recipe sets none).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from helmholtz.errors import ConfigError


@dataclass(frozen=True)
class RecipeOption:
    """One training option: a `TrainOptions` field, an API keyword and a CLI flag."""

    name: str                             # the TrainOptions field and the API keyword
    flag: str                             # the CLI flag; a switch is '--on/--off'
    type: type                            # int, float, str or bool
    default: Any                          # the paper's (image) value: TrainOptions' field default
    help: str                             # the --help text, plain (the CLI escapes its brackets)
    from_recipe: bool = True              # None (not given) takes the recipe's value; False: ``default`` is the keyword's
    choices: tuple[str, ...] = ()         # a closed set of values (the first is the error message's example)
    example: str | None = None            # the fix's example value when not choices[0]
    low: float | None = None              # the bound below; ``low_open``: the bound itself is excluded
    low_open: bool = False
    high: float | None = None             # the bound above; ``high_open``: the bound itself is excluded
    high_open: bool = False
    expected: str = ""                    # the bounds in words, as the error message says them
    modality: Literal["image", "audio"] | None = None   # the only data it acts on; None: both
    added: bool = False                   # added after results stores existed: out of the run id at its default

    @property
    def switch(self) -> bool:
        """A --x/--no-x flag."""
        return self.type is bool

    @property
    def keyword_default(self) -> Any:
        """The value of an option not given (to `checked_options` or on the command line)."""
        return None if self.from_recipe else self.default

    def check(self, value: Any, *, complete: bool = False) -> None:
        """Raise ConfigError naming the flag unless ``value`` is allowed. None means not given (or, with
        ``complete``, as in a resolved `TrainOptions`, is allowed only where the default is None)."""
        if value is None and not (complete and self.default is not None):
            return
        if self.choices and value not in self.choices:
            example = self.example or self.choices[0]
            raise ConfigError(f"{self.flag} got {value!r}; expected one of {', '.join(self.choices)}",
                              fix=f"e.g. {self.flag} {example}")
        if self.expected and not self._within(value):
            raise ConfigError(f"{self.flag} must be {self.expected}; got {value}", fix=f"pass a valid {self.flag}")

    def _within(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.type is int else numbers.Real):
            return False   # numpy's integer and float scalars count as ints and floats, as before
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)


_COUNT = "an integer ≥ 1"

#: every training option, in the order of the CLI's help
RECIPE_OPTIONS: tuple[RecipeOption, ...] = (
    RecipeOption("recipe", "--recipe", str, "paper", from_recipe=False, choices=("paper", "fast"), example="fast",
                 added=True,
                 help="paper | fast: the preset every training option below starts from (paper: the paper's, up to "
                      "200 epochs; fast: converges in few epochs on a CPU)."),
    RecipeOption("epochs", "--epochs", int, 200, low=1, expected=_COUNT,
                 help="Maximum epochs per run; onecycle/cosine schedules span it [default: the recipe's; paper 200, "
                      "fast 24]."),
    RecipeOption("patience", "--patience", int, 10, low=1, expected=_COUNT,
                 help="Early stopping: epochs without a better validation accuracy [default: the recipe's]."),
    RecipeOption("optimizer", "--optimizer", str, "sgd", choices=("sgd", "adadelta", "adam"),
                 help="sgd | adadelta | adam [default: the recipe's; paper: sgd images, adadelta audio; fast: adam]."),
    # None: resolved per optimizer (`train.spec.DEFAULT_LR`, `DEFAULT_LR_DECAY`), as specs stored before recipes
    RecipeOption("lr", "--lr", float, None, low=0, low_open=True, expected="a positive number",
                 help="Learning rate (the peak of onecycle/cosine) [default: the recipe's; paper: sgd 0.01, adadelta "
                      "1.0; fast: adam 0.004 images, 0.005 audio]."),
    RecipeOption("lr_decay", "--lr-decay", float, None, low=0, expected="a number ≥ 0",
                 help="Keras-style decay per step: lr / (1 + decay·step), schedule keras_decay [default: 1e-6 for sgd "
                      "(the paper), 0 for adadelta and adam (Keras)]."),
    RecipeOption("schedule", "--schedule", str, "keras_decay", choices=("keras_decay", "onecycle", "cosine"), added=True,
                 help="keras_decay | onecycle | cosine: lr schedule; onecycle and cosine anneal to 0 at the epoch cap "
                      "[default: the recipe's]."),
    RecipeOption("warmup_epochs", "--warmup-epochs", float, 0.0, low=0, expected="a number of epochs ≥ 0", added=True,
                 help="Linear lr warm-up from 0 over this many epochs [default: the recipe's]."),
    RecipeOption("select", "--select", str, "best", choices=("best", "last"), added=True,
                 help="The weights tested: best (the best validation epoch, the paper's) or last (the last epoch: an "
                      "annealed schedule's endpoint) [default: the recipe's]."),
    # the audio front end: 96 log-mel bands up to sr/2 (None; librosa's default) at librosa's hop 512: the paper's
    RecipeOption("n_mels", "--n-mels", int, 96, low=8, high=256, expected="an integer in 8..256", modality="audio",
                 added=True, help="Audio: log-mel bands of the features [default: the recipe's; paper 96, fast 48]."),
    RecipeOption("fmax_hz", "--fmax", float, None, low=1000, high=48000, modality="audio", added=True,
                 expected="a frequency in 1000..48000 Hz (at most half the sample rate)",
                 help="Audio: top of the mel filterbank in Hz [default: sr/2, 22050 at 44.1 kHz: librosa's, the "
                      "paper's]."),
    RecipeOption("hop", "--hop", int, 512, low=64, high=8192, expected="an integer in 64..8192 samples",
                 modality="audio", added=True,
                 help="Audio: STFT hop of the features in samples [default: the recipe's; paper 512, librosa's: 2 s → "
                      "173 frames; fast 1024]."),
    RecipeOption("momentum", "--momentum", float, 0.9, low=0, high=1, high_open=True, expected="a number in [0, 1)",
                 help="Nesterov momentum for sgd."),
    RecipeOption("batch_size", "--batch-size", int, 128, low=1, expected=_COUNT,
                 help="Items per step [default: the recipe's; paper 128 images, 50 audio; fast 128 images, 16 "
                      "audio]."),
    RecipeOption("width", "--width", float, 1.0, from_recipe=False, low=0, low_open=True, high=8,
                 expected="a multiplier in (0, 8]",
                 help="Multiplier on every hidden channel and unit count (0.25 for CPU-sized runs)."),
    RecipeOption("weight_decay", "--weight-decay", float, 0.0, low=0, expected="a number ≥ 0",
                 help="L2 weight decay coefficient."),
    RecipeOption("label_smoothing", "--label-smoothing", float, 0.0, low=0, high=1, high_open=True,
                 expected="a number in [0, 1)", help="Label smoothing ε [default: the recipe's; 0]."),
    RecipeOption("grad_clip", "--grad-clip", float, 0.0, low=0, expected="a number ≥ 0 (0: off)", added=True,
                 help="Clip the global norm of the gradients to this before every step (0: off) [default: the "
                      "recipe's; 0]."),
    RecipeOption("augment", "--augment/--no-augment", bool, True, modality="image",
                 help="Images: random shift ≤10% and horizontal flip [default: the recipe's; paper on, fast off]."),
    RecipeOption("precision", "--precision", str, "auto", from_recipe=False, choices=("auto", "fp32", "bf16"),
                 help="auto | fp32 | bf16 (auto: bf16 autocast where supported)."),
    RecipeOption("compile", "--compile/--no-compile", bool, False, from_recipe=False, help="torch.compile each model."),
)
#: the options by name
OPTIONS: dict[str, RecipeOption] = {o.name: o for o in RECIPE_OPTIONS}
#: the paper's value of every option: `TrainOptions`' field defaults
DEFAULTS: dict[str, Any] = {o.name: o.default for o in RECIPE_OPTIONS}
#: options added after results stores keyed by run id existed, with the defaults that keep the old behaviour (and
#: the old run ids: `TrainOptions.identity_dict` leaves them out at these values)
ADDED_OPTION_DEFAULTS: dict[str, Any] = {o.name: o.default for o in RECIPE_OPTIONS if o.added}


def check_options(values: Mapping[str, Any], *, complete: bool = False) -> None:
    """Check every declared option in ``values`` (choices first, then bounds, each in the table's order); raise
    one ConfigError naming the flag. ``complete``: the values of a resolved `TrainOptions`, where None is a value
    only for the options whose default is None."""
    for kind in ("choices", "bounds"):
        for opt in RECIPE_OPTIONS:
            if opt.name in values and bool(opt.choices) == (kind == "choices"):
                opt.check(values[opt.name], complete=complete)
