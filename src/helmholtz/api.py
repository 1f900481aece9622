"""The Python API: every operation of the CLI as a function, with the same validation and the same errors.

    import helmholtz as hz

    ds = hz.load_dataset("fashion-mnist", train_size=10_000)
    hz.bits([5, 20, 50], dataset=ds)                          # the paper's arithmetic beside measured bits
    run = hz.train(ds, codec="jpeg", level=20, arch="A", epochs=3, width=0.25, optimizer="adam", lr=2e-3)
    sw = hz.sweep("fashion-mnist", out="runs/f", codec="jpeg", levels=[5, 20, None], archs="A,F", seeds=2,
                  train_size=10_000, epochs=5, width=0.25, optimizer="adam", lr=2e-3)
    df = hz.results("runs/f")                                 # pandas DataFrame (list of dicts without pandas)
    files = hz.report("runs/f")                               # writes runs/f/report/; files.analysis, files.headline

Bad input raises `helmholtz.errors` exceptions (`DataError`, `CodecError`, `ConfigError`, `StoreError`), each one line
saying what is wrong, where, and how to fix it; nothing is printed (a sweep shows progress only with ``quiet=False``).
The CLI is a thin layer over these functions: it parses, calls, prints. Each function imports its stage when called,
so ``import helmholtz`` stays cheap and never imports torch. Training options (``epochs``, ``optimizer``, ``lr``,
``width``, …: see `helmholtz.train.recipes.checked_options`) pass through ``**recipe``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmholtz.errors import CodecError, ConfigError

if TYPE_CHECKING:
    from helmholtz.analysis.analyze import Analysis
    from helmholtz.codecs.cache import LevelStats
    from helmholtz.data.dataset import Dataset
    from helmholtz.report.build import ReportFiles
    from helmholtz.sweep.runner import SweepSummary
    from helmholtz.train.spec import EpochRow, RunResult, RunSpec, TrainOptions

__all__ = ["Compressed", "Sweep", "TrainOutcome", "analyze", "bits", "compress", "export", "export_predictions",
           "load_dataset", "open_sweep", "plan", "report", "results", "sweep", "train"]

DEFAULT_QUALITIES = (5, 10, 20, 25, 50, 75, 95)


# ── data ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def load_dataset(
    source: str | os.PathLike,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float | None = None,
    split_seed: int = 0,
    sample_rate: int = 44100,
    duration_s: float = 2.0,
    image_column: str | None = None,
    label_column: str | None = None,
) -> Dataset:
    """A known name (``fashion-mnist``, ``mnist``, ``cifar10``) or a path → a `Dataset` with fixed splits
    (`helmholtz inspect`); ``image_column``/``label_column`` name a Parquet table's columns. Every option is
    checked before anything is read."""
    from helmholtz.data import load_dataset as _load

    return _load(source, train_size=train_size, test_size=test_size, val_fraction=val_fraction,
                 split_seed=split_seed, sample_rate=sample_rate, duration_s=duration_s, image_column=image_column,
                 label_column=label_column)


_COLUMNS = ("image_column", "label_column")


def _columns(image_column: str | None, label_column: str | None) -> dict[str, str]:
    """The Parquet column overrides that were given (a Dataset passed in takes none)."""
    return {k: v for k, v in (("image_column", image_column), ("label_column", label_column)) if v}


def _dataset(source: Any, **load: Any) -> Dataset:
    """A `Dataset` passes through (its subset and split options must then be left out); anything else is loaded."""
    from helmholtz.data import check_split_options
    from helmholtz.data.dataset import Dataset

    check_split_options(**{k: v for k, v in load.items() if k not in _COLUMNS})
    if isinstance(source, Dataset):
        given = {k: v for k, v in load.items() if k in ("train_size", "test_size", "val_fraction", *_COLUMNS)
                 and v is not None}
        if given:
            raise ConfigError(f"{', '.join(given)} cannot re-split a Dataset that is already loaded",
                              fix="pass these to hz.load_dataset, or pass the name or path instead of the Dataset")
        return source
    return load_dataset(source, **load)


def _source_name(source: Any, ds: Dataset) -> str:
    """How a spec records the dataset: an existing path absolute (resumable from any directory), a name as given,
    a loaded Dataset by its source path."""
    from helmholtz.data.dataset import Dataset
    from helmholtz.data.locate import known_name

    if isinstance(source, Dataset):
        return ds.source
    text = os.fspath(source)
    if known_name(text) is not None:   # a known name wins over a folder of that name (as load_dataset decides)
        return text
    p = Path(text).expanduser()
    return str(p.resolve()) if p.exists() else text


# ── codecs ───────────────────────────────────────────────────────────────────────────────────────────────────────

def check_codec_level(codec: str, level: int | None) -> None:
    """The codec must be known (the registry, or 'none'); a codec needs a level, 'none' takes none. Messages name
    the CLI options."""
    from helmholtz.codecs.registry import CODECS as REGISTRY
    from helmholtz.codecs.registry import REFERENCE, get_codec

    if codec != REFERENCE and codec not in REGISTRY:
        raise ConfigError(f"unknown codec {codec!r}; expected none or one of {', '.join(REGISTRY)}", where="--codec",
                          fix="e.g. --codec jpeg --level 20 (see `helmholtz codecs`)")
    if codec != REFERENCE and level is None:
        spec = get_codec(codec)
        lo, hi = spec.level_range
        unit = "" if spec.unit == "q" else f" {spec.unit}"
        raise ConfigError(f"--codec {codec} needs --level ({spec.title} {spec.level_kind} {lo}..{hi}{unit})",
                          fix=f"e.g. --codec {codec} --level {spec.default_levels[len(spec.default_levels) // 2]}")
    if codec == REFERENCE and level is not None:
        raise ConfigError(f"--codec none takes no --level; got {level}", fix="drop --level, or pick a codec")


@dataclass(frozen=True)
class Compressed:
    """What `compress` made: the decoded dataset, the level's measured stats, and where it was written."""

    dataset: Dataset
    stats: LevelStats
    out: Path | None
    format: str
    summary: dict[str, Any]


