"""Engines behind one contract (`sweep.contract`), and their registry: `ENGINES`, `engine_names()`,
`get_engine(name)`; and `StoreSink`, the sink every engine hands its outcomes to, the only writer of the store
(it also records the engine's name in each run's row).

Each engine says in ``same_seed`` what "the same seed gives the same result" means on it. The drivers live in
`engine_local` and `engine_ray`; they are imported when an engine runs, so naming an engine imports nothing heavy.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmholtz.codecs.registry import REFERENCE
from helmholtz.errors import ConfigError
from helmholtz.sweep.contract import Engine, EngineOptions, EventFn, LevelFeed, RunFn, Sink  # noqa: F401 (the contract, re-exported)
from helmholtz.train.spec import EpochRow, RunResult, RunSpec

if TYPE_CHECKING:
    from helmholtz.sweep.store import Store


class LocalEngine:
    """This machine: one run at a time in this process (``workers=1``; Ctrl-C stops at once), or ``workers``
    spawned processes, each with its own GPU round robin when there are GPUs (`engine_local`)."""

    name = "local"
    same_seed = ("bit for bit on CPU: a spec and seed give the same history, predictions and weights in this "
                 "process and in any number of worker processes, because every run gets the same torch thread count "
                 "(threads_per_run; pass it to compare across machines, whose CPUs and torch builds must match too). "
                 "On a GPU, cuDNN's kernel choice makes repeated runs agree closely, not bit for bit.")
    on_this_machine = True

    def run(self, todo: list[RunSpec], feed: LevelFeed, sink: Sink, options: EngineOptions) -> None:
        from helmholtz.sweep.engine_local import run_in_pool, run_in_process

        if options.workers == 1:
            run_in_process(todo, feed, sink, threads=options.threads, run_fn=options.run_fn)
        else:
            run_in_pool(todo, feed, sink, workers=options.workers, threads=options.threads, run_fn=options.run_fn,
                        n_gpus=options.n_gpus)


class RayEngine:
    """Each run a Ray task, on the Ray of this process, a cluster at ``address``, or one started here
    (`engine_ray`); the driver ships each level's data to the object store once and alone writes the store."""

    name = "ray"
    same_seed = ("the local engine's results, bit for bit on CPU workers whose CPUs and torch build match the "
                 "driver's: a task runs the same executor with the same thread count. Retries repeat a run from its "
                 "start, so a retried run gives the result it would have given the first time. On GPUs (a share "
                 "per task, gpus_per_run), as the local engine on a GPU.")
    on_this_machine = False

    def run(self, todo: list[RunSpec], feed: LevelFeed, sink: Sink, options: EngineOptions) -> None:
        from helmholtz.sweep.engine_ray import run_on_ray

        run_on_ray(todo, feed, sink, threads=options.threads, run_fn=options.run_fn, address=options.address,
                   gpus_per_run=options.gpus_per_run, max_retries=options.max_retries)


ENGINES: dict[str, Engine] = {e.name: e for e in (LocalEngine(), RayEngine())}


def engine_names() -> tuple[str, ...]:
    """The names ``--engine`` accepts, the default first."""
    return tuple(ENGINES)


def get_engine(name: str) -> Engine:
    """The engine called ``name``; a ConfigError names the valid ones."""
    engine = ENGINES.get(name)
    if engine is None:
        *rest, last = engine_names()
        expected = f"{', '.join(rest)} or {last}" if rest else last
        raise ConfigError(f"--engine got {name!r}; expected {expected}", fix=f"e.g. --engine {engine_names()[0]}")
    return engine


class StoreSink:
    """The sink of a sweep: writes each result to the store as it arrives (one transaction per run, the engine's
    name in the row) and emits the events."""

    def __init__(self, store: Store, emit: EventFn, *, engine: str, n_total: int, n_skipped: int,
                 weights_dir: Path | None = None) -> None:
        self.store, self.emit, self.engine, self.weights_dir = store, emit, engine, weights_dir
        self.n_total, self.n_finished = n_total, n_skipped
        self.done_now, self.failures = 0, []
        self.started_at: dict[str, str] = {}

    def _ev(self, kind: str, spec: RunSpec, **extra: Any) -> dict[str, Any]:
        return {"event": kind, "run_id": spec.run_id, "codec": spec.codec if spec.level is not None else REFERENCE,
                "level": spec.level, "level_label": spec.level_label, "arch": spec.arch, "seed": spec.seed,
                "epochs": spec.options.epochs, **extra}

    def started(self, spec: RunSpec) -> None:
        self.started_at[spec.run_id] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.emit(self._ev("run_start", spec))

    def epoch(self, spec: RunSpec, row: EpochRow) -> None:
        self.emit(self._ev("epoch", spec, epoch=row.epoch, val_acc=row.val_acc, train_loss=row.train_loss))

    def step(self, spec: RunSpec, epoch: int, done: int, of: int) -> None:
        self.emit(self._ev("step", spec, epoch=epoch, done=done, of=of))

    def finished(self, spec: RunSpec, result: RunResult, epochs: list[EpochRow]) -> None:
        assert result.run_id == spec.run_id, "the executor must return the result of the run it was given"
        if self.weights_dir is not None and result.weights is not None:
            from helmholtz.sweep.matrix import save_weights

            save_weights(self.weights_dir, result.run_id, result.weights)   # before the row: a row has its weights
        self.store.put_run(result, epochs, engine=self.engine)
        self.n_finished += 1
        self.done_now += 1
        self.emit(self._ev(
            "run_done", spec, test_acc=result.test_acc, best_val_acc=result.best_val_acc, best_epoch=result.best_epoch,
            epochs_run=result.epochs_run, wall_s=result.wall_s, n_finished=self.n_finished, n_total=self.n_total,
            device=result.device,
        ))

    def failed(self, spec: RunSpec, error: str) -> None:
        self.store.put_failure(spec, error, started_at=self.started_at.get(spec.run_id), engine=self.engine)
        self.n_finished += 1
        self.failures.append({"run_id": spec.run_id, "level_label": spec.level_label, "arch": spec.arch,
                              "seed": spec.seed, "error": error})
        self.emit(self._ev("run_failed", spec, error=error, n_finished=self.n_finished, n_total=self.n_total))
