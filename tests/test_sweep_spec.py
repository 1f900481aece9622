"""The sweep spec: default grids, seeds, canonical order, expansion into stable run ids, and validation."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from helmholtz.errors import ConfigError, StoreError
from helmholtz.sweep.spec import (
    DEFAULT_LEVELS,
    SweepSpec,
    expand,
    make_sweep_spec,
    merge_extend,
    parse_archs,
    parse_seeds,
    spec_differences,
    validate_sweep,
)
from helmholtz.train.spec import DataRef, RunSpec, TrainOptions


def _spec(**kw) -> SweepSpec:
    base = dict(modality="image", levels=[10, None], archs=["A", "F"], seeds=2, data_hash="h0")
    base.update(kw)
    return make_sweep_spec("data.npz", **base)


# ---------------------------------------------------------------- grids, seeds, order


def test_default_grids_are_the_papers():
    # DESIGN.md: q ∈ {1,5,10,15,20,25,50,75,100} + none; {8,16,32,64,96,128,160} kbps + none
    assert DEFAULT_LEVELS["jpeg"] == (1, 5, 10, 15, 20, 25, 50, 75, 100, None)
    assert DEFAULT_LEVELS["mp3"] == (8, 16, 32, 64, 96, 128, 160, None)
    spec = make_sweep_spec("x", modality="audio")
    assert spec.codec == "mp3" and spec.levels == DEFAULT_LEVELS["mp3"]
    assert spec.options.optimizer == "adadelta" and spec.options.batch_size == 50 and not spec.options.augment
    assert spec.data.val_fraction == 0.25
    image = make_sweep_spec("x", modality="image")
    assert image.codec == "jpeg" and image.options == TrainOptions() and image.data.val_fraction == 0.1


@pytest.mark.parametrize(("text", "seeds"), [("3", (0, 1, 2)), ("1", (0,)), ("0,5,7", (0, 5, 7)), ("7,0", (7, 0)), ("4,", (4,))])
def test_parse_seeds_count_or_list(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(("text", "match"), [("0", "count must be ≥ 1"), ("x", "expected a count"), ("-1,2", "a seed must be an integer in 0..4294967295; got -1"), ("", "empty")])
def test_parse_seeds_rejects(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_seeds(text)


def test_parse_archs_uppercases():
    assert parse_archs("a, F") == ("A", "F")
    with pytest.raises(ConfigError, match="empty"):
        parse_archs(" , ")


def test_grid_order_is_canonical_and_round_trips():
    a = _spec(levels=[None, 50, 5, 50], archs=["F", "A", "A"], seeds=[2, 0, 2])
    b = _spec(levels=[5, 50, None], archs=["A", "F"], seeds=[0, 2])
    assert a == b
    assert a.levels == (5, 50, None) and a.archs == ("A", "F") and a.seeds == (0, 2)
    d = json.loads(json.dumps(a.to_dict()))
    assert SweepSpec.from_dict(d) == a
    assert [r.run_id for r in expand(a)] == [r.run_id for r in expand(b)]


# ---------------------------------------------------------------- expansion


def test_expand_is_the_full_grid_with_stable_ids():
    spec = _spec(levels=[5, 20, None], archs=["A", "C", "F"], seeds=3)
    runs = expand(spec)
    assert len(runs) == 3 * 3 * 3 == spec.n_runs
    assert len({r.run_id for r in runs}) == len(runs)
    cells = {(r.level, r.arch, r.seed) for r in runs}
    assert cells == {(lv, a, s) for lv in (5, 20, None) for a in "ACF" for s in range(3)}
    # the id is the RunSpec hash, built independently here
    want = RunSpec(data=spec.data, codec="jpeg", level=20, arch="C", seed=1, options=spec.options, modality="image").run_id
    assert want in {r.run_id for r in runs}
    # the original runs without a codec: its data never saw JPEG
    assert {r.codec for r in runs if r.level is None} == {"none"}
    assert [r.run_id for r in expand(spec)] == [r.run_id for r in runs]  # stable


def test_expand_ids_change_with_data_or_options():
    spec = _spec()
    ids = {r.run_id for r in expand(spec)}
    assert ids.isdisjoint({r.run_id for r in expand(spec.with_data_hash("other"))})
    assert ids.isdisjoint({r.run_id for r in expand(replace(spec, options=replace(spec.options, epochs=3)))})


def test_expand_needs_the_data_hash():
    with pytest.raises(ConfigError, match="hash is not resolved"):
        expand(_spec(data_hash=""))


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(codec="jpeg", levels=[0]), r"quality must be an integer in 1\.\.100 .*got 0"),
        (dict(codec="jpeg", levels=[5, 101]), r"got 101"),
        (dict(modality="audio", codec="mp3", levels=[7]), r"bitrate \(kbps\) must be an integer in 8\.\.320.*got 7"),
        (dict(modality="audio", codec="mp3", levels=[321, None]), r"got 321"),
        (dict(codec="none", levels=[20]), r"--codec none takes no levels; got 20"),
        (dict(modality="audio", codec="jpeg", levels=[20]), r"--codec jpeg compresses image data but the dataset is audio.*use --codec mp3"),
        (dict(codec="mp3", levels=[64]), r"--codec mp3 compresses audio data but the dataset is image"),
        (dict(archs=["A", "G"]), r"unknown architecture 'G'.*A,B,C,D,E,F"),
        (dict(seeds=[]), r"--seeds is empty"),
        (dict(seeds=[-1]), r"seed must be an integer in 0\.\.4294967295"),
        (dict(levels=[]), r"--levels is empty"),
        (dict(options=TrainOptions(epochs=0)), r"--epochs must be an integer ≥ 1; got 0"),
        (dict(options=TrainOptions(optimizer="rmsprop")), r"--optimizer got 'rmsprop'"),
        (dict(options=TrainOptions(width=0.0)), r"--width must be a multiplier"),
        (dict(train_size=0), r"--train-size must be a positive count"),
    ],
)
def test_validate_rejects_each_bad_field_in_one_line(kw, match):
    kw = dict(kw)
    seeds = kw.pop("seeds", [0, 1])
    levels = kw.pop("levels", [10, None])
    spec = SweepSpec(
        data=DataRef("d", "h", train_size=kw.pop("train_size", None)), codec=kw.pop("codec", "jpeg"), levels=tuple(levels),
        archs=tuple(kw.pop("archs", ["A"])), seeds=tuple(seeds), options=kw.pop("options", TrainOptions()),
        modality=kw.pop("modality", "image"),
    )
    assert not kw
    with pytest.raises(ConfigError, match=match) as info:
        validate_sweep(spec)
    assert "\n" not in str(info.value) and "fix:" in str(info.value)


def test_validate_accepts_good_specs_and_known_arch_lists():
    validate_sweep(_spec())
    validate_sweep(make_sweep_spec("x", modality="audio", levels=[8, 320, None]))
    validate_sweep(make_sweep_spec("x", modality="image", codec="none", levels=[None]))
    with pytest.raises(ConfigError, match="unknown architecture 'F'"):
        validate_sweep(_spec(), known_archs=["A"])


# ---------------------------------------------------------------- extend


def test_merge_extend_takes_the_union_of_levels_archs_seeds():
    old = _spec(levels=[10, None], archs=["A"], seeds=[0, 1]).to_dict()
    new = _spec(levels=[20], archs=["F"], seeds=[2]).to_dict()
    union = merge_extend(old, new)
    assert union["levels"] == [10, 20, None] and union["archs"] == ["A", "F"] and union["seeds"] == [0, 1, 2]
    assert {r.run_id for r in expand(SweepSpec.from_dict(old))} < {r.run_id for r in expand(SweepSpec.from_dict(union))}


def test_merge_extend_refuses_other_changes():
    old = _spec().to_dict()
    new = _spec(options=TrainOptions(epochs=5)).to_dict()
    with pytest.raises(StoreError, match=r"options\.epochs: stored 200, given 5"):
        merge_extend(old, new)
    assert spec_differences(old, _spec(levels=[5]).to_dict()) == ["levels: stored [10,none], given [5]"]


def test_spec_module_does_not_import_torch():
    code = "import sys, helmholtz.sweep.spec, helmholtz.sweep.store, helmholtz.sweep.summary, helmholtz.sweep.export; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert out == "False"
