"""Readers of audio datasets: WAV files in class folders, and the IDMT-SMT-Audio-Effects layout.

The paper's audio task classifies the guitar effect (12 classes) of 2 s notes from Fraunhofer's
IDMT-SMT-Audio-Effects, whose archive unpacks to ``<root>/<set>/Samples/<Effect>/*.wav`` (sets such as
"Gitarre monophon" and "Bass monophon", plus XML lists beside ``Samples`` that we ignore). Effect folders of every
set are merged by name. A plain dataset has one subfolder of WAV files per class, optionally under ``train/`` and
``test/`` (``val/`` joins the training pool, whose validation split `make_dataset` carves itself).

Every clip becomes mono float32 in [-1, 1] (channels averaged) at the dataset rate (default 44.1 kHz;
scipy.signal.resample_poly by the gcd ratio, zero phase, so a clip stays aligned), then is padded with zeros or cut
to a fixed duration (default 2 s). Files are read in a thread pool: libsndfile (via cffi) and resample_poly run
without the GIL.
"""

from __future__ import annotations

import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from helmholtz.data.dataset import RawData
from helmholtz.data.folder_reader import one_line
from helmholtz.data.locate import SPLIT_FOLDERS as _SPLIT_FOLDERS
from helmholtz.data.locate import (
    WAV_SUFFIX,
    check_split_layout,
    class_folders,
    has_wav_classes,
    looks_like_audio,  # noqa: F401  (re-exported: it lived here until the move)
    samples_dirs,
)
from helmholtz.data.locate import visible_entries as _visible
from helmholtz.errors import ConfigError, DataError

#: soundfile subtypes we read: lossless PCM of 16 bits or more, and float. 8-bit PCM, µ-law/A-law and ADPCM are
#: already lossy or coarser than the 16-bit reference the bit accounting assumes (raw bits = 16·sr per second).
ACCEPTED_SUBTYPES = frozenset({"PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"})
_PARALLEL_MIN_FILES = 32
_RESAMPLE_MARGIN = 64  # extra input samples read past the cut so the resampling filter sees real audio, not zeros


def _is_wav(path: Path) -> bool:
    return path.suffix.lower() == WAV_SUFFIX and path.is_file()


# ── listing ─────────────────────────────────────────────────────────────────────────────────────────────────────

def _class_wavs(folder: Path, *, strict: bool) -> list[Path]:
    """WAV files of one class folder. ``strict`` (plain layout): any other file or a subfolder is an error."""
    wavs = []
    for f in _visible(folder):
        if _is_wav(f):
            wavs.append(f)
        elif strict and f.is_dir():
            raise DataError("a folder inside a class folder", where=str(f),
                            fix="keep one level of class subfolders; move its WAV files up or remove it")
        elif strict:
            raise DataError("not a WAV file (expected .wav)", where=str(f),
                            fix="convert it to WAV (e.g. sox in.flac out.wav) or move it out of the class folders")
    return wavs


_class_folders = functools.partial(class_folders, contents="WAV files", example="Chorus/, NoFX/")


def _listing(classes: dict[str, list[Path]], index: dict[str, int], *, strict: bool) -> tuple[list[Path], list[int]]:
    files: list[Path] = []
    labels: list[int] = []
    for name in sorted(classes):
        found = [w for folder in classes[name] for w in _class_wavs(folder, strict=strict)]
        if not found:
            where = str(classes[name][0]) if len(classes[name]) == 1 else f"{name} ({len(classes[name])} folders)"
            raise DataError("class folder has no WAV files", where=where, fix="add WAV files to it or remove the folder")
        files += found
        labels += [index[name]] * len(found)
    return files, labels


# ── decoding ────────────────────────────────────────────────────────────────────────────────────────────────────