def compress(
    dataset: Any,
    *,
    codec: str = "jpeg",
    level: int | None = None,
    out: str | os.PathLike | None = None,
    format: str = "npz",
    subsampling: str | None = None,
    force: bool = False,
    train_size: int | None = None,
    test_size: int | None = None,
    sample_rate: int = 44100,
    duration_s: float = 2.0,
) -> Compressed:
    """Every split of ``dataset`` through ``codec`` (any codec of `helmholtz codecs`, or 'none') at ``level``, with
    measured bytes (`helmholtz compress`). With ``out``: written atomically as an .npz (``format='npz'``, reads
    back with all splits) or, for image codecs, as a folder of the real encoded files (``format='folder'``); an
    existing non-empty ``out`` needs ``force``. ``subsampling``: a chroma choice where the codec offers one."""
    from helmholtz.codecs import writer
    from helmholtz.codecs.cache import check_level
    from helmholtz.codecs.registry import REFERENCE, get_codec

    codec = str(codec).strip().lower()
    check_codec_level(codec, level)   # before check_level, so a missing --level is named as such
    spec = None if codec == REFERENCE else get_codec(codec)
    level = check_level(codec, level)
    if format not in writer.FORMATS:
        raise ConfigError(f"--format got {format!r}; expected npz or folder", fix="use --format npz")
    if format == "folder" and (spec is None or spec.modality != "image"):
        raise ConfigError(f"--format folder writes encoded image files; codec {codec!r} writes none",
                          where="--format", fix="use --format npz")
    _check_subsampling(subsampling, spec)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        writer.check_out(out_path, fmt=format, force=force)
    ds = _dataset(dataset, train_size=train_size, test_size=test_size, sample_rate=sample_rate, duration_s=duration_s)
    if spec is not None and ds.modality != spec.modality:
        raise CodecError(f"{spec.title} compresses {spec.modality}; {ds.name!r} is {ds.modality}", where="--codec",
                         fix=f"use one of {', '.join(c.name for c in _codecs_for(ds.modality))}")
    results = None
    if format == "folder":
        from helmholtz.codecs.stats import level_stats

        sub = subsampling if spec.subsamplings else None
        results = {s: spec.roundtrip(getattr(ds, f"x_{s}"), level=level, subsampling=sub, keep_encoded=True)
                   for s in writer.SPLITS}
        stats = level_stats(ds.x_train, results["train"], codec=codec, level=level, encoder=spec.encoder(),
                            modality=ds.modality)
        if out_path is not None:
            writer.write_folder(out_path, ds, results, extension=spec.extension)
    else:
        from helmholtz.codecs.cache import compress_dataset, compress_splits

        if spec is None:
            _, stats = compress_dataset(ds, codec="none", level=None)
        else:
            results, stats = compress_splits(ds, codec=codec, level=level, subsampling=subsampling)
        if out_path is not None:
            used = (subsampling or spec.subsamplings[0]) if spec is not None and spec.subsamplings else None
            meta = {**stats.to_dict(), "dataset": ds.name, "content_hash": ds.content_hash, "subsampling": used,
                    "payload": spec.payload if spec else None}
            writer.write_npz(out_path, ds, results, meta)
    decoded = ds if results is None else ds.with_arrays(
        x_train=results["train"].data, x_val=results["val"].data, x_test=results["test"].data, codec=codec,
        level=level, encoder=stats.encoder)
    return Compressed(dataset=decoded, stats=stats, out=out_path, format=format,
                      summary=writer.summary(ds, results, stats, out_path, format))


