"""The sweep: a grid of codec level × architecture × seed over one dataset, with one set of training options.

A `SweepSpec` is pure data (no torch). `validate_sweep` checks every field — every level of every codec against the
codec registry — before anything is stored or trained, and `expand` turns the grid into the `RunSpec`s whose hashes
are the run ids of the results store.

A sweep has one codec (JPEG quality q, MP3 bitrate in kbps, WebP quality, …; `helmholtz codecs`) or several
(`--codec jpeg,webp,avif`: one store, the original trained once as the shared reference of every codec). Level
``None`` is the uncompressed original, the reference every curve is compared with (label ``none``). How the user
writes codecs and levels is parsed in `helmholtz.sweep.grid`.
"""

from __future__ import annotations

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
from helmholtz.codecs import points as _points
from helmholtz.codecs.points import Point as Point
from helmholtz.codecs.points import points_text as points_text
from helmholtz.codecs.registry import CODECS, REFERENCE, codecs_for, level_label
from helmholtz.errors import ConfigError
from helmholtz.sweep.grid import LevelsArg, default_levels, resolve_grid
from helmholtz.train.options import check_options
from helmholtz.train.recipes import resolve_recipe
from helmholtz.train.spec import DataRef, RunSpec, TrainOptions, data_dict

Modality = Literal["image", "audio"]

#: architecture names of the paper, the same for images and audio (models.archs holds their layers)
ARCH_NAMES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
#: audio defaults of the data stage (a DataRef leaves them unset, so earlier sweeps keep their run ids)
DEFAULT_SAMPLE_RATE, DEFAULT_DURATION_S = 44100, 2.0
#: the validation share of the paper's recipes when the user gives none (images 10 %, audio 25 %)
DEFAULT_VAL_FRACTION: dict[str, float] = {"image": 0.1, "audio": 0.25}


