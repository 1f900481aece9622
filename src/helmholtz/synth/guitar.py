"""A regenerable stand-in for IDMT-SMT-Audio-Effects: real guitar and bass notes through 12 real effect classes.

The paper's audio task classifies which of 12 effects (Chorus … Vibrato) was applied to a single monophonic note
(2 s, 44.1 kHz, 16-bit mono WAV). Each class gets ``notes_per_class`` files, ``12 × notes_per_class`` in all.

Two variants (``settings``):

* ``idmt`` (default), IDMT's protocol: each effect is applied with one of three fixed settings
  (`effects.IDMT_SETTINGS`; setting ``i % 3 + 1`` for note ``i``, so the settings are balanced), to guitar and bass
  notes (half each) across both ranges: two electric guitars and two electric basses, as IDMT recorded them (GM
  programs 26, 27 and 33, 34: `notes.INSTRUMENT_PROGRAMS`), every string, frets 0–12, three plucking strengths.
  Files go to ``Gitarre monophon`` and ``Bass monophon`` with IDMT's file names (below). ``instruments="guitar"``
  (or ``"bass"``) writes one set only: the paper's task is IDMT's monophonic guitar set, and `make demo-audio`
  synthesises that.
* ``random``: the harder variant of earlier versions, byte for byte: guitar notes only, every effect parameter
  drawn from a range (`effects` module doc), files named ``<note:05d>-p<program>-n<pitch>.wav``.

Two designs of the source notes:

* independent (default): every file is its own random note, so the notes of every class come from the same
  distribution and a note heard in training is not heard again in test.
* paired (``paired=True``, IDMT-like): every clean note is played through *all 12* effects, so the classes differ
  only by their effect. With a random (not note-grouped) split, as the paper and our loaders use, the same note then
  sits in training and test under different labels: a model that memorises notes is pushed *below* chance on
  validation. Prefer independent notes for small sets; use paired to mimic IDMT's structure.

Layout written (the IDMT layout, readable by `helmholtz.data.audio_readers.read_wav_folder`)::

    OUT/Gitarre monophon/Samples/<Effect>/G<make><style>-<pitch:02d><string><fret:02d>-<group><effect:02d><setting>-<note:05d>.wav
    OUT/Bass monophon/Samples/<Effect>/B…                  (idmt only)
    OUT/synth.json      seed, variant, options, per-file parameters, soundfont path/size/sha256, library versions

IDMT's file name ``ABC-DDEFF-GHHI-KKKKK``: instrument (G guitar, B bass), make (here the program's index, 1-based),
plucking style (1–3), MIDI pitch, string (1 = lowest), fret, effect group and effect (`EFFECT_CODES`: ours, in
IDMT's form), setting (1–3), file id (here the note index). E.g. ``G23-52112-3312-00004.wav``: guitar program 27,
style 3, pitch 52 on string 1 fret 12, Chorus setting 2, note 4.

Deterministic: every random draw comes from its own ``SeedSequence``: ``[seed, i, effect, 1]`` (random, independent),
``[seed, i, effect, 2]`` (idmt, independent) or ``[seed, i]`` / ``[seed, i, 2]`` (paired) for the source note,
``[seed, i, effect]`` for the effect parameters (random) and the output level, so the same seed gives
byte-identical WAVs with the same library versions (recorded in the manifest), whatever the order of rendering.

Loudness: each file is peak-normalised to a level drawn uniformly in -6…-1 dBFS, the same range for every class, so
the peak level carries no label information. Drive effects still raise the *average* level (RMS) relative to the
peak, as real pedals do; that is part of what the effect is, not an artefact.
"""

from __future__ import annotations

