"""`run_sweep`: validate → load the dataset once → open the store → per level compress once (cached) and store its
LevelStats → expand the grid → skip finished runs → hand the rest to the engine (`sweep.engines`: local or Ray) →
write each result as it comes (the engine's `StoreSink`).

A run killed midway has no row and is redone from the start on re-run; a finished run is never redone. Events
(dicts with an ``"event"`` key) go to the display and to ``on_event``:

- ``start``: n_total, n_skipped, n_todo, store, engine, workers, threads
- ``level``: codec, level, level_label, stats (LevelStats dict), seconds
- ``run_start`` / ``epoch`` / ``step``: the run (run_id, codec, level, level_label, arch, seed, epochs) and, for ``epoch``,
  epoch, val_acc, train_loss; for ``step``, epoch, done, of (only the in-process engine reports epochs and steps)
- ``run_done``: the run plus test_acc, best_val_acc, best_epoch, epochs_run, wall_s, n_finished, n_total
- ``run_failed``: the run plus error, n_finished, n_total
- ``end``: summary (`SweepSummary.to_dict()`)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from helmholtz.codecs.registry import REFERENCE, level_label
from helmholtz.data.dataset import Dataset
from helmholtz.errors import ConfigError, DataError, StoreError
from helmholtz.sweep.engines import EngineOptions, EventFn, StoreSink, get_engine
from helmholtz.sweep.spec import SweepSpec, expand, run_spec_for, validate_sweep
from helmholtz.sweep.store import Store, store_file
from helmholtz.sweep.summary import cell_table
from helmholtz.train.spec import EpochRow, RunResult, RunSpec


@dataclass
class SweepSummary:
    """What a `run_sweep` call did, and the level × arch table of everything the store now holds."""

    out_dir: str
    store: str
    codec: str                        # the first codec ('none': the original only)
    engine: str
    n_total: int                      # runs in the grid
    n_skipped: int                    # already done before this call
    n_done_now: int                   # trained by this call
    n_failed_now: int                 # failed in this call (recorded; retried on re-run)
    wall_s: float
    failures: list[dict[str, Any]] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    spec: dict[str, Any] = field(default_factory=dict)
    codecs: list[str] = field(default_factory=list)   # every codec of the sweep, the first first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_threads(workers: int) -> int:
    """Torch threads per run when not given: the CPUs not busy with other work, shared by the runs that go at once
    (`checks.idle_cpus`: oversubscribed intra-op threads stall each other). Pass --threads-per-run to fix the count,
    e.g. to compare numbers across machines bit for bit."""
    from helmholtz.checks import idle_cpus

    return max(1, idle_cpus() // max(1, workers))


def check_threads(threads_per_run: int | None, workers: int, *, engine: str) -> None:
    """More torch threads than CPUs makes every run crawl (OpenMP threads wait on each other): refuse it on an
    engine that runs on this machine, and warn when the runs that go at once oversubscribe the CPUs together."""
    if threads_per_run is None or not get_engine(engine).on_this_machine:
        return
    from helmholtz.checks import available_cpus

    cpus = available_cpus()
    if threads_per_run > cpus:
        raise ConfigError(
            f"--threads-per-run {threads_per_run} exceeds the {cpus} CPUs this process may use; oversubscribed "
            "threads make a run many times slower", where="--threads-per-run", fix=f"use --threads-per-run {cpus} or fewer",
        )
    if workers > 1 and threads_per_run * workers > cpus:
        from helmholtz.errors import warn

        warn(f"--workers {workers} × --threads-per-run {threads_per_run} = {workers * threads_per_run} threads on "
             f"{cpus} CPUs: the runs will slow each other down; leave --threads-per-run out to share the CPUs")


def check_out_dir(out_dir: Path) -> None:
    """The output directory must be a directory we can write (or creatable under a writable parent)."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise StoreError("exists and is not a directory", where=str(out_dir), fix="choose another --out")
        target = out_dir
    else:
        target = out_dir.parent
        while not target.exists() and target != target.parent:
            target = target.parent
        if not target.is_dir():
            raise StoreError(f"cannot create it: {target} is not a directory", where=str(out_dir), fix="choose another --out")
    if not os.access(target, os.W_OK | os.X_OK):
        what = "the folder is not writable" if target == out_dir else f"cannot create it: {target} is not writable"
        raise StoreError(what, where=str(out_dir), fix="choose a writable --out")
    store = store_file(out_dir)
    if store.exists() and not os.access(store, os.W_OK):
        raise StoreError("the results store is not writable", where=str(store), fix="fix its permissions or use a new --out")


