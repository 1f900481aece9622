"""The sweep: a grid of codec level × architecture × seed over one dataset, with one set of training options.

A `SweepSpec` is pure data (no torch). `validate_sweep` checks every field before the first second of training,
and `expand` turns the grid into the `RunSpec`s whose hashes are the run ids of the results store.

Levels are the paper's compression levels: JPEG quality q (1..100) or MP3 bitrate in kbps (8..320); ``None`` is
the uncompressed original, the reference every curve is compared with (label ``none``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from helmholtz.checks import (
    SEED_MAX,
    SEEDS_MAX_COUNT,
    check_duration,
    check_fraction,
    check_sample_rate,
    check_seed,
)
from helmholtz.errors import ConfigError, StoreError
from helmholtz.train.spec import DataRef, RunSpec, TrainOptions, data_dict

Codec = Literal["none", "jpeg", "mp3"]
Modality = Literal["image", "audio"]

#: the paper's grids (DESIGN.md): JPEG quality q, MP3 bitrate in kbps; None = the uncompressed original
DEFAULT_LEVELS: dict[str, tuple[int | None, ...]] = {
    "jpeg": (1, 5, 10, 15, 20, 25, 50, 75, 100, None),
    "mp3": (8, 16, 32, 64, 96, 128, 160, None),
    "none": (None,),
}
#: inclusive range of a level per codec (JPEG quality, MP3 CBR bitrate in kbps)
LEVEL_RANGE: dict[str, tuple[int, int]] = {"jpeg": (1, 100), "mp3": (8, 320)}
#: the modality each codec applies to (codec 'none' fits both)
CODEC_MODALITY: dict[str, str] = {"jpeg": "image", "mp3": "audio"}
#: architecture names of the paper, the same for images and audio (models.archs holds their layers)
ARCH_NAMES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
#: audio defaults of the data stage (a DataRef leaves them unset, so earlier sweeps keep their run ids)
DEFAULT_SAMPLE_RATE, DEFAULT_DURATION_S = 44100, 2.0
#: the validation share of the paper's recipes when the user gives none (images 10 %, audio 25 %)
DEFAULT_VAL_FRACTION: dict[str, float] = {"image": 0.1, "audio": 0.25}

_OPTION_CHOICES = {"optimizer": ("sgd", "adadelta", "adam"), "precision": ("auto", "fp32", "bf16")}


def _level_key(level: int | None) -> tuple[int, int]:
    # numeric levels ascending, the original ('none') last
    return (1, 0) if level is None else (0, level)


def level_label(level: int | None) -> str:
    """The label a level has in the store and on plots: the number, or 'none' for the original."""
    return "none" if level is None else str(level)


@dataclass(frozen=True)
class SweepSpec:
    """A Helmholtz sweep: the dataset, the codec and its levels, the architectures, the seeds, the recipe.

    Levels, architectures and seeds are kept sorted and without duplicates, so the same grid typed in another
    order is the same sweep. ``data.data_hash`` may be empty until the dataset is loaded (`run_sweep` fills it).
    """

    data: DataRef
    codec: Codec
    levels: tuple[int | None, ...]
    archs: tuple[str, ...]
    seeds: tuple[int, ...]
    options: TrainOptions = field(default_factory=TrainOptions)
    modality: Modality = "image"

    def __post_init__(self) -> None:
        # canonical order: levels ascending with the original last, archs and seeds sorted, no duplicates
        object.__setattr__(self, "levels", tuple(sorted(set(self.levels), key=_level_key)))
        object.__setattr__(self, "archs", tuple(sorted(set(self.archs))))
        object.__setattr__(self, "seeds", tuple(sorted(set(self.seeds))))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"], d["archs"], d["seeds"] = list(self.levels), list(self.archs), list(self.seeds)
        d["data"] = data_dict(d["data"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepSpec:
        try:
            return cls(
                data=DataRef(**d["data"]), codec=d["codec"], levels=tuple(d["levels"]), archs=tuple(d["archs"]),
                seeds=tuple(d["seeds"]), options=TrainOptions(**d["options"]), modality=d.get("modality", "image"),
            )
        except (KeyError, TypeError) as ex:
            raise ConfigError(f"not a sweep spec: {ex}", fix="write it with SweepSpec.to_dict()") from None

    @property
    def n_runs(self) -> int:
        return len(self.levels) * len(self.archs) * len(self.seeds)

    def with_data_hash(self, data_hash: str) -> SweepSpec:
        return replace(self, data=replace(self.data, data_hash=data_hash))


def make_sweep_spec(
    dataset: str,
    *,
    modality: Modality,
    codec: Codec | None = None,
    levels: Sequence[int | None] | None = None,
    archs: Sequence[str] = ARCH_NAMES,
    seeds: int | Sequence[int] = 3,
    options: TrainOptions | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float | None = None,
    split_seed: int = 0,
    data_hash: str = "",
    sample_rate: int | None = None,
    duration_s: float | None = None,
) -> SweepSpec:
    """A `SweepSpec` with the modality's defaults filled in, for programmatic use (demos, notebooks).

    ``codec=None`` picks JPEG for images and MP3 for audio; ``levels=None`` the codec's default grid;
    ``seeds=3`` means seeds 0, 1, 2; ``options=None`` the paper's recipe for the modality (images: SGD batch 128
    with augmentation; audio: Adadelta batch 50, no augmentation); ``val_fraction=None`` 0.1 for images and 0.25
    for audio; ``sample_rate``/``duration_s`` (audio) None for the defaults, 44.1 kHz and 2 s.
    """
    if modality not in DEFAULT_VAL_FRACTION:
        raise ConfigError(f"modality must be 'image' or 'audio'; got {modality!r}", fix="pass modality='image'")
    codec = codec or ("jpeg" if modality == "image" else "mp3")
    if codec not in DEFAULT_LEVELS:
        raise ConfigError(f"--codec got {codec!r}; expected one of jpeg, mp3, none", fix="e.g. --codec jpeg")
    if options is None:
        options = TrainOptions() if modality == "image" else TrainOptions(optimizer="adadelta", batch_size=50, augment=False)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seed_tuple = tuple(range(_check_seed_count(seeds)))
    else:
        seed_tuple = tuple(seeds)
    return SweepSpec(
        data=DataRef(
            dataset=dataset, data_hash=data_hash, train_size=train_size, test_size=test_size,
            val_fraction=DEFAULT_VAL_FRACTION[modality] if val_fraction is None else val_fraction,
            split_seed=split_seed, sample_rate=None if sample_rate == DEFAULT_SAMPLE_RATE else sample_rate,
            duration_s=None if duration_s == DEFAULT_DURATION_S else duration_s,
        ),
        codec=codec, levels=tuple(DEFAULT_LEVELS[codec] if levels is None else levels), archs=tuple(archs),
        seeds=seed_tuple, options=options, modality=modality,
    )


def _check_seed_count(n: int) -> int:
    if n < 1:
        raise ConfigError(f"--seeds count must be ≥ 1; got {n}", fix="e.g. --seeds 3 (seeds 0,1,2), or --seeds 0 as a list: --seeds 0,")
    if n > SEEDS_MAX_COUNT:
        raise ConfigError(f"--seeds count must be at most {SEEDS_MAX_COUNT}; got {n}",
                          fix="e.g. --seeds 3 (seeds 0,1,2); a list such as --seeds 0,5,7 names seeds")
    return n


def parse_seeds(text: str) -> tuple[int, ...]:
    """'3' → seeds 0, 1, 2 (a count); '0,5,7' → exactly those seeds (a list). Seeds lie in 0..2³²−1."""
    text = text.strip()
    items = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = [int(p) for p in items]
    except ValueError:
        raise ConfigError(
            f"--seeds got {text!r}; expected a count (3 → seeds 0,1,2) or a comma-separated list", fix="e.g. --seeds 3 or --seeds 0,5,7",
        ) from None
    if not values:
        raise ConfigError("--seeds is empty", fix="e.g. --seeds 3 or --seeds 0,5,7")
    if "," not in text:
        return tuple(range(_check_seed_count(values[0])))
    if len(values) > SEEDS_MAX_COUNT:
        raise ConfigError(f"--seeds lists {len(values)} seeds; at most {SEEDS_MAX_COUNT}", fix="e.g. --seeds 0,5,7")
    for v in values:
        if not 0 <= v <= SEED_MAX:
            raise ConfigError(f"--seeds: a seed must be an integer in 0..{SEED_MAX}; got {v}", fix="e.g. --seeds 0,5,7")
    return tuple(values)


def parse_archs(text: str) -> tuple[str, ...]:
    """'A,f' → ('A', 'F'); names are the paper's letters, case-insensitive."""
    archs = tuple(p.strip().upper() for p in text.split(",") if p.strip())
    if not archs:
        raise ConfigError("--archs is empty", fix=f"e.g. --archs A,F (known: {','.join(ARCH_NAMES)})")
    return archs


