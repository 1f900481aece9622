"""One training run on one compression level, outside a sweep: `helmholtz train` and `helmholtz.api.train`.

The run is the sweep's run (the same `RunSpec`, the same local engine), so a single run and a sweep's cell give the
same result for the same seed. Everything is validated before any data is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from helmholtz.errors import ConfigError

if TYPE_CHECKING:
    from helmholtz.codecs.stats import LevelStats
    from helmholtz.train.spec import EpochRow, RunResult, RunSpec


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


def _check_arch(arch: str, model: str | None) -> str:
    from helmholtz.models.archs import builtin_archs
    from helmholtz.models.names import parse_model
    from helmholtz.sweep.parse import model_list

    if model is not None and arch not in (None, "A"):
        raise ConfigError("--arch and --model both name the model", where="--model", fix="give one of them")
    (name,) = model_list(None, model if model is not None else arch, None)
    named = parse_model(name)
    if not named.is_factory and named.base not in builtin_archs("image"):   # both modalities share the names
        raise ConfigError(f"--arch got {name!r}; expected one of {', '.join(builtin_archs('image'))}",
                          fix="e.g. --arch A, or --model MODULE:FACTORY")
    return name


def train_one(dataset: Any, *, codec: str = "none", level: int | None = None, arch: str = "A", seed: int = 0,
              model: str | None = None, device: str | None = None, train_size: int | None = None,
              test_size: int | None = None, val_fraction: float | None = None, split_seed: int = 0,
              sample_rate: int = 44100, duration_s: float = 2.0, image_column: str | None = None,
              label_column: str | None = None, on_epoch: Callable[[Any], None] | None = None,
              on_progress: Callable[[int, int, int], None] | None = None,
              on_start: Callable[[RunSpec], None] | None = None, **recipe: Any) -> TrainOutcome:
    """Train one architecture on one compression level of ``dataset`` (`helmholtz.api.train` documents the
    options). ``on_start`` gets the run's `RunSpec` just before training starts."""
    from helmholtz.checks import check_seed, idle_cpus
    from helmholtz.codecs.cache import compress_dataset
    from helmholtz.codecs.level import Level
    from helmholtz.codecs.ops import check_codec_level, codec_names_for
    from helmholtz.codecs.registry import CODECS
    from helmholtz.data import check_split_options
    from helmholtz.data.source import columns, resolve_dataset, source_name
    from helmholtz.sweep.engine_local import execute_run
    from helmholtz.sweep.spec import DEFAULT_DURATION_S, DEFAULT_SAMPLE_RATE, check_fmax
    from helmholtz.train.device import resolve_device
    from helmholtz.train.inputs import prepare_inputs
    from helmholtz.train.recipes import DEFAULT_TRAIN_RECIPE, recipe_of, train_options
    from helmholtz.train.spec import DataRef, RunSpec

    recipe.setdefault("recipe", DEFAULT_TRAIN_RECIPE)
    codec = str(codec).strip().lower()
    check_codec_level(codec, level)
    lv = Level.of(codec, level, where="level")   # checked once, before any data is read; trusted from here on
    arch = _check_arch(arch, model)
    seed = check_seed(seed, option="--seed")
    train_options(modality="image", **recipe)   # bad values fail before any data is read
    load = dict(train_size=train_size, test_size=test_size, val_fraction=val_fraction, split_seed=split_seed,
                sample_rate=sample_rate, duration_s=duration_s)
    check_split_options(**load)
    dev = resolve_device(device)
    ds = resolve_dataset(dataset, **load, **columns(image_column, label_column))
    if codec in CODECS and CODECS[codec].modality != ds.modality:
        raise ConfigError(f"--codec {codec} does not apply to {ds.modality} data", where=ds.source,
                          fix=f"use one of {codec_names_for(ds.modality)}, or none")
    opts = train_options(modality=ds.modality, **recipe)
    audio = ds.modality == "audio"
    if audio:
        check_fmax(opts.fmax_hz, sample_rate=sample_rate)
    data_ref = DataRef(
        dataset=source_name(dataset, ds), data_hash=ds.content_hash, train_size=train_size, test_size=test_size,
        val_fraction=float(ds.info.get("val_fraction") or val_fraction or 0.1), split_seed=split_seed,
        sample_rate=sample_rate if audio and sample_rate != DEFAULT_SAMPLE_RATE else None,
        duration_s=duration_s if audio and duration_s != DEFAULT_DURATION_S else None,
        image_column=image_column or None, label_column=label_column or None,
    )
    spec = RunSpec(data=data_ref, codec=codec, level=level, arch=arch, seed=seed, options=opts, modality=ds.modality)
    compressed, stats = compress_dataset(ds, codec=codec, level=lv)
    if on_start is not None:
        on_start(spec)
    # as many torch threads as idle CPUs (oversubscribed intra-op threads stall each other)
    inputs = prepare_inputs(compressed, n_mels=opts.n_mels, fmax_hz=opts.fmax_hz, hop=opts.hop)
    result, history = execute_run(spec.to_dict(), inputs, threads=idle_cpus(), device=dev,
                                  on_epoch=on_epoch, on_progress=on_progress)
    return TrainOutcome(result=result, epochs=history, level_stats=stats, recipe=recipe_of(spec), spec=spec)