@dataclass(frozen=True)
class SweepSpec:
    """A Helmholtz sweep: the dataset, the codecs and their levels, the architectures, the seeds, the recipe.

    ``codec`` and ``levels`` are the first codec and its levels, with None for the original (the reference every
    codec shares); ``more_codecs`` the other codecs of a multi-codec sweep with their levels. A one-codec spec
    serialises exactly as it always has (no ``more_codecs`` key), so its stores resume and its run ids stay.
    Levels, architectures and seeds are kept sorted and without duplicates, so the same grid typed in another
    order is the same sweep. ``data.data_hash`` may be empty until the dataset is loaded (`run_sweep` fills it).
    """

    data: DataRef
    codec: str
    levels: tuple[int | None, ...]
    archs: tuple[str, ...]
    seeds: tuple[int, ...]
    options: TrainOptions = field(default_factory=TrainOptions)
    modality: Modality = "image"
    more_codecs: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def __post_init__(self) -> None:
        # canonical order (`codecs.points.canonical_grid`): levels ascending with the original last, archs and seeds
        # sorted, no duplicates; a codec named twice keeps one entry with the union of its levels
        levels, more = _points.canonical_grid(self.codec, self.levels, self.more_codecs)
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "more_codecs", more)
        object.__setattr__(self, "archs", tuple(sorted(set(self.archs))))
        object.__setattr__(self, "seeds", tuple(sorted(set(self.seeds))))

    # ---------------------------------------------------------------- the grid
    @property
    def codecs(self) -> tuple[str, ...]:
        """The compressing codecs, the first (the headline's and the adaptive sweep's) first; () for 'none'."""
        first = () if self.codec == REFERENCE else (self.codec,)
        return (*first, *(n for n, _ in self.more_codecs))

    def levels_of(self, codec: str) -> tuple[int, ...]:
        """The compressed levels of one codec of the sweep (the original not included)."""
        if codec == self.codec:
            return tuple(v for v in self.levels if v is not None)
        return dict(self.more_codecs).get(codec, ())

    @property
    def has_reference(self) -> bool:
        return None in self.levels

    @property
    def points(self) -> tuple[Point, ...]:
        """Every (codec, level) of the grid: each codec's levels in order, then the original (REFERENCE, None)."""
        return _points.grid_points(self.codec, self.levels, self.more_codecs)

    def labels(self) -> tuple[str, ...]:
        """The store's label of every point ('20', 'webp:40', 'none'), from the registry."""
        return tuple(level_label(c, v, check=False) for c, v in self.points)

    # ---------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"], d["archs"], d["seeds"] = list(self.levels), list(self.archs), list(self.seeds)
        d["data"] = data_dict(d["data"])
        # the options added with the recipes are left out while at their defaults (the paper's), so a sweep stored
        # before they existed resumes as the same sweep
        d["options"] = self.options.identity_dict()
        if self.more_codecs:
            d["more_codecs"] = [{"codec": n, "levels": list(v)} for n, v in self.more_codecs]
        else:
            del d["more_codecs"]   # a one-codec sweep serialises as it did before multi-codec sweeps existed
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepSpec:
        try:
            more = tuple((str(m["codec"]), tuple(m["levels"])) for m in d.get("more_codecs") or ())
            return cls(
                data=DataRef(**d["data"]), codec=d["codec"], levels=tuple(d["levels"]), archs=tuple(d["archs"]),
                seeds=tuple(d["seeds"]), options=TrainOptions(**d["options"]), modality=d.get("modality", "image"),
                more_codecs=more,
            )
        except (KeyError, TypeError) as ex:
            raise ConfigError(f"not a sweep spec: {ex}", fix="write it with SweepSpec.to_dict()") from None

    @property
    def n_runs(self) -> int:
        return len(self.points) * len(self.archs) * len(self.seeds)

    def with_data_hash(self, data_hash: str) -> SweepSpec:
        return replace(self, data=replace(self.data, data_hash=data_hash))

    def with_points(self, points: Iterable[Point]) -> SweepSpec:
        """The same sweep over ``points`` (codecs in the order they first appear; the original if it is among them)."""
        pts = list(points)
        names = list(dict.fromkeys(c for c, _ in pts if c != REFERENCE))
        ref = [None] if (REFERENCE, None) in pts else []
        if not names:
            return replace(self, codec=REFERENCE, levels=(None,), more_codecs=())
        per = {n: [v for c, v in pts if c == n] for n in names}
        return replace(self, codec=names[0], levels=(*per[names[0]], *ref),
                       more_codecs=tuple((n, tuple(per[n])) for n in names[1:]))


def make_sweep_spec(
    dataset: str,
    *,
    modality: Modality,
    codec: str | Sequence[str] | None = None,
    levels: Sequence[int | None] | LevelsArg | None = None,
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
    image_column: str | None = None,
    label_column: str | None = None,
) -> SweepSpec:
    """A `SweepSpec` with the modality's defaults filled in, for programmatic use (demos, notebooks).

    ``codec``: a registry codec, several ('jpeg,webp,avif' or a list), or None (the codecs named in ``levels``,
    else JPEG for images and MP3 for audio); ``levels``: None (each codec's default grid with the original), a
    list (every codec), or {codec: levels} (`helmholtz.sweep.grid.resolve_grid`); ``seeds=3`` means seeds 0, 1,
    2; ``options=None`` the paper's recipe for the modality (`resolve_recipe`: images SGD batch 128 with
    augmentation, audio Adadelta batch 50); ``val_fraction=None`` 0.1 for images and 0.25 for audio;
    ``sample_rate``/``duration_s`` (audio) None for the defaults, 44.1 kHz and 2 s.
    """
    if modality not in DEFAULT_VAL_FRACTION:
        raise ConfigError(f"modality must be 'image' or 'audio'; got {modality!r}", fix="pass modality='image'")
    first, first_levels, more = resolve_grid(codec, levels, modality=modality)
    if options is None:
        options = resolve_recipe("paper", modality)
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
            image_column=image_column or None, label_column=label_column or None,
        ),
        codec=first, levels=first_levels, archs=tuple(archs), seeds=seed_tuple, options=options, modality=modality,
        more_codecs=more,
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
    from helmholtz.checks import split_list

    text = text.strip()
    # a trailing comma makes a list of one seed ('4,' is seed 4, '4' is seeds 0..3); any other empty item is refused
    items = split_list(text[:-1] if text.endswith(",") and len(text) > 1 else text, option="--seeds", example="0,5,7")
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
    """'A,f,r8@0.5,mynet:make' → ('A', 'F', 'R8@0.5', 'mynet:make'): built-in names are case-insensitive, a
    factory's import path keeps its case (`models.names`)."""
    from helmholtz.checks import split_list
    from helmholtz.models.names import canonical

    archs = tuple(canonical(p) for p in split_list(text, option="--archs", example="A,F"))
    if not archs:
        raise ConfigError("--archs is empty", fix=f"e.g. --archs A,F (known: {','.join(ARCH_NAMES)})")
    return archs