def validate_sweep(spec: SweepSpec, *, known_archs: Iterable[str] | None = None) -> None:
    """Check every field of the sweep; raise one `ConfigError` naming the value and the fix. Trains nothing.

    The dataset itself (existence, modality, hash) is checked when `run_sweep` loads it, also before training.
    """
    codec = spec.codec
    if codec not in DEFAULT_LEVELS:
        raise ConfigError(f"--codec got {codec!r}; expected one of jpeg, mp3, none", fix="e.g. --codec jpeg")
    if spec.modality not in DEFAULT_VAL_FRACTION:
        raise ConfigError(f"modality must be 'image' or 'audio'; got {spec.modality!r}", where="sweep spec", fix="load the dataset to detect it")
    wanted = CODEC_MODALITY.get(codec)
    if wanted is not None and wanted != spec.modality:
        other = "jpeg" if spec.modality == "image" else "mp3"
        raise ConfigError(
            f"--codec {codec} compresses {wanted} data but the dataset is {spec.modality}", fix=f"use --codec {other} (or none)",
        )
    if not spec.levels:
        raise ConfigError("--levels is empty", fix=f"e.g. --levels {','.join(level_label(v) for v in DEFAULT_LEVELS[codec])}")
    if codec == "none":
        if spec.levels != (None,):
            raise ConfigError(
                f"--codec none takes no levels; got {','.join(level_label(v) for v in spec.levels)}",
                fix="drop --levels, or use --codec jpeg|mp3 to compress",
            )
    else:
        lo, hi = LEVEL_RANGE[codec]
        unit = "quality" if codec == "jpeg" else "bitrate (kbps)"
        for level in spec.levels:
            if level is None:
                continue
            if isinstance(level, bool) or not isinstance(level, int) or not lo <= level <= hi:
                raise ConfigError(
                    f"--levels: {codec} {unit} must be an integer in {lo}..{hi} or 'none'; got {level!r}",
                    fix=f"e.g. --levels {','.join(level_label(v) for v in DEFAULT_LEVELS[codec])}",
                )
    known = tuple(known_archs) if known_archs is not None else ARCH_NAMES
    if not spec.archs:
        raise ConfigError("--archs is empty", fix=f"e.g. --archs A,F (known: {','.join(known)})")
    for arch in spec.archs:
        if arch not in known:
            raise ConfigError(f"--archs: unknown architecture {arch!r}", fix=f"use names from {','.join(known)} (see `helmholtz archs`)")
    if not spec.seeds:
        raise ConfigError("--seeds is empty", fix="e.g. --seeds 3 (seeds 0,1,2) or --seeds 0,5,7")
    if len(spec.seeds) > SEEDS_MAX_COUNT:
        raise ConfigError(f"--seeds: at most {SEEDS_MAX_COUNT} seeds; got {len(spec.seeds)}", fix="e.g. --seeds 3")
    for seed in spec.seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            raise ConfigError(f"--seeds: a seed must be an integer in 0..{SEED_MAX}; got {seed!r}", fix="e.g. --seeds 0,5,7")
    _validate_data_ref(spec.data)
    _validate_options(spec.options)


