"""The contract between the sweep and its engines: what an engine is handed (`LevelFeed`, `Sink`,
`EngineOptions`) and what it is (`Engine`). The registry of engines that keep it is `sweep.engines`; the drivers,
`engine_local` and `engine_ray`, import only this module of the three, so the imports run one way.

An `Engine` is handed the sweep's pending runs, a `LevelFeed` and a `Sink`. The runs come level by level, so the
runs that share a level's data are consecutive; ``feed.get(spec)`` gives that data (through the codec once, and
prepared for the models). The engine trains every run, by `EngineOptions.run_fn` (`engine_local.execute_run`
unless replaced), and hands each outcome to the sink: ``started`` before a run, ``finished`` with its result or
``failed`` with its error after. The sink alone writes the store, so an engine never touches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from helmholtz.train.spec import EpochRow, RunResult, RunSpec

if TYPE_CHECKING:
    from helmholtz.data.dataset import Dataset

RunFn = Callable[..., tuple[RunResult, list[EpochRow]]]
EventFn = Callable[[dict[str, Any]], None]


class LevelFeed(Protocol):
    """Hands out the prepared data (codec round trip + model inputs) of a run's level (its codec and level),
    computing it once."""

    def get(self, spec: RunSpec) -> Dataset: ...


class Sink(Protocol):
    """Receives what the engines produce; the only writer of the store."""

    def started(self, spec: RunSpec) -> None: ...
    def epoch(self, spec: RunSpec, row: EpochRow) -> None: ...
    def step(self, spec: RunSpec, epoch: int, done: int, of: int) -> None: ...
    def finished(self, spec: RunSpec, result: RunResult, epochs: list[EpochRow]) -> None: ...
    def failed(self, spec: RunSpec, error: str) -> None: ...


@dataclass(frozen=True)
class EngineOptions:
    """How the sweep asked its runs to be executed; an engine reads what applies to it."""

    run_fn: RunFn                     # trains one run: (spec dict, data, *, threads, …) → (RunResult, epochs)
    threads: int                      # torch threads per run, the same on every engine (see engine_local)
    workers: int = 1                  # local: runs at once (1: in this process; more: spawned workers)
    n_gpus: int = 0                   # local: CUDA GPUs the workers share round robin
    address: str | None = None        # ray: an existing cluster ('auto' or HOST:PORT); None starts one here
    gpus_per_run: float = 0.0         # ray: GPU share per task
    max_retries: int = 2              # ray: retries of a task that raised or whose worker died


class Engine(Protocol):
    """Executes a sweep's pending runs (see this module's docstring)."""

    name: str                         # as --engine, in the store's runs.engine and the 'start' event
    same_seed: str                    # what "the same seed gives the same result" means on this engine
    on_this_machine: bool             # runs use this machine's CPUs and GPUs (checked and counted here)

    def run(self, todo: list[RunSpec], feed: LevelFeed, sink: Sink, options: EngineOptions) -> None: ...
