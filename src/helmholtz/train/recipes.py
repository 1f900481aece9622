"""Named training recipes: presets that fill `TrainOptions`, per modality. Pure data (no torch).

- ``paper``: the paper's recipe (Sec. 5). Images: Keras SGD with Nesterov momentum 0.9, lr 0.01, decay 1e-6 per
  step, batch 128, shift/flip augmentation, up to 200 epochs. Audio: Keras Adadelta (lr 1.0, ρ 0.95), batch 50.
- ``fast``: the same architectures brought close to convergence in few epochs on a CPU, chosen by measurement on
  real Fashion-MNIST (bench/recipe_search.py; the table is in docs/recipes.md): AdamW at lr 4e-3 with a one-cycle
  schedule over the epoch cap (1 epoch of warm-up), batch 128, no augmentation, at most 24 epochs with early
  stopping after 6 epochs (a quarter of the cap) without a better validation accuracy. Audio: the same with lr 5e-3,
  batch 16 and a CPU-sized front end, 48 mel bands at hop 1024 (2 s → 48×87, a quarter of the paper's 96×173),
  chosen on the idmt synth set's validation split. Any shorter ``epochs`` re-spans the schedule.

`resolve_recipe` takes a preset and the options the user gave explicitly (None = not given); explicit values win.
The resolved values and the recipe's name go into `TrainOptions`, and so into every stored result. The options
themselves (flags, defaults, bounds, help) are declared once in `helmholtz.train.options`; `checked_options`
validates against that declaration and resolves.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict, fields
from typing import Any, Literal

from helmholtz.errors import ConfigError
from helmholtz.train.options import OPTIONS, RECIPE_OPTIONS, check_options
from helmholtz.train.spec import TrainOptions

Modality = Literal["image", "audio"]
RecipeName = Literal["paper", "fast"]

#: the option values each recipe sets, per modality; options not named here keep their declared default (the
#: paper's image value: `train.options.RECIPE_OPTIONS`, `TrainOptions`' defaults)
RECIPES: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        # lr and lr_decay stay None (resolved per optimizer: SGD 0.01 and 1e-6), exactly as specs stored before
        # recipes existed, so their run ids do not change
        "image": {"epochs": 200, "patience": 10, "optimizer": "sgd", "batch_size": 128, "augment": True},
        "audio": {"epochs": 200, "patience": 10, "optimizer": "adadelta", "batch_size": 50, "augment": False},
    },
    "fast": {
        # images, measured (archs A and F, ¼ width, 9k Fashion-MNIST images, 3 seeds): at 3/6/12/24 epochs A reaches
        # 73/79/83/86 % and F 70/78/80/82 % (the paper's recipe: A 25/55 %, F 30/53 % at 3/6 epochs); 48 epochs add
        # under 2 pp. Batch 64 was 1–4 pp better for A but left one F seed of three 15–21 pp behind; augmentation
        # cost 1.5–15 pp up to 12 epochs; label smoothing 0.1 and a cosine anneal were neutral at 3 and 6
        # Both test the last epoch's weights (select "last"): the one-cycle anneal ends at lr 0 there, and picking
        # among its last epochs on a 500-image validation split only added noise: on the 5,000-image demo (AVX2
        # EPYC Zen 1, 3–7 seeds) two runs best at epoch 4 of 6 lost about 2 pp against their seed's other levels
        "image": {"epochs": 24, "patience": 6, "optimizer": "adam", "lr": 4e-3, "lr_decay": 0.0, "batch_size": 128,
                  "augment": False, "label_smoothing": 0.0, "schedule": "onecycle", "warmup_epochs": 1.0,
                  "select": "last"},
        # audio, chosen on the validation split of the idmt synth set (200 notes per class: 1,350 training clips;
        # A ½ width, 12 epochs; docs/recipes.md): lr 1e-2 without label smoothing took A from 50 to 69 % validation
        # (3e-2 diverged), batch 16 to 73 % (8: 70 %), and 48 mel bands at hop 1024 (48×87) cost 2–3 pp against
        # 96×87 and 96×173 at a quarter and a half of their compute; 24 epochs add ~3 pp. The paper's front end is
        # --n-mels 96 --hop 512. The lr is 5e-3, not A's best 1e-2: at 1e-2 the largest model, F, collapsed to chance
        # or near it on 2 of 3 seeds (validation 47.6, 70.8, 8.3 %; gradient clipping did not help: Adam ignores a
        # uniform rescale), at 5e-3 it learns on every seed (74.6, 75.0, 75.0 %) while A gives up ~3 pp (69.9 against
        # 73.0 % validation, 3 seeds each): one recipe must train every model it compares (docs/recipes.md, 2026-12-07)
        "audio": {"epochs": 24, "patience": 6, "optimizer": "adam", "lr": 5e-3, "lr_decay": 0.0, "batch_size": 16,
                  "augment": False, "label_smoothing": 0.0, "schedule": "onecycle", "warmup_epochs": 1.0,
                  "select": "last", "n_mels": 48, "hop": 1024},
    },
}
RECIPE_NAMES: tuple[str, ...] = tuple(RECIPES)   # declared as --recipe's choices too (train/options.py)
ANNEALING: tuple[str, ...] = ("onecycle", "cosine")   # schedules that anneal the lr to 0 at the epoch cap
#: the recipe `helmholtz train` (and `helmholtz.train`) uses without --recipe: it must learn in a short CPU run
DEFAULT_TRAIN_RECIPE = "fast"
#: the recipe `helmholtz sweep` uses without --recipe: the same (close to convergence in ≤ 24 epochs on a CPU);
#: --recipe paper reproduces the paper's (SGD, up to 200 epochs: a GPU's work)
DEFAULT_SWEEP_RECIPE = "fast"
_FIELDS = frozenset(f.name for f in fields(TrainOptions))


def recipe_values(recipe: str, modality: Modality) -> dict[str, Any]:
    """Every `TrainOptions` value the preset ``recipe`` gives for ``modality`` (its settings over the defaults)."""
    if recipe not in RECIPES:
        raise ConfigError(f"--recipe got {recipe!r}; expected one of {', '.join(RECIPE_NAMES)}", where="--recipe",
                          fix="e.g. --recipe fast (few epochs on a CPU) or --recipe paper (the paper's, up to 200 epochs)")
    if modality not in ("image", "audio"):
        raise ConfigError(f"modality must be 'image' or 'audio'; got {modality!r}", fix="pass modality='image'")
    base = {k: v for k, v in asdict(TrainOptions()).items()}
    return {**base, **RECIPES[recipe][modality], "recipe": recipe}


def resolve_recipe(recipe: str, modality: Modality, **given: Any) -> TrainOptions:
    """`TrainOptions` of the preset ``recipe`` for ``modality``, with every option in ``given`` that is not None
    overriding the preset's value. Audio never augments (the augmentation is for images). Unless ``patience`` is
    given, an annealing schedule waits at least a quarter of the epoch cap (24 epochs → 6, 48 → 12)."""
    unknown = set(given) - _FIELDS
    assert not unknown, f"not TrainOptions fields: {sorted(unknown)}"
    values = {**recipe_values(recipe, modality), **{k: v for k, v in given.items() if v is not None}}
    values["recipe"] = recipe
    if given.get("patience") is None and values["schedule"] in ANNEALING:
        # the middle of an annealing schedule (high lr) plateaus before the anneal brings the gain; measured with
        # `fast` at a 48-epoch cap, patience 5 would have stopped A at epoch 23 and F at 14, so wait ≥ ¼ of the cap
        values["patience"] = max(values["patience"], -(-values["epochs"] // 4))
    if modality == "audio":
        values["augment"] = False
    return TrainOptions(**values)


def recipe_overrides(opts: TrainOptions, modality: Modality) -> dict[str, Any]:
    """The options of ``opts`` that differ from its recipe's preset (given, or derived from what was given), for reports."""
    if opts.recipe not in RECIPES:
        return {}
    preset = recipe_values(opts.recipe, modality)
    return {k: v for k, v in asdict(opts).items() if k != "recipe" and preset.get(k) != v}