def _validate_data_ref(data: DataRef) -> None:
    if not data.dataset:
        raise ConfigError("no dataset given", fix="name a dataset (e.g. fashion-mnist) or a path")
    for flag, value in (("--train-size", data.train_size), ("--test-size", data.test_size)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be a positive count; got {value}", fix=f"pass {flag} N with N ≥ 1")
    check_fraction(data.val_fraction, option="--val-fraction")
    check_seed(data.split_seed, option="--split-seed")
    if data.sample_rate is not None:
        check_sample_rate(data.sample_rate)
    if data.duration_s is not None:
        check_duration(data.duration_s)


def _validate_options(o: TrainOptions) -> None:
    # the CLI validates these already (cli/options.py); a spec built in code gets the same checks here
    for name, choices in _OPTION_CHOICES.items():
        if getattr(o, name) not in choices:
            raise ConfigError(f"--{name} got {getattr(o, name)!r}; expected one of {', '.join(choices)}", fix=f"e.g. --{name} {choices[0]}")
    checks = (
        ("--epochs", o.epochs, o.epochs >= 1, "an integer ≥ 1"),
        ("--patience", o.patience, o.patience >= 1, "an integer ≥ 1"),
        ("--batch-size", o.batch_size, o.batch_size >= 1, "an integer ≥ 1"),
        ("--width", o.width, 0.0 < o.width <= 8.0, "a multiplier in (0, 8]"),
        ("--lr", o.lr, o.lr is None or (o.lr > 0 and math.isfinite(o.lr)), "a positive number"),
        ("--lr-decay", o.lr_decay, o.lr_decay is None or o.lr_decay >= 0, "a number ≥ 0"),
        ("--momentum", o.momentum, 0 <= o.momentum < 1, "a number in [0, 1)"),
        ("--weight-decay", o.weight_decay, o.weight_decay >= 0, "a number ≥ 0"),
        ("--label-smoothing", o.label_smoothing, 0 <= o.label_smoothing < 1, "a number in [0, 1)"),
    )
    for flag, value, ok, expected in checks:
        if not ok:
            raise ConfigError(f"{flag} must be {expected}; got {value}", fix=f"pass a valid {flag}")


def run_spec_for(spec: SweepSpec, *, level: int | None, arch: str, seed: int) -> RunSpec:
    """The run of one grid cell. The original (level None) runs with codec 'none': its data saw no codec."""
    return RunSpec(
        data=spec.data, codec="none" if level is None else spec.codec, level=level, arch=arch, seed=seed,
        options=spec.options, modality=spec.modality,
    )


def expand(spec: SweepSpec) -> list[RunSpec]:
    """Every run of the grid, level-major (so one level's data is prepared at a time), then arch, then seed.

    Run ids are `RunSpec.run_id`: stable hashes of the full run config, so a resumed or extended sweep finds its
    finished runs, and a changed dataset (new hash) or option gives new ids.
    """
    if not spec.data.data_hash:
        raise ConfigError("the sweep's dataset hash is not resolved", where="expand", fix="load the dataset first (run_sweep does)")
    return [run_spec_for(spec, level=lv, arch=a, seed=s) for lv in spec.levels for a in spec.archs for s in spec.seeds]


def spec_differences(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """Human-readable differences between two sweep spec dicts, field by field (nested dicts by key)."""
    out: list[str] = []
    for key in sorted(set(stored) | set(given)):
        a, b = stored.get(key), given.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    note = " (the dataset's content changed)" if (key, sub) == ("data", "data_hash") else ""
                    out.append(f"{key}.{sub}: stored {a.get(sub)!r}, given {b.get(sub)!r}{note}")
        elif a != b:
            out.append(f"{key}: stored {_show(a)}, given {_show(b)}")
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join("none" if v is None else str(v) for v in value) + "]"
    return repr(value)


def merge_extend(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The union sweep of ``stored`` and ``given`` when ``given`` only adds levels, archs or seeds.

    Raises StoreError listing the other fields that differ (those would change every run's meaning).
    """
    fixed = {k: v for k, v in given.items() if k not in ("levels", "archs", "seeds")}
    base = {k: v for k, v in stored.items() if k not in ("levels", "archs", "seeds")}
    diffs = spec_differences(base, fixed)
    if diffs:
        raise StoreError(
            "--extend may only add levels, archs or seeds, but these differ from the stored sweep: " + "; ".join(diffs),
            fix="keep the other options as stored, or use a new --out",
        )
    union = SweepSpec.from_dict(
        {**stored, "levels": [*stored["levels"], *given["levels"]], "archs": [*stored["archs"], *given["archs"]],
         "seeds": [*stored["seeds"], *given["seeds"]]}
    )
    return union.to_dict()
