"""The Python API: every command of the CLI as one function, with the same validation and the same errors.

    import helmholtz as hz

    ds = hz.load_dataset("fashion-mnist", train_size=10_000)
    hz.bits([5, 20, 50], dataset=ds)                          # the paper's arithmetic beside measured bits
    run = hz.train(ds, codec="jpeg", level=20, arch="A", epochs=3, width=0.25, optimizer="adam", lr=2e-3)
    sw = hz.sweep("fashion-mnist", out="runs/f", codec="jpeg", levels=[5, 20, None], archs="A,F", seeds=2,
                  train_size=10_000, epochs=5, width=0.25, optimizer="adam", lr=2e-3)
    df = hz.results("runs/f")                                 # pandas DataFrame (list of dicts without pandas)
    files = hz.report("runs/f")                               # writes runs/f/report/; files.analysis, files.headline

A façade: each function is one call into the stage module that does the work (named in its docstring), imported
when called, so ``import helmholtz`` stays cheap and never imports torch. The CLI is a thin skin over these
functions: it parses, calls one of them, prints. Bad input raises `helmholtz.errors` exceptions (`DataError`,
`CodecError`, `ConfigError`, `StoreError`), each one line saying what is wrong, where, and how to fix it; nothing is
printed (a sweep shows progress only with ``quiet=False``). Training options (``epochs``, ``optimizer``, ``lr``,
``width``, …: declared once in `helmholtz.train.options.RECIPE_OPTIONS`) pass through ``**recipe``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from helmholtz.adaptive.external import Step
    from helmholtz.analysis.analyze import Analysis
    from helmholtz.capacity.ops import ModelCapacity
    from helmholtz.codecs.ops import Compressed
    from helmholtz.data.dataset import Dataset
    from helmholtz.report.build import ReportFiles
    from helmholtz.sweep.repair import RepairResult
    from helmholtz.sweep.runner import SweepSummary
    from helmholtz.sweep.single import TrainOutcome
    from helmholtz.train.spec import RunSpec, TrainOptions

__all__ = ["Compressed", "Sweep", "TrainOutcome", "analyze", "bits", "compress", "export", "export_predictions",
           "load_dataset", "open_sweep", "plan", "report", "results", "sweep", "train"]


def __getattr__(name: str) -> Any:
    """The result classes and the default recipes' names, loaded from their stage on first use."""
    homes = {"Compressed": "helmholtz.codecs.ops", "TrainOutcome": "helmholtz.sweep.single",
             "DEFAULT_QUALITIES": "helmholtz.codecs.ops", "DEFAULT_TRAIN_RECIPE": "helmholtz.train.recipes",
             "DEFAULT_SWEEP_RECIPE": "helmholtz.train.recipes", "RECIPE_OPTIONS": "helmholtz.train.options"}
    if name in homes:
        import importlib

        return getattr(importlib.import_module(homes[name]), name)
    raise AttributeError(f"module 'helmholtz.api' has no attribute {name!r}")


# ── the library ──────────────────────────────────────────────────────────────────────────────────────────────────

def version() -> tuple[str, dict[str, str]]:
    """`helmholtz version`: the code version and the versions of the libraries that change results."""
    from helmholtz.provenance import versions

    return versions()


# ── data ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def load_dataset(source: str | os.PathLike, **options: Any) -> Dataset:
    """A known name (``fashion-mnist``, ``mnist``, ``cifar10``) or a path → a `Dataset` with fixed splits;
    options: train_size, test_size, val_fraction, split_seed, sample_rate, duration_s, image_column, label_column
    (`helmholtz.data.load_dataset`). Every option is checked before anything is read."""
    from helmholtz.data import load_dataset as load

    return load(source, **options)


def datasets() -> list[dict[str, Any]]:
    """`helmholtz datasets`: each known dataset, where it was found and its format, or how to get it."""
    from helmholtz.data import dataset_status

    return dataset_status()


