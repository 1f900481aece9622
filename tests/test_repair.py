"""A sweep directory broken the old way (the review's bug): the spec holds MP3 100 kbps, which is not a Layer III
bitrate, one run at 32 kbps finished and the run at 100 failed. Before the registry it could never be completed.

Oracles: the store's rows before and after (finished runs byte-identical), the stored spec, and a real sweep that
resumes the repaired directory through the real MP3 codec (with an executor that does not train).
"""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from conftest import run_cli
from helmholtz.data.dataset import RawData, make_dataset
from helmholtz.errors import StoreError
from helmholtz.sweep.repair import repair
from helmholtz.sweep.runner import run_sweep
from helmholtz.sweep.spec import SweepSpec, expand
from helmholtz.sweep.store import Store
from helmholtz.train.spec import EpochRow, RunResult, RunSpec, TrainOptions

AUDIO = TrainOptions(epochs=1, optimizer="adadelta", batch_size=50, augment=False)


def _audio(n: int = 24, sr: int = 16000) -> object:
    """Two classes of 0.25 s tones (low, high) with noise: enough for the MP3 round trip, never trained on."""
    rng = np.random.default_rng(0)
    t = np.arange(sr // 4) / sr
    y = np.arange(n) % 2
    x = np.stack([0.3 * np.sin(2 * np.pi * (220 if c == 0 else 880) * t) for c in y])
    x = (x + 0.01 * rng.normal(size=x.shape)).astype(np.float32)
    raw = RawData(x_train=x, y_train=y, x_test=x[:8], y_test=y[:8], class_names=("low", "high"), format="test",
                  modality="audio", sample_rate=sr)
    return make_dataset(raw, name="tones", source="tones", val_fraction=0.25)


def _old_spec(ds, levels=(32, 100, None)) -> dict:
    # exactly what `helmholtz sweep DIR --codec mp3 --levels 32,100,none` stored before levels were checked
    return {"data": {"dataset": "tones", "data_hash": ds.content_hash, "train_size": None, "test_size": None,
                     "val_fraction": 0.25, "split_seed": 0},
            "codec": "mp3", "levels": list(levels), "archs": ["A"], "seeds": [0], "options": asdict(AUDIO),
            "modality": "audio"}


def _fake_result(spec: dict, n_test: int) -> tuple[RunResult, list[EpochRow]]:
    rs = RunSpec.from_dict(spec)
    result = RunResult(
        run_id=rs.run_id, spec=rs.to_dict(), test_acc=0.75, test_loss=0.5, best_val_acc=0.8, best_epoch=1,
        epochs_to_converge=None, epochs_run=1, stopped_early=False, wall_s=0.1, train_items_per_s=100.0,
        n_params=1000, device="cpu", precision="fp32", versions={}, code_version="test", host={},
        started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:00:01+00:00",
        test_predictions=np.zeros(n_test, dtype=np.uint8), n_test=n_test, n_classes=2)
    return result, [EpochRow(epoch=1, train_loss=1.0, train_acc=0.7, val_loss=1.0, val_acc=0.8, lr=1.0, seconds=0.1)]


def _fake_run(spec, data, **kw):
    return _fake_result(spec, len(data.y_test))


@pytest.fixture
def broken(tmp_path):
    """A directory as the old bug left it: spec with MP3 100 kbps, a finished run at 32, a failed run at 100."""
    ds = _audio()
    out = tmp_path / "broken"
    spec = _old_spec(ds)
    with Store(out, create=True) as st:
        st.init_spec(spec)   # the store itself never validated levels: the old sweep stored this
        run32 = {**{k: spec[k] for k in ("data", "options", "modality")}, "codec": "mp3", "level": 32, "arch": "A",
                 "seed": 0}
        st.put_run(*_fake_result(run32, len(ds.y_test)))
        st.put_failure({**run32, "level": 100}, "CodecError: MP3 bitrate 100 kbps: LAME would silently use another")
        st.put_test_labels(ds.content_hash, ds.y_test, 2)
    return ds, out, spec


def _rows(out):
    with Store(out) as st:
        return {r["run_id"]: r for r in st.runs(None)}


def test_the_broken_directory_is_refused_with_the_repair_command(broken):
    ds, out, spec = broken
    with Store(out) as st:
        for given in (spec, _old_spec(ds, (32, 96, None))):
            with pytest.raises(StoreError, match=r"levels no codec can run \(100 kbps.*helmholtz repair"):
                st.init_spec(given, extend=True)
    from helmholtz.report.build import load_observations

    obs, _ = load_observations(out)
    assert obs.n_expected == 2   # 32 kbps and the original; 100 kbps can never run and is not counted
    assert any("helmholtz repair" in n and "100 kbps" in n for n in obs.notes)


def test_repair_drops_the_bad_level_and_the_sweep_then_finishes(broken, capsys):
    ds, out, _ = broken
    before = _rows(out)
    done_before = {k: v for k, v in before.items() if v["status"] == "done"}
    assert len(done_before) == 1 and sum(r["status"] == "failed" for r in before.values()) == 1
    raw = (out / "results.sqlite").read_bytes()
    code, stdout, err = run_cli(["repair", str(out), "--dry-run"], capsys)
    assert code == 0, err
    assert "would drop 100 kbps (label 100)" in stdout and (out / "results.sqlite").read_bytes() == raw

    code, stdout, err = run_cli(["repair", str(out)], capsys)
    assert code == 0, err
    assert "dropped 100 kbps" in stdout and "1 failed run(s)" in stdout and "32 kbps, the original" in stdout
    with Store(out) as st:
        assert st.spec()["levels"] == [32, None] and "more_codecs" not in st.spec()
    after = _rows(out)
    assert after == done_before   # the failed run at 100 is gone; the finished run is byte-identical
    assert repair(out).changed is False

    # the sweep with the corrected levels resumes (trains only the original), and --extend adds a level
    fixed = SweepSpec.from_dict(_old_spec(ds, (32, None)))
    summary = run_sweep(fixed, out, dataset=ds, run_fn=_fake_run, quiet=True, threads_per_run=1)
    assert summary.n_skipped == 1 and summary.n_done_now == 1 and summary.n_failed_now == 0
    more = SweepSpec.from_dict(_old_spec(ds, (32, 96, None)))
    with pytest.raises(StoreError, match="holds a different sweep"):
        run_sweep(more, out, dataset=ds, run_fn=_fake_run, quiet=True, threads_per_run=1)
    summary = run_sweep(more, out, dataset=ds, run_fn=_fake_run, quiet=True, threads_per_run=1, extend=True)
    assert summary.n_done_now == 1 and summary.n_total == 3
    with Store(out) as st:
        assert {r["level_label"] for r in st.runs()} == {"32", "96", "none"}
        assert {r["run_id"] for r in st.runs()} == {r.run_id for r in expand(more)}
        assert {r["level_label"] for r in st.levels()} == {"32", "96", "none"}


def test_repair_never_drops_a_level_with_finished_runs(broken, capsys):
    _, out, _ = broken
    raw = (out / "results.sqlite").read_bytes()
    code, _, err = run_cli(["repair", str(out), "--drop", "32"], capsys)
    assert code == 2 and "cannot drop 32 kbps (1 finished runs)" in err and "fix:" in err
    code, _, err = run_cli(["repair", str(out), "--drop", "webp:40"], capsys)
    assert code == 2 and "is not a level of the stored sweep" in err
    assert (out / "results.sqlite").read_bytes() == raw


def test_repair_json_and_drop_of_a_level_without_runs(broken, capsys):
    _, out, _ = broken
    code, stdout, err = run_cli(["repair", str(out), "--drop", "none", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(stdout)
    assert {d["label"] for d in doc["dropped"]} == {"100", "none"} and doc["levels_now"] == ["32 kbps"]
    with Store(out) as st:
        assert st.spec()["levels"] == [32]
