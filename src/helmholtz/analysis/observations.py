"""What the statistics engine analyses: levels, models, and per-seed results of every (model, level) cell.

One `Observations` object is built either from a results store (`from_store`) or from a user's own table
(`helmholtz.analysis.byo`), so `helmholtz report` and `helmholtz analyze` share everything downstream.

A cell holds one value per seed: the test accuracy, and, when the runs stored their per-item predictions, the
per-item correctness (seeds × test items, the same items in the same order in every cell). Per-item correctness is
what makes differences between cells paired over test items; without it the engine falls back to resampling seeds
and adding the binomial variance of the test set (`paired_items` False, and a note says so).

Levels are kept in testing order: the reference (the uncompressed original, key 'none') first, then from the most
measured bits to the fewest. That order is the fixed sequence in which levels are tested against the reference.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from helmholtz.analysis.runs import (
    ANNEALED_GAIN,
    RunInfo,
    correct_items,
    number,
    parse_json,
    row_key,
    run_info,
)
from helmholtz.codecs.points import canonical_grid, grid_points, invalid_points, points_text
from helmholtz.codecs.registry import CODECS, REFERENCE, level_label
from helmholtz.codecs.registry import level_display as registry_display
from helmholtz.errors import HelmholtzError, StoreError
from helmholtz.train.convergence import WINDOW

#: the paper's level for the pre-set comparison and accuracy vs parameters: JPEG q 25 (Fig. 6), audio Q 0.75 (Fig. 9)
PAPER_QUALITY = 25
PAPER_Q_AUDIO = 0.75


@dataclass(frozen=True)
class LevelInfo:
    """One level of a sweep: the original, or one codec level, with its measured bits."""

    key: str                          # unique in the sweep: 'none' for the original, else the store's level label
    codec: str                        # 'none' for the original; 'jpeg', 'mp3', … ; 'custom' for `analyze FILE`
    level: int | None                 # the codec's level (JPEG quality, kbps); None for the original or a free label
    display: str                      # prose: 'the original', 'q 20', '32 kbps'
    bits: float | None                # measured payload bits per pixel (images) or kbps (audio); raw bits for the original
    bits_total: float | None          # the whole file, headers included
    raw_bits: float | None            # the uncompressed rate in the same unit
    fidelity_db: float | None = None  # PSNR (images) or SNR (audio)
    Q: float | None = None            # the paper's quantization axis (JPEG, MP3); None for the original
    capacity: dict[str, Any] | None = field(default=None, compare=False)  # the data's requirement (sweep-recorded)
    n_train: int | None = None        # training items the level's statistics are over

    @property
    def is_reference(self) -> bool:
        return self.key == REFERENCE

    @property
    def compression_ratio(self) -> float | None:
        """Raw bits over the whole file's bits."""
        return self.raw_bits / self.bits_total if self.raw_bits and self.bits_total else None


@dataclass(frozen=True)
class Cell:
    """The seeds of one (model, level) cell: accuracy per seed and, when stored, correctness per test item."""

    model: str
    level: str                        # LevelInfo.key
    seeds: tuple[int, ...]            # ascending
    acc: np.ndarray                   # float64 (n_seeds,), fraction correct
    correct: np.ndarray | None        # bool (n_seeds, n_items), or None without per-item predictions
    n_test: int | None                # test items per run; None when unknown

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def mean(self) -> float:
        return float(self.acc.mean())


