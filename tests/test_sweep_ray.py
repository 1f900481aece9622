"""The Ray engine on a real local Ray cluster: the same results as the local engine, and a task that raises is
retried by Ray and then recorded as failed with its error (never lost)."""

from __future__ import annotations

import functools
import sys
import uuid
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from helmholtz.sweep.engine_local import execute_run  # noqa: E402
from helmholtz.sweep.runner import run_sweep  # noqa: E402
from helmholtz.sweep.spec import make_sweep_spec  # noqa: E402
from helmholtz.sweep.store import Store  # noqa: E402
from helmholtz.train.spec import TrainOptions  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_sweep_resume import write_npz  # noqa: E402

TINY = TrainOptions(epochs=2, patience=5, optimizer="adam", lr=3e-3, batch_size=32, width=0.125, precision="fp32", augment=False)


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # this module's helpers travel to the workers by value (the tests folder is not on their sys.path)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


def _spec(data: Path, **kw):
    base = dict(modality="image", codec="jpeg", levels=[10, None], archs=["A"], seeds=2, options=TINY)
    base.update(kw)
    return make_sweep_spec(str(data), **base)


def _store_rows(out: Path) -> tuple[dict[str, dict], dict[str, list[tuple]]]:
    with Store(out) as store:
        runs = {r["run_id"]: r for r in store.runs(None)}
        hist = {rid: [(e["epoch"], e["train_loss"], e["train_acc"], e["val_loss"], e["val_acc"], e["lr"])
                      for e in store.epochs(rid)] for rid in runs}
    return runs, hist


def test_ray_gives_the_local_engines_results(tmp_path, ray_cluster):
    data = write_npz(tmp_path / "d.npz")
    spec = _spec(data)
    local = run_sweep(spec, tmp_path / "local", quiet=True, threads_per_run=1)
    remote = run_sweep(spec, tmp_path / "ray", quiet=True, engine="ray", threads_per_run=1)
    assert ray.is_initialized(), "a Ray started by the caller is used, not shut down"
    assert local.n_done_now == remote.n_done_now == 4 and remote.n_failed_now == 0
    (a_runs, a_hist), (b_runs, b_hist) = _store_rows(tmp_path / "local"), _store_rows(tmp_path / "ray")
    assert a_runs.keys() == b_runs.keys() and len(a_runs) == 4
    for run_id in a_runs:
        assert b_runs[run_id]["test_acc"] == a_runs[run_id]["test_acc"]
        assert b_runs[run_id]["test_loss"] == a_runs[run_id]["test_loss"]
        assert b_hist[run_id] == a_hist[run_id] and len(a_hist[run_id]) == 2
    with Store(tmp_path / "ray") as store:   # the driver stored the levels too
        assert [lv["level_label"] for lv in store.levels()] == ["10", "none"]


def _counting_run(spec, data, *, threads, attempts_dir, fail_arch, **kw):
    """Executes a run on a Ray worker, leaving one file per attempt; arch ``fail_arch`` always raises."""
    Path(attempts_dir, f"{spec['arch']}-{spec['seed']}-{uuid.uuid4().hex}").touch()
    if spec["arch"] == fail_arch:
        raise RuntimeError(f"deliberate failure in arch {fail_arch}")
    return execute_run(spec, data, threads=threads, **kw)


def test_failing_task_is_retried_then_recorded(tmp_path, ray_cluster):
    data = write_npz(tmp_path / "d.npz")
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    run_fn = functools.partial(_counting_run, attempts_dir=str(attempts), fail_arch="F")
    summary = run_sweep(_spec(data, levels=[None], archs=["A", "F"], seeds=1), tmp_path / "out", quiet=True,
                        engine="ray", threads_per_run=1, max_retries=1, run_fn=run_fn)
    assert summary.n_done_now == 1 and summary.n_failed_now == 1
    tries = sorted(p.name.rsplit("-", 1)[0] for p in attempts.iterdir())
    assert tries == ["A-0", "F-0", "F-0"]    # F: the first try and one retry; A: once
    with Store(tmp_path / "out") as store:
        (failed,) = store.runs("failed")
        (done,) = store.runs("done")
    assert failed["arch"] == "F" and done["arch"] == "A"
    assert failed["error"].startswith("RuntimeError: deliberate failure in arch F (after 1 retries)")
    assert summary.failures[0]["arch"] == "F"


def test_an_adaptive_sweep_on_ray_takes_the_local_engines_decisions(tmp_path, ray_cluster):
    # the driver decides, the Ray tasks train: the plan (every decision and its runs) must be the local one
    from helmholtz.adaptive.loop import run_until_decided

    data = write_npz(tmp_path / "d.npz", n_train=320, n_test=160)
    spec = _spec(data, levels=[5, 25, 90, None], seeds=3)
    plans = []
    for engine in ("local", "ray"):
        run_until_decided(spec, tmp_path / engine, max_runs=18, quiet=True, engine=engine, threads_per_run=1)
        with Store(tmp_path / engine) as store:
            plans.append([(s["kind"], s["reason"], s["runs"]) for s in store.plan_steps()])
            result = store.get_meta("adaptive_result")
            plans[-1].append({k: v for k, v in result.items() if k != "training_s"})   # timing differs, nothing else
    assert plans[0] == plans[1]
    assert "at chance" not in str(plans[0][-1]), "the tiny task must learn for the decisions to mean anything"
