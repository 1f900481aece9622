"""The data's capacity requirement at each compression level: what `helmholtz capacity data` computes.

For each level the training split goes through the codec (cached, `helmholtz.codecs.cache`), then every method of
`capacity_requirement` runs on the decoded items with their labels, with its progression over nested subsets, and
`turning_point` finds where each method's requirement (maximum bits at 100 % of the data) turns across the levels.

Features: images are their pixels, 0–255, flattened (d = H·W·C), exactly what the models read before scaling.
Audio is the normalised log-mel spectrogram the models train on (d = 96·frames), computed with torch
(`helmholtz.train.inputs.prepare_inputs`); raw waves would be meaningless here, because the sum of a wave's samples is
its DC offset. Only the audio path imports torch; images stay numpy-only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from helmholtz.capacity.progression import (
    FRACTIONS,
    Progression,
    TurningPoint,
    requirement_progression,
    turning_point,
)
from helmholtz.capacity.requirement import METHODS, Requirement, capacity_requirement
from helmholtz.data.dataset import Dataset
from helmholtz.errors import ConfigError

#: the levels `capacity data` uses when none are given: the issue's JPEG grid plus the original; an MP3 grid
DEFAULT_LEVELS: dict[str, tuple[int | None, ...]] = {
    "jpeg": (5, 10, 20, 50, 90, None), "mp3": (16, 32, 64, 128, None), "none": (None,),
}


@dataclass(frozen=True)
class LevelRequirement:
    """The requirement of one compression level by every method, with the progression over data fractions."""

    codec: str
    level: int | None                 # JPEG quality / MP3 kbps; None = the original
    bits: float                       # measured payload bits per pixel (images) or per second (audio); raw for the original
    bits_total: float                 # whole-file bits in the same unit
    unit: str                         # 'pixel' or 'second'
    requirements: dict[str, Requirement]
    progressions: dict[str, Progression]

    @property
    def label(self) -> str:
        return "none" if self.level is None else str(self.level)


@dataclass(frozen=True)
class DataCapacity:
    """`helmholtz capacity data`'s result: per level and method, the requirement; per method, the turning point."""

    dataset: str
    modality: str
    codec: str
    features: str
    levels: tuple[LevelRequirement, ...]
    turning_points: dict[str, TurningPoint]
    methods: tuple[str, ...]
    seconds: float

    def to_dict(self) -> dict:
        """The JSON contract: {levels: [{level, bits, method, estimated_bits, max_bits, changes, n, …}],
        progression: [{level, method, exponent, verdict, steps: [...]}], plus turning points and context."""
        levels, progression = [], []
        for lv in self.levels:
            for r in lv.requirements.values():
                levels.append({"level": lv.level, "label": lv.label, "bits": lv.bits, "bits_total": lv.bits_total,
                               "unit": lv.unit, **r.to_dict()})
            for m, p in lv.progressions.items():
                progression.append({"level": lv.level, "label": lv.label, **p.to_dict(), "method": m})
        turns = {}
        for m, t in self.turning_points.items():
            lv = self.levels[t.index]
            turns[m] = {"level": lv.level, "label": lv.label, **t.to_dict(),
                        "rise_level": None if t.rise_index is None else self.levels[t.rise_index].level}
        return {"dataset": self.dataset, "modality": self.modality, "codec": self.codec, "features": self.features,
                "methods": list(self.methods), "levels": levels, "progression": progression,
                "turning_points": turns, "seconds": self.seconds}


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Methods by name, deduplicated in the given order; ConfigError for unknown ones."""
    out: list[str] = []
    for m in methods:
        m = str(m).strip().lower()
        if m not in METHODS:
            raise ConfigError(f"--methods: unknown method {m!r}; expected some of {', '.join(METHODS)}",
                              fix="e.g. --methods energy,nn")
        if m not in out:
            out.append(m)
    if not out:
        raise ConfigError("--methods is empty", fix=f"e.g. --methods {','.join(METHODS)}")
    return tuple(out)


def _features(ds: Dataset) -> tuple[np.ndarray, str]:
    if ds.modality == "image":
        return ds.x_train, "pixels 0–255, flattened (H·W·C features)"
    from helmholtz.train.inputs import prepare_inputs  # torch: log-mel spectrograms

    return prepare_inputs(ds).x_train, "normalised log-mel spectrogram, flattened (96·frames features)"


def requirement_by_level(
    ds: Dataset,
    *,
    codec: str = "jpeg",
    levels: Sequence[int | None] | None = None,
    methods: Sequence[str] = METHODS,
    fractions: Sequence[float] | None = FRACTIONS,
    rise: float = 0.02,
    seed: int = 0,
    on_level: Callable[[LevelRequirement], None] | None = None,
    **kwargs,
) -> DataCapacity:
    """The capacity requirement of ``ds``'s training split at each level of ``codec`` (None = the original).

    ``fractions=None`` skips the progression (only 100 % is computed). ``kwargs`` go to `capacity_requirement`
    (sigdigits, projections, nn_dims). The turning point of each method is found on its ``max_bits`` at 100 %.
    """
    from helmholtz.codecs.cache import compress_dataset

    started = time.perf_counter()
    codec = str(codec).strip().lower()
    if codec not in DEFAULT_LEVELS:
        raise ConfigError(f"--codec got {codec!r}; expected one of jpeg, mp3, none", where="--codec", fix="e.g. --codec jpeg")
    wanted = {"jpeg": "image", "mp3": "audio"}.get(codec)
    if wanted is not None and wanted != ds.modality:
        raise ConfigError(f"--codec {codec} does not apply to {ds.modality} data", where=ds.source,
                          fix=f"use --codec {'jpeg' if ds.modality == 'image' else 'mp3'} or none")
    lvls = tuple(DEFAULT_LEVELS[codec] if levels is None else levels)
    if not lvls:
        raise ConfigError("--levels is empty", where="--levels", fix="e.g. --levels 5,10,20,50,90,none")
    if codec == "none" and any(v is not None for v in lvls):
        raise ConfigError(f"--codec none takes no levels; got {list(lvls)}", where="--levels", fix="drop --levels")
    ms = check_methods(methods)
    if rise < 0:
        raise ConfigError(f"--rise must be ≥ 0; got {rise}", where="--rise", fix="e.g. --rise 0.02")
    fr = tuple(fractions) if fractions else ()
    if fr and abs(fr[-1] - 1.0) > 1e-12:
        fr = (*fr, 1.0)                    # the last step is the level's own requirement
    out: list[LevelRequirement] = []
    features = ""
    for level in lvls:
        compressed, stats = compress_dataset(ds, codec="none" if level is None else codec, level=level)
        x, features = _features(compressed)
        y = compressed.y_train
        reqs: dict[str, Requirement] = {}
        progs: dict[str, Progression] = {}
        for m in ms:
            if fr:
                progs[m] = requirement_progression(x, y, fractions=fr, method=m, seed=seed, **kwargs)
                reqs[m] = progs[m].steps[-1]
            else:
                reqs[m] = capacity_requirement(x, y, method=m, seed=seed, **kwargs)
        bits = stats.raw_bits if level is None else stats.bits_payload
        total = stats.raw_bits if level is None else stats.bits_total
        lr = LevelRequirement(codec=codec if level is not None else "none", level=level, bits=float(bits),
                              bits_total=float(total), unit=stats.unit, requirements=reqs, progressions=progs)
        out.append(lr)
        if on_level is not None:
            on_level(lr)
    turns = {m: turning_point([lv.bits for lv in out], [lv.requirements[m].max_bits for lv in out], tolerance=rise)
             for m in ms}
    return DataCapacity(dataset=ds.name, modality=ds.modality, codec=codec, features=features, levels=tuple(out),
                        turning_points=turns, methods=ms, seconds=time.perf_counter() - started)