def validate_sweep(spec: SweepSpec, *, known_archs: Iterable[str] | None = None) -> None:
    """Check every field of the sweep; raise one `ConfigError` naming the value and the fix. Trains nothing.

    The dataset itself (existence, modality, hash) is checked when `run_sweep` loads it, also before training.
    """
    if spec.modality not in DEFAULT_VAL_FRACTION:
        raise ConfigError(f"modality must be 'image' or 'audio'; got {spec.modality!r}", where="sweep spec", fix="load the dataset to detect it")
    _validate_grid(spec)
    from helmholtz.models.archs import builtin_archs

    known = tuple(known_archs) if known_archs is not None else tuple(builtin_archs(spec.modality))
    if not spec.archs:
        raise ConfigError("--archs is empty", fix=f"e.g. --archs A,F (known: {','.join(known)})")
    from helmholtz.models.names import parse_model

    for arch in spec.archs:
        m = parse_model(arch)
        if str(m) != arch:
            raise ConfigError(f"--archs: {arch!r} is spelled {str(m)!r} in a sweep", fix=f"use {str(m)!r}")
        if not m.is_factory and m.base not in known:
            raise ConfigError(f"--archs: unknown architecture {arch!r}",
                              fix=f"use names from {','.join(known)} or --model MODULE:FACTORY (see `helmholtz archs`)")
    if not spec.seeds:
        raise ConfigError("--seeds is empty", fix="e.g. --seeds 3 (seeds 0,1,2) or --seeds 0,5,7")
    if len(spec.seeds) > SEEDS_MAX_COUNT:
        raise ConfigError(f"--seeds: at most {SEEDS_MAX_COUNT} seeds; got {len(spec.seeds)}", fix="e.g. --seeds 3")
    for seed in spec.seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            raise ConfigError(f"--seeds: a seed must be an integer in 0..{SEED_MAX}; got {seed!r}", fix="e.g. --seeds 0,5,7")
    _validate_data_ref(spec.data)
    # the training options' bounds and choices, from their one declaration (what `checked_options` applied)
    check_options(asdict(spec.options), complete=True)
    if spec.modality == "audio":
        check_fmax(spec.options.fmax_hz, sample_rate=spec.data.sample_rate or DEFAULT_SAMPLE_RATE)