import json
import os
import shutil
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from helmholtz.errors import ConfigError
from helmholtz.synth.effects import (
    EFFECT_CLASSES,
    IDMT_SETTINGS,
    PEAK_DBFS_RANGE,
    apply_effect,
    idmt_setting,
    normalise_peak,
    to_pcm16,
)
from helmholtz.synth.notes import (
    INSTRUMENT_PROGRAMS,
    OPEN_STRINGS,
    PITCH_RANGE,
    SOURCE_PROGRAMS,
    STYLE_VELOCITIES,
    VELOCITY_RANGE,
    NoteRenderer,
    NoteSpec,
    draw_idmt_note,
    draw_note,
    fluidsynth_version,
    soundfont_info,
    soundfont_path,
)

SET_NAME = "Gitarre monophon"   # the IDMT folder name of the monophonic guitar set
BASS_SET_NAME = "Bass monophon"  # … and of the monophonic bass set (idmt variant)
SET_NAMES = {"G": SET_NAME, "B": BASS_SET_NAME}
Settings = Literal["idmt", "random"]
SETTINGS: tuple[str, ...] = ("idmt", "random")
#: ``instruments`` of the idmt variant → IDMT's instrument letters. The paper's audio task is IDMT's monophonic
#: *guitar* set (20,592 notes); IDMT also recorded a bass set. `random` plays guitar only.
INSTRUMENTS: dict[str, tuple[str, ...]] = {"both": ("G", "B"), "guitar": ("G",), "bass": ("B",)}
#: effect group and effect code of IDMT's file names (GHH): our numbering, in IDMT's form (1 none, 2 filter,
#: 3 modulation, 4 delay and ambience, 5 nonlinear)
EFFECT_CODES: dict[str, tuple[int, int]] = {
    "NoFX": (1, 11), "EQ": (2, 21), "Chorus": (3, 31), "Flanger": (3, 32), "Phaser": (3, 33), "Tremolo": (3, 34),
    "Vibrato": (3, 35), "FeedbackDelay": (4, 41), "SlapbackDelay": (4, 42), "Reverb": (4, 43),
    "Overdrive": (5, 51), "Distortion": (5, 52),
}
assert tuple(sorted(EFFECT_CODES)) == EFFECT_CLASSES
MANIFEST = "synth.json"
FORMAT_VERSION = 2              # bump when the same seed would give different audio (2: idmt's four instruments)
_PARTIAL_PREFIX = ".synth-partial-"
INPUT_PEAK_DBFS = -6.0          # peak of every clean note going into the effects


def _check_options(notes_per_class: int, seed: int, sample_rate: int, duration_s: float, settings: str) -> None:
    from helmholtz.checks import SEED_MAX

    if settings not in SETTINGS:
        raise ConfigError(f"--settings must be one of {', '.join(SETTINGS)}; got {settings!r}", where="synth guitar-fx",
                          fix="pass --settings idmt (IDMT's three fixed settings per effect) or --settings random")
    checks = (
        ("--notes-per-class", notes_per_class, notes_per_class >= 1, "an integer ≥ 1"),
        ("--seed", seed, 0 <= seed <= SEED_MAX, f"an integer in 0..{SEED_MAX}"),
        ("--sample-rate", sample_rate, 8000 <= sample_rate <= 96000, "in 8000..96000 Hz (fluidsynth's range)"),
        ("--duration", duration_s, 0.1 <= duration_s <= 60.0, "in 0.1..60 seconds"),
    )
    for flag, value, ok, expected in checks:
        if not ok:
            raise ConfigError(f"{flag} must be {expected}; got {value}", where="synth guitar-fx", fix=f"pass a valid {flag}")