def _codecs_for(modality: str):
    from helmholtz.codecs.registry import codecs_for

    return codecs_for(modality)


def _check_subsampling(subsampling: str | None, spec: Any) -> None:
    if subsampling is None:
        return
    if spec is None:
        raise ConfigError("--subsampling needs a codec", where="--subsampling", fix="leave --subsampling out")
    if subsampling not in spec.subsamplings:
        choices = ", ".join(spec.subsamplings)
        raise ConfigError(f"--subsampling got {subsampling!r}; {spec.title} "
                          + (f"takes one of {choices}" if choices else f"has no choice ({spec.coding})"),
                          fix="use --subsampling 4:2:0" if choices else "leave --subsampling out")


def bits(levels: Iterable[int] | None = None, *, codec: str = "jpeg", dataset: Any = None,
         train_size: int | None = None, subsampling: str | None = None, sample_rate: int = 44100,
         duration_s: float = 2.0, option: str = "--levels") -> list[dict[str, Any]]:
    """One row per level of ``codec`` (`helmholtz bits`; default levels: JPEG q 5, 10, 20, 25, 50, 75, 95, other
    codecs their default grid). JPEG rows carry the paper's Sec. 4.1 arithmetic (s(q), bits lost/left with the
    paper's constant and with the real tables); with ``dataset``, every row also has the measured `LevelStats` of a
    round trip of its training split (bits of the whole file and of the payload, ratio, PSNR or SNR)."""
    from helmholtz.codecs import quant
    from helmholtz.codecs.registry import get_codec
    from helmholtz.codecs.stats import level_stats

    spec = get_codec(str(codec).strip().lower())
    chosen = list(DEFAULT_QUALITIES if spec.name == "jpeg" else spec.default_levels) if levels is None else list(levels)
    if not chosen:
        raise ConfigError(f"{option} is empty", fix=f"e.g. {option} 5,10,20")
    chosen = [spec.check(v, where=option) for v in chosen]
    _check_subsampling(subsampling, spec)
    if dataset is None and train_size is not None:
        raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
    if dataset is None and spec.name != "jpeg":
        raise ConfigError(f"{spec.title} has no arithmetic estimate; its bits are measured on data",
                          where="--dataset", fix=f"add --dataset (a {spec.modality} dataset)")
    ds = None
    if dataset is not None:
        ds = _dataset(dataset, train_size=train_size, sample_rate=sample_rate, duration_s=duration_s)
        if ds.modality != spec.modality:
            raise ConfigError(f"{spec.title} compresses {spec.modality}; {ds.name!r} is {ds.modality}",
                              where="--dataset", fix=f"use --codec one of "
                                                     f"{','.join(c.name for c in _codecs_for(ds.modality))}")
    rows = []
    for level in chosen:
        row: dict[str, Any] = {"level": level, "display": spec.display(level)}
        if spec.name == "jpeg":
            row.update(quality=level, scale_factor=quant.scale_factor(level),
                       paper_bits_lost=quant.paper_bits_lost(level), paper_bits_left=quant.paper_bits_left(level),
                       table_bits_lost=quant.table_bits_lost(level), table_bits_left=quant.table_bits_left(level))
        row["measured"] = None
        if ds is not None:
            sub = subsampling if spec.subsamplings and ds.modality == "image" else None
            res = spec.roundtrip(ds.x_train, level=level, sample_rate=ds.sample_rate, subsampling=sub)
            row["measured"] = level_stats(ds.x_train, res, codec=spec.name, level=level, encoder=spec.encoder(),
                                          modality=ds.modality, sample_rate=ds.sample_rate).to_dict()
        rows.append(row)
    return rows


# ── training ─────────────────────────────────────────────────────────────────────────────────────────────────────

def train_options(*, modality: str, **recipe: Any) -> TrainOptions:
    """The recipe options validated and completed with the modality's defaults (images: the paper's SGD, batch 128;
    audio: Adadelta, batch 50). An unknown option is a ConfigError, not a TypeError."""
    import inspect

    from helmholtz.train.recipes import checked_options as _options

    known = set(inspect.signature(_options).parameters) - {"modality"}
    unknown = sorted(set(recipe) - known)
    if unknown:
        raise ConfigError(f"unknown training option {', '.join(map(repr, unknown))}",
                          fix=f"use only: {', '.join(sorted(known))}")
    return _options(modality=modality, **recipe)


