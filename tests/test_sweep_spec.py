"""The sweep spec: default grids, seeds, canonical order, expansion into stable run ids, and validation."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from helmholtz.codecs.registry import get_codec
from helmholtz.errors import ConfigError, HelmholtzError, StoreError
from helmholtz.sweep.grid import default_levels
from helmholtz.sweep.spec import (
    SweepSpec,
    expand,
    make_sweep_spec,
    parse_archs,
    parse_seeds,
    validate_sweep,
)
from helmholtz.sweep.spec_diff import merge_extend, spec_differences
from helmholtz.train.spec import DataRef, RunSpec, TrainOptions


def _spec(**kw) -> SweepSpec:
    base = dict(modality="image", levels=[10, None], archs=["A", "F"], seeds=2, data_hash="h0")
    base.update(kw)
    return make_sweep_spec("data.npz", **base)


# ---------------------------------------------------------------- grids, seeds, order


def test_default_grids_are_the_papers():
    # DESIGN.md: q ∈ {1,5,10,15,20,25,50,75,100} + none; {8,16,32,64,96,128,160} kbps + none
    assert default_levels("jpeg") == (1, 5, 10, 15, 20, 25, 50, 75, 100, None)
    assert default_levels("mp3") == (8, 16, 32, 64, 96, 128, 160, None)
    spec = make_sweep_spec("x", modality="audio")
    assert spec.codec == "mp3" and spec.levels == default_levels("mp3")
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
        (dict(codec="jpeg", levels=[0]), r"--levels: JPEG quality must be 1\.\.100; got 0"),
        (dict(codec="jpeg", levels=[5, 101]), r"got 101"),
        (dict(modality="audio", codec="mp3", levels=[7]), r"MP3 bitrate must be 8\.\.320 kbps; got 7"),
        (dict(modality="audio", codec="mp3", levels=[321, None]), r"got 321"),
        (dict(modality="audio", codec="mp3", levels=[32, 100, None]), r"100 kbps is not an MP3 \(Layer III\) bitrate"),
        (dict(codec="none", levels=[20]), r"--codec none takes no levels; got 20"),
        (dict(codec="png", levels=[20]), r"--codec got 'png'; expected one of jpeg, webp"),
        (dict(modality="audio", codec="jpeg", levels=[20]), r"--codec jpeg compresses image data but the dataset is audio.*mp3"),
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
    with pytest.raises(HelmholtzError, match=match) as info:
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


# ---------------------------------------------------------------- codecs from the registry, several per sweep


def test_run_ids_of_stored_jpeg_and_mp3_runs_never_change():
    # a RunSpec dict as every store has held it since the first release: its hash is the run id of a finished run,
    # so a resumed sweep finds it; these values were computed before multi-codec sweeps existed
    data = {"dataset": "fashion-mnist", "data_hash": "abc123", "train_size": 10000, "test_size": 2000,
            "val_fraction": 0.1, "split_seed": 0}
    jpeg = {"data": data, "codec": "jpeg", "level": 20, "arch": "A", "seed": 1, "modality": "image",
            "options": {**vars(TrainOptions(epochs=5, optimizer="adam", lr=2e-3, width=0.25))}}
    mp3 = {"data": data, "codec": "mp3", "level": 32, "arch": "C", "seed": 0, "modality": "audio",
           "options": {**vars(TrainOptions(optimizer="adadelta", batch_size=50, augment=False))}}
    assert RunSpec.from_dict(jpeg).run_id == "cf3d00384e9758d7"
    assert RunSpec.from_dict(mp3).run_id == "7648f897fc177f88"
    assert RunSpec.from_dict(jpeg).level_label == "20" and RunSpec.from_dict(mp3).level_label == "32"
    spec = make_sweep_spec("fashion-mnist", modality="image", levels=[5, 20, None], archs=["A", "F"], seeds=2,
                           data_hash="abc123", options=TrainOptions(epochs=5, optimizer="adam", lr=2e-3, width=0.25))
    assert [r.run_id for r in expand(spec)][:3] == ["f608597d500d93a0", "147dfa687792ead1", "04d6685cd2083944"]


def test_one_codec_spec_serialises_as_before():
    d = _spec().to_dict()
    assert set(d) == {"data", "codec", "levels", "archs", "seeds", "options", "modality"}
    assert SweepSpec.from_dict(d).to_dict() == d


def test_multi_codec_spec_round_trips_with_one_extra_key():
    spec = make_sweep_spec("d", modality="image", codec="jpeg,webp,avif",
                           levels={"jpeg": [5, 10, 20], "avif": [60, 20, 40]}, archs=["A"], seeds=3, data_hash="h")
    assert spec.codecs == ("jpeg", "webp", "avif")
    assert spec.levels == (5, 10, 20, None)                           # the original always, once
    assert spec.levels_of("webp") == get_codec("webp").default_levels  # no levels given: the codec's default grid
    assert spec.levels_of("avif") == (20, 40, 60)
    d = json.loads(json.dumps(spec.to_dict()))
    assert d["more_codecs"] == [{"codec": "webp", "levels": list(get_codec("webp").default_levels)},
                                {"codec": "avif", "levels": [20, 40, 60]}]
    assert SweepSpec.from_dict(d) == spec
    runs = expand(spec)
    assert len(runs) == spec.n_runs == (3 + 9 + 3 + 1) * 3
    assert sum(1 for r in runs if r.codec == "none") == 3            # the original is trained once, for every codec
    labels = {r.level_label for r in runs}
    assert {"5", "webp:50", "avif:40", "none"} <= labels and len(labels) == 16
    validate_sweep(spec)


def test_levels_for_one_of_several_codecs_are_checked_against_that_codec():
    spec = make_sweep_spec("d", modality="image", codec="jpeg,jp2", levels={"jp2": [5]}, archs=["A"], seeds=1)
    with pytest.raises(HelmholtzError, match=r"--levels jp2: JPEG 2000 quality must be 10\.\.70 dB; got 5"):
        validate_sweep(spec)
    mixed = make_sweep_spec("d", modality="image", codec="jpeg,opus", archs=["A"], seeds=1)
    with pytest.raises(ConfigError, match="--codec opus compresses audio data but the dataset is image"):
        validate_sweep(mixed)


@pytest.mark.parametrize(("codec", "levels", "want"), [
    ("jpeg", None, ("jpeg",)),
    ("jpeg,webp", ["10,50"], ("jpeg", "webp")),
    (None, ["jpeg=5,10", "avif=20,40"], ("jpeg", "avif")),
    (None, ["jpeg=5,10 avif=20,40"], ("jpeg", "avif")),
    ("jpeg,avif", ["jpeg=5,10; avif=20,40"], ("jpeg", "avif")),
])
def test_parse_grid_forms(codec, levels, want):
    from helmholtz.sweep.grid import parse_grid

    codecs, level_map = parse_grid(codec, levels)
    spec = make_sweep_spec("d", modality="image", codec=codecs, levels=level_map, archs=["A"], seeds=1)
    assert spec.codecs == want
    if levels and "=" in levels[0]:
        assert spec.levels_of("jpeg") == (5, 10)
        assert spec.levels_of(want[1]) == (20, 40)
    if codec == "jpeg,webp":
        assert spec.levels_of("jpeg") == spec.levels_of("webp") == (10, 50)


@pytest.mark.parametrize(("codec", "levels", "match"), [
    ("jpeg,png", None, r"--codec got 'png'"),
    ("jpeg,none", None, r"'none' \(the original\) is not a codec to compare"),
    ("jpeg", ["avif=20"], r"levels for avif, which is not in --codec jpeg"),
    ("jpeg", ["jpeg=5", "jpeg=10"], r"names jpeg twice"),
    ("jpeg", ["5,x"], r"--levels got 'x'"),
    ("jpeg", ["png=5"], r"--levels got 'png'"),
])
def test_parse_grid_refuses(codec, levels, match):
    from helmholtz.sweep.grid import parse_grid

    with pytest.raises(ConfigError, match=match):
        codecs, level_map = parse_grid(codec, levels)
        make_sweep_spec("d", modality="image", codec=codecs, levels=level_map, archs=["A"], seeds=1)


def test_merge_extend_adds_a_codec_and_keeps_the_first():
    old = _spec(levels=[10, None]).to_dict()
    new = make_sweep_spec("data.npz", modality="image", codec="webp", levels=[40, None], archs=["A", "F"], seeds=2,
                          data_hash="h0").to_dict()
    union = SweepSpec.from_dict(merge_extend(old, new))
    assert union.codecs == ("jpeg", "webp") and union.levels_of("jpeg") == (10,) and union.levels_of("webp") == (40,)
    assert {r.run_id for r in expand(SweepSpec.from_dict(old))} < {r.run_id for r in expand(union)}
    # extending a one-codec sweep by one of its own levels keeps the old format
    assert "more_codecs" not in merge_extend(old, _spec(levels=[20]).to_dict())


def test_invalid_points_of_a_stored_spec():
    from helmholtz.sweep.spec import invalid_points

    stored = make_sweep_spec("x", modality="audio", levels=[32, 100, None], archs=["A"], seeds=1).to_dict()
    assert [(c, v) for c, v, _ in invalid_points(stored)] == [("mp3", 100)]
    assert invalid_points(_spec()) == []


def test_a_sweep_stored_before_the_recipes_resumes_as_the_same_sweep(tmp_path):
    # a spec dict as stores held it before the recipe options existed: the paper's recipe, no recipe keys
    from helmholtz.sweep.store import Store

    old = make_sweep_spec("d.npz", modality="image", levels=[10, None], archs=["A"], seeds=2, data_hash="h")
    stored = old.to_dict()
    assert not {"recipe", "schedule", "warmup_epochs"} & set(stored["options"])
    with Store(tmp_path, create=True) as st:
        st.init_spec(stored)
        from helmholtz.train.recipes import train_options

        again = make_sweep_spec("d.npz", modality="image", levels=[10, None], archs=["A"], seeds=2, data_hash="h",
                                options=train_options(modality="image", recipe="paper"))
        assert st.init_spec(again.to_dict()) == stored      # not "a different sweep"
    fast = make_sweep_spec("d.npz", modality="image", levels=[10, None], archs=["A"], seeds=2, data_hash="h",
                           options=train_options(modality="image", recipe="fast"))
    assert fast.to_dict()["options"]["recipe"] == "fast"


def test_a_stored_sweep_that_predates_an_option_names_its_default_and_how_to_resume():
    from helmholtz.sweep.spec_diff import spec_differences

    diffs = spec_differences({"options": {"epochs": 6}}, {"options": {"epochs": 6, "select": "last"}})
    assert diffs == ["options.select: stored 'best', given 'last' (the sweep predates --select: pass --select best "
                     "to resume)"]
    assert spec_differences({"options": {"epochs": 6}}, {"options": {"epochs": 7}}) == [
        "options.epochs: stored 6, given 7"]