def read_wav(path: str | os.PathLike, *, sample_rate: int = 44100, n_samples: int | None = None) -> np.ndarray:
    """One WAV file → mono float32 at ``sample_rate``, padded with zeros or cut to ``n_samples`` if given.

    Raises DataError naming the file for a file libsndfile cannot read or a sample format outside
    `ACCEPTED_SUBTYPES`.
    """
    import soundfile as sf

    path = Path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            if f.subtype not in ACCEPTED_SUBTYPES:
                raise DataError(f"unsupported sample format {f.subtype} in {path.name}", where=str(path),
                                fix="convert to 16-bit PCM WAV (e.g. sox in.wav -b 16 out.wav)")
            if f.frames == 0:
                raise DataError(f"WAV file {path.name} has no samples", where=str(path),
                                fix="remove the empty file or re-export it")
            rate = int(f.samplerate)
            g = math.gcd(sample_rate, rate)
            up, down = sample_rate // g, rate // g
            # read only what the cut keeps (plus filter context): long recordings cost no more than short ones
            need = -1 if n_samples is None else -(-n_samples * down // up) + (_RESAMPLE_MARGIN if up != down else 0)
            x = f.read(frames=need, dtype="float32", always_2d=True)
    except DataError:
        raise
    except Exception as err:  # libsndfile reports corrupt/truncated/not-audio files as LibsndfileError/RuntimeError
        raise DataError(f"cannot read WAV file {path.name} ({one_line(err)})", where=str(path),
                        fix="the file is corrupt or not a WAV; re-export it or remove it") from None
    problem = _truncation(path)
    if problem is not None:
        raise DataError(f"WAV file {path.name} is {problem}", where=str(path),
                        fix="the file was cut short (an interrupted copy or download); copy or export it again")
    _check_samples(x, path)
    mono = x.mean(axis=1, dtype=np.float32) if x.shape[1] > 1 else x[:, 0]
    if up != down and len(mono):
        from scipy.signal import resample_poly

        mono = resample_poly(mono, up, down).astype(np.float32)
    if n_samples is None:
        return np.ascontiguousarray(mono)
    out = np.zeros(n_samples, dtype=np.float32)
    k = min(n_samples, len(mono))
    out[:k] = mono[:k]
    return out


#: float WAVs may exceed full scale by rounding only; anything louder is mis-scaled data (e.g. ×100), not audio
PEAK_LIMIT = 1.0 + 1e-6


def _check_samples(x: np.ndarray, path: Path) -> None:
    """Samples must be finite and within full scale [-1, 1]; a float WAV can hold anything, PCM cannot."""
    if x.size == 0:
        return
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(x.size - np.count_nonzero(finite))
        raise DataError(f"WAV file {path.name} holds {bad} NaN or infinite samples", where=str(path),
                        fix="re-export the file from its source; NaN samples cannot be trained on or encoded")
    peak = float(np.max(np.abs(x)))
    if peak > PEAK_LIMIT:
        raise DataError(f"WAV file {path.name} has samples up to {peak:.4g}, outside full scale -1..1", where=str(path),
                        fix="normalise it (e.g. sox in.wav out.wav gain -n -1) or re-export it as 16-bit PCM")


def _truncation(path: Path) -> str | None:
    """Why a RIFF/WAVE file is shorter than its own header says, or None. libsndfile reads such a file as far as
    it goes and the clip would be silently zero-padded; other containers (RF64, W64) are left to libsndfile."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk = f.read(8)
                cid, n = chunk[:4], int.from_bytes(chunk[4:8], "little")
                if cid == b"data":
                    if n in (0, 0xFFFFFFFF):   # written while streaming: the length was never filled in
                        return None
                    have = size - pos - 8
                    return None if have >= n else f"truncated: its header declares {n} bytes of samples but it holds {have}"
                pos += 8 + n + (n & 1)
    except OSError:
        return None
    return None


def _check_memory(n_files: int, n_samples: int, *, sample_rate: int, duration_s: float) -> None:
    """Refuse before allocating what this machine does not have (--duration 100000 once asked for 394 GiB)."""
    from helmholtz.checks import available_memory_bytes

    need = n_files * n_samples * 4
    avail = available_memory_bytes()
    if avail is not None and need > avail:
        raise ConfigError(
            f"{n_files} clips of {duration_s:g} s at {sample_rate} Hz need {need / 2**30:.1f} GiB of memory; "
            f"{avail / 2**30:.1f} GiB are available", where="--duration",
            fix="use a shorter --duration or a lower --sample-rate (the paper: 2 s at 44100 Hz)")


def _read_all(files: list[Path], *, sample_rate: int, n_samples: int) -> np.ndarray:
    x = np.empty((len(files), n_samples), dtype=np.float32)

    def one(i: int) -> None:
        x[i] = read_wav(files[i], sample_rate=sample_rate, n_samples=n_samples)

    if len(files) < _PARALLEL_MIN_FILES:
        for i in range(len(files)):
            one(i)
    else:
        # map() re-raises in file order, so the first bad file (in order) is the one reported
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="wav") as pool:
            list(pool.map(one, range(len(files))))
    return x


# ── the reader ──────────────────────────────────────────────────────────────────────────────────────────────────

def read_wav_folder(path: str | os.PathLike, *, sample_rate: int = 44100, duration_s: float = 2.0) -> RawData:
    """A WAV dataset folder → `RawData` with modality "audio": float32 N×T mono waves, T = duration_s·sample_rate.

    Layouts: IDMT-SMT-Audio-Effects (``<set>/Samples/<Effect>/*.wav``, format "idmt", non-WAV files ignored, effect
    folders merged by name across sets); ``train/`` + ``test/`` split folders of class folders; or class folders
    directly (format "wav-folder", where a non-WAV file is an error naming it). Class names are the folder names,
    sorted. ``x_test`` is None unless the folder has its own test split.
    """
    from helmholtz.checks import check_duration, check_sample_rate

    sample_rate = check_sample_rate(sample_rate)
    duration_s = check_duration(duration_s)
    n_samples = int(round(duration_s * sample_rate))
    root = Path(path)
    if not root.is_dir():
        raise DataError("not a folder", where=str(root), fix="point at a folder with one subfolder of WAV files per class")
    top = {p.name.lower(): p for p in _visible(root) if p.is_dir()}
    check_split_layout(root, top)
    test_classes: dict[str, list[Path]] = {}
    strict = True
    if not has_wav_classes(root) and "train" in top and set(top) <= set(_SPLIT_FOLDERS):
        fmt = "wav-folder"
        train_classes: dict[str, list[Path]] = {}
        for name, split_root in sorted(top.items()):
            if _SPLIT_FOLDERS[name] == "train":
                for cls, folder in _class_folders(split_root).items():
                    train_classes.setdefault(cls, []).append(folder)
        if "test" in top:
            test_classes = {cls: [folder] for cls, folder in _class_folders(top["test"]).items()}
        for cls, folders in test_classes.items():
            if cls not in train_classes:
                raise DataError(f"test class {cls!r} has no training folder", where=str(folders[0]),
                                fix="add the class to train/ or remove it from test/")
    elif not has_wav_classes(root) and (samples := samples_dirs(root)):
        fmt, strict = "idmt", False
        train_classes = {}
        for s in samples:
            for effect in _visible(s):
                if effect.is_dir():
                    train_classes.setdefault(effect.name, []).append(effect)
    else:
        fmt = "wav-folder"
        train_classes = {name: [folder] for name, folder in _class_folders(root).items()}
        if not any(_is_wav(f) for folders in train_classes.values() for d in folders for f in d.iterdir()):
            raise DataError("no WAV files found in the class folders", where=str(root),
                            fix="point at a folder with one subfolder of .wav files per class")
    class_names = tuple(sorted(train_classes))
    index = {name: i for i, name in enumerate(class_names)}
    train_files, y_train = _listing(train_classes, index, strict=strict)
    test_files, y_test = _listing(test_classes, index, strict=strict) if test_classes else ([], [])
    _check_memory(len(train_files) + len(test_files), n_samples, sample_rate=sample_rate, duration_s=duration_s)
    x = _read_all(train_files + test_files, sample_rate=sample_rate, n_samples=n_samples)
    n = len(train_files)
    return RawData(
        x_train=x[:n], y_train=np.asarray(y_train, dtype=np.int64),
        x_test=x[n:] if test_files else None, y_test=np.asarray(y_test, dtype=np.int64) if test_files else None,
        class_names=class_names, format=fmt, modality="audio", sample_rate=sample_rate,
    )