def recipe_of(spec: RunSpec) -> dict[str, Any]:
    """The recipe a run used, resolved (the lr default filled in), for printing with every result."""
    opts = spec.options
    out: dict[str, Any] = {
        "recipe": opts.recipe, "schedule": opts.schedule, "warmup_epochs": opts.warmup_epochs,
        "optimizer": opts.optimizer, "lr": opts.resolved_lr, "lr_decay": opts.resolved_lr_decay, "batch_size": opts.batch_size,
        "width": opts.width, "epochs_max": opts.epochs, "patience": opts.patience, "augment": opts.augment,
        "weight_decay": opts.weight_decay, "label_smoothing": opts.label_smoothing, "compile": opts.compile,
        "select": opts.select,
        **({"n_mels": opts.n_mels, "fmax_hz": opts.fmax_hz, "hop": opts.hop} if spec.modality == "audio" else {}),
    }
    if opts.optimizer == "sgd":
        out["momentum"] = f"{opts.momentum} (Nesterov)"
    return out


@dataclass(frozen=True)
class TrainOutcome:
    """One training run: its `RunResult`, the per-epoch rows, the level's measured stats and the resolved recipe."""

    result: RunResult
    epochs: list[EpochRow]
    level_stats: LevelStats
    recipe: dict[str, Any]
    spec: RunSpec

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result.to_dict(), "epochs": [vars(r) for r in self.epochs],
                "level_stats": self.level_stats.to_dict(), "recipe": self.recipe}


