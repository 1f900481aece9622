"""Single guitar notes rendered from the recorded samples of the Fluid R3 GM soundfont, in process.

The paper's audio task (IDMT-SMT-Audio-Effects) is monophonic guitar notes played through effects. We cannot
download it, so the clean source notes come from real recorded guitar samples instead: the General MIDI guitar
programs of Fluid R3 (Debian ``fluid-soundfont-gm``), rendered by libfluidsynth through ``pyfluidsynth``.

Why these choices:

* Programs 29 (Overdrive Guitar) and 30 (Distortion Guitar) are *left out* of the clean sources. Their samples were
  recorded through distortion, so a "NoFX" note drawn from them would sound like the Overdrive/Distortion classes and
  the labels would be confounded. The remaining six (nylon, steel, jazz, clean, palm-muted, harmonics) are clean.
* fluidsynth's own reverb and chorus are switched off, so that only our effects tell the classes apart.
* Audio is read as float (``fluid_synth_write_float``), not int16: no dither, no quantisation before the effects.
* fluidsynth renders in blocks of 64 frames and applies MIDI events at block boundaries. Every request here is a
  whole number of blocks (the extra frames are rendered and cut off), and every note starts after all sounds are cut,
  so the same notes in the same order give the same bytes. Not fully independent of the order, though: the same
  note rendered after other notes can differ by a few LSB (measured up to 172 of a ~17,000 peak: fluidsynth keeps
  some state across notes), so a set is reproducible as a whole, from its seed and options.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from helmholtz.errors import ConfigError, DataError

#: where Debian's fluid-soundfont-gm puts the soundfont; ``HELMHOLTZ_SOUNDFONT`` overrides it
DEFAULT_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

#: General MIDI guitar programs used as clean sources (29 Overdrive and 30 Distortion excluded, see module doc)
SOURCE_PROGRAMS: tuple[int, ...] = (24, 25, 26, 27, 28, 31)
GM_GUITAR_NAMES: dict[int, str] = {
    24: "Acoustic Guitar (nylon)", 25: "Acoustic Guitar (steel)", 26: "Electric Guitar (jazz)",
    27: "Electric Guitar (clean)", 28: "Electric Guitar (muted)", 29: "Overdriven Guitar",
    30: "Distortion Guitar", 31: "Guitar Harmonics",
}

PITCH_RANGE = (40, 76)          # MIDI notes E2..E5 inclusive, the range of a standard-tuned guitar's first 12 frets
VELOCITY_RANGE = (60, 127)      # MIDI velocity, inclusive: mezzo-piano to fortissimo
NOTE_OFF_FRACTION = (0.45, 0.8)  # key released at this share of the clip, so the release is heard too

_BLOCK = 64                     # FLUID_BUFSIZE: fluidsynth's fixed rendering block, in frames
_APT_FIX = "install it: apt-get install fluid-soundfont-gm"


@dataclass(frozen=True)
class NoteSpec:
    """One clean source note: GM program, MIDI pitch and velocity, and when the key is released (seconds)."""

    program: int
    pitch: int
    velocity: int
    note_off_s: float

    def to_dict(self) -> dict[str, Any]:
        name = GM_GUITAR_NAMES.get(self.program) or GM_BASS_NAMES.get(self.program, "?")
        return {**asdict(self), "program_name": name}


def draw_note(rng: np.random.Generator, *, duration_s: float, programs: tuple[int, ...] = SOURCE_PROGRAMS) -> NoteSpec:
    """A random source note: program, pitch E2–E5, velocity and release time drawn uniformly from ``rng``."""
    lo, hi = NOTE_OFF_FRACTION
    return NoteSpec(
        program=int(rng.choice(programs)),
        pitch=int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
        velocity=int(rng.integers(VELOCITY_RANGE[0], VELOCITY_RANGE[1] + 1)),
        note_off_s=round(float(rng.uniform(lo, hi)) * duration_s, 4),
    )


# ── the `idmt` variant's notes: guitar and bass, string and fret, three plucking strengths ─────────────────────────

#: General MIDI bass programs, by name (the `idmt` variant plays two of them, `INSTRUMENT_PROGRAMS`)
GM_BASS_NAMES: dict[int, str] = {32: "Acoustic Bass", 33: "Electric Bass (finger)", 34: "Electric Bass (pick)",
                                 35: "Fretless Bass"}
#: open-string MIDI pitches, low string first: a standard-tuned guitar (E2 A2 D3 G3 B3 E4) and 4-string bass (E1 A1 D2 G2)
OPEN_STRINGS: dict[str, tuple[int, ...]] = {"G": (40, 45, 50, 55, 59, 64), "B": (28, 33, 38, 43)}
FRETS = 12                      # frets 0..12 of every string, as IDMT recorded them
#: plucking styles 1, 2, 3 as MIDI velocities (IDMT: finger soft, finger hard, pick)
STYLE_VELOCITIES: tuple[int, ...] = (70, 100, 124)
#: the `idmt` variant's instruments, as IDMT recorded them: two electric guitars and two electric basses (GM 26 jazz
#: and 27 clean guitar, 33 finger and 34 pick bass). The first `idmt` sets (format 1) drew from all ten clean GM
#: guitar and bass programs; with that many timbres a clean note of one instrument looks like an EQ'd note of
#: another, and A confused EQ and NoFX about half the time (68.7 % test against 81.1 % with these four, docs/recipes.md)
INSTRUMENT_PROGRAMS: dict[str, tuple[int, ...]] = {"G": (26, 27), "B": (33, 34)}


@dataclass(frozen=True)
class NotePosition:
    """Where an `idmt` note is played: instrument (G guitar, B bass), make (the program's 1-based index in its
    instrument's programs), plucking style 1..3, string (1 = lowest) and fret. IDMT encodes these in its file names."""

    instrument: str
    make: int
    style: int
    string: int
    fret: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def draw_idmt_note(rng: np.random.Generator, *, duration_s: float,
                   instruments: tuple[str, ...] = ("G", "B")) -> tuple[NoteSpec, NotePosition]:
    """A note of one of ``instruments`` (G guitar, B bass; of both, each half of the time): program, string, fret
    0..12 and plucking style drawn uniformly; the pitch follows from string and fret; the key is released as in
    `draw_note`. The draws are the same whatever ``instruments`` holds, so a guitar-only set draws the guitar notes
    a set of both draws at the same indices (and other guitar notes where that set drew bass ones)."""
    coin = rng.random()
    instrument = instruments[0] if len(instruments) == 1 else ("G" if coin < 0.5 else "B")
    programs = INSTRUMENT_PROGRAMS[instrument]
    make = int(rng.integers(len(programs))) + 1
    string = int(rng.integers(len(OPEN_STRINGS[instrument]))) + 1
    fret = int(rng.integers(FRETS + 1))
    style = int(rng.integers(len(STYLE_VELOCITIES))) + 1
    lo, hi = NOTE_OFF_FRACTION
    note = NoteSpec(program=programs[make - 1], pitch=OPEN_STRINGS[instrument][string - 1] + fret,
                    velocity=STYLE_VELOCITIES[style - 1], note_off_s=round(float(rng.uniform(lo, hi)) * duration_s, 4))
    return note, NotePosition(instrument, make, style, string, fret)


def soundfont_path(path: str | os.PathLike | None = None) -> Path:
    """The soundfont to use: ``path``, else ``$HELMHOLTZ_SOUNDFONT``, else the Debian location. Raises DataError."""
    chosen = Path(path or os.environ.get("HELMHOLTZ_SOUNDFONT") or DEFAULT_SOUNDFONT)
    if not chosen.exists():
        raise DataError("the Fluid R3 GM soundfont (recorded guitar samples) is missing", where=str(chosen), fix=_APT_FIX)
    from helmholtz.checks import check_regular_file

    return check_regular_file(chosen, fix="pass the .sf2 file itself with --soundfont")


@functools.lru_cache(maxsize=4)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def soundfont_info(path: Path) -> dict[str, Any]:
    """Path, size and sha256 of the soundfont (hashed once per process and file version)."""
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "sha256": _sha256_cached(str(path), st.st_size, st.st_mtime_ns)}