def _validate_grid(spec: SweepSpec) -> None:
    """Every codec of the sweep is a registry codec of the dataset's modality, and every one of its levels is valid
    (`CodecSpec.check`): a level that would fail in the middle of a sweep is refused before anything is stored."""
    if spec.codec == REFERENCE:
        if spec.more_codecs:
            raise ConfigError("--codec none (the original only) cannot be combined with other codecs",
                              fix="drop none: a multi-codec sweep trains the original anyway")
        if spec.levels != (None,):
            raise ConfigError(f"--codec none takes no levels; got {show_value(list(spec.levels))[1:-1]}",
                              fix="drop --levels, or name a codec to compress with (see `helmholtz codecs`)")
        return
    if not spec.levels:
        raise ConfigError("--levels is empty", fix=f"e.g. --levels {show_value(list(default_levels(spec.codec)))}")
    several = len(spec.codecs) > 1
    for name in spec.codecs:
        codec = CODECS.get(name)
        if codec is None:
            raise ConfigError(f"--codec got {name!r}; expected one of {', '.join(CODECS)} (or none)",
                              fix="see `helmholtz codecs` for every codec and its levels")
        if codec.modality != spec.modality:
            others = ",".join(c.name for c in codecs_for(spec.modality))
            raise ConfigError(f"--codec {name} compresses {codec.modality} data but the dataset is {spec.modality}",
                              fix=f"use a codec for {spec.modality} data: {others}")
        levels = spec.levels_of(name)
        where = f"--levels {name}" if several else "--levels"
        if several and not levels:
            raise ConfigError(f"{where} is empty", fix=f"give {name} levels, or drop it from --codec")
        for level in levels:
            codec.check(level, where=where)


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


def check_fmax(fmax_hz: float | None, *, sample_rate: int) -> None:
    """The mel filterbank's top ``fmax_hz`` must lie in 1 kHz..sr/2 (None: sr/2)."""
    if fmax_hz is not None and not 1000 <= fmax_hz <= sample_rate / 2:
        raise ConfigError(f"--fmax must be in 1000..{sample_rate / 2:g} Hz (half the sample rate {sample_rate} Hz); "
                          f"got {fmax_hz:g}", fix=f"pass --fmax at most {sample_rate / 2:g}, or leave it out for sr/2")


def run_spec_for(spec: SweepSpec, *, level: int | None, arch: str, seed: int, codec: str | None = None) -> RunSpec:
    """The run of one grid cell. The original (level None) runs with codec 'none': its data saw no codec.
    ``codec=None`` is the sweep's first codec (what plan steps written before multi-codec sweeps mean)."""
    return RunSpec(
        data=spec.data, codec=REFERENCE if level is None else (codec or spec.codec), level=level, arch=arch,
        seed=seed, options=spec.options, modality=spec.modality,
    )


def expand(spec: SweepSpec) -> list[RunSpec]:
    """Every run of the grid, level-major (so one level's data is prepared at a time; codec by codec, the original
    last), then arch, then seed.

    Run ids are `RunSpec.run_id`: stable hashes of the full run config, so a resumed or extended sweep finds its
    finished runs, and a changed dataset (new hash) or option gives new ids.
    """
    if not spec.data.data_hash:
        raise ConfigError("the sweep's dataset hash is not resolved", where="expand", fix="load the dataset first (run_sweep does)")
    return [run_spec_for(spec, codec=c, level=lv, arch=a, seed=s)
            for c, lv in spec.points for a in spec.archs for s in spec.seeds]


def show_value(value: Any) -> str:
    """A spec field as the error messages show it: levels as [5,10,none], extra codecs as 'webp [20,40]'."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):   # more_codecs
        return "; ".join(f"{v.get('codec')} {show_value(list(v.get('levels') or []))}" for v in value)
    if isinstance(value, list):
        return "[" + ",".join("none" if v is None else str(v) for v in value) + "]"
    return repr(value)


def invalid_points(spec: SweepSpec | dict[str, Any]) -> list[tuple[str, int, str]]:
    """(codec, level, why) for every level of a (stored) sweep that the registry refuses — what an older helmholtz
    let through, e.g. MP3 100 kbps. Unknown codecs count with every level. `helmholtz repair` drops them."""
    s = spec if isinstance(spec, SweepSpec) else SweepSpec.from_dict(spec)
    return _points.invalid_points(s.points)
