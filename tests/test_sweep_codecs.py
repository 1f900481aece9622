"""Every codec of the registry through `helmholtz sweep`: every invalid level of every codec is refused before
anything is stored (the walk covers a codec the day it is registered), and a real sweep over JPEG, WebP and AVIF
goes into one store with the original trained once, per-codec labels, N_approx per codec and the BD table.

Oracles: the registry's own valid levels (every integer in a window around each range, refused or not); the output
directory's absence; the store's rows against the spec's grid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helmholtz.codecs.registry import CODECS, level_label
from helmholtz.errors import CodecError
from helmholtz.sweep.runner import run_sweep
from helmholtz.sweep.spec import make_sweep_spec
from helmholtz.sweep.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from conftest import run_cli  # noqa: E402
from test_sweep_cli import TINY_ARGS  # noqa: E402
from test_sweep_resume import TINY, write_npz  # noqa: E402

SPECS = list(CODECS.values())
IDS = [s.name for s in SPECS]


def invalid_levels(spec) -> list[int]:
    """Every integer the codec refuses in a window of 10 around its range: the gaps of an allowed list included."""
    lo, hi = spec.level_range
    valid = set(spec.valid_levels())
    return [v for v in range(lo - 10, hi + 11) if v not in valid]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_invalid_level_of_every_codec_is_refused_before_anything_is_stored(spec, tmp_path):
    out = tmp_path / "out"
    bad = invalid_levels(spec)
    assert bad and (not spec.allowed or len(bad) > 20)
    other = next(c for c in SPECS if c.modality == spec.modality and c is not spec)
    for level in bad:
        # alone, and as the last codec of a multi-codec sweep whose other codec is fine: the grid is checked whole
        for codec, levels in ((spec.name, [level, None]),
                              (f"{other.name},{spec.name}", {other.name: [other.default_levels[0]], spec.name: [level]})):
            grid = make_sweep_spec("never-read", modality=spec.modality, codec=codec, levels=levels, archs=["A"],
                                   seeds=1, data_hash="h")
            with pytest.raises(CodecError, match=f"got {level}|{level}{spec.display_format.split('{}')[1]} is not"):
                run_sweep(grid, out, quiet=True)
            assert not out.exists()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_cli_refuses_them_in_one_line_and_creates_nothing(spec, tmp_path, capsys):
    out = tmp_path / "out"
    bad = invalid_levels(spec)
    gaps = [v for v in bad if spec.level_range[0] < v < spec.level_range[1]]
    sample = sorted({bad[0], bad[-1], *gaps[:: max(1, len(gaps) // 3)]})
    for level in sample:
        for args in (["--codec", spec.name, "--levels", f"{level},none"],
                     ["--levels", f"{spec.name}={spec.default_levels[0]},{level}"]):
            code, _, err = run_cli(["sweep", str(tmp_path / "not-read.npz"), "--out", str(out), *args], capsys)
            assert code == 2 and err.startswith("error: --levels") and "fix:" in err and err.count("\n") == 1, err
            assert str(level) in err
            assert not out.exists()


def test_bad_codec_names_and_mixed_modalities_are_refused(tmp_path, capsys):
    out = tmp_path / "out"
    for args, match in ((["--codec", "jpeg,png"], "--codec got 'png'"),
                        (["--codec", "jpeg,opus"], "--codec opus compresses audio data but the dataset is image"),
                        (["--codec", "jpeg", "--levels", "avif=20"], "levels for avif, which is not in --codec jpeg")):
        code, _, err = run_cli(["sweep", str(tmp_path / "x.npz"), "--out", str(out), *args], capsys)
        assert code == 2 and match in err, err
        assert not out.exists()


# ---------------------------------------------------------------- a real sweep over three codecs


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    data = write_npz(root / "d.npz")
    out = root / "out"
    args = ["sweep", str(data), "--out", str(out), "--levels", "jpeg=10,50 webp=10,50", "--levels", "avif=10,50",
            "--archs", "A", "--seeds", "1", *TINY_ARGS, "--quiet", "--json"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HELMHOLTZ_CACHE", str(root / "cache"))
        from helmholtz.cli import main

        try:
            main(args)
        except SystemExit as ex:
            assert ex.code == 0
    return data, out, args, root


def test_three_codecs_go_into_one_store_with_one_original(three):
    data, out, _, _ = three
    with Store(out) as st:
        spec, runs, levels = st.spec(), st.runs(), st.levels()
    assert spec["codec"] == "jpeg" and spec["levels"] == [10, 50, None]
    assert spec["more_codecs"] == [{"codec": "webp", "levels": [10, 50]}, {"codec": "avif", "levels": [10, 50]}]
    want = {(c, v) for c in ("jpeg", "webp", "avif") for v in (10, 50)} | {("none", None)}
    assert {(r["codec"], r["level"]) for r in runs} == want and len(runs) == 7
    assert {r["level_label"] for r in runs} == {level_label(c, v) for c, v in want}
    assert {(r["codec"], r["level"], r["level_label"]) for r in levels} == {(c, v, level_label(c, v)) for c, v in want}
    bits = {r["level_label"]: r["bits_payload"] for r in levels}
    assert bits["webp:10"] != bits["10"] != bits["avif:10"]   # each codec's own measured bytes


def test_the_same_command_resumes_and_the_report_compares_the_codecs(three, capsys, monkeypatch):
    _, out, args, root = three
    monkeypatch.setenv("HELMHOLTZ_CACHE", str(root / "cache"))
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["n_done_now"] == 0 and summary["n_skipped"] == 7 and summary["codecs"] == ["jpeg", "webp", "avif"]
    code, stdout, err = run_cli(["results", str(out)], capsys)
    assert code == 0 and "webp:50" in stdout and "avif:10" in stdout
    code, _, err = run_cli(["report", str(out)], capsys)
    assert code == 0, err
    doc = json.loads((out / "report" / "analysis.json").read_text())
    assert {(c["a"], c["b"]) for c in doc["codecs"]} == {("jpeg", "webp"), ("jpeg", "avif"), ("webp", "avif")}
    assert {x["codec"] for x in doc["n_approx_by_model"]} == {"jpeg", "webp", "avif"}
    html = (out / "report" / "report.html").read_text()
    assert 'id="codecs"' in html and "AVIF vs JPEG" in html


def test_extend_adds_a_codec_to_a_one_codec_store(tmp_path, monkeypatch):
    monkeypatch.setenv("HELMHOLTZ_CACHE", str(tmp_path / "cache"))
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    one = make_sweep_spec(str(data), modality="image", codec="jpeg", levels=[10, None], archs=["A"], seeds=1,
                          options=TINY)
    run_sweep(one, out, quiet=True, threads_per_run=1)
    with Store(out) as st:
        before = {r["run_id"]: r for r in st.runs()}
        assert "more_codecs" not in st.spec()
    two = make_sweep_spec(str(data), modality="image", codec="webp", levels=[10], archs=["A"], seeds=1, options=TINY)
    s = run_sweep(two, out, quiet=True, threads_per_run=1, extend=True)
    assert s.n_done_now == 1 and s.codecs == ["jpeg", "webp"]
    with Store(out) as st:
        after = {r["run_id"]: r for r in st.runs()}
        assert st.spec()["more_codecs"] == [{"codec": "webp", "levels": [10]}]
    assert all(after[k] == v for k, v in before.items()) and len(after) == 3
