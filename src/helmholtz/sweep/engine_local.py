"""The local engine: runs of a sweep in this process, one at a time, or in N spawned worker processes.

`execute_run` is THE run executor of every engine (local, pool, Ray): it pins the number of torch threads to the
same ``threads`` wherever it runs, because CPU convolution reductions can depend on the thread count — that is
what makes one spec give the same results whichever engine runs it. torch is imported only inside functions.

Both drivers keep the engines' one contract (`sweep.contract`; `sweep.engines.LocalEngine` picks between them): walk the
pending runs level by level (`LevelFeed` hands out each level's prepared data, compressing it once), submit them,
and hand every result to the `Sink`, which alone writes the store.
"""

from __future__ import annotations

import os
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from helmholtz.data.dataset import Dataset
from helmholtz.sweep.contract import LevelFeed, RunFn, Sink
from helmholtz.train.spec import EpochRow, RunResult, RunSpec


def execute_run(
    spec: dict[str, Any],
    data: Dataset,
    *,
    threads: int,
    on_epoch: Callable[[EpochRow], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    device: str | None = None,
    keep_weights: bool = True,
) -> tuple[RunResult, list[EpochRow]]:
    """Train one run (a `RunSpec.to_dict()`) on its level's prepared data with exactly ``threads`` torch threads;
    the result carries the best-validation weights unless ``keep_weights`` is False."""
    import torch

    from helmholtz.train.run import train_run

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return train_run(RunSpec.from_dict(spec), data, on_epoch=on_epoch, on_progress=on_progress, device=device,
                         keep_weights=keep_weights)
    finally:
        torch.set_num_threads(previous)


def describe_error(ex: BaseException) -> str:
    """'Type: message' on the first line, then the innermost frames of the traceback (for the store's error)."""
    head = f"{type(ex).__name__}: {ex}".strip().splitlines()[0] if str(ex) else type(ex).__name__
    frames = traceback.format_exception(type(ex), ex, ex.__traceback__)
    tail = "".join(frames)[-1500:]
    return f"{head}\n{tail}" if ex.__traceback__ is not None else head


# ---------------------------------------------------------------- in process, one at a time


def run_in_process(todo: list[RunSpec], feed: LevelFeed, sink: Sink, *, threads: int, run_fn: RunFn) -> None:
    """Each run in this process, in order. Ctrl-C stops at once: the run in progress leaves no row."""
    for spec in todo:
        data = feed.get(spec)
        sink.started(spec)
        try:
            result, epochs = run_fn(
                spec.to_dict(), data, threads=threads,
                on_epoch=lambda row, s=spec: sink.epoch(s, row),
                on_progress=lambda e, d, n, s=spec: sink.step(s, e, d, n),
            )
        except Exception as ex:  # a run that raises is recorded as failed; the sweep goes on
            sink.failed(spec, describe_error(ex))
            continue
        sink.finished(spec, result, epochs)


# ---------------------------------------------------------------- N worker processes


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, *, poll_s: float = 1.0) -> None:
    """Make this (worker) process exit when ``parent_pid`` dies, however it dies (``kill -9`` included).

    Linux: the kernel sends SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG). Everywhere, and as a second
    line: a daemon thread that exits the process once it has been reparented. Without this, a killed sweep left
    its workers (about 350 MB each) and the multiprocessing resource tracker running for good.
    """
    import signal
    import sys
    import threading
    import time

    if os.getppid() != parent_pid:   # the parent died before we got here
        os._exit(1)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent_pid:   # it died between the check and the prctl
            os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="helmholtz-parent-watch", daemon=True).start()


def _init_worker(gpu_ids: Any, threads: int, parent_pid: int | None = None) -> None:
    # runs in the spawned worker before torch is imported there: one GPU per worker when there are GPUs
    if parent_pid is not None:
        die_with_parent(parent_pid)
    if gpu_ids is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu_ids.get())
    os.environ["OMP_NUM_THREADS"] = str(threads)


def _pool_task(run_fn: RunFn, spec: dict[str, Any], data: Dataset, threads: int) -> tuple[RunResult, list[EpochRow]]:
    return run_fn(spec, data, threads=threads)


def cuda_device_count() -> int:
    """Number of CUDA GPUs visible to this process (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def run_in_pool(
    todo: list[RunSpec], feed: LevelFeed, sink: Sink, *, workers: int, threads: int, run_fn: RunFn, n_gpus: int = 0,
) -> None:
    """Runs in ``workers`` spawned processes, each with ``threads`` torch threads (and, with GPUs, its own GPU via
    CUDA_VISIBLE_DEVICES, round robin). Each task carries its level's prepared arrays.

    A worker that dies (a crash, the OOM killer) breaks the whole pool and every run in flight with it. Those
    runs are retried one at a time in a fresh pool, so the run that kills its worker alone is identified and
    recorded as failed, and the others go on.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")   # fork after torch/CUDA init is unsafe
    pending: Iterator[RunSpec] = iter(todo)
    retry: deque[RunSpec] = deque()              # runs that were in flight when the pool broke
    isolated: set[str] = set()                   # run ids running alone after a break
    inflight: dict[Future, RunSpec] = {}
    limit = workers + 1                          # one queued beyond the busy workers keeps them fed

    def new_pool() -> ProcessPoolExecutor:
        gpu_ids = None
        if n_gpus > 0:
            gpu_ids = ctx.Queue()
            for i in range(workers):
                gpu_ids.put(i % n_gpus)
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(gpu_ids, threads, os.getpid()))

    def next_run() -> RunSpec | None:
        if retry:   # a suspect runs alone, so a second break names it
            if inflight:
                return None
            spec = retry.popleft()
            isolated.add(spec.run_id)
            return spec
        return next(pending, None)

    pool = new_pool()
    completed = False
    try:
        while True:
            while len(inflight) < limit:
                spec = next_run()
                if spec is None:
                    break
                data = feed.get(spec)
                sink.started(spec)
                inflight[pool.submit(_pool_task, run_fn, spec.to_dict(), data, threads)] = spec
                if spec.run_id in isolated:
                    break
            if not inflight:
                break
            finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken: list[RunSpec] = []
            for fut in finished:
                spec = inflight.pop(fut)
                try:
                    result, epochs = fut.result()
                except BrokenProcessPool:
                    broken.append(spec)
                except Exception as ex:
                    sink.failed(spec, describe_error(ex))
                else:
                    sink.finished(spec, result, epochs)
            if broken:
                broken += inflight.values()
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                for spec in broken:
                    if spec.run_id in isolated:
                        sink.failed(spec, "worker process died while running this run alone (crash or out of memory)")
                    else:
                        retry.append(spec)
        completed = True
    finally:
        # on Ctrl-C or an error: drop queued runs and do not wait for running ones (they leave no row). After the
        # last run, wait for the idle workers to exit: a pool left to the interpreter's exit hook could print
        # "OSError: Bad file descriptor" from its wake-up pipe (seen once in seven sweeps)
        pool.shutdown(wait=completed, cancel_futures=not completed)
