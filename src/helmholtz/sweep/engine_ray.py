"""The Ray engine: each run of a sweep is a Ray task, for many GPUs or machines.

Each level's prepared arrays go into Ray's object store once (`ray.put`), so worker nodes need no dataset files
and no codec; tasks ask for ``num_cpus=threads`` and ``num_gpus=gpus_per_run`` (fractions pack several small
models onto one card). Results flow back to the driver, which alone writes the SQLite store — there are never
concurrent writers across machines. A task that raises, or whose worker or node dies, is retried by Ray
(``max_retries``, ``retry_exceptions``) and then recorded as failed with its error: never silently lost.
The task runs `engine_local.execute_run` with the same thread count as the local engine, so results agree.
On a multi-machine cluster every node needs helmholtz installed (the same version as the driver); only the data
travels through the object store.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from helmholtz.errors import ConfigError
from helmholtz.sweep.contract import LevelFeed, RunFn, Sink
from helmholtz.sweep.engine_local import describe_error
from helmholtz.train.spec import EpochRow, RunResult, RunSpec


def _ray_task(run_fn: RunFn, spec: dict[str, Any], data: Any, threads: int) -> tuple[RunResult, list[EpochRow]]:
    # ``data`` arrives from the object store already resolved (read-only numpy arrays; train_run copies them)
    return run_fn(spec, data, threads=threads)


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the Ray engine needs the ray package, which is not installed", where="--engine ray",
            fix="pip install 'helmholtz-method[ray]', or use --engine local",
        ) from None
    return ray


def _error_text(ex: BaseException, max_retries: int) -> str:
    import ray

    cause = getattr(ex, "cause", None) if isinstance(ex, ray.exceptions.RayTaskError) else None
    base = describe_error(cause) if isinstance(cause, BaseException) else f"{type(ex).__name__}: {ex}"
    head, _, rest = base.partition("\n")
    return f"{head} (after {max_retries} retries)" + (f"\n{rest}" if rest else "")


def run_on_ray(
    todo: list[RunSpec],
    feed: LevelFeed,
    sink: Sink,
    *,
    threads: int,
    run_fn: RunFn,
    address: str | None = None,
    gpus_per_run: float = 0.0,
    max_retries: int = 2,
) -> None:
    """Run ``todo`` as Ray tasks. Uses the Ray already initialised in this process, else connects to ``address``
    ('auto' or HOST:PORT), else starts a local Ray sized to this machine and shuts it down at the end."""
    ray = import_ray()
    started_here = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as ex:
            raise ConfigError(
                f"cannot start or reach Ray: {str(ex).splitlines()[0] if str(ex) else type(ex).__name__}",
                where=f"--address {address}" if address else "--engine ray",
                fix="start the cluster (ray start --head) and pass --address auto or HOST:PORT, or use --engine local",
            ) from None
        started_here = True
    try:
        resources = ray.cluster_resources()
        cpus = float(resources.get("CPU", 0))
        gpus = float(resources.get("GPU", 0))
        if threads > cpus:
            raise ConfigError(
                f"each run asks for {threads} CPUs but the Ray cluster has {cpus:g}", where="--threads-per-run",
                fix=f"use --threads-per-run ≤ {int(cpus)} (or --workers N to split the CPUs)",
            )
        if gpus_per_run > 0 and gpus_per_run > gpus:
            raise ConfigError(
                f"each run asks for {gpus_per_run:g} GPUs but the Ray cluster has {gpus:g}", where="--gpus-per-run",
                fix="use --gpus-per-run 0 on a CPU cluster, or a fraction such as 0.25",
            )
        check_factories_on_workers(ray, {spec.arch for spec in todo})
        capacity = int(cpus // threads)
        if gpus_per_run > 0:
            capacity = min(capacity, int(gpus // gpus_per_run))
        remote = ray.remote(_ray_task).options(
            num_cpus=threads, num_gpus=gpus_per_run, max_retries=max_retries, retry_exceptions=True,
        )
        _drive(ray, remote, todo, feed, sink, threads=threads, run_fn=run_fn, limit=max(2, 2 * capacity),
               max_retries=max_retries)
    finally:
        if started_here:
            ray.shutdown()


def check_factories_on_workers(ray, archs) -> None:
    """A user's model factory must import on the workers, which may not share the driver's sys.path: one probe
    task per factory module, before any run is submitted; a module that does not import is named in one line."""
    from helmholtz.models.factory import factory_modules, importable_here

    probe = ray.remote(importable_here).options(num_cpus=0)
    for module in factory_modules(sorted(archs)):
        why = ray.get(probe.remote(module))
        if why is not None:
            raise ConfigError(
                f"the model factory's module {module!r} does not import on the Ray workers: {why}", where="--model",
                fix=f"install {module.split('.')[0]} on every node, or start the cluster with its folder on PYTHONPATH",
            )


def _drive(ray, remote, todo, feed, sink, *, threads: int, run_fn: RunFn, limit: int, max_retries: int) -> None:
    pending = iter(todo)
    inflight: dict[Any, RunSpec] = {}
    level_refs: dict[Any, Any] = {}     # level label → ObjectRef of its prepared data; only the current level is kept
    exhausted = False
    try:
        while True:
            while not exhausted and len(inflight) < limit:
                spec = next(pending, None)
                if spec is None:
                    exhausted = True
                    break
                if spec.level_label not in level_refs:
                    level_refs.clear()   # earlier levels stay alive in the store only while their tasks hold them
                    level_refs[spec.level_label] = ray.put(feed.get(spec))
                sink.started(spec)
                inflight[remote.remote(run_fn, spec.to_dict(), level_refs[spec.level_label], threads)] = spec
            if not inflight:
                break
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
            for ref in ready:
                spec = inflight.pop(ref)
                try:
                    result, epochs = ray.get(ref)
                except ray.exceptions.RayError as ex:
                    sink.failed(spec, _error_text(ex, max_retries))
                else:
                    sink.finished(spec, result, epochs)
    except BaseException:
        for ref in inflight:
            ray.cancel(ref, force=True)
        raise