def checked_options(*, modality: Modality, **given: Any) -> TrainOptions:
    """Validate the training options given (keywords: the names of `train.options.RECIPE_OPTIONS`, e.g.
    ``recipe="fast", epochs=3, lr=None``) and resolve them against ``recipe``'s preset for ``modality``: every
    option not given or None takes the preset's value, every option given overrides it. The bounds and choices
    are the declaration's (`train.options.check_options`). Raises ConfigError naming the option (an unknown
    name included)."""
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"unknown training option {', '.join(map(repr, unknown))}",
                          fix=f"use only: {', '.join(sorted(OPTIONS))}")
    values = {o.name: given.get(o.name, o.keyword_default) for o in RECIPE_OPTIONS}
    check_options(values)
    recipe = values.pop("recipe")
    return resolve_recipe(recipe, modality, **values)


# its keywords, for `inspect.signature` and help(): modality, then every declared option with its default
checked_options.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("modality", inspect.Parameter.KEYWORD_ONLY, annotation="Modality"),
     *(inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.keyword_default) for o in RECIPE_OPTIONS)],
    return_annotation="TrainOptions")


#: the name the API and the sweep use for `checked_options` (one function: an unknown option is a ConfigError)
train_options = checked_options


def recipe_of(spec: Any) -> dict[str, Any]:
    """The recipe a run (a `RunSpec`) used, resolved (the lr default filled in), for printing with every result."""
    opts = spec.options
    out: dict[str, Any] = {
        "recipe": opts.recipe, "schedule": opts.schedule, "warmup_epochs": opts.warmup_epochs,
        "optimizer": opts.optimizer, "lr": opts.resolved_lr, "lr_decay": opts.resolved_lr_decay,
        "batch_size": opts.batch_size, "width": opts.width, "epochs_max": opts.epochs, "patience": opts.patience,
        "augment": opts.augment, "weight_decay": opts.weight_decay, "label_smoothing": opts.label_smoothing,
        "compile": opts.compile, "select": opts.select,
        **({"grad_clip": opts.grad_clip} if opts.grad_clip else {}),
        **({"n_mels": opts.n_mels, "fmax_hz": opts.fmax_hz, "hop": opts.hop} if spec.modality == "audio" else {}),
    }
    if opts.optimizer == "sgd":
        out["momentum"] = f"{opts.momentum} (Nesterov)"
    return out
