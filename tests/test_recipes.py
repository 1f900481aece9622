"""Recipes (named presets of TrainOptions), the lr schedules, and run-id stability across the new options."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import pytest

from helmholtz.errors import ConfigError
from helmholtz.train.recipes import RECIPES, recipe_overrides, recipe_values, resolve_recipe, train_options
from helmholtz.train.schedule import LrSchedule, keras_lr, make_schedule
from helmholtz.train.spec import ADDED_OPTION_DEFAULTS, DataRef, RunSpec, TrainOptions

# ---------------------------------------------------------------- run ids: stores written before recipes existed

_DATA = DataRef("fashion-mnist", "0123456789abcdef", train_size=10000)
#: run ids computed with the code of commit e8231a5 (before recipes, schedules and warm-up existed)
PINNED_IDS = {
    "paper image, jpeg 20": (RunSpec(_DATA, "jpeg", 20, "A", 0), "82458c35c8173345"),
    "wave-1 demo options": (
        RunSpec(_DATA, "none", None, "F", 1, TrainOptions(epochs=5, patience=3, optimizer="adam", lr=2e-3, width=0.25)),
        "53d022129717f85a",
    ),
    "paper audio": (
        RunSpec(DataRef("x", "ffff", val_fraction=0.25), "mp3", 64, "C", 2,
                TrainOptions(optimizer="adadelta", batch_size=50, augment=False), modality="audio"),
        "0b28f94eb53d02bc",
    ),
}


@pytest.mark.parametrize("name", list(PINNED_IDS))
def test_specs_that_use_no_new_option_keep_their_old_run_id(name):
    spec, want = PINNED_IDS[name]
    assert spec.run_id == want
    # a spec dict stored before the new fields existed reads back to the same id
    old = spec.to_dict()
    for key in ADDED_OPTION_DEFAULTS:
        del old["options"][key]
    assert RunSpec.from_dict(old).run_id == want


def test_paper_recipe_resolves_to_the_old_defaults_and_keeps_run_ids():
    assert resolve_recipe("paper", "image") == TrainOptions()
    assert resolve_recipe("paper", "audio") == TrainOptions(optimizer="adadelta", batch_size=50, augment=False)
    assert train_options(modality="image") == TrainOptions()  # the sweep's call without --recipe
    spec, want = PINNED_IDS["paper image, jpeg 20"]
    assert replace(spec, options=train_options(modality="image", recipe="paper")).run_id == want
    # what the sweep command passes today (its own defaults, explicitly) is still the paper's recipe
    explicit = train_options(modality="image", epochs=200, patience=10, momentum=0.9, width=1.0, weight_decay=0.0,
                             label_smoothing=0.0, augment=True)
    assert explicit == TrainOptions()


def test_new_options_enter_the_id_only_when_they_leave_their_default():
    base = RunSpec(_DATA, "none", None, "A", 0)
    ids = {base.run_id}
    for change in ({"recipe": "fast"}, {"schedule": "onecycle"}, {"schedule": "cosine"}, {"warmup_epochs": 0.5}):
        spec = replace(base, options=replace(base.options, **change))
        assert spec.run_id not in ids, change
        ids.add(spec.run_id)
        assert RunSpec.from_dict(spec.to_dict()).run_id == spec.run_id
    assert replace(base, options=replace(base.options, warmup_epochs=0)).run_id == base.run_id


def test_the_stored_spec_always_names_the_recipe_and_its_values():
    d = RunSpec(_DATA, "none", None, "A", 0, resolve_recipe("fast", "image")).to_dict()["options"]
    assert d["recipe"] == "fast" and d["schedule"] == RECIPES["fast"]["image"]["schedule"]
    assert RunSpec(_DATA, "none", None, "A", 0).to_dict()["options"]["recipe"] == "paper"


# ---------------------------------------------------------------- presets and overrides


def test_explicit_options_override_the_preset_and_none_keeps_it():
    fast = resolve_recipe("fast", "image")
    assert fast.recipe == "fast" and fast.epochs == RECIPES["fast"]["image"]["epochs"]
    opts = train_options(modality="image", recipe="fast", epochs=3, lr=1e-3, augment=None)
    assert (opts.epochs, opts.lr, opts.augment) == (3, 1e-3, fast.augment)
    assert opts.schedule == fast.schedule and opts.label_smoothing == fast.label_smoothing
    assert recipe_overrides(opts, "image") == {"epochs": 3, "lr": 1e-3}
    paper_sgd = train_options(modality="image", recipe="paper", schedule="cosine", warmup_epochs=2)
    assert (paper_sgd.optimizer, paper_sgd.schedule, paper_sgd.warmup_epochs) == ("sgd", "cosine", 2)


def test_audio_never_augments_and_every_recipe_covers_both_modalities():
    for name in RECIPES:
        for modality in ("image", "audio"):
            values = recipe_values(name, modality)
            assert set(values) == set(asdict(TrainOptions())) and values["recipe"] == name
        assert resolve_recipe(name, "audio", augment=True).augment is False


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"recipe": "slow"}, "--recipe got 'slow'"),
        ({"batch_size": 0}, "--batch-size must be an integer ≥ 1; got 0"),
        ({"batch_size": -5}, "--batch-size must be an integer ≥ 1; got -5"),
        ({"schedule": "step"}, "--schedule got 'step'"),
        ({"warmup_epochs": -1.0}, "--warmup-epochs must be a number of epochs ≥ 0"),
        ({"epochs": 0}, "--epochs must be an integer ≥ 1"),
    ],
)
def test_bad_recipe_options_raise_one_config_error(kw, match):
    with pytest.raises(ConfigError, match=match):
        train_options(modality="image", **kw)


# ---------------------------------------------------------------- schedules (oracles: closed forms)


def test_keras_decay_without_warmup_is_exactly_the_old_formula():
    s = make_schedule("keras_decay", lr0=0.01, decay=1e-6, epochs=200, steps_per_epoch=71)
    assert all(s(k) == keras_lr(0.01, 1e-6, k) for k in (0, 1, 70, 10_000, 10**7))


def test_onecycle_warms_up_linearly_then_anneals_to_zero_at_the_cap():
    s = LrSchedule("onecycle", lr0=0.1, total_steps=100, warmup_steps=10)
    assert [s(k) for k in range(10)] == pytest.approx([0.1 * (k + 1) / 10 for k in range(10)])
    assert s(10) == pytest.approx(0.1) and s(55) == pytest.approx(0.05) and s(99) == pytest.approx(0.1 / 90)
    assert s(100) == 0.0 and s(500) == 0.0  # past the cap (never reached by a run): zero, not negative
    lrs = [s(k) for k in range(10, 101)]
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))


def test_cosine_anneal_and_warmup_on_keras_decay():
    s = LrSchedule("cosine", lr0=0.2, total_steps=110, warmup_steps=10)
    assert s(9) == pytest.approx(0.2) and s(60) == pytest.approx(0.1) and s(110) == pytest.approx(0.0, abs=1e-15)
    assert s(35) == pytest.approx(0.1 * (1 + math.cos(math.pi / 4)))
    k = LrSchedule("keras_decay", lr0=0.01, decay=1e-3, total_steps=50, warmup_steps=4)
    assert k(1) == pytest.approx(0.5 * keras_lr(0.01, 1e-3, 1)) and k(20) == keras_lr(0.01, 1e-3, 20)


def test_warmup_longer_than_the_cap_is_clipped():
    s = make_schedule("onecycle", lr0=1.0, decay=0.0, epochs=2, steps_per_epoch=5, warmup_epochs=4)
    assert s.warmup_steps == s.total_steps == 10 and s(9) == pytest.approx(1.0)


def test_recipes_and_schedules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, helmholtz.train.recipes, helmholtz.train.schedule, helmholtz.cli.options; "
            "helmholtz.train.recipes.train_options(modality='image', recipe='fast'); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_annealing_schedules_wait_a_quarter_of_the_cap_unless_patience_is_given():
    assert resolve_recipe("fast", "image").patience == 6                      # 24-epoch cap
    assert resolve_recipe("fast", "image", epochs=48).patience == 12          # measured: 5 would stop mid-schedule
    assert resolve_recipe("fast", "image", epochs=6).patience == 6
    assert resolve_recipe("fast", "image", epochs=48, patience=3).patience == 3
    assert resolve_recipe("paper", "image", epochs=48).patience == 10         # Keras decay: the paper's patience
    assert resolve_recipe("paper", "image", schedule="cosine").patience == 50  # 200-epoch cap
