"""The training options are declared once (`helmholtz.train.options.RECIPE_OPTIONS`): every option is a
`TrainOptions` field with the declared default, a flag of `helmholtz train` and `helmholtz sweep`, and every declared
bound and choice is enforced, with the same message, by `checked_options` and by the sweep's check of a spec."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import get_args

import pytest
import typer
from typer.testing import CliRunner

from helmholtz.cli import app, main
from helmholtz.errors import ConfigError
from helmholtz.sweep.spec import make_sweep_spec, validate_sweep
from helmholtz.train import spec as train_spec
from helmholtz.train.options import ADDED_OPTION_DEFAULTS, OPTIONS, RECIPE_OPTIONS
from helmholtz.train.recipes import (
    DEFAULT_SWEEP_RECIPE,
    DEFAULT_TRAIN_RECIPE,
    RECIPE_NAMES,
    checked_options,
    train_options,
)
from helmholtz.train.spec import TrainOptions

COMMANDS = {"train": DEFAULT_TRAIN_RECIPE, "sweep": DEFAULT_SWEEP_RECIPE}


def _outside(opt) -> list[float]:
    """Values just outside each declared bound (the bound itself where it is open)."""
    step = 1 if opt.type is int else 1e-6
    out = []
    if opt.low is not None:
        out.append(opt.low if opt.low_open else opt.low - step)
    if opt.high is not None:
        out.append(opt.high if opt.high_open else opt.high + step)
    return out


def _inside(opt) -> list[float]:
    step = 1 if opt.type is int else 1e-6
    out = []
    if opt.low is not None:
        out.append(opt.low + step if opt.low_open else opt.low)
    if opt.high is not None:
        out.append(opt.high - step if opt.high_open else opt.high)
    return [opt.type(v) for v in out]


BOUNDED = [o for o in RECIPE_OPTIONS if o.expected]
CHOICES = [o for o in RECIPE_OPTIONS if o.choices]


def _click_params(command: str) -> dict:
    group = typer.main.get_command(app)
    return {p.name: p for p in group.commands[command].params}


# ── the declaration and TrainOptions ─────────────────────────────────────────────────────────────────────────────

def test_every_declared_option_is_a_train_options_field_with_the_declared_default():
    assert {f.name for f in fields(TrainOptions)} == set(OPTIONS)
    assert {f.name: f.default for f in fields(TrainOptions)} == {o.name: o.default for o in RECIPE_OPTIONS}


def test_the_closed_choices_agree_with_the_type_aliases_and_the_recipes():
    assert get_args(train_spec.Optimizer) == OPTIONS["optimizer"].choices
    assert get_args(train_spec.Precision) == OPTIONS["precision"].choices
    assert get_args(train_spec.Schedule) == OPTIONS["schedule"].choices
    assert get_args(train_spec.Select) == OPTIONS["select"].choices
    assert OPTIONS["recipe"].choices == RECIPE_NAMES
    assert set(train_spec.DEFAULT_LR) == set(OPTIONS["optimizer"].choices) == set(train_spec.DEFAULT_LR_DECAY)


def test_a_modality_note_opens_the_help_of_an_option_for_one_modality():
    for opt in RECIPE_OPTIONS:
        if opt.modality is not None:
            assert opt.help.startswith({"image": "Images:", "audio": "Audio:"}[opt.modality]), opt.name


def test_the_options_out_of_the_run_id_at_their_default_are_those_added_with_the_recipes():
    assert train_spec.ADDED_OPTION_DEFAULTS is ADDED_OPTION_DEFAULTS
    assert ADDED_OPTION_DEFAULTS == {"recipe": "paper", "schedule": "keras_decay", "warmup_epochs": 0.0,
                                     "select": "best", "n_mels": 96, "fmax_hz": None, "hop": 512, "grad_clip": 0.0}


# ── the CLI flags are generated from it ──────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_declared_option_is_a_flag_of_the_command_with_its_default(command):
    params = _click_params(command)
    for opt in RECIPE_OPTIONS:
        assert opt.name in params, f"{command} lacks {opt.flag}"
        p = params[opt.name]
        assert [*p.opts, *p.secondary_opts] == opt.flag.split("/")
        want = COMMANDS[command] if opt.name == "recipe" else opt.keyword_default
        assert p.default == want, opt.name


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_lists_every_declared_flag(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for opt in RECIPE_OPTIONS:
        for flag in opt.flag.split("/"):
            assert flag in result.output, f"{command} --help lacks {flag}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_command_hands_the_api_one_recipe_dict_of_every_option(command, monkeypatch):
    from helmholtz import api

    seen = {}

    def capture(dataset, **kwargs):
        seen.update(kwargs)
        raise ConfigError("captured", fix="none")

    monkeypatch.setattr(api, command, capture)
    argv = [command, "somewhere", "--epochs", "3", "--fmax", "8000", "--no-augment", "--compile", "--json"]
    if command == "sweep":
        argv += ["--out", "unused"]
    with pytest.raises(SystemExit):
        main(argv)
    assert {o.name for o in RECIPE_OPTIONS} <= set(seen)
    assert seen["recipe"] == COMMANDS[command]
    assert (seen["epochs"], seen["fmax_hz"], seen["augment"], seen["compile"]) == (3, 8000.0, False, True)
    assert seen["lr"] is None and seen["width"] == 1.0 and seen["precision"] == "auto"


# ── every declared bound and choice is enforced, by the one check ────────────────────────────────────────────────

@pytest.mark.parametrize("opt", BOUNDED, ids=lambda o: o.name)
def test_every_declared_bound_is_enforced_by_checked_options(opt):
    for value in _outside(opt):
        with pytest.raises(ConfigError, match=f"^{opt.flag} must be ") as ex:
            checked_options(modality="audio", recipe="fast", **{opt.name: value})
        assert str(ex.value).startswith(f"{opt.flag} must be {opt.expected}; got {value}")
    for value in _inside(opt):
        checked_options(modality="audio", recipe="fast", **{opt.name: value})


@pytest.mark.parametrize("opt", CHOICES, ids=lambda o: o.name)
def test_every_declared_choice_is_enforced_by_checked_options(opt):
    with pytest.raises(ConfigError, match=f"^{opt.flag} got 'nope'; expected one of {', '.join(opt.choices)}"):
        checked_options(modality="image", **{opt.name: "nope"})
    for value in opt.choices:
        checked_options(modality="image", **{opt.name: value})


@pytest.mark.parametrize("opt", BOUNDED + CHOICES, ids=lambda o: o.name)
def test_the_sweep_refuses_what_checked_options_refuses_with_the_same_words(opt):
    bad = _outside(opt)[0] if opt.expected else "nope"
    with pytest.raises(ConfigError) as direct:
        checked_options(modality="audio", **{opt.name: bad})
    spec = make_sweep_spec("d", modality="image", codec="jpeg", levels=[20], archs=["A"], seeds=1,
                           options=replace(TrainOptions(), **{opt.name: bad}))
    with pytest.raises(ConfigError) as swept:
        validate_sweep(spec, known_archs=("A",))
    assert str(swept.value) == str(direct.value)


def test_an_integer_option_refuses_a_fraction_and_a_rate_refuses_infinity():
    with pytest.raises(ConfigError, match=r"^--epochs must be an integer ≥ 1; got 2.5"):
        checked_options(modality="image", epochs=2.5)
    with pytest.raises(ConfigError, match=r"^--lr must be a positive number; got inf"):
        checked_options(modality="image", lr=float("inf"))


def test_a_resolved_spec_may_leave_only_the_none_defaults_unset():
    validate_sweep(make_sweep_spec("d", modality="image", codec="jpeg", levels=[20], archs=["A"], seeds=1),
                   known_archs=("A",))   # lr, lr_decay, fmax_hz None: resolved later
    spec = make_sweep_spec("d", modality="image", codec="jpeg", levels=[20], archs=["A"], seeds=1,
                           options=replace(TrainOptions(), epochs=None))
    with pytest.raises(ConfigError, match="^--epochs must be an integer ≥ 1; got None"):
        validate_sweep(spec, known_archs=("A",))


def test_checked_options_keywords_are_the_declared_options_with_their_defaults():
    import inspect

    params = inspect.signature(checked_options).parameters
    assert list(params) == ["modality", *OPTIONS]
    assert all(params[o.name].default == o.keyword_default for o in RECIPE_OPTIONS)


def test_an_unknown_option_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="unknown training option 'epoch'"):
        train_options(modality="image", epoch=3)
    with pytest.raises(ConfigError, match="unknown training option 'fmax'"):
        checked_options(modality="audio", fmax=8000)


def test_grad_clip_stays_out_of_the_run_id_until_it_is_used():
    from dataclasses import replace

    from helmholtz.train.spec import DataRef, RunSpec, TrainOptions

    spec = RunSpec(DataRef("d", "h"), "jpeg", 20, "A", 0, TrainOptions())
    assert "grad_clip" not in spec.options.identity_dict()
    clipped = replace(spec, options=replace(spec.options, grad_clip=1.0))
    assert clipped.run_id != spec.run_id and clipped.options.identity_dict()["grad_clip"] == 1.0


def test_numpy_scalars_are_numbers_to_the_checks():
    import numpy as np

    from helmholtz.train.recipes import checked_options

    opts = checked_options(modality="image", epochs=np.int64(5), lr=np.float32(0.5), width=np.float64(0.25))
    assert opts.epochs == 5 and opts.width == 0.25
    with pytest.raises(ConfigError, match="--epochs must be an integer ≥ 1; got 0"):
        checked_options(modality="image", epochs=np.int64(0))