def inspect(source: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """`helmholtz inspect`: a dataset's format, item shape, classes, counts per split and class, content hash
    (`helmholtz.data.source.inspect_dataset`; options as `load_dataset`)."""
    from helmholtz.data.source import inspect_dataset

    return inspect_dataset(source, **options)


# ── codecs and models ────────────────────────────────────────────────────────────────────────────────────────────

def codecs() -> list[dict[str, Any]]:
    """`helmholtz codecs`: every codec as a dict (levels, units, encoder, payload, available here)."""
    from helmholtz.codecs.ops import codec_rows

    return codec_rows()


def check_codec_level(codec: str, level: int | None) -> None:
    """The codec must be known (or 'none'); a codec needs a level, 'none' takes none (`codecs.ops`)."""
    from helmholtz.codecs.ops import check_codec_level as check

    check(codec, level)


def compress(dataset: Any, **options: Any) -> Compressed:
    """Every split of ``dataset`` through ``codec`` (any codec of `helmholtz codecs`, or 'none') at ``level``, with
    measured bytes (`helmholtz compress`). With ``out``: written atomically as an .npz (``format='npz'``) or, for
    image codecs, a folder of the real encoded files (``format='folder'``); an existing non-empty ``out`` needs
    ``force``. Options: codec, level, out, format, subsampling, force, train_size, test_size, sample_rate,
    duration_s (`helmholtz.codecs.ops.compress`)."""
    from helmholtz.codecs.ops import compress as run

    return run(dataset, **options)


def bits(levels: Iterable[int] | None = None, **options: Any) -> list[dict[str, Any]]:
    """One row per level of ``codec`` (default levels: JPEG q 5, 10, 20, 25, 50, 75, 95, other codecs their default
    grid). JPEG rows carry the paper's Sec. 4.1 arithmetic; with ``dataset``, every row also has the measured stats
    of a round trip of its training split. Options: codec, dataset, train_size, subsampling, sample_rate,
    duration_s (`helmholtz.codecs.ops.bits_rows`)."""
    from helmholtz.codecs.ops import bits_rows

    return bits_rows(levels, **options)


def bits_table(**options: Any) -> dict[str, Any]:
    """`helmholtz bits`: the levels as comma lists (``levels``, or JPEG's ``quality``), the rows of `bits` and what
    the table shows beside them (`helmholtz.codecs.ops.bits_table`)."""
    from helmholtz.codecs.ops import bits_table as table

    return table(**options)


def archs(**options: Any) -> dict[str, Any]:
    """`helmholtz archs`: the built-in architectures with their parameter counts on an input (modality,
    input_shape 'C×H×W', classes, width; `helmholtz.models.catalog.arch_table`)."""
    from helmholtz.models.catalog import arch_table

    return arch_table(**options)


# ── training ─────────────────────────────────────────────────────────────────────────────────────────────────────

def train_options(*, modality: str, **recipe: Any) -> TrainOptions:
    """The recipe options validated and completed with the modality's preset (`train.recipes.train_options`)."""
    from helmholtz.train.recipes import train_options as options

    return options(modality=modality, **recipe)


def recipe_of(spec: RunSpec) -> dict[str, Any]:
    """The recipe a run used, resolved (the lr default filled in), for printing with every result."""
    from helmholtz.train.recipes import recipe_of as resolved

    return resolved(spec)


def train(dataset: Any, **options: Any) -> TrainOutcome:
    """Train one architecture on one compression level of ``dataset`` (`helmholtz train`): early stopping on the
    validation split, the test split read once with the selected weights. Everything is validated before any data
    is read. Options: codec, level, arch or model, seed, device, the split options of `load_dataset`, callbacks
    on_epoch(row), on_progress(epoch, done, total), on_start(spec), and the recipe (``recipe='fast'|'paper'``,
    default fast, and any option overriding it) (`helmholtz.sweep.single.train_one`)."""
    from helmholtz.sweep.single import train_one

    return train_one(dataset, **options)


# ── sweeps ───────────────────────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Sweep:
    """A handle on a sweep directory and its results store (``DIR/results.sqlite``). ``summary`` is what the
    `sweep` call that returned this handle did (None for `open_sweep`)."""

    out_dir: Path
    summary: SweepSummary | None = field(default=None, compare=False)

    @property
    def store_path(self) -> Path:
        from helmholtz.sweep.results import store_path

        return store_path(self.out_dir)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The runs this call could not finish (recorded in the store; a re-run retries them)."""
        return [] if self.summary is None else list(self.summary.failures)

    def spec(self) -> dict[str, Any] | None:
        from helmholtz.sweep.results import stored_spec

        return stored_spec(self.out_dir)

    def counts(self) -> dict[str, int]:
        from helmholtz.sweep.results import stored_counts

        return stored_counts(self.out_dir)

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
    from helmholtz.sweep.results import check_sweep_dir

    return Sweep(out_dir=check_sweep_dir(run_dir))


def sweep(dataset: Any, *, out: str | os.PathLike, **options: Any) -> Sweep:
    """Train every architecture × seed on every level into ``out`` (`helmholtz sweep`), resumable: the same call
    again trains only what is missing. ``levels``: a list (None or 'none' = the original) or '5,10,none' (default:
    the paper's grid); ``archs``: 'A,F' or a list (default A–F); ``model``: your own models instead, factories
    'MODULE:FACTORY' or built-in names; ``widths`` ('0.25,0.5,1'): each model at each width; ``keep_weights``: keep
    each run's best weights and evaluate them on every level's test split (the train × test-level matrix);
    ``seeds``: a count, a list, or '0,5,7'; ``kernels`` 'avx2' for the same runs on every x86-64 CPU; ``engine`` (`helmholtz.sweep.engines.ENGINES`: local, ray), ``workers``, ``threads_per_run``; the split
    options of `load_dataset`; the recipe. The whole spec, the dataset and ``out`` are validated before the first
    run trains. The runs that failed are in ``handle.failed`` (recorded in the store, retried on the next call).

    ``until_decided``: an adaptive sweep (`helmholtz.adaptive`) that adds seeds and levels where the answer is open,
    until it is decided or ``max_runs`` / ``max_time`` is spent; ``tolerance_pp`` (δ, percentage points) and
    ``compare_at`` are the decisions' settings; ``focus`` starts from the grid the question needs;
    ``budget_check`` retrains the boundary and comparison cells at twice the epoch cap into ``out/budget-2x``
    (`helmholtz.adaptive.start.start_sweep` has every option)."""
    from helmholtz.adaptive.start import start_sweep

    return Sweep(out_dir=Path(out), summary=start_sweep(dataset, out=out, **options))


def repair(run_dir: str | os.PathLike, *, drop: str | Sequence[str] | None = None,
           dry_run: bool = False) -> RepairResult:
    """`helmholtz repair`: drop the levels no codec can run (and ``drop``: labels, a comma list or a list) from a
    sweep directory, with their failed runs; finished runs are kept (`helmholtz.sweep.repair.repair`)."""
    from helmholtz.sweep.repair import repair as run

    return run(run_dir, drop=drop, dry_run=dry_run)


# ── results, analysis, report ────────────────────────────────────────────────────────────────────────────────────

def results(run_dir: str | os.PathLike, *, kind: str = "runs", failed: bool = False) -> Any:
    """The stored rows of a sweep (`helmholtz results`): ``kind`` 'runs' (one row per finished run; ``failed``
    adds the failed ones with their error) or 'epochs'. A pandas DataFrame when pandas is installed, else a list of
    dicts (`helmholtz.sweep.results.results`)."""
    from helmholtz.sweep.results import results as rows

    return rows(run_dir, kind=kind, failed=failed)


def results_table(run_dir: str | os.PathLike, *, epochs: bool = False, failed: bool = False) -> dict[str, Any]:
    """What `helmholtz results DIR` shows as a table: the rows and the per-cell means."""
    from helmholtz.sweep.results import table_rows

    return table_rows(run_dir, epochs=epochs, failed=failed)


def export(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, **options: Any) -> tuple[int, Path | None]:
    """Write the rows of ``kind`` as CSV, JSON or Parquet (``fmt``; default from ``out``'s suffix, else CSV) to
    the file ``out`` (atomically), or to standard output / ``stream`` when ``out`` is None or '-'. Parquet needs a
    file. Returns (rows written, the file or None) (`helmholtz.sweep.results.export`)."""
    from helmholtz.sweep.results import export as write

    return write(run_dir, out, **options)


def export_predictions(run_dir: str | os.PathLike, out: str | os.PathLike | None) -> tuple[int, Path]:
    """Every run's per-item test predictions, and the test labels, to ``out`` (.npz or .parquet); returns
    (runs written, the file). `helmholtz results DIR --predictions --out FILE`."""
    from helmholtz.sweep.results import export_predictions as write

    return write(run_dir, out)


def analysis_options(**options: Any) -> dict[str, Any]:
    """The `analyze` keywords of the CLI's analysis options (tolerance_pp, bootstrap, seed, model, compare 'A,F',
    compare_at) (`helmholtz.report.sources.analysis_options`)."""
    from helmholtz.report.sources import analysis_options as parse

    return parse(**options)


def analyze(source: str | os.PathLike, **kwargs: Any) -> Analysis:
    """The analysis of a sweep directory, or of a results table from any pipeline (.csv or .parquet; `helmholtz
    analyze`), without writing anything: N_approx with its CI, level verdicts, collapse test, model comparisons,
    epochs, warnings. ``kwargs`` go to `helmholtz.analysis.analyze` (tolerance_pp, n_boot, seed, model,
    compare_pair, compare_level)."""
    from helmholtz.report.sources import analyze_source

    return analyze_source(source, **kwargs)


def report(source: str | os.PathLike, *, out: str | os.PathLike | None = None,
           budget_check: Sequence[str | os.PathLike] = (), **kwargs: Any) -> ReportFiles:
    """Analyse a sweep (or a results table, .csv/.parquet) and write its report (`helmholtz report`): figures,
    report.html, summary.md and analysis.json under ``out`` (default: the sweep's or the table's folder + /report),
    replaced only once complete. Returns the files written; ``.analysis`` is the analysis and ``.headline`` its
    headline. ``budget_check``: sweeps of the same cells at a longer epoch cap (a training-budget check; a table
    carries its budgets in an ``epochs`` column instead); ``table_only``: refuse anything but a table (`helmholtz
    analyze`). ``kwargs`` go to `helmholtz.analysis.analyze` (tolerance_pp, n_boot, seed, …)."""
    from helmholtz.report.sources import report_source

    return report_source(source, out=out, budget_check=budget_check, **kwargs)


def plan(results: str | os.PathLike | None = None, **options: Any) -> Step:
    """What to train next (`helmholtz plan`): the next step of the adaptive sweep's planner for the results so far
    (a table in the `analyze` format, its levels read as ``codec`` levels), or with ``results`` None the starting
    grid (``levels``, ``archs``, ``seeds``); also max_runs, tolerance_pp, compare_level, model. Returns an
    `adaptive.external.Step` (``.runs``, ``.decided``, ``.open``, ``.to_csv()``, ``.to_json()``)."""
    from helmholtz.adaptive.external import plan as step

    return step(results, **options)


# ── demos and synthetic data ─────────────────────────────────────────────────────────────────────────────────────

def demo(out: str | os.PathLike | None = None, **options: Any) -> ReportFiles:
    """`helmholtz demo`: the adaptive image demo on real Fashion-MNIST, then its report (quick, quiet,
    tolerance_pp; `helmholtz.demos.image_demo`)."""
    from helmholtz.demos import image_demo

    return image_demo(out, **options)


def demo_audio(out: str | os.PathLike, **options: Any) -> ReportFiles:
    """`helmholtz demo-audio`: synth guitar effects → adaptive MP3 sweep → report (`helmholtz.demos.run_audio_demo`
    has the options)."""
    from helmholtz.demos import run_audio_demo

    return run_audio_demo(out, **options)


def synth_guitar_fx(out: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """`helmholtz synth guitar-fx`: write the guitar-effects set and return its summary
    (`helmholtz.synth.guitar.make_guitar_fx` has the options)."""
    from helmholtz.synth.guitar import synth_guitar_fx as make

    return make(out, **options)


# ── capacity ─────────────────────────────────────────────────────────────────────────────────────────────────────

def capacity_model(**options: Any) -> ModelCapacity:
    """`helmholtz capacity model`: the MEC of models, beside their parameter counts (`capacity.ops`)."""
    from helmholtz.capacity.ops import model_capacity

    return model_capacity(**options)


def capacity_data(dataset: Any, **options: Any) -> Any:
    """`helmholtz capacity data`: the capacity the data requires at each level, without training (`capacity.ops`)."""
    from helmholtz.capacity.ops import data_capacity

    return data_capacity(dataset, **options)


def capacity_measure(dataset: Any, **options: Any) -> list[Any]:
    """`helmholtz capacity measure`: random labels memorised, per model and recipe (`capacity.ops`)."""
    from helmholtz.capacity.ops import measured_capacity

    return measured_capacity(dataset, **options)