def train(
    dataset: Any,
    *,
    codec: str = "none",
    level: int | None = None,
    arch: str = "A",
    seed: int = 0,
    model: str | None = None,
    device: str | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float | None = None,
    split_seed: int = 0,
    sample_rate: int = 44100,
    duration_s: float = 2.0,
    image_column: str | None = None,
    label_column: str | None = None,
    on_epoch: Callable[[EpochRow], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    on_start: Callable[[RunSpec], None] | None = None,
    **recipe: Any,
) -> TrainOutcome:
    """Train one architecture on one compression level of ``dataset`` (`helmholtz train`): early stopping on the
    validation split, the test split read once with the best-validation weights. Everything is validated before
    any data is read. ``recipe`` (keyword ``recipe='fast'|'paper'`` and any option overriding it) defaults to the
    fast recipe, which learns in a short CPU run. ``on_start`` gets the run's `RunSpec` (its resolved recipe: the
    epoch cap a progress display needs) just before training starts."""
    from helmholtz.checks import check_seed
    from helmholtz.models.archs import builtin_archs
    from helmholtz.train.recipes import DEFAULT_TRAIN_RECIPE

    recipe.setdefault("recipe", DEFAULT_TRAIN_RECIPE)

    codec = str(codec).strip().lower()
    check_codec_level(codec, level)
    if model is not None and arch not in (None, "A"):
        raise ConfigError("--arch and --model both name the model", where="--model", fix="give one of them")
    (arch,) = model_list(None, model if model is not None else arch, None)
    from helmholtz.models.names import parse_model

    named = parse_model(arch)
    if not named.is_factory and named.base not in builtin_archs("image"):   # both modalities share the names
        raise ConfigError(f"--arch got {arch!r}; expected one of {', '.join(builtin_archs('image'))}",
                          fix="e.g. --arch A, or --model MODULE:FACTORY")
    seed = check_seed(seed, option="--seed")
    train_options(modality="image", **recipe)   # bad values fail before any data is read
    from helmholtz.data import check_split_options

    load = dict(train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed,
                sample_rate=sample_rate, duration_s=duration_s)
    check_split_options(**load)
    from helmholtz.train.device import resolve_device

    dev = resolve_device(device)
    ds = _dataset(dataset, **load, **_columns(image_column, label_column))
    from helmholtz.codecs.registry import CODECS as _REGISTRY

    if codec in _REGISTRY and _REGISTRY[codec].modality != ds.modality:
        good = ", ".join(c.name for c in _codecs_for(ds.modality))
        raise ConfigError(f"--codec {codec} does not apply to {ds.modality} data", where=ds.source,
                          fix=f"use one of {good}, or none")
    opts = train_options(modality=ds.modality, **recipe)
    if ds.modality == "audio":
        from helmholtz.sweep.spec import check_fmax

        check_fmax(opts.fmax_hz, sample_rate=sample_rate)
    from helmholtz.codecs.cache import compress_dataset
    from helmholtz.sweep.spec import DEFAULT_DURATION_S, DEFAULT_SAMPLE_RATE
    from helmholtz.train.inputs import prepare_inputs
    from helmholtz.train.spec import DataRef, RunSpec

    audio = ds.modality == "audio"
    data_ref = DataRef(
        dataset=_source_name(dataset, ds), data_hash=ds.content_hash, train_size=train_size, test_size=test_size,
        val_fraction=float(ds.info.get("val_fraction") or val_fraction or 0.1), split_seed=split_seed,
        sample_rate=sample_rate if audio and sample_rate != DEFAULT_SAMPLE_RATE else None,
        duration_s=duration_s if audio and duration_s != DEFAULT_DURATION_S else None,
        image_column=image_column or None, label_column=label_column or None,
    )
    spec = RunSpec(data=data_ref, codec=codec, level=level, arch=arch, seed=seed, options=opts, modality=ds.modality)
    compressed, stats = compress_dataset(ds, codec=codec, level=level)
    from helmholtz.checks import idle_cpus
    from helmholtz.sweep.engine_local import execute_run

    if on_start is not None:
        on_start(spec)
    # as many torch threads as idle CPUs (oversubscribed intra-op threads stall each other), restored afterwards
    inputs = prepare_inputs(compressed, n_mels=opts.n_mels, fmax_hz=opts.fmax_hz, hop=opts.hop)
    result, history = execute_run(spec.to_dict(), inputs, threads=idle_cpus(), device=dev,
                                  on_epoch=on_epoch, on_progress=on_progress)
    return TrainOutcome(result=result, epochs=history, level_stats=stats, recipe=recipe_of(spec), spec=spec)


# ── sweeps ───────────────────────────────────────────────────────────────────────────────────────────────────────

def _level_texts(levels: Any) -> str | list[str] | None:
    """``levels`` as `sweep.grid.parse_grid` reads them: a string ('5,10,none', 'jpeg=5,10 avif=20'), a list of such
    strings (the repeatable --levels), or a list of numbers (None = the original)."""
    if levels is None or isinstance(levels, str):
        return levels
    if isinstance(levels, dict):
        return [f"{c}={','.join('none' if v is None else str(v) for v in vs)}" if c else
                ",".join("none" if v is None else str(v) for v in vs) for c, vs in levels.items()]
    items = list(levels)
    if all(isinstance(v, str) for v in items):
        return items
    return ",".join("none" if v is None else str(v) for v in items)


def _levels(levels: Any) -> list[int | None] | None:
    if levels is None:
        return None
    if isinstance(levels, str):
        from helmholtz.checks import parse_int_list

        return parse_int_list(levels, option="--levels", allow_none=True)
    out: list[int | None] = []
    for lv in levels:
        if lv is None or (isinstance(lv, str) and lv.strip().lower() in ("none", "orig", "original")):
            out.append(None)
        elif isinstance(lv, str):
            out += _levels(lv) or []
        else:
            out.append(lv)
    return out


def _archs(archs: Any) -> tuple[str, ...]:
    from helmholtz.sweep.spec import parse_archs

    return parse_archs(archs if isinstance(archs, str) else ",".join(map(str, archs)))


def model_list(archs: Any, model: Any, widths: Any, width: Any = None) -> tuple[str, ...]:
    """The sweep's models: ``archs`` or ``model`` (not both; default A–F), each at each of ``widths``. A
    factory is imported now, so a bad one fails before any data is read."""
    from helmholtz.models.names import parse_model, parse_widths, with_widths

    if archs is not None and model is not None:
        raise ConfigError("--archs and --model both name the models", where="--model",
                          fix="use --model for your factory (a comma list may mix in built-ins: --model A,mynet:make)")
    ws = parse_widths(widths)
    if ws is not None and width not in (None, 1, 1.0):
        raise ConfigError(f"--widths and --width {width} both set the width", where="--widths",
                          fix="use --widths for a family of sizes, or --width for one")
    names = with_widths(_archs("A,B,C,D,E,F" if archs is None and model is None else archs if model is None else model), ws)
    for name in names:
        m = parse_model(name)
        if m.is_factory:
            from helmholtz.models.factory import import_factory

            import_factory(m.base)
    return names


def _seeds(seeds: Any) -> tuple[int, ...]:
    from helmholtz.sweep.spec import parse_seeds

    if isinstance(seeds, str):
        return parse_seeds(seeds)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        return parse_seeds(str(seeds))
    return parse_seeds(",".join(map(str, seeds)) + ",")


@dataclass(frozen=True)
class Sweep:
    """A handle on a sweep directory and its results store (``DIR/results.sqlite``). ``summary`` is what the
    `sweep` call that returned this handle did (None for `open_sweep`)."""

    out_dir: Path
    summary: SweepSummary | None = field(default=None, compare=False)

    @property
    def store_path(self) -> Path:
        from helmholtz.sweep.store import store_file

        return store_file(self.out_dir)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The runs this call could not finish (recorded in the store; a re-run retries them)."""
        return [] if self.summary is None else list(self.summary.failures)

    def spec(self) -> dict[str, Any] | None:
        from helmholtz.sweep.store import Store

        with Store(self.out_dir) as store:
            return store.spec()

    def counts(self) -> dict[str, int]:
        from helmholtz.sweep.store import Store

        with Store(self.out_dir) as store:
            return store.counts()

    def results(self, kind: str = "runs", *, failed: bool = False) -> Any:
        return results(self.out_dir, kind=kind, failed=failed)

    def export(self, out: str | os.PathLike | None = None, **kwargs: Any) -> tuple[int, Path | None]:
        return export(self.out_dir, out, **kwargs)

    def analyze(self, **kwargs: Any) -> Analysis:
        return analyze(self.out_dir, **kwargs)

    def report(self, out: str | os.PathLike | None = None, **kwargs: Any) -> ReportFiles:
        return report(self.out_dir, out=out, **kwargs)


def open_sweep(run_dir: str | os.PathLike) -> Sweep:
    """A handle on an existing sweep directory; StoreError when it holds no results store."""
    from helmholtz.sweep.store import Store

    with Store(run_dir):
        pass
    return Sweep(out_dir=Path(run_dir))


def sweep(
    dataset: Any,
    *,
    out: str | os.PathLike,
    codec: str | None = None,
    levels: Any = None,
    archs: Any = None,
    seeds: Any = 3,
    model: Any = None,
    widths: Any = None,
    keep_weights: bool = True,
    engine: str = "local",
    workers: int = 1,
    threads_per_run: int | None = None,
    address: str | None = None,
    gpus_per_run: float = 0.0,
    max_retries: int = 2,
    extend: bool = False,
    quiet: bool = True,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float | None = None,
    split_seed: int = 0,
    sample_rate: int = 44100,
    duration_s: float = 2.0,
    image_column: str | None = None,
    label_column: str | None = None,
    run_fn: Callable[..., Any] | None = None,
    until_decided: bool = False,
    max_runs: int | None = None,
    max_time: str | float | None = None,
    tolerance: float = 1.0,
    compare_at: str | None = None,
    focus: bool = False,
    budget_check: bool = False,
    **recipe: Any,
) -> Sweep:
    """Train every architecture × seed on every level (`helmholtz sweep`), resumable: the same call again trains
    only what is missing. ``levels``: a list (None or 'none' = the original) or '5,10,none' (default: the paper's
    grid); ``archs``: 'A,F' or a list (default A–F); ``model``: instead of ``archs``, your own models: factories
    'MODULE:FACTORY' (`models.factory`) or built-in names, one or a comma list; ``widths`` ('0.25,0.5,1'): each model
    at each width, a family (`models.names`); ``keep_weights``: keep each run's best weights in ``out/weights`` and
    evaluate them on every level's test split (the train × test-level matrix); ``seeds``: a count (3 → 0, 1, 2), a
    list, or '0,5,7'. The whole spec, the
    dataset and ``out`` are validated before the first run trains. Returns a `Sweep` handle; the runs that failed
    are in ``handle.failed`` (recorded in the store, retried on the next call).

    ``until_decided``: an adaptive sweep (`helmholtz.adaptive`): after the grid (default: the original and four
    coarse levels) it adds seeds and levels where the answer is open, until it is decided or ``max_runs`` / ``max_time``
    (summed training time: seconds, or '30m', '2h') is spent; ``tolerance`` (δ, percentage points) and
    ``compare_at`` (the headline comparison's level) are the decisions' settings; ``focus`` starts from the grid the
    question needs (the first of ``archs`` at every level, the others only at the comparison level);
    ``budget_check``: once decided, with over a quarter of the runs still improving, train the boundary and
    comparison cells again at twice the epoch cap into ``out/budget-2x`` (within ``max_runs``, each counted twice),
    which `helmholtz report` then compares."""
    from helmholtz.adaptive.loop import coarse_levels, parse_duration
    from helmholtz.codecs.registry import default_codec
    from helmholtz.sweep.grid import implied_modality, parse_grid
    from helmholtz.sweep.spec import make_sweep_spec, validate_sweep

    # everything that needs no data is checked before the dataset is read
    codecs, level_map = parse_grid(codec, _level_texts(levels))
    arch_list, seed_list = model_list(archs, model, widths, recipe.get("width")), _seeds(seeds)
    if not until_decided and (max_runs is not None or max_time is not None or focus or budget_check):
        raise ConfigError("--max-runs, --max-time, --focus and --budget-check are options of an adaptive sweep",
                          fix="add --until-decided")
    if max_runs is not None and max_runs < 1:
        raise ConfigError(f"--max-runs must be ≥ 1; got {max_runs}", fix="e.g. --max-runs 60")
    max_time_s = max_time if isinstance(max_time, (int, float)) else parse_duration(max_time)
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine got {engine!r}; expected local or ray", fix="e.g. --engine local")
    load = dict(train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed,
                sample_rate=sample_rate, duration_s=duration_s)
    from helmholtz.data import check_split_options

    check_split_options(**load)
    # every level of every codec named is checked against the registry now; without a codec, once the dataset's
    # modality (and so the codec) is known — still before anything is stored or trained
    guess = implied_modality(codecs, level_map)
    validate_sweep(make_sweep_spec(
        "dataset", modality=guess or "image", codec=codecs if guess else "none",
        levels=level_map if guess else None, archs=arch_list, seeds=seed_list,
        options=train_options(modality=guess or "image", **recipe), train_size=train_size, test_size=test_size,
        val_fraction=val_fraction, split_seed=split_seed,
    ))
    from helmholtz.sweep.runner import check_out_dir, check_threads, run_sweep

    out_dir = Path(out)
    check_out_dir(out_dir)
    check_threads(threads_per_run, workers, engine=engine)
    ds = _dataset(dataset, **load, **_columns(image_column, label_column))
    if until_decided and level_map is None:
        level_map = {c: list(coarse_levels(c)) for c in codecs or (default_codec(ds.modality),)}
    spec = make_sweep_spec(
        _source_name(dataset, ds), modality=ds.modality, codec=codecs, levels=level_map, archs=arch_list,
        seeds=seed_list, options=train_options(modality=ds.modality, **recipe), train_size=train_size,
        test_size=test_size, val_fraction=ds.info.get("val_fraction", val_fraction), split_seed=split_seed,
        data_hash=ds.content_hash, sample_rate=sample_rate if ds.modality == "audio" else None,
        duration_s=duration_s if ds.modality == "audio" else None,
        image_column=image_column, label_column=label_column,
    )
    options = dict(engine=engine, workers=workers, address=address, gpus_per_run=gpus_per_run, extend=extend,
                   quiet=quiet, on_event=on_event, dataset=ds, threads_per_run=threads_per_run,
                   max_retries=max_retries, run_fn=run_fn, keep_weights=bool(keep_weights))
    if until_decided:
        from helmholtz.adaptive.loop import run_until_decided

        summary = run_until_decided(spec, out_dir, max_runs=max_runs, max_time_s=max_time_s, tolerance_pp=tolerance,
                                    compare_level=compare_at, focus=focus, budget_check=budget_check, **options)
    else:
        summary = run_sweep(spec, out_dir, **options)
    return Sweep(out_dir=out_dir, summary=summary)


# ── results, analysis, report ────────────────────────────────────────────────────────────────────────────────────

def _rows(run_dir: str | os.PathLike, kind: str, failed: bool) -> tuple[list[dict[str, Any]], Sequence[str]]:
    from helmholtz.sweep.export import row_kind
    from helmholtz.sweep.store import Store

    rk = row_kind(kind)
    with Store(run_dir) as store:
        return rk.fetch(store, failed), [n for n, _ in rk.columns]


def export_predictions(run_dir: str | os.PathLike, out: str | os.PathLike) -> tuple[int, Path]:
    """Every run's per-item test predictions, and the test labels, to ``out`` (.npz or .parquet); returns
    (runs written, the file). `helmholtz results DIR --predictions --out FILE`."""
    from helmholtz.sweep.export import write_predictions
    from helmholtz.sweep.store import Store

    with Store(run_dir) as store:
        rows, labels = store.runs(predictions=True), store.test_labels()
    path = write_predictions(rows, labels, out)
    return sum(r.get("predictions") is not None for r in rows), path


def results(run_dir: str | os.PathLike, *, kind: str = "runs", failed: bool = False) -> Any:
    """The stored rows of a sweep (`helmholtz results`): ``kind`` 'runs' (one row per finished run; ``failed``
    adds the failed ones with their error) or 'epochs' (one row per epoch, with arch, codec, level and seed). A
    pandas DataFrame when pandas is installed, else a list of dicts."""
    rows, columns = _rows(run_dir, kind, failed)
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame.from_records(rows, columns=list(columns))


def export(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, fmt: str | None = None,
           kind: str = "runs", failed: bool = False, stream: Any = None) -> tuple[int, Path | None]:
    """Write the rows of ``kind`` as CSV, JSON or Parquet (``fmt``; default from ``out``'s suffix, else CSV) to
    the file ``out`` (atomically), or to standard output / ``stream`` when ``out`` is None or '-'. Parquet needs a
    file. Returns (rows written, the file or None)."""
    from helmholtz.sweep import export as ex
    from helmholtz.sweep.store import Store

    if fmt is None:
        suffix = Path(os.fspath(out)).suffix.lower().lstrip(".") if out is not None and os.fspath(out) != "-" else ""
        if suffix and suffix not in ex.FORMATS:
            raise ConfigError(f"cannot tell the format of {os.fspath(out)!r} from its suffix .{suffix}",
                              where="out", fix=f"name it .csv, .json or .parquet, or pass fmt= one of "
                                                f"{', '.join(ex.FORMATS)}")
        fmt = suffix or "csv"
    ex.check_target(fmt, out)
    with Store(run_dir) as store:
        return ex.export(store, kind=kind, fmt=fmt, out=out, failed=failed, stream=stream)


def _check_analysis_kwargs(kwargs: dict[str, Any]) -> None:
    from helmholtz.checks import check_bootstrap, check_seed

    if "n_boot" in kwargs:
        check_bootstrap(kwargs["n_boot"])
    if "seed" in kwargs:
        check_seed(kwargs["seed"], option="--seed")


def analyze(source: str | os.PathLike, **kwargs: Any) -> Analysis:
    """The analysis of a sweep directory, or of a results table from any pipeline (.csv or .parquet; `helmholtz
    analyze`), without writing anything: N_approx with its CI, level verdicts, collapse test, model comparisons,
    epochs, warnings. ``kwargs`` go to `helmholtz.analysis.analyze` (tolerance_pp, n_boot, seed, model,
    compare_pair, compare_level)."""
    _check_analysis_kwargs(kwargs)
    from helmholtz.analysis import analyze as _analyze

    path = Path(source)
    if path.suffix.lower() in (".csv", ".parquet", ".pq"):
        from helmholtz.analysis import with_budget_check
        from helmholtz.analysis.byo import read_budgets

        by_budget = read_budgets(path)
        return with_budget_check(_analyze(by_budget[min(by_budget)], **kwargs), by_budget)
    from helmholtz.report.build import load_observations

    obs, _ = load_observations(path)
    return _analyze(obs, **kwargs)


def report(source: str | os.PathLike, *, out: str | os.PathLike | None = None,
           budget_check: Sequence[str | os.PathLike] = (), **kwargs: Any) -> ReportFiles:
    """Analyse a sweep (or a results table, .csv/.parquet: `helmholtz analyze`) and write its report (`helmholtz
    report`): figures, report.html, summary.md and analysis.json under ``out`` (default: the sweep's or the table's
    folder + /report), replaced only once complete. Returns the files written; ``.analysis`` is the analysis and
    ``.headline`` its headline. ``budget_check``: sweeps of the same cells at a longer epoch cap (a training-budget
    check; a table carries its budgets in an ``epochs`` column instead). ``kwargs`` go to
    `helmholtz.analysis.analyze` (tolerance_pp, n_boot, seed, …)."""
    _check_analysis_kwargs(kwargs)
    path = Path(source)
    if path.suffix.lower() in (".csv", ".parquet", ".pq"):
        if budget_check:
            raise ConfigError("budget_check= is for sweep directories; a table carries its budgets in an 'epochs' "
                              "column", fix="add an 'epochs' column with each run's budget")
        from helmholtz.report.build import write_report

        target = Path(out) if out is not None else path.parent / "report"
        return write_report(analyze(path, **kwargs), target, meta={"results table": str(path)})
    from helmholtz.report.build import build_report

    return build_report(path, out_dir=out, budget_check=tuple(budget_check), **kwargs)


# ── plan: the adaptive planner for external training loops ─────────────────────────────────────────────────────

def plan(results: str | os.PathLike | None = None, *, codec: str = "jpeg", levels: Any = None, archs: Any = "A,F",
         seeds: Any = 3, max_runs: int | None = None, tolerance_pp: float = 1.0, compare_level: str | None = None,
         model: str | None = None):
    """What to train next (`helmholtz plan`): the next step of the adaptive sweep's planner for the results so far
    (a table in the `analyze` format, its levels read as ``codec`` levels), or with ``results`` None the starting
    grid (``levels``, default the codec's coarse grid; ``archs``; ``seeds``). Returns an `adaptive.external.Step`
    (``.runs``, ``.decided``, ``.open``, ``.to_csv()``, ``.to_json()``)."""
    from helmholtz.adaptive.external import next_step, starting_step
    from helmholtz.analysis.analyze import check_tolerance
    from helmholtz.checks import check_int

    check_tolerance(tolerance_pp)
    if max_runs is not None:
        check_int(max_runs, option="--max-runs", lo=1, example=80)
    if results is None:
        grid = _levels(levels)
        return starting_step(codec=codec, levels=None if grid is None else tuple(grid), archs=_archs(archs),
                             seeds=_seeds(seeds), max_runs=max_runs, compare_level=compare_level)
    return next_step(results, codec=codec, max_runs=max_runs, tolerance_pp=tolerance_pp,
                     compare_level=compare_level, headline=model.strip().upper() if model else None)
