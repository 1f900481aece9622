"""Effective capacity, measured: how many random labels a model memorises with a given recipe and budget (torch).

The lecture's open question — "imperfect training means Memory Equivalent Capacity is effectively reduced; how to
measure that?" — answered by memorisation (Zhang et al. 2017 fitted random labels; Friedland et al. define MEC by
them): give n items labels drawn uniformly from K classes, train a fresh model on exactly those n items, and call it
a fit when its training accuracy, measured in eval mode (no dropout) on the n items, reaches ``threshold`` (99 %)
within the budget. The largest n that fits, found by doubling and then bisection on a log scale, stores about
n·log2(K) bits of labels: the effective capacity. Divided by the MEC it says how much of the capacity training
realises.

One caveat of the yardstick, stated wherever the ratio is shown: MEC counts labelings that *all* fit (a perceptron
with d inputs and a bias has MEC d + 1), while random labels ask for a *typical* labeling to fit, which a perfectly
trained perceptron manages up to about 2(d + 1) points (Cover 1965). Perfect training of one neuron therefore reads
as a ratio of about 2, not 1 (``tests/test_capacity_memorise.py`` and ``bench/bench_capacity.py`` show it).

Recipes (`RECIPES`, defined here until the training loop's own ``--recipe`` lands; the names are meant to agree
with it): ``paper`` — SGD with Nesterov momentum 0.9, lr 0.01, Keras decay 1e-6 per step, batch 128 (the paper's
image recipe); ``fast`` — AdamW, one-cycle schedule peaking at lr 3e-3 after 25 % of the epoch budget, then cosine
to 0, batch 128. A `RecipeSpec` of your own works too. None uses augmentation, weight decay or label smoothing;
every trial starts from the same seeded init, in float32 on the CPU (or wherever ``make_model`` puts nothing: the
tensors stay on the CPU).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

from helmholtz.errors import ConfigError, DataError
from helmholtz.train.run import EpochTrainer

RecipeName = Literal["paper", "fast"]


@dataclass(frozen=True)
class RecipeSpec:
    """How a trial trains: optimizer, peak learning rate, schedule over the epoch budget, batch size."""

    name: str
    optimizer: Literal["sgd", "adamw"]
    lr: float
    schedule: Literal["keras-decay", "one-cycle", "constant"]
    momentum: float = 0.9             # sgd: Nesterov momentum
    batch_size: int = 128

    def text(self) -> str:
        opt = f"SGD Nesterov {self.momentum:g}" if self.optimizer == "sgd" else "AdamW"
        sched = {"keras-decay": "Keras decay 1e-6/step", "constant": "constant",
                 "one-cycle": "one-cycle (25 % warm-up, cosine to 0 over the epoch budget)"}[self.schedule]
        return f"{opt}, lr {self.lr:g}, {sched}, batch {self.batch_size}"


RECIPES: dict[str, RecipeSpec] = {
    "paper": RecipeSpec("paper", "sgd", 0.01, "keras-decay"),
    "fast": RecipeSpec("fast", "adamw", 3e-3, "one-cycle"),
}


def get_recipe(recipe: str | RecipeSpec) -> RecipeSpec:
    """A recipe by name (``paper``, ``fast``) or as given; ConfigError names the valid ones."""
    if isinstance(recipe, RecipeSpec):
        if recipe.lr <= 0 or recipe.batch_size < 1 or recipe.optimizer not in ("sgd", "adamw"):
            raise ConfigError(f"bad recipe {recipe}", where="recipe", fix="lr > 0, batch_size ≥ 1, optimizer sgd|adamw")
        return recipe
    spec = RECIPES.get(str(recipe).strip().lower())
    if spec is None:
        raise ConfigError(f"recipe must be one of {', '.join(RECIPES)}; got {recipe!r}", where="--recipe",
                          fix="e.g. --recipe paper")
    return spec


_EVAL_BATCH = 1024
_EVAL_EVERY_STEPS = 10   # optimizer steps between two accuracy checks (at least one check per epoch above that)


@dataclass(frozen=True)
class Budget:
    """What one memorisation trial may spend: ``epochs`` passes over its n items, but at least ``min_steps``
    optimizer steps (below a batch of items an epoch is one step, and no network fits anything in 30 steps), and,
    if given, at most ``seconds`` of wall clock (the trial stops after the epoch in which it runs out)."""

    epochs: int
    seconds: float | None = None
    min_steps: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"the budget needs ≥ 1 epoch; got {self.epochs}", where="--budget", fix="e.g. --budget 40")
        if self.min_steps < 0:
            raise ConfigError(f"min_steps must be ≥ 0; got {self.min_steps}", where="--min-steps", fix="e.g. --min-steps 500")
        if self.seconds is not None and self.seconds <= 0:
            raise ConfigError(f"the time budget must be positive; got {self.seconds}", where="--budget-seconds",
                              fix="e.g. --budget-seconds 60")

    def epochs_for(self, n: int, batch_size: int) -> int:
        """Epochs a trial on n items runs at most: ``epochs``, raised to reach ``min_steps``."""
        return max(self.epochs, math.ceil(self.min_steps / math.ceil(n / batch_size)))

    def text(self) -> str:
        steps = f" (at least {self.min_steps} steps)" if self.min_steps else ""
        return f"{self.epochs} epochs{steps}" + (f", at most {self.seconds:g} s" if self.seconds else "") + " per trial"


@dataclass(frozen=True)
class Trial:
    """One fit of n random labels: did eval-mode training accuracy reach the threshold, and at what cost."""

    n: int
    fits: bool
    train_acc: float
    epochs: int
    seconds: float


@dataclass(frozen=True)
class EffectiveCapacity:
    """The largest n fitted, as bits, beside the MEC."""

    arch: str
    recipe: str
    recipe_text: str
    budget: Budget
    classes: int
    threshold: float
    n_memorised: int                  # largest n that fit (0 when even the smallest tried failed)
    n_failed: int | None              # smallest n that failed above it (None: every n tried fitted)
    effective_bits: float             # n_memorised · log2(classes)
    mec_bits: float | None
    ratio: float | None               # effective_bits / mec_bits
    bound: str                        # 'bracketed', 'at least' (n_max fitted) or 'below' (smallest n failed)
    params: int
    seed: int
    seconds: float
    trials: tuple[Trial, ...] = field(default_factory=tuple)
    notes: dict = field(default_factory=dict)

    @property
    def bits_per_param(self) -> float | None:
        """Effective bits per trainable parameter: a yardstick that needs no capacity rule (rule 2 alone: ≤ 1)."""
        return self.effective_bits / self.params if self.params else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bits_per_param"] = self.bits_per_param
        d["budget"] = {"epochs": self.budget.epochs, "min_steps": self.budget.min_steps, "seconds": self.budget.seconds,
                       "text": self.budget.text()}
        d["trials"] = [asdict(t) for t in self.trials]
        return d


# ---------------------------------------------------------------- one trial


def _optimizer(model: nn.Module, recipe: RecipeSpec, *, total_steps: int):
    """(optimizer, lr at step s) for a recipe."""
    if recipe.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.momentum > 0)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.0)
    peak, warm = recipe.lr, max(1, int(0.25 * total_steps))

    def lr(s: int) -> float:
        if recipe.schedule == "keras-decay":
            return peak / (1.0 + 1e-6 * s)
        if recipe.schedule == "constant":
            return peak
        if s < warm:
            return peak * (0.04 + 0.96 * s / warm)
        return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, (s - warm) / max(1, total_steps - warm))))

    return opt, lr


@torch.no_grad()
def train_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy on the memorised items themselves, in eval mode (dropout off)."""
    model.eval()
    correct = 0
    for lo in range(0, len(y), _EVAL_BATCH):
        correct += int((model(x[lo:lo + _EVAL_BATCH]).argmax(1) == y[lo:lo + _EVAL_BATCH]).sum())
    return correct / len(y)


