"""Engines behind one contract: the registry names them and refuses an unknown one in one line; an engine is
handed the runs level by level with a feed and a sink; every run's row records the engine that ran it, and a store
written before that column existed still opens and resumes (its old rows NULL, its run ids unchanged)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from helmholtz.errors import ConfigError
from helmholtz.sweep import engines
from helmholtz.sweep.engines import ENGINES, EngineOptions, LocalEngine, engine_names, get_engine
from helmholtz.sweep.runner import run_sweep
from helmholtz.sweep.spec import make_sweep_spec
from helmholtz.sweep.store import Store
from helmholtz.train.spec import TrainOptions
from test_sweep_resume import write_npz

TINY = TrainOptions(epochs=1, patience=5, optimizer="adam", lr=3e-3, batch_size=32, width=0.125, precision="fp32",
                    augment=False)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _spec(data: Path, **kw):
    base = dict(modality="image", codec="jpeg", levels=[None], archs=["A"], seeds=1, options=TINY)
    base.update(kw)
    return make_sweep_spec(str(data), **base)


def _sweep(spec, out: Path, **kw):
    return run_sweep(spec, out, quiet=True, threads_per_run=1, keep_weights=False, **kw)


def _engines_by_run(out: Path) -> dict[str, str | None]:
    with Store(out) as store:
        return {r["run_id"]: r.get("engine") for r in store.runs(None)}


# ---------------------------------------------------------------- the registry


def test_the_registry_names_every_engine_and_each_states_what_a_seed_fixes():
    assert engine_names() == ("local", "ray")
    for name in engine_names():
        engine = get_engine(name)
        assert engine is ENGINES[name] and engine.name == name
        assert "bit for bit" in engine.same_seed
    assert get_engine("local").on_this_machine and not get_engine("ray").on_this_machine


@pytest.mark.parametrize("name", ["spark", "", "Local"])
def test_an_unknown_engine_is_one_line_naming_the_valid_ones(name, tmp_path):
    with pytest.raises(ConfigError, match=rf"--engine got {name!r}; expected local or ray — fix: e.g. --engine local"):
        get_engine(name)
    with pytest.raises(ConfigError, match="expected local or ray"):
        _sweep(_spec(tmp_path / "absent.npz"), tmp_path / "out", engine=name)
    assert not (tmp_path / "out").exists()    # refused before anything is written


def test_an_engine_gets_the_runs_level_by_level_with_a_feed_and_a_sink(tmp_path, monkeypatch):
    seen: list[tuple[str, str]] = []

    class Recording(LocalEngine):
        name = "recording"

        def run(self, todo, feed, sink, options):
            assert isinstance(options, EngineOptions) and options.threads == 1 and options.workers == 1
            for spec in todo:
                assert feed.get(spec).modality == "image"
                seen.append((spec.level_label, spec.arch))
            super().run(todo, feed, sink, options)

    monkeypatch.setitem(engines.ENGINES, "recording", Recording())
    data = write_npz(tmp_path / "d.npz", n_train=120, n_test=40)
    summary = _sweep(_spec(data, levels=[10, None], archs=["A", "F"]), tmp_path / "out", engine="recording")
    assert summary.engine == "recording" and summary.n_done_now == 4
    assert seen == [("10", "A"), ("10", "F"), ("none", "A"), ("none", "F")]   # a level's runs together
    assert set(_engines_by_run(tmp_path / "out").values()) == {"recording"}


# ---------------------------------------------------------------- the engine in each run's row


def test_each_row_records_the_engine_that_ran_it_done_or_failed(tmp_path):
    from helmholtz.sweep.engine_local import execute_run

    def run_fn(spec, data, **kw):
        if spec["seed"] == 1:
            raise RuntimeError("deliberate failure")
        return execute_run(spec, data, **kw)

    data = write_npz(tmp_path / "d.npz", n_train=120, n_test=40)
    summary = _sweep(_spec(data, seeds=2), tmp_path / "out", run_fn=run_fn)
    assert summary.n_done_now == 1 and summary.n_failed_now == 1
    with Store(tmp_path / "out") as store:
        assert [(r["status"], r["engine"]) for r in store.runs(None)] == [("done", "local"), ("failed", "local")]


def test_a_store_from_before_the_engine_column_opens_and_resumes(tmp_path):
    data = write_npz(tmp_path / "d.npz", n_train=120, n_test=40)
    out = tmp_path / "out"
    _sweep(_spec(data, seeds=1), out)
    # make it look like a store written before runs.engine existed (schema 3, no such column)
    conn = sqlite3.connect(out / "results.sqlite")
    conn.execute("ALTER TABLE runs DROP COLUMN engine")
    conn.commit()
    conn.close()
    with Store(out) as store:
        (old,) = store.runs()
        assert "engine" not in old and store.schema_version == "3"
    resumed = _sweep(_spec(data, seeds=1), out)
    assert resumed.n_done_now == 0 and resumed.n_skipped == 1          # nothing redone: the run id is unchanged
    extended = _sweep(_spec(data, seeds=2), out, extend=True)
    assert extended.n_done_now == 1 and extended.n_skipped == 1
    by_run = _engines_by_run(out)
    assert by_run.pop(old["run_id"]) is None and list(by_run.values()) == ["local"]   # old row NULL, new row named
    with Store(out) as store:
        assert next(r for r in store.runs() if r["run_id"] == old["run_id"])["test_acc"] == old["test_acc"]