@dataclass(frozen=True)
class Observations:
    """Everything the engine needs, in canonical order (models by parameter count, levels in testing order)."""

    levels: tuple[LevelInfo, ...]
    models: tuple[str, ...]           # smallest first
    params: dict[str, int | None]
    cells: dict[tuple[str, str], Cell]
    runs: tuple[RunInfo, ...] = ()
    unit: str = "bits/pixel"          # of LevelInfo.bits: 'bits/pixel', 'kbps', or 'bits' for a custom table
    modality: str = "image"
    n_classes: int | None = None
    notes: tuple[str, ...] = ()
    n_failed: int = 0
    n_expected: int | None = None
    spec: dict[str, Any] | None = field(default=None, compare=False)
    adaptive: dict[str, Any] | None = field(default=None, compare=False)   # an adaptive sweep's plan and budget
    model_input: dict[str, Any] | None = field(default=None, compare=False)  # input_shape, n_classes (MEC)
    # the train × test-level matrix: (model, train level, test level) → the seeds trained at the first level and
    # evaluated on the second's test split (`analysis.matrix`); empty when nothing was evaluated across levels
    cross: dict[tuple[str, str, str], Cell] = field(default_factory=dict, compare=False)

    @property
    def paired_items(self) -> bool:
        """True when every cell has per-item correctness on the same items."""
        sizes = {c.correct.shape[1] if c.correct is not None else None for c in self.cells.values()}
        return None not in sizes and len(sizes) == 1

    @property
    def seeds(self) -> list[int]:
        """Every seed with a run, ascending."""
        return sorted({s for c in self.cells.values() for s in c.seeds})

    @property
    def n_done(self) -> int:
        return sum(c.n for c in self.cells.values())

    def level(self, key: str) -> LevelInfo:
        return next(lv for lv in self.levels if lv.key == key)

    def has_level(self, key: str) -> bool:
        return any(lv.key == key for lv in self.levels)

    def cell(self, model: str, level: str) -> Cell | None:
        return self.cells.get((model, level))

    def codecs(self) -> tuple[str, ...]:
        """The codecs of the compressed levels, in order of first appearance."""
        out: list[str] = []
        for lv in self.levels:
            if not lv.is_reference and lv.codec not in out:
                out.append(lv.codec)
        return tuple(out)

    def family(self, codec: str) -> tuple[LevelInfo, ...]:
        """The compressed levels of one codec, most bits first (the order they are tested in)."""
        return tuple(lv for lv in self.levels if not lv.is_reference and lv.codec == codec)


# ---------------------------------------------------------------- ordering and labels


def level_display(codec: str, level: int | None, key: str) -> str:
    """How a level reads in prose: the registry's display ('q 20', '32 kbps', 'WebP q 40'), 'the original' for the
    reference, the key itself for a free label of an imported table."""
    if key == REFERENCE:
        return "the original"
    if level is None or codec == "custom":
        return key
    return registry_display(codec, int(level))


def sort_levels(levels: Iterable[LevelInfo]) -> tuple[LevelInfo, ...]:
    """Reference first, then each codec's levels from the most bits to the fewest.

    Measured bits decide when every level of the codec has them; otherwise the level number does (a larger JPEG
    quality or bitrate keeps more bits), and for free labels without bits, their order of appearance.
    """
    levels = list(levels)
    ref = [lv for lv in levels if lv.is_reference]
    out = list(ref[:1])
    codecs: list[str] = []
    for lv in levels:
        if not lv.is_reference and lv.codec not in codecs:
            codecs.append(lv.codec)
    for codec in codecs:
        fam = [lv for lv in levels if lv.codec == codec and not lv.is_reference]
        if all(lv.bits is not None for lv in fam):
            fam.sort(key=lambda lv: (-float(lv.bits), lv.key))
        elif all(lv.level is not None for lv in fam):
            fam.sort(key=lambda lv: -int(lv.level))
        out.extend(fam)
    return tuple(out)


def quantization_axis(level: int | None, *, codec: str, grid_levels: Iterable[int | None]) -> float | None:
    """The paper's Q of one level (Fig. 4/7), for the paper's codecs only (`CodecSpec.paper`: JPEG, MP3): a
    quality q → (100 − q)/100; a bitrate → linear from 0.0 at the grid's highest to 1.0 at its lowest
    (``grid_levels``: that codec's levels). None for the original and for every other codec (drawn against bits)."""
    spec = CODECS.get(codec)
    if level is None or spec is None or not spec.paper:
        return None
    if spec.level_kind == "bitrate":
        rates = sorted({int(x) for x in grid_levels if x is not None})
        lo, hi = rates[0], rates[-1]
        return 0.0 if hi == lo else (hi - int(level)) / (hi - lo)
    top = spec.level_range[1]
    return (top - int(level)) / top