def fit_random_labels(
    make_model: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    recipe: str | RecipeSpec,
    budget: Budget,
    threshold: float = 0.99,
    seed: int = 0,
) -> Trial:
    """Train a fresh ``make_model()`` (seeded) on (x, y) until eval-mode training accuracy ≥ ``threshold`` or the
    budget runs out; the accuracy is checked after every epoch that ends at least 10 steps after the last check,
    and after the last epoch. The epochs are the training loop's own (`train.run.EpochTrainer`: a seeded shuffle,
    one optimizer step per batch), without validation, augmentation or label smoothing."""
    started = time.perf_counter()
    recipe = get_recipe(recipe)
    batch_size = recipe.batch_size
    torch.manual_seed(seed)
    model = make_model()
    gen = torch.Generator(device=x.device).manual_seed(seed)   # randperm draws on the data's device
    n = len(y)
    steps_per_epoch = math.ceil(n / batch_size)
    epochs = budget.epochs_for(n, batch_size)
    opt, lr_at = _optimizer(model, recipe, total_steps=epochs * steps_per_epoch)
    trainer = EpochTrainer(model, opt, lr_at, batch=lambda idx: (x[idx], y[idx]), n=n, batch_size=batch_size,
                           generator=gen, device=x.device)
    acc, last_eval = 0.0, 0
    for epoch in range(1, epochs + 1):
        trainer.train_epoch()
        if trainer.steps - last_eval < _EVAL_EVERY_STEPS and epoch < epochs:
            continue                  # tiny n: an epoch is one step, so evaluate every few steps, not every step
        last_eval = trainer.steps
        acc = train_accuracy(model, x, y)
        if acc >= threshold:
            return Trial(n=n, fits=True, train_acc=acc, epochs=epoch, seconds=time.perf_counter() - started)
        if budget.seconds is not None and time.perf_counter() - started >= budget.seconds:
            break
    return Trial(n=n, fits=False, train_acc=acc, epochs=epoch, seconds=time.perf_counter() - started)