def load_options(data) -> dict[str, Any]:
    """The load_dataset keywords a DataRef fixes beyond the splits: audio's rate and length (absent: 44.1 kHz and
    2 s), a Parquet table's named columns (absent: detected)."""
    return {k: getattr(data, k) for k in ("sample_rate", "duration_s", "image_column", "label_column")
            if getattr(data, k, None) is not None}


def same_data_as_stored(spec: SweepSpec, stored: dict[str, Any] | None) -> SweepSpec:
    """Resuming with the same data named differently (``fashion-mnist`` vs its path, a relative vs an absolute
    path) is the same sweep when the content hash agrees: keep the name the store recorded, so the run ids match."""
    if not stored:
        return spec
    data = stored.get("data") or {}
    if (data.get("dataset") and data.get("dataset") != spec.data.dataset and spec.data.data_hash
            and data.get("data_hash") == spec.data.data_hash):
        return replace(spec, data=replace(spec.data, dataset=data["dataset"]))
    return spec


def _check_dataset(spec: SweepSpec, ds: Dataset) -> None:
    if ds.modality != spec.modality:
        raise ConfigError(
            f"the sweep is for {spec.modality} data but {spec.data.dataset} holds {ds.modality}",
            fix=f"build the spec with modality={ds.modality!r} (and a matching codec)",
        )
    if spec.data.data_hash and spec.data.data_hash != ds.content_hash:
        raise DataError(
            f"the dataset's content hash {ds.content_hash} differs from the spec's {spec.data.data_hash}",
            where=spec.data.dataset, fix="the data changed on disk: use a new --out (old results are for the old data)",
        )
    given = {k: ds.info.get(k) for k in ("train_size", "test_size", "val_fraction", "split_seed") if k in ds.info}
    wanted = {k: getattr(spec.data, k) for k in given}
    if given != wanted:
        raise ConfigError(f"the dataset passed in was split with {given}, the spec says {wanted}", fix="load it with the spec's options")


class _Levels:
    """Each level's data, through its codec once (cached on disk by compress_dataset) and prepared for the
    models; stores the LevelStats row. Keeps only the current level in memory. The engines ask by run spec
    (`get(spec)`), so JPEG q 20 and WebP q 20 are different levels."""

    def __init__(self, ds: Dataset, store: Store, emit: EventFn, *, front_end: dict[str, Any] | None = None) -> None:
        self.ds, self.store, self.emit = ds, store, emit
        self.front_end = front_end or {}   # audio: the sweep's mel features (one per sweep)
        self.current: tuple[tuple[str, int | None], Dataset] | None = None

    def get(self, spec: RunSpec) -> Dataset:
        return self.get_point(spec.codec, spec.level)

    def get_point(self, codec: str, level: int | None, *, announce: bool = True) -> Dataset:
        """The prepared data of one level; ``announce=False`` (the matrix's evaluations) emits no level event."""
        key = (codec if level is not None else REFERENCE, level)
        if self.current is not None and self.current[0] == key:
            return self.current[1]
        self.current = None   # free the previous level before making the next
        data = self.compress(*key, announce=announce)
        from helmholtz.train.inputs import prepare_inputs

        self.current = (key, prepare_inputs(data, **self.front_end))
        self.record_capacity(*key, self.current[1])
        return self.current[1]

    def record_capacity(self, codec: str, level: int | None, data: Dataset) -> None:
        """The level's capacity requirement on the model inputs (for the report), once per level and store."""
        from helmholtz.capacity.sweep_stats import level_capacity, model_input

        label = level_label(REFERENCE if level is None else codec, level)
        row = next((r for r in self.store.levels() if r["level_label"] == label), None)
        stats = json.loads(row["stats_json"]) if row and row.get("stats_json") else None
        if stats is None or "capacity" in stats:
            return
        if self.store.get_meta("model_input") is None:
            self.store.set_meta("model_input", model_input(data.x_train, modality=data.modality,
                                                           n_classes=data.n_classes, n_train=len(data.y_train)))
        x = data.x_train.reshape(len(data.x_train), -1)
        self.store.put_level({**stats, "capacity": level_capacity(x, data.y_train)})

    def compress(self, codec: str, level: int | None, *, announce: bool = True) -> Dataset:
        from helmholtz.codecs.cache import compress_dataset
        from helmholtz.codecs.level import Level

        t0 = time.perf_counter()
        # the spec's points were checked by validate_sweep before the first run: a Level is not checked again
        lv = Level.trusted(codec, level)
        data, stats = compress_dataset(self.ds, codec=lv.codec, level=lv)
        stats_dict = stats.to_dict() if hasattr(stats, "to_dict") else dict(stats)
        self.store.put_level(stats_dict)
        if announce:
            self.emit({"event": "level", "codec": lv.codec, "level": level, "level_label": lv.label,
                       "stats": stats_dict, "seconds": time.perf_counter() - t0})
        return data


