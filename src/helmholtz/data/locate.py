"""Where datasets live: known names, the folders searched for them, and the format of a path.

A ``DATASET`` argument is a known name (``fashion-mnist``, ``mnist``, ``cifar10``) or a path. Known names win, so
``mnist`` always means the searched locations; write ``./mnist`` for a local folder of that name. A known name is
looked for in ``$HELMHOLTZ_DATA/<name>/``, then ``~/.cache/helmholtz/<name>/``, then (Fashion-MNIST only) the
Debian package's ``/usr/share/datasets/fashion-mnist/``.

Format detection looks at file names only, so it is cheap enough for ``helmholtz datasets`` to run it on every
known location; the readers validate the contents. The folder rules and the WAV-folder probe (`looks_like_audio`,
the IDMT ``Samples`` layout) live here, below the readers that share them: the readers import this module, never
the other way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from helmholtz.errors import DataError

#: what `detect_format` can answer; "audio" is refined by the audio reader into "wav-folder" or "idmt"
SourceFormat = Literal["cifar10-python", "idx", "image-folder", "npz", "audio", "parquet"]

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

#: file names of IDX splits; some mirrors write "train-images.idx3-ubyte", which is accepted too
IDX_STEMS = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
CIFAR_SUBDIR = "cifar-10-batches-py"


@dataclass(frozen=True)
class KnownDataset:
    """A dataset the CLI knows by name: what it is, which format its folder holds and how to get it."""

    name: str
    description: str
    format: SourceFormat
    how_to_get: str
    system_dirs: tuple[Path, ...] = ()


KNOWN_DATASETS: dict[str, KnownDataset] = {
    "fashion-mnist": KnownDataset(
        "fashion-mnist", "Fashion-MNIST: 70k 28x28 grayscale clothing images, 10 classes", "idx",
        "apt-get install dataset-fashion-mnist (or put the four IDX files into $HELMHOLTZ_DATA/fashion-mnist/)",
        (DEBIAN_FASHION_MNIST,),
    ),
    "mnist": KnownDataset(
        "mnist", "MNIST: 70k 28x28 grayscale handwritten digits, 10 classes", "idx",
        "put the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz) into $HELMHOLTZ_DATA/mnist/",
    ),
    "cifar10": KnownDataset(
        "cifar10", "CIFAR-10: 60k 32x32 colour images, 10 classes (the paper's image dataset)", "cifar10-python",
        'download the "CIFAR-10 python version" (cifar-10-python.tar.gz) and extract it into $HELMHOLTZ_DATA/cifar10/',
    ),
}

_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist", "fmnist": "fashion-mnist",
            "cifar-10": "cifar10", "cifar_10": "cifar10"}


def known_name(text: str) -> str | None:
    """The canonical known name for ``text`` (case-insensitive, a few aliases), or None for a path."""
    key = text.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in KNOWN_DATASETS else None


def search_paths(name: str) -> list[Path]:
    """The folders searched for a known dataset, in order of preference."""
    canonical = known_name(name)
    if canonical is None:
        raise DataError(f"unknown dataset name {name!r}", fix=f"use one of: {', '.join(KNOWN_DATASETS)}, or a path")
    paths = []
    env = os.environ.get("HELMHOLTZ_DATA")
    if env:
        paths.append(Path(env).expanduser() / canonical)
    paths.append(Path.home() / ".cache" / "helmholtz" / canonical)
    paths.extend(KNOWN_DATASETS[canonical].system_dirs)
    return paths


def locate(name: str) -> Path:
    """The first searched folder that holds the known dataset ``name`` in its format.

    Raises DataError listing every place it looked (and why each did not count) plus how to get the data.
    """
    canonical = known_name(name)
    paths = search_paths(name)
    known = KNOWN_DATASETS[canonical]
    looked = []
    for path in paths:
        if path.is_dir() and detect_format(path) == known.format:
            return path
        looked.append(f"{path} ({'holds no ' + known.format + ' files' if path.exists() else 'missing'})")
    if not os.environ.get("HELMHOLTZ_DATA"):
        looked.insert(0, "$HELMHOLTZ_DATA (not set)")
    raise DataError(f"dataset {canonical!r} not found; looked in {'; '.join(looked)}", where=canonical,
                    fix=known.how_to_get)


def idx_file(directory: Path, split: str, kind: str) -> Path | None:
    """The IDX file of ``split`` ('train'|'test') and ``kind`` ('images'|'labels') in ``directory``, raw or .gz."""
    stem = IDX_STEMS[(split, kind)]
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = directory / candidate
        if path.is_file():
            return path
    return None


def cifar_batches_dir(path: Path) -> Path | None:
    """The folder holding CIFAR-10 python batches: ``path`` itself or its ``cifar-10-batches-py/`` child."""
    for directory in (path, path / CIFAR_SUBDIR):
        if (directory / "data_batch_1").is_file() or (directory / "test_batch").is_file():
            return directory
    return None


#: a Parquet file's split by the start of its name (or a `split` column's value): validation joins the training pool
PARQUET_SPLITS = {"train": "train", "validation": "train", "valid": "train", "val": "train", "test": "test"}


def parquet_files(path: Path) -> dict[str, list[Path]] | None:
    """{split: files} of a folder of Parquet files named by split, at its top level or in ``data/`` (where
    `datasets` exports them); None when there is no such file. Looks nowhere else, so detecting the format of a
    large image folder reads two directory listings, not its tree."""
    found: dict[str, list[Path]] = {}
    for f in sorted([*path.glob("*.parquet"), *(path / "data").glob("*.parquet")]):
        stem = f.name.lower()
        split = next((v for k, v in PARQUET_SPLITS.items() if stem.startswith(k)), None)
        if split is not None and not f.name.startswith("."):
            found.setdefault(split, []).append(f)
    return found or None


def detect_format(path: Path) -> SourceFormat | None:
    """The format of an existing path, judged by file names only; None when nothing matches."""
    if path.is_file():
        return {".npz": "npz", ".parquet": "parquet", ".pq": "parquet"}.get(path.suffix.lower())
    if not path.is_dir():
        return None
    if parquet_files(path) is not None and not any(p.is_dir() and not p.name.startswith((".", "__"))
                                                   and p.name != "data" for p in path.iterdir()):
        return "parquet"
    if cifar_batches_dir(path) is not None:
        return "cifar10-python"
    if idx_file(path, "train", "images") is not None:
        return "idx"
    if looks_like_audio(path):
        return "audio"
    if any(p.is_dir() and not p.name.startswith((".", "__")) for p in path.iterdir()):
        return "image-folder"
    return None


def resolve(source: str | os.PathLike) -> tuple[str, Path, bool]:
    """``(name, path, is_known)`` for a DATASET argument: a known name is located, a path must exist.

    ``name`` is the known name, or the path's stem (a folder's own name).
    """
    text = os.fspath(source)
    canonical = known_name(text)
    if canonical is not None:
        return canonical, locate(canonical), True
    path = Path(text).expanduser()
    if not path.exists():
        raise DataError("no such file or directory", where=text,
                        fix=f"check the path, or use a known name: {', '.join(KNOWN_DATASETS)}")
    path = path.resolve()
    return (path.stem if path.is_file() else path.name) or str(path), path, False


# ── folder datasets (image and WAV folders share these rules) ─────────────────────────────────────────────────────

#: top-level split folders of a folder dataset and the split each feeds (val/ joins the training pool)
SPLIT_FOLDERS = {"train": "train", "test": "test", "val": "train", "valid": "train", "validation": "train"}
_JUNK = {"thumbs.db", "desktop.ini"}


def visible_entries(directory: Path) -> list[Path]:
    """Entries of ``directory`` without hidden files (.DS_Store), OS junk and macOS __MACOSX folders, sorted."""
    return sorted(p for p in directory.iterdir()
                  if not p.name.startswith((".", "__")) and p.name.lower() not in _JUNK)


def class_folders(root: Path, *, contents: str, example: str) -> dict[str, Path]:
    """The visible subfolders of ``root`` by name (one per class); DataError when there are none.

    ``contents`` and ``example`` word the fix, e.g. "images" and "cat/, dog/".
    """
    folders = {p.name: p for p in visible_entries(root) if p.is_dir()}
    if not folders:
        raise DataError(f"no class subfolders with {contents} found", where=str(root),
                        fix=f"put the {contents} of each class into their own subfolder (e.g. {example})")
    return folders


def check_split_layout(root: Path, top: dict[str, Path]) -> None:
    """Split folders (test/, val/) without a train/ folder are a half-copied dataset, not class folders named
    'test': say so instead of complaining about the class folders inside them."""
    splits = sorted(n for n in top if n in SPLIT_FOLDERS)
    if splits and "train" not in top and set(top) <= set(SPLIT_FOLDERS):
        raise DataError(f"has {', '.join(f'{n}/' for n in splits)} but no train/ folder", where=str(root),
                        fix="add train/ with one subfolder per class (test/ and val/ are optional)")


# ── the WAV-folder probe (format detection, and the audio reader's layout) ───────────────────────────────────────

WAV_SUFFIX = ".wav"


# The probes below run on every folder that format detection looks at, image folders of 60k files included, so they
# use os.scandir (entry types come with the listing, no stat per file) and stop at the first WAV.
def _subdirs(directory: Path) -> list[Path]:
    with os.scandir(directory) as it:
        return sorted(Path(e.path) for e in it if e.is_dir() and not e.name.startswith((".", "__")))


def _dir_has_wav(directory: Path) -> bool:
    with os.scandir(directory) as it:
        return any(e.name.lower().endswith(WAV_SUFFIX) and e.is_file() for e in it)


def samples_dirs(root: Path) -> list[Path]:
    """The IDMT ``Samples`` folders under ``root``: ``root/Samples``, ``root/<set>/Samples`` or one level deeper
    (the archive's own top folder), each holding at least one effect folder with a WAV in it."""
    level = [root]
    for _ in range(3):
        found, deeper = [], []
        for d in level:
            for p in _subdirs(d):
                if p.name.lower() != "samples":
                    deeper.append(p)
                elif any(_dir_has_wav(e) for e in _subdirs(p)):
                    found.append(p)
        if found:
            return found
        level = deeper
    return []


def has_wav_classes(root: Path) -> bool:
    return any(_dir_has_wav(p) for p in _subdirs(root))


def looks_like_audio(path: str | os.PathLike) -> bool:
    """True for a folder whose class folders (directly, under train/ and test/, or IDMT ``Samples``) hold WAVs."""
    root = Path(path)
    if not root.is_dir():
        return False
    try:
        if has_wav_classes(root):
            return True
        top = {p.name.lower(): p for p in visible_entries(root) if p.is_dir()}
        if "train" in top and set(top) <= set(SPLIT_FOLDERS):
            return any(has_wav_classes(p) for p in top.values())
        return bool(samples_dirs(root))
    except OSError:  # unreadable folder: not ours to judge; the image reader will report it
        return False