# ---------------------------------------------------------------- the search over n


def random_labels(n: int, n_classes: int, *, seed: int) -> np.ndarray:
    """Labels drawn uniformly from 0..K-1, fixed by the seed (the first n of a longer draw are the same)."""
    return np.random.default_rng([seed, 0x1AB]).integers(0, n_classes, size=n)


def measure_effective_capacity(
    make_model: Callable[[], nn.Module],
    x: np.ndarray,
    *,
    n_classes: int,
    recipe: str | RecipeSpec = "fast",
    budget: Budget = Budget(epochs=40),
    n_start: int = 256,
    n_max: int | None = None,
    threshold: float = 0.99,
    rel_tol: float = 0.1,
    seed: int = 0,
    mec_bits: float | None = None,
    arch: str = "custom",
    on_trial: Callable[[Trial], None] | None = None,
) -> EffectiveCapacity:
    """The largest n of the items ``x`` (float, model-ready, N×…) whose random labels the model memorises.

    Items are used in the given order (n items = the first n), labels come from `random_labels`, so every larger n
    contains every smaller one. n doubles from ``n_start`` until a trial fails (or ``n_max``, default all items,
    fits), halves if ``n_start`` already fails, then bisects on a log scale until hi/lo ≤ 1 + ``rel_tol``.
    """
    spec = get_recipe(recipe)
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"threshold must be in (0, 1]; got {threshold}", where="--threshold", fix="e.g. 0.99")
    if n_classes < 2:
        raise ConfigError(f"need ≥ 2 classes; got {n_classes}", where="--classes", fix="e.g. --classes 10")
    if rel_tol <= 0:
        raise ConfigError(f"rel_tol must be > 0; got {rel_tol}", where="rel_tol", fix="e.g. 0.1")
    x_all = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
    n_max = len(x_all) if n_max is None else min(int(n_max), len(x_all))
    if n_max < 2:
        raise DataError(f"need at least 2 items to memorise; got {n_max}", where="x", fix="pass more items")
    y_all = torch.as_tensor(random_labels(n_max, n_classes, seed=seed), dtype=torch.long)
    started = time.perf_counter()
    trials: dict[int, Trial] = {}

    def fits(n: int) -> bool:
        if n not in trials:
            trials[n] = fit_random_labels(make_model, x_all[:n], y_all[:n], recipe=spec, budget=budget,
                                          threshold=threshold, seed=seed)
            if on_trial is not None:
                on_trial(trials[n])
        return trials[n].fits

    lo, hi = 0, None                  # largest n that fitted, smallest that failed
    n = max(2, min(int(n_start), n_max))
    if fits(n):
        lo = n
        while lo < n_max:
            n = min(2 * lo, n_max)
            if fits(n):
                lo = n
            else:
                hi = n
                break
    else:
        hi = n
        while hi > 2:
            n = max(2, hi // 2)
            if fits(n):
                lo = n
                break
            hi = n
    while lo > 0 and hi is not None and hi / lo > 1.0 + rel_tol and hi - lo > 1:
        mid = min(hi - 1, max(lo + 1, int(round(math.sqrt(lo * hi)))))
        if fits(mid):
            lo = mid
        else:
            hi = mid
    params = sum(p.numel() for p in _probe(make_model).parameters() if p.requires_grad)
    eff = lo * math.log2(n_classes)
    bound = "bracketed" if lo > 0 and hi is not None else ("at least" if hi is None else "below")
    return EffectiveCapacity(
        arch=arch, recipe=spec.name, recipe_text=spec.text(), budget=budget, classes=n_classes, threshold=threshold,
        n_memorised=lo, n_failed=hi, effective_bits=eff, mec_bits=mec_bits,
        ratio=(eff / mec_bits) if mec_bits else None, bound=bound, params=params, seed=seed,
        seconds=time.perf_counter() - started, trials=tuple(trials[k] for k in sorted(trials)),
        notes={"items": f"the first n of {n_max} items, labels uniform over {n_classes} classes (seed {seed})",
               "threshold": f"training accuracy ≥ {threshold:.0%} in eval mode on the n items",
               "search": f"doubling from {n_start}, then log-scale bisection to hi/lo ≤ {1 + rel_tol:g}"},
    )


def _probe(make_model: Callable[[], nn.Module]) -> nn.Module:
    with torch.random.fork_rng():
        return make_model()