def check_model_sources(archs: Any, store: Store) -> None:
    """A sweep resumed with a factory whose module source changed since its runs were stored is refused: the
    stored results belong to the old code. Built-in models carry no source hash."""
    from helmholtz.models.factory import factory_modules

    if not factory_modules(archs):
        return
    from helmholtz.models.factory import provenance

    stored: dict[str, str] = {}
    for r in store.runs():
        info = json.loads(r.get("model_json") or "null") or {}
        if info.get("source_sha256"):
            stored.setdefault(str(r["arch"]), info["source_sha256"])
    for arch in archs:
        if arch not in stored:
            continue
        now = provenance(arch)
        if now.get("source_sha256") != stored[arch]:
            raise ConfigError(
                f"the source of model factory {now.get('factory')} changed since its runs were stored (source hash "
                f"{stored[arch]} → {now.get('source_sha256')}, {now.get('source_file')})", where="--model",
                fix="restore the factory's module as it was, or sweep into a new --out",
            )


def all_runs(spec: SweepSpec, store: Store, keep: Callable[[RunSpec], bool] | None = None) -> list[RunSpec]:
    """The grid's runs (those ``keep`` accepts, when given: an adaptive sweep's starting grid that trains only what
    its question needs) and every run a plan step of the store added, once each, level by level (the grid's order;
    a plan run without a codec is the first codec's)."""
    runs = {r.run_id: r for r in expand(spec) if keep is None or keep(r)}
    for step in store.plan_steps():
        for r in step["runs"]:
            rs = run_spec_for(spec, codec=r.get("codec"), level=r["level"], arch=r["arch"], seed=int(r["seed"]))
            runs.setdefault(rs.run_id, rs)
    order = {pt: i for i, pt in enumerate(spec.points)}
    return sorted(runs.values(), key=lambda r: (order.get((r.codec, r.level), len(order)), r.level is None,
                                                r.codec, r.level or 0, r.arch, r.seed))