# ---------------------------------------------------------------- from a results store


def _done(runs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in runs if r.get("status", "done") == "done" and r.get("test_acc") is not None]


def _params(runs: Sequence[Mapping[str, Any]]) -> dict[str, int | None]:
    counts: dict[str, list[int]] = {}
    for r in runs:
        counts.setdefault(str(r["arch"]), [])
        if r.get("n_params") is not None:
            counts[str(r["arch"])].append(int(r["n_params"]))
    sizes = {a: (int(statistics.median(c)) if c else None) for a, c in counts.items()}
    return dict(sorted(sizes.items(), key=lambda kv: (kv[1] is None, kv[1] or 0, kv[0])))


def _unit(level_rows: Sequence[Mapping[str, Any]], modality: str) -> tuple[str, float]:
    """(unit of the bits axis, scale from the stored bits per second or per pixel)."""
    audio = modality == "audio" or any(r.get("unit") == "second" for r in level_rows)
    return ("kbps", 1e-3) if audio else ("bits/pixel", 1.0)


def spec_points(spec: Mapping[str, Any] | None) -> tuple[list[tuple[str, int | None]], list[tuple[str, int, str]]]:
    """(valid points, invalid points with why) of a stored sweep spec; ([], []) without a readable spec.

    Read from the stored dict (`SweepSpec.to_dict()`) itself: ``codec`` and ``levels`` (None: the original), and
    ``more_codecs`` ([{codec, levels}]) for a multi-codec sweep (a one-codec spec, and any written before
    multi-codec sweeps, has none). The grid's order and the check of its levels come from `codecs.points`, as the
    sweep's do."""
    if not spec or not all(k in spec for k in ("codec", "levels", "archs", "seeds")):
        return [], []
    try:
        more = [(str(m["codec"]), tuple(m["levels"])) for m in spec.get("more_codecs") or ()]
        levels, more_codecs = canonical_grid(spec["codec"], tuple(spec["levels"]), more)
        points = grid_points(spec["codec"], levels, more_codecs)
        bad = invalid_points(points)
    except (HelmholtzError, KeyError, TypeError, ValueError):
        return [], []
    drop = {(c, v) for c, v, _ in bad}
    return [p for p in points if p not in drop], bad


def _store_levels(spec: Mapping[str, Any] | None, level_rows: Sequence[Mapping[str, Any]],
                  runs: Sequence[Mapping[str, Any]], unit_scale: float) -> tuple[LevelInfo, ...]:
    stats = {row_key(r): r for r in level_rows}
    seen: dict[str, tuple[str, int | None]] = {}
    for codec, lv in spec_points(spec)[0]:
        seen.setdefault(level_label(codec, lv, check=False), (codec, lv))
    spec_codec = (spec or {}).get("codec")
    for row in (*level_rows, *runs):
        key = row_key(row)
        level = row.get("level")
        try:
            level = None if level is None else int(level)
        except (TypeError, ValueError):
            raise StoreError(f"level {level!r} is not an integer", where="results store",
                             fix="re-run the sweep into a new --out directory") from None
        codec = "none" if key == REFERENCE else str(row.get("codec") or spec_codec or "custom")
        seen.setdefault(key, (codec, level))
    grids: dict[str, set[int | None]] = {}
    for codec, lvl in seen.values():
        grids.setdefault(codec, set()).add(lvl)
    out = []
    for key, (codec, level) in seen.items():
        row = stats.get(key)
        raw = number(row, "raw_bits", unit_scale)
        bits, total = number(row, "bits_payload", unit_scale), number(row, "bits_total", unit_scale)
        if key == REFERENCE:
            bits = total = raw if raw is not None else total
        extra = parse_json(row.get("stats_json")) if row else None
        out.append(LevelInfo(
            key=key, codec=codec, level=level, display=level_display(codec, level, key), bits=bits,
            bits_total=total, raw_bits=raw, fidelity_db=number(row, "fidelity_db"),
            Q=quantization_axis(level, codec=codec, grid_levels=grids[codec]),
            capacity=extra.get("capacity") if isinstance(extra, dict) else None,
            n_train=None if row is None or row.get("n_items") is None else int(row["n_items"]),
        ))
    return sort_levels(out)