def _write_wav(path: Path, pcm: np.ndarray, sample_rate: int) -> None:
    """16-bit mono PCM with the canonical 44-byte header (stdlib ``wave``: no chunks that vary between runs)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.astype("<i2").tobytes())


def _prepare_out(out: Path, *, force: bool) -> None:
    """Refuse a non-empty directory unless ``force``; with ``force`` remove only what a previous synth wrote."""
    if out.exists() and not out.is_dir():
        raise ConfigError("--out is a file, not a directory", where=str(out), fix="pass a directory path")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ConfigError("the output directory is not empty", where=str(out),
                              fix="pass an empty or new --out, or --force to replace a previous synth set")
        for child in out.iterdir():
            if child.name in (SET_NAME, BASS_SET_NAME, MANIFEST) or child.name.startswith(_PARTIAL_PREFIX):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise ConfigError(f"cannot create the output directory ({ex.strerror})", where=str(out),
                          fix="choose a writable --out") from None


def make_guitar_fx(
    out: str | os.PathLike,
    *,
    notes_per_class: int = 100,
    seed: int = 0,
    settings: Settings = "idmt",
    sample_rate: int = 44100,
    duration_s: float = 2.0,
    force: bool = False,
    soundfont: str | os.PathLike | None = None,
    programs: tuple[int, ...] | None = None,
    paired: bool = False,
    instruments: str = "both",
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the guitar-effects dataset to ``out`` and return its manifest (also written to ``out/synth.json``).

    Each of the 12 effect classes gets ``notes_per_class`` notes: with ``settings="idmt"`` notes of ``instruments``
    (both: guitar and bass, half each; guitar; bass) through each effect's three fixed settings, with ``"random"``
    guitar notes (GM programs ``programs``, default 24–28 and 31; MIDI pitch E2–E5, random velocity and release)
    through random parameters. Fresh notes for every file, or with ``paired`` the same ``notes_per_class`` notes
    through every effect (see the module doc). ``on_progress(done, total)`` is called after each note index. The
    WAVs are written to a hidden folder first and moved into place at the end, and the manifest is written last, so
    a killed run never leaves a set that looks complete.
    """
    _check_options(notes_per_class, seed, sample_rate, duration_s, settings)
    if instruments not in INSTRUMENTS:
        raise ConfigError(f"--instruments must be one of {', '.join(INSTRUMENTS)}; got {instruments!r}",
                          where="synth guitar-fx", fix="pass --instruments guitar (the paper's set), bass or both")
    if settings == "random" and instruments != "both":
        raise ConfigError("--instruments applies to --settings idmt only (random plays guitar notes only)",
                          where="synth guitar-fx", fix="drop --instruments, or pass --settings idmt")
    if programs is not None and settings == "idmt":
        raise ConfigError("programs applies to --settings random only (idmt uses its own guitar and bass programs)",
                          where="synth guitar-fx", fix="drop programs, or pass settings='random'")
    programs = SOURCE_PROGRAMS if programs is None else tuple(programs)
    if not programs or any(not 0 <= p <= 127 for p in programs):
        raise ConfigError(f"programs must be General MIDI numbers 0..127; got {programs!r}", where="synth guitar-fx",
                          fix=f"e.g. the clean guitars {SOURCE_PROGRAMS}")
    out = Path(out)
    sf_path = soundfont_path(soundfont)   # fail on a missing soundfont before touching --out
    _prepare_out(out, force=force)
    partial = out / f"{_PARTIAL_PREFIX}{os.getpid()}"
    letters = INSTRUMENTS[instruments] if settings == "idmt" else ("G",)
    sets = tuple(SET_NAMES[k] for k in letters)
    for set_name in sets:
        for name in EFFECT_CLASSES:
            (partial / set_name / "Samples" / name).mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    idmt = settings == "idmt"
    try:
        with NoteRenderer(sample_rate=sample_rate, soundfont=sf_path) as renderer:
            def clean_note(key: list[int]) -> tuple[NoteSpec, Any, np.ndarray]:
                rng = np.random.default_rng(np.random.SeedSequence(key))
                if idmt:
                    note, position = draw_idmt_note(rng, duration_s=duration_s, instruments=letters)
                else:
                    note, position = draw_note(rng, duration_s=duration_s, programs=programs), None
                # a fixed input level, as from a pickup: drive effects saturate by their drive alone
                wave = normalise_peak(renderer.render(note, duration_s=duration_s), peak_dbfs=INPUT_PEAK_DBFS)
                return note, position, wave

            variant_key = [2] if idmt else []
            for i in range(notes_per_class):
                if paired:
                    note, position, clean = clean_note([seed, i, *variant_key])
                for k, name in enumerate(EFFECT_CLASSES):
                    if not paired:
                        note, position, clean = clean_note([seed, i, k, 2 if idmt else 1])
                    rng = np.random.default_rng(np.random.SeedSequence([seed, i, k]))
                    entry: dict[str, Any] = {"label": name, "note": i, **note.to_dict()}
                    if idmt:
                        setting = i % len(IDMT_SETTINGS[name]) + 1
                        wet, params = apply_effect(name, clean, sample_rate=sample_rate, params=idmt_setting(name, setting))
                        rel = f"{SET_NAMES[position.instrument]}/Samples/{name}/{_idmt_stem(note, position, name, setting, i)}.wav"
                        entry.update(position.to_dict(), setting=setting)
                    else:
                        wet, params = apply_effect(name, clean, sample_rate=sample_rate, rng=rng)
                        rel = f"{SET_NAME}/Samples/{name}/{i:05d}-p{note.program}-n{note.pitch}.wav"
                    peak_dbfs = round(float(rng.uniform(*PEAK_DBFS_RANGE)), 3)
                    _write_wav(partial / rel, to_pcm16(normalise_peak(wet, peak_dbfs=peak_dbfs)), sample_rate)
                    files.append({"file": rel, **entry, "effect": params, "peak_dbfs": peak_dbfs})
                if on_progress is not None:
                    on_progress(i + 1, notes_per_class)
        for set_name in sets:
            (partial / set_name).rename(out / set_name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    manifest = _manifest(seed=seed, settings=settings, notes_per_class=notes_per_class, sample_rate=sample_rate,
                         duration_s=duration_s, programs=programs, paired=paired, soundfont=soundfont_info(sf_path),
                         files=files, instruments=instruments)
    tmp = out / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    tmp.replace(out / MANIFEST)
    return manifest


def _idmt_stem(note: NoteSpec, position: Any, effect: str, setting: int, note_index: int) -> str:
    """IDMT's file name ABC-DDEFF-GHHI-KKKKK (see the module doc), without the suffix."""
    group, code = EFFECT_CODES[effect]
    return (f"{position.instrument}{position.make}{position.style}-{note.pitch:02d}{position.string}{position.fret:02d}"
            f"-{group}{code:02d}{setting}-{note_index:05d}")


def _manifest(*, seed: int, settings: str, notes_per_class: int, sample_rate: int, duration_s: float,
              programs: tuple[int, ...], paired: bool, soundfont: dict[str, Any], files: list[dict[str, Any]],
              instruments: str) -> dict[str, Any]:
    import importlib.metadata

    from helmholtz.provenance import code_version

    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    if settings == "idmt":
        source = {
            "instruments": {k: {"set": SET_NAMES[k], "programs": list(INSTRUMENT_PROGRAMS[k]),
                                "open_strings": list(OPEN_STRINGS[k])} for k in INSTRUMENTS[instruments]},
            "frets": [0, 12], "style_velocities": list(STYLE_VELOCITIES),
            "effect_codes": {k: list(v) for k, v in EFFECT_CODES.items()},
            "settings": {k: list(v) for k, v in IDMT_SETTINGS.items()},
        }
        layout = "<set>/Samples/<Effect>/<A><make><style>-<pitch><string><fret>-<group><effect><setting>-<note>.wav"
    else:
        source = {"programs": list(programs), "pitch_range": list(PITCH_RANGE), "velocity_range": list(VELOCITY_RANGE)}
        layout = f"{SET_NAME}/Samples/<Effect>/<note>-p<program>-n<pitch>.wav"
    return {
        "dataset": "helmholtz guitar-fx (stand-in for IDMT-SMT-Audio-Effects, monophonic notes)",
        "format_version": FORMAT_VERSION,
        "settings": settings,
        "instruments": instruments if settings == "idmt" else "guitar",
        "seed": seed,
        "notes_per_class": notes_per_class,
        "paired": paired,
        "n_files": len(files),
        "classes": list(EFFECT_CLASSES),
        "sample_rate": sample_rate,
        "duration_s": duration_s,
        "sample_format": "PCM_16 mono WAV",
        "layout": layout,
        "source": {
            **source,
            "excluded_programs": {"29": "Overdriven Guitar", "30": "Distortion Guitar"},
            "why_excluded": "recorded through distortion; they would confound NoFX with Overdrive/Distortion",
            "fluidsynth_reverb_chorus": "off",
        },
        "effect_input_peak_dbfs": INPUT_PEAK_DBFS,
        "peak_dbfs_range": list(PEAK_DBFS_RANGE),
        "soundfont": soundfont,
        "versions": {"libfluidsynth": fluidsynth_version(), "pyfluidsynth": version("pyfluidsynth"),
                     "pedalboard": version("pedalboard"), "numpy": np.__version__, "helmholtz": code_version()},
        "files": files,
    }


def manifest_instruments(manifest: dict[str, Any]) -> str:
    """The instruments a manifest's set plays (sets written before the option existed: idmt both, random guitar)."""
    return manifest.get("instruments") or ("both" if manifest_settings(manifest) == "idmt" else "guitar")


def manifest_settings(manifest: dict[str, Any]) -> str:
    """The variant a manifest describes (sets written before the idmt variant existed are ``random``)."""
    return manifest.get("settings", "random")


def read_manifest(out: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a synth set in ``out``, or None when there is none (or it is unreadable)."""
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def synth_summary(manifest: dict[str, Any], out: str | os.PathLike, seconds: float) -> dict[str, Any]:
    """What `helmholtz synth guitar-fx` reports about a set it wrote."""
    out = Path(out)
    return {
        "out": str(out), "manifest": str(out / "synth.json"), "n_files": manifest["n_files"],
        "classes": manifest["classes"], "notes_per_class": manifest["notes_per_class"], "paired": manifest["paired"],
        "seed": manifest["seed"], "settings": manifest["settings"], "instruments": manifest_instruments(manifest),
        "sample_rate": manifest["sample_rate"], "duration_s": manifest["duration_s"],
        "soundfont": manifest["soundfont"]["path"], "seconds": round(seconds, 2),
    }


def synth_guitar_fx(out: str | os.PathLike, **options: Any) -> dict[str, Any]:
    """Write the set (`make_guitar_fx`'s options) and return its `synth_summary`, with the time it took."""
    import time

    t0 = time.perf_counter()
    manifest = make_guitar_fx(out, **options)
    return synth_summary(manifest, out, time.perf_counter() - t0)


def ensure_synth_set(data_dir: str | os.PathLike, *, notes_per_class: int, seed: int, settings: str,
                     instruments: str = "both",
                     on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any] | None:
    """The set in ``data_dir`` when it was made with these options (None: reused), else made now (its summary);
    a set made with other options is a ConfigError, not overwritten."""
    manifest = read_manifest(data_dir)
    if manifest is not None:
        made = (manifest.get("notes_per_class"), manifest.get("seed"), manifest_settings(manifest),
                manifest.get("paired"), manifest_instruments(manifest))
        if made == (notes_per_class, seed, settings, False, instruments):
            if manifest.get("format_version") != FORMAT_VERSION:
                raise ConfigError(
                    f"the demo data there was made by an older generator (format {manifest.get('format_version')}, "
                    f"now {FORMAT_VERSION}: the same seed now gives other notes), so its results would not be this "
                    "version's", where=str(data_dir), fix="pass a new --out (or delete that folder to start over)")
            return None
        raise ConfigError(
            f"the demo data there was made with --notes-per-class {made[0]} --seed {made[1]} --settings {made[2]} "
            f"--instruments {made[4]}{' --paired' if made[3] else ''}, not {notes_per_class} / {seed} / {settings} / "
            f"{instruments}",
            where=str(data_dir), fix="pass the same sizes to resume, or a new --out",
        )
    return synth_guitar_fx(data_dir, notes_per_class=notes_per_class, seed=seed, settings=settings, force=True,
                           instruments=instruments, on_progress=on_progress)