def run_sweep(
    spec: SweepSpec,
    out_dir: str | os.PathLike,
    *,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
    gpus_per_run: float = 0.0,
    extend: bool = False,
    quiet: bool = False,
    on_event: EventFn | None = None,
    dataset: Dataset | None = None,
    threads_per_run: int | None = None,
    max_retries: int = 2,
    run_fn: Callable[..., tuple[RunResult, list[EpochRow]]] | None = None,
    planner: Callable[[Store, SweepSpec, EventFn], bool] | None = None,
    keep: Callable[[RunSpec], bool] | None = None,
    keep_weights: bool = True,
) -> SweepSummary:
    """Run (or resume, or extend) the Helmholtz sweep ``spec`` into ``out_dir/results.sqlite``.

    Everything is validated before the first run trains: the grid (`validate_sweep`), the output directory, the
    dataset (loaded once; pass ``dataset`` when it is already loaded), and the stored spec (a different one is
    refused unless ``extend`` only adds levels, archs or seeds). ``workers`` runs go at once (0: one per CUDA
    GPU), each with ``threads_per_run`` torch threads (default: this machine's CPUs / workers) — the same on
    every engine, so a spec gives the same results wherever it runs (each engine's ``same_seed`` says how far).
    ``engine`` names one of `engines.ENGINES`; ``'ray'`` runs each run as a Ray task (``address``: an existing
    cluster; ``gpus_per_run``: GPU share per task; ``max_retries`` per task).
    ``run_fn`` replaces `engine_local.execute_run` (custom executors, tests). Display: rich progress on a
    terminal, plain lines with ``quiet``; ``on_event`` also gets every event. ``planner(store, spec, emit)`` is
    called once every planned run has finished or failed; it may record a plan step (more runs) in the store and
    return True to have them trained, or return False to end the sweep (`helmholtz.adaptive`). ``keep`` trims the
    grid (see `all_runs`); the planner's steps are never trimmed. ``keep_weights`` keeps each run's best weights
    in ``out_dir/weights`` and evaluates them on the test split of every level (`sweep.matrix`: the train ×
    test-level matrix); False keeps neither.
    """
    t0 = time.perf_counter()
    eng = get_engine(engine)
    if workers < 0:
        raise ConfigError(f"--workers must be ≥ 0 (0: one per GPU); got {workers}", fix="e.g. --workers 2")
    if gpus_per_run < 0:
        raise ConfigError(f"--gpus-per-run must be ≥ 0; got {gpus_per_run}", fix="e.g. --gpus-per-run 0.25")
    if threads_per_run is not None and threads_per_run < 1:
        raise ConfigError(f"--threads-per-run must be ≥ 1; got {threads_per_run}", fix="e.g. --threads-per-run 2")
    check_threads(threads_per_run, workers, engine=engine)
    if max_retries < 0:
        raise ConfigError(f"max_retries must be ≥ 0; got {max_retries}", fix="e.g. max_retries=2")
    from helmholtz.models.archs import builtin_archs

    validate_sweep(spec, known_archs=builtin_archs(spec.modality))
    out = Path(out_dir)
    check_out_dir(out)
    if dataset is None:
        from helmholtz.data import load_dataset

        d = spec.data
        dataset = load_dataset(d.dataset, train_size=d.train_size, test_size=d.test_size, val_fraction=d.val_fraction,
                               split_seed=d.split_seed, **load_options(d))
    _check_dataset(spec, dataset)
    spec = spec.with_data_hash(dataset.content_hash)

    n_gpus = 0
    if eng.on_this_machine and workers != 1:
        from helmholtz.sweep.engine_local import cuda_device_count

        n_gpus = cuda_device_count()
    if workers == 0:
        workers = max(1, n_gpus)
    threads = threads_per_run or default_threads(workers)

    from helmholtz.sweep.lock import SweepLock
    from helmholtz.sweep.progress import make_reporter

    with SweepLock(store_file(out).parent), Store(out, create=True) as store, make_reporter(quiet=quiet) as reporter:
        def emit(ev: dict[str, Any]) -> None:
            reporter(ev)
            if on_event is not None:
                on_event(ev)

        store.upgrade()
        spec = same_data_as_stored(spec, store.spec())
        stored = SweepSpec.from_dict(store.init_spec(spec.to_dict(), extend=extend))
        store.put_test_labels(dataset.content_hash, dataset.y_test, dataset.n_classes)
        runs = all_runs(stored, store, keep)
        check_model_sources(stored.archs, store)
        done = store.done_ids()
        todo = [r for r in runs if r.run_id not in done]
        if todo and eng.on_this_machine and not n_gpus and workers == 1:
            from helmholtz.sweep.engine_local import cuda_device_count

            n_gpus = cuda_device_count()
        emit({"event": "start", "n_total": len(runs), "n_skipped": len(runs) - len(todo), "n_todo": len(todo),
              "store": str(store.path), "engine": engine, "workers": workers, "threads": threads,
              "n_levels": len(stored.points), "n_archs": len(stored.archs), "n_seeds": len(stored.seeds),
              "epochs": stored.options.epochs, "width": stored.options.width,
              "gpus": n_gpus if eng.on_this_machine else None})
        opts = stored.options
        levels = _Levels(dataset, store, emit, front_end={"n_mels": opts.n_mels, "fmax_hz": opts.fmax_hz, "hop": opts.hop})
        skipped = len(runs) - len(todo)
        sink = StoreSink(store, emit, engine=eng.name, n_total=len(runs), n_skipped=skipped,
                         weights_dir=out if keep_weights else None)
        from helmholtz.sweep.engine_local import execute_run

        options = EngineOptions(run_fn=run_fn or execute_run, threads=threads, workers=workers, n_gpus=n_gpus,
                                address=address, gpus_per_run=gpus_per_run, max_retries=max_retries)
        attempted: set[str] = set()
        while True:
            attempted.update(r.run_id for r in todo)
            eng.run(todo, levels, sink, options)
            # a planner (the adaptive sweep) may add runs once every planned run has finished or failed
            if planner is None or not planner(store, stored, emit):
                break
            runs = all_runs(stored, store, keep)
            done = store.done_ids()
            todo = [r for r in runs if r.run_id not in done and r.run_id not in attempted]
            sink.n_total = len(runs)
            emit({"event": "batch", "n_total": len(runs), "n_todo": len(todo)})
        if keep_weights:
            from helmholtz.sweep.matrix import cross_evaluate

            cross_evaluate(list(stored.points), store, out, lambda c, lv: levels.get_point(c, lv, announce=False),
                           threads=threads, emit=emit, first=levels.current[0] if levels.current else None)
        # every level of the grid gets its stats row, also when all its runs were done before
        have = {row["level_label"] for row in store.levels()}
        for codec, level in stored.points:
            if level_label(codec, level) not in have:
                levels.compress(codec, level)
        summary = SweepSummary(
            out_dir=str(out), store=str(store.path), codec=stored.codec, engine=engine, n_total=len(runs),
            n_skipped=skipped, n_done_now=sink.done_now, n_failed_now=len(sink.failures),
            wall_s=time.perf_counter() - t0, failures=sink.failures, cells=cell_table(store.runs(), codecs=stored.codecs),
            spec=stored.to_dict(), codecs=list(stored.codecs),
        )
        emit({"event": "end", "summary": summary.to_dict()})
    return summary