def _cross_cells(done: Sequence[Mapping[str, Any]], cross_rows: Sequence[Mapping[str, Any]],
                 labels: np.ndarray | None, keys: set[str]) -> dict[tuple[str, str, str], Cell]:
    """Cells of the cross evaluations: per (model, train level, test level), the seeds' accuracies and per-item
    correctness (when every one has predictions). The diagonal (a model on its own level) is the run's own cell."""
    by_id = {str(r["run_id"]): r for r in done}
    groups: dict[tuple[str, str, str], list[tuple[int, float, np.ndarray | None, Any]]] = {}
    for c in cross_rows:
        run = by_id.get(str(c["run_id"]))
        test = REFERENCE if c["test_label"] == REFERENCE else str(c["test_label"])
        if run is None or test not in keys or test == row_key(run):
            continue
        correct = correct_items({"predictions": c.get("predictions"), "n_classes": run.get("n_classes")}, labels)
        groups.setdefault((str(run["arch"]), row_key(run), test), []).append(
            (int(run["seed"]), float(c["test_acc"]), correct, run.get("n_test")))
    out = {}
    for (m, t, s), vals in groups.items():
        vals.sort(key=lambda v: v[0])
        paired = all(v[2] is not None for v in vals)
        out[(m, t, s)] = Cell(model=m, level=s, seeds=tuple(v[0] for v in vals), acc=np.array([v[1] for v in vals]),
                              correct=np.stack([v[2] for v in vals]) if paired else None,
                              n_test=None if vals[0][3] is None else int(vals[0][3]))
    return out


