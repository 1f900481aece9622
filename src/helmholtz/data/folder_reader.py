"""The image-folder reader: one subfolder per class (PNG, JPEG, BMP), optionally under ``train/`` and ``test/``
(``val/`` joins the training pool, whose validation split `make_dataset` carves itself), each image decoded by
Pillow (on a thread pool for large folders) and stacked into a `RawData` (uint8 N×H×W×C, int64 labels).

`_decode` (one image, from a file or encoded bytes) and `stack_decoded` serve the Parquet reader too; `one_line`
is how every image reader quotes a library's error in its one-line `DataError`.
"""

from __future__ import annotations

import functools
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from helmholtz.checks import check_regular_file
from helmholtz.data.dataset import RawData
from helmholtz.data.locate import SPLIT_FOLDERS as _SPLIT_FOLDERS
from helmholtz.data.locate import check_split_layout, class_folders
from helmholtz.data.locate import visible_entries as _visible
from helmholtz.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def one_line(err: BaseException) -> str:
    """A library's error as one line of text (its type's name when it has no message)."""
    return " ".join(str(err).split()) or type(err).__name__


_class_folders = functools.partial(class_folders, contents="images", example="cat/, dog/")


def _image_files(folder: Path) -> list[Path]:
    files = _visible(folder)
    if not files:
        raise DataError("class folder is empty", where=str(folder), fix="add images to it or remove the folder")
    for f in files:
        if f.is_dir():
            raise DataError("a folder inside a class folder", where=str(f),
                            fix="keep one level of class subfolders; move its images up or remove it")
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError("not an image file (expected .png, .jpg, .jpeg or .bmp)", where=str(f),
                            fix="remove it or move it out of the class folders")
        check_regular_file(f, fix="remove it or move it out of the class folders")
    return files


def _decode(path: Path | io.BytesIO, where: str | None = None) -> tuple[np.ndarray, bool]:
    """One image (a file, or encoded bytes named by ``where``) → (uint8 H×W or H×W×3, is_gray)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grayscale: keep the top 8 bits
                return (np.clip(np.asarray(im, dtype=np.int64), 0, 65535) >> 8).astype(np.uint8), True
            if im.mode in ("L", "1", "LA", "F"):
                return np.asarray(im.convert("L")), True
            return np.asarray(im.convert("RGB")), False
    except Exception as err:  # Pillow signals corrupt data with OSError, SyntaxError, ValueError, ...
        raise DataError(f"cannot decode image ({one_line(err)})", where=where or str(path),
                        fix="the file is corrupt or truncated; re-export it or remove it") from None


def _decode_all(files: list[Path]) -> list[tuple[np.ndarray, bool]]:
    if len(files) < 256:
        return [_decode(f) for f in files]
    # Pillow's decoders release the GIL; map() yields in order, so the first bad file (in order) is reported
    pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
    try:
        return list(pool.map(_decode, files))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def stack_decoded(decoded: list[tuple[np.ndarray, bool]], wheres: list[str]) -> np.ndarray:
    """Decoded images (`_decode`) → one uint8 N×H×W×C array: C = 1 if every image is grayscale, else RGB (gray
    images repeated). Every image must have the first one's size; ``wheres`` names each for the error."""
    expected = decoded[0][0].shape[:2]
    for where, (arr, _) in zip(wheres, decoded, strict=True):
        if arr.shape[:2] != expected:
            raise DataError(f"image is {arr.shape[1]}x{arr.shape[0]} but the first image is {expected[1]}x{expected[0]}",
                            where=where, fix="resize every image to one size first")
    gray = all(g for _, g in decoded)
    return np.stack([a[..., None] if gray else (np.repeat(a[..., None], 3, axis=2) if g else a) for a, g in decoded])


def read_image_folder(path: str | os.PathLike) -> RawData:
    """A folder with one subfolder per class → images N×H×W×C (C=1 if every image is grayscale, else RGB).

    With top-level ``train/`` and ``test/`` folders (``val/`` is merged into train) the folder's own test split is
    kept; otherwise every image is in one pool and `make_dataset` holds out the test split. All images must have
    one size.
    """
    root = Path(path)
    top = {p.name.lower(): p for p in _visible(root) if p.is_dir()}
    check_split_layout(root, top)
    split_layout = "train" in top and set(top) <= set(_SPLIT_FOLDERS)
    if split_layout:
        groups = {"train": [p for n, p in top.items() if _SPLIT_FOLDERS[n] == "train"], "test": top.get("test")}
        train_classes: dict[str, list[Path]] = {}
        for split_root in groups["train"]:
            for name, folder in _class_folders(split_root).items():
                train_classes.setdefault(name, []).append(folder)
        test_classes = _class_folders(groups["test"]) if groups["test"] is not None else {}
        for name, folder in test_classes.items():
            if name not in train_classes:
                raise DataError(f"test class {name!r} has no training folder", where=str(folder),
                                fix="add the class to train/ or remove it from test/")
    else:
        train_classes = {name: [folder] for name, folder in _class_folders(root).items()}
        test_classes = {}
    class_names = tuple(sorted(train_classes))
    index = {name: i for i, name in enumerate(class_names)}

    def listing(classes: dict[str, list[Path]]) -> tuple[list[Path], np.ndarray]:
        files, labels = [], []
        for name in sorted(classes):
            for folder in classes[name]:
                found = _image_files(folder)
                files += found
                labels += [index[name]] * len(found)
        return files, np.asarray(labels, dtype=np.int64)

    train_files, y_train = listing(train_classes)
    test_files, y_test = listing({n: [f] for n, f in test_classes.items()})
    x = stack_decoded(_decode_all(train_files + test_files), [str(f) for f in train_files + test_files])
    n = len(train_files)
    x_test = x[n:] if test_files else None
    return RawData(x[:n], y_train, x_test, y_test if test_files else None, class_names, "image-folder")