def _import_fluidsynth():
    """Import pyfluidsynth, turning both ways it can be missing into one-line errors with the fix."""
    try:
        # pyfluidsynth prints "'fluidsynth' was found at …" to stdout on import when $CI is set; that would corrupt --json
        with contextlib.redirect_stdout(io.StringIO()):
            import fluidsynth
    except ModuleNotFoundError as ex:
        if ex.name != "fluidsynth":
            raise
        raise ConfigError(
            "the Python package pyfluidsynth is not installed", where="synth",
            fix="pip install pyfluidsynth (or pip install 'helmholtz-method[synth]')",
        ) from None
    except (ImportError, OSError) as ex:
        # pyfluidsynth raises ImportError("Couldn't find the FluidSynth library.") when libfluidsynth is absent
        raise ConfigError(
            f"libfluidsynth could not be loaded ({ex})", where="synth", fix="apt-get install libfluidsynth3",
        ) from None
    return fluidsynth


def fluidsynth_version() -> str:
    """The libfluidsynth version string, e.g. '2.3.1'."""
    lib = _import_fluidsynth()._fl
    lib.fluid_version_str.restype = ctypes.c_char_p
    return lib.fluid_version_str().decode()


class NoteRenderer:
    """Renders mono float32 notes; the soundfont is loaded once per renderer (about 3 s for Fluid R3's 148 MB).

    Use as a context manager, or call `close()`: the native synth holds the soundfont in memory.
    """

    def __init__(self, *, sample_rate: int, soundfont: str | os.PathLike | None = None) -> None:
        fluidsynth = _import_fluidsynth()
        self.sample_rate = int(sample_rate)
        self.soundfont = soundfont_path(soundfont)
        # reverb/chorus off: only our effects may differ between classes; gain 0.2 is pyfluidsynth's default
        self._synth = fluidsynth.Synth(
            gain=0.2, samplerate=float(self.sample_rate), **{"synth.reverb.active": 0, "synth.chorus.active": 0},
        )
        self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            self.close()
            raise DataError("fluidsynth could not load the soundfont (corrupt file?)", where=str(self.soundfont), fix=_APT_FIX)
        self._write = fluidsynth._fl.fluid_synth_write_float
        self._write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        self._write.restype = ctypes.c_int

    def __enter__(self) -> NoteRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        synth, self._synth = getattr(self, "_synth", None), None
        if synth is not None:
            synth.delete()

    def _frames(self, n: int) -> np.ndarray:
        """Render ``n`` frames (a whole number of blocks) and return the mono mix, float32."""
        assert n % _BLOCK == 0, "renders must stay block-aligned to be order-independent"
        buf = np.zeros(2 * n, dtype=np.float32)
        ptr = buf.ctypes.data
        if self._write(self._synth.synth, n, ptr, 0, 2, ptr, 1, 2) != 0:
            raise DataError("fluidsynth failed to render audio", where=str(self.soundfont), fix=_APT_FIX)
        return buf.reshape(n, 2).mean(axis=1, dtype=np.float32)

    def render(self, note: NoteSpec, *, duration_s: float) -> np.ndarray:
        """One note of exactly ``round(duration_s · sample_rate)`` samples, float32 mono, as the soundfont plays it."""
        if self._synth is None:
            raise ConfigError("this NoteRenderer is closed", fix="create a new NoteRenderer")
        n = int(round(duration_s * self.sample_rate))
        total = -(-n // _BLOCK) * _BLOCK
        off = min(max(_BLOCK, int(round(note.note_off_s * self.sample_rate)) // _BLOCK * _BLOCK), total)
        synth = self._synth
        if synth.program_select(0, self._sfid, 0, note.program) != 0:
            raise DataError(f"the soundfont has no GM program {note.program}", where=str(self.soundfont), fix=_APT_FIX)
        synth.noteon(0, note.pitch, note.velocity)
        held = self._frames(off)
        synth.noteoff(0, note.pitch)
        released = self._frames(total - off) if total > off else np.zeros(0, np.float32)
        # cut every voice so the next note starts from silence whatever this one left ringing
        synth.all_sounds_off(0)
        return np.concatenate([held, released])[:n]