def from_store(*, spec: Mapping[str, Any] | None, level_rows: Sequence[Mapping[str, Any]],
               run_rows: Sequence[Mapping[str, Any]], epoch_rows: Sequence[Mapping[str, Any]] = (),
               labels: np.ndarray | None = None, cross_rows: Sequence[Mapping[str, Any]] = ()) -> Observations:
    """Observations of a sweep from the rows of its results store (`Store.spec()`, `.levels()`, `.runs()`,
    `.epochs()`, `.test_labels()`, `.cross()`). Raises StoreError when no run has finished."""
    done = _done(run_rows)
    n_failed = sum(1 for r in run_rows if r.get("status") == "failed")
    if not done:
        raise StoreError(f"no finished runs to analyse ({n_failed} failed)", where="results store",
                         fix="run `helmholtz sweep ...` into this directory first, or wait for its first run")
    audio = any(CODECS[r["codec"]].modality == "audio" for r in done if r.get("codec") in CODECS)
    modality = str((spec or {}).get("modality") or ("audio" if audio else "image"))
    unit, scale = _unit(level_rows, modality)
    levels = _store_levels(spec, level_rows, done, scale)
    histories: dict[str, list[float]] = {}
    train_histories: dict[str, list[float]] = {}
    for e in sorted(epoch_rows, key=lambda e: (str(e["run_id"]), int(e["epoch"]))):
        histories.setdefault(str(e["run_id"]), []).append(float(e["val_acc"]))
        if e.get("train_acc") is not None:
            train_histories.setdefault(str(e["run_id"]), []).append(float(e["train_acc"]))
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in done:
        groups.setdefault((str(r["arch"]), row_key(r)), []).append(r)
    correct_all = {id(r): correct_items(r, labels) for r in done}
    paired = all(c is not None for c in correct_all.values())
    cells = {}
    for key, rows in groups.items():
        rows = sorted(rows, key=lambda r: int(r["seed"]))
        n_test = rows[0].get("n_test") or (spec or {}).get("data", {}).get("test_size")
        cells[key] = Cell(
            model=key[0], level=key[1], seeds=tuple(int(r["seed"]) for r in rows),
            acc=np.array([float(r["test_acc"]) for r in rows]),
            correct=np.stack([correct_all[id(r)] for r in rows]) if paired else None,
            n_test=None if n_test is None else int(n_test),
        )
    notes = []
    if not paired:
        notes.append("no per-item predictions in this store (written before they were recorded, or a run lacks "
                     "them): differences are paired over seeds only, and the test set's binomial variance is "
                     "added per cell" + ("" if all(c.n_test for c in cells.values()) else
                                         "; the test-set size is unknown, so that variance is left out"))
    n_classes = next((int(r["n_classes"]) for r in done if r.get("n_classes")), None)
    expected = None
    points, bad = spec_points(spec)
    if points:
        expected = len(points) * len(spec["archs"]) * len(spec["seeds"])
    if bad:
        notes.append(f"the stored sweep holds levels no codec can run ({points_text((c, v) for c, v, _ in bad)}: "
                     f"{bad[0][2]}); they are left out — `helmholtz repair DIR` drops them from the store")
    return Observations(
        levels=levels, models=tuple(_params(done)), params=_params(done), cells=cells,
        runs=tuple(run_info(r, histories.get(str(r.get("run_id"))), train_histories.get(str(r.get("run_id"))))
                   for r in done), unit=unit, modality=modality,
        n_classes=n_classes, notes=tuple(notes), n_failed=n_failed, n_expected=expected,
        spec=dict(spec) if spec else None,
        cross=_cross_cells(done, cross_rows, labels if paired else None, {lv.key for lv in levels}),
    )

class StoreReader(Protocol):
    """What `read_store` reads of a results store, as plain rows (dicts): an open `helmholtz.sweep.store.Store` is
    one. Analysis names only this, so it never imports the sweep; each method is the store's method of that name."""

    def spec(self) -> dict[str, Any] | None: ...   # the stored sweep spec (`SweepSpec.to_dict()`), None before one

    def levels(self) -> list[dict[str, Any]]: ...  # one row per stored level: codec, level, bits and bytes columns

    # run rows; ``status=None``: done and failed ones; ``predictions=True``: with each run's per-item predictions
    def runs(self, status: Any = ..., *, predictions: bool = ...) -> list[dict[str, Any]]: ...

    def epochs(self) -> list[dict[str, Any]]: ...  # per-epoch rows of every run, by run and epoch

    def test_labels(self) -> tuple[Any, int] | None: ...  # (labels as a numpy array, n_classes), or None

    # cross evaluations: run_id, test_label, test_acc (and the predictions' bytes)
    def cross(self, *, predictions: bool = ...) -> list[dict[str, Any]]: ...


def read_store(store: StoreReader) -> tuple[Observations, list[dict[str, Any]]]:
    """Observations of the sweep in an open results store (a `StoreReader`, e.g. `helmholtz.sweep.store.Store`), and
    its run rows (failed ones too): the one read of a store that the report and the adaptive planner share."""
    runs = store.runs(status=None, predictions=True)
    labels = store.test_labels()
    obs = from_store(spec=store.spec(), level_rows=store.levels(), run_rows=runs, epoch_rows=store.epochs(),
                     labels=None if labels is None else labels[0], cross_rows=store.cross(predictions=True))
    return obs, runs



# ANNEALED_GAIN, parse_json, RunInfo and run_info live in `analysis.runs`; this module's importers keep their names
__all__ = ["ANNEALED_GAIN", "REFERENCE", "WINDOW", "Cell", "LevelInfo", "Observations", "RunInfo", "StoreReader",
           "from_store", "parse_json", "read_store", "row_key", "run_info", "sort_levels"]
