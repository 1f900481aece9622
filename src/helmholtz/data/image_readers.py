"""Readers of image datasets in their published formats, each returning a `RawData` (uint8 N×H×W×C, int64 labels).

- CIFAR-10 "python version": pickled batches whose ``data`` rows are 3072 bytes, channel-major (1024 R, then G,
  then B, each a row-major 32×32 plane).
- IDX (MNIST, Fashion-MNIST), raw or gzipped: big-endian header, magic 0x00000803 (images) / 0x00000801 (labels),
  then one uint32 per dimension, then the payload.
- An image folder with one subfolder per class (PNG, JPEG, BMP), optionally under ``train/`` and ``test/``
  (``val/`` joins the training pool, whose validation split `make_dataset` carves itself): `data.folder_reader`,
  whose names are importable from here too.
- NPZ with ``x``/``y`` or ``x_train``/``y_train``/``x_test``/``y_test`` (optional ``class_names``).

The array formats are decoded with ``np.frombuffer`` + reshape, never a per-image Python loop, so the whole of
Fashion-MNIST loads in a fraction of a second.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helmholtz.checks import check_regular_file
from helmholtz.data.dataset import RawData
from helmholtz.data.folder_reader import IMAGE_SUFFIXES as IMAGE_SUFFIXES
from helmholtz.data.folder_reader import _decode as _decode
from helmholtz.data.folder_reader import one_line as _one_line
from helmholtz.data.folder_reader import read_image_folder as read_image_folder
from helmholtz.data.folder_reader import stack_decoded as stack_decoded
from helmholtz.data.locate import DEBIAN_FASHION_MNIST, cifar_batches_dir, idx_file
from helmholtz.errors import DataError

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}
_CIFAR_ROW = 3 * 32 * 32


def _digit_names(*label_arrays: np.ndarray | None) -> tuple[str, ...]:
    top = max((int(y.max()) for y in label_arrays if y is not None and len(y)), default=0)
    return tuple(str(i) for i in range(max(top + 1, 1)))


# ── IDX ──────────────────────────────────────────────────────────────────────────────────────────────────────────

def _read_idx(path: Path, kind: str) -> np.ndarray:
    """One IDX file → uint8 array of the header's dims. Validates the magic and the payload length."""
    try:
        buf = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"cannot read the gzip stream ({_one_line(err)})", where=str(path),
                        fix="the file is truncated or corrupt; download it again") from None
    if len(buf) < 4 or int.from_bytes(buf[:4], "big") != _IDX_MAGIC[kind]:
        magic = f"0x{int.from_bytes(buf[:4], 'big'):08X}" if len(buf) >= 4 else f"{len(buf)} bytes"
        raise DataError(f"not an IDX {kind} file: magic {magic}, expected 0x{_IDX_MAGIC[kind]:08X}", where=str(path),
                        fix=f"point at the {kind} file of an MNIST-style dataset")
    ndim = buf[3]
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DataError(f"truncated header: {len(buf)} bytes, expected at least {header}", where=str(path),
                        fix="download the file again")
    dims = tuple(int(d) for d in np.frombuffer(buf, ">u4", count=ndim, offset=4))
    expected, actual = int(np.prod(dims)), len(buf) - header
    if actual != expected:
        raise DataError(f"payload is {actual} bytes but the header's dims {'x'.join(map(str, dims))} need {expected}",
                        where=str(path), fix="the file is truncated or corrupt; download it again")
    # a bytearray makes the array writable (torch.from_numpy warns on read-only memory) for one copy
    return np.frombuffer(bytearray(buf), np.uint8, offset=header).reshape(dims)


def _read_idx_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    files = {kind: idx_file(directory, split, kind) for kind in ("images", "labels")}
    for kind, path in files.items():
        if path is None:
            stem = {"train": "train", "test": "t10k"}[split] + f"-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
            raise DataError(f"missing IDX file {stem}[.gz]", where=str(directory),
                            fix="put all four IDX files (train/t10k images and labels) into this folder")
    x = _read_idx(files["images"], "images")[..., None]
    y = _read_idx(files["labels"], "labels").astype(np.int64)
    if len(x) != len(y):
        raise DataError(f"{len(x)} images but {len(y)} labels", where=str(files["labels"]),
                        fix="use the labels file that belongs to this images file")
    return x, y


def _is_fashion_dir(directory: Path) -> bool:
    resolved = directory.resolve()
    return resolved == DEBIAN_FASHION_MNIST.resolve() or "fashion" in resolved.name.lower()


def read_idx_dir(path: str | os.PathLike, *, class_names: Sequence[str] | None = None) -> RawData:
    """A folder of IDX files (MNIST layout) → its own train (60k) and test (10k) splits, images N×28×28×1.

    Class names default to Fashion-MNIST's ten when the folder is the Debian one or is named like Fashion-MNIST,
    otherwise to the digits '0'..'9' (or as many as the labels need).
    """
    directory = Path(path)
    x_train, y_train = _read_idx_split(directory, "train")
    x_test, y_test = _read_idx_split(directory, "test")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"train images are {x_train.shape[1:3]} but test images are {x_test.shape[1:3]}",
                        where=str(directory), fix="keep the train and test files of one dataset together")
    if class_names is None:
        class_names = FASHION_MNIST_CLASSES if _is_fashion_dir(directory) else _digit_names(y_train, y_test)
    return RawData(x_train, y_train, x_test, y_test, tuple(class_names), "idx")


# ── CIFAR-10 python batches ──────────────────────────────────────────────────────────────────────────────────────

_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]
# a CIFAR batch holds a dict of lists, bytes and one ndarray; anything else a pickle asks for could run code
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): __import__("codecs").encode,
}


class _ForeignGlobal(pickle.UnpicklingError):
    pass


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _PICKLE_GLOBALS[(module, name)]
        except KeyError:
            raise _ForeignGlobal(f"refers to {module}.{name}, which a CIFAR-10 batch never holds") from None


def _load_batch(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            # the published files are Python 2 pickles: their str keys and payloads come back as bytes
            obj = _BatchUnpickler(f, encoding="bytes").load()
    except OSError as err:
        raise DataError(f"cannot read ({_one_line(err)})", where=str(path), fix="check the file's permissions") from None
    except _ForeignGlobal as err:
        raise DataError(f"not a CIFAR-10 batch: the pickle {err}", where=str(path),
                        fix="point at the CIFAR-10 python version's files; never unpickle files you do not trust") from None
    except Exception as err:  # any unpickling failure means a truncated or foreign file
        raise DataError(f"not a readable CIFAR-10 batch: {_one_line(err)}", where=str(path),
                        fix="the file is truncated or corrupt; extract cifar-10-python.tar.gz again") from None
    if not isinstance(obj, dict):
        raise DataError(f"holds a {type(obj).__name__}, expected a dict", where=str(path),
                        fix="point at the CIFAR-10 python version's batch files")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _load_batch(path)
    for key in ("data", "labels"):
        if key not in batch:
            raise DataError(f"batch has no {key!r} entry (keys: {', '.join(map(str, batch))})", where=str(path),
                            fix="point at the CIFAR-10 python version (CIFAR-100 is not supported)")
    data = np.asarray(batch["data"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _CIFAR_ROW:
        raise DataError(f"data is {data.dtype} {data.shape}, expected uint8 Nx{_CIFAR_ROW}", where=str(path),
                        fix="point at the CIFAR-10 python version's batch files")
    labels = np.asarray(batch["labels"], dtype=np.int64).reshape(-1)
    if len(labels) != len(data):
        raise DataError(f"{len(data)} images but {len(labels)} labels", where=str(path),
                        fix="the file is corrupt; extract cifar-10-python.tar.gz again")
    # rows are channel-major planes: N×3×32×32 → N×32×32×3 (a view; the caller's concatenate makes it contiguous)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_cifar10_dir(path: str | os.PathLike) -> RawData:
    """CIFAR-10 python batches (``data_batch_1``..``5``, ``test_batch``, ``batches.meta``) → 50k/10k 32×32×3.

    ``path`` is the ``cifar-10-batches-py`` folder or its parent.
    """
    directory = cifar_batches_dir(Path(path))
    if directory is None:
        raise DataError("no CIFAR-10 batches (data_batch_1..5, test_batch) here", where=str(path),
                        fix="extract cifar-10-python.tar.gz and point at cifar-10-batches-py/")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        if not (directory / name).is_file():
            raise DataError(f"missing CIFAR-10 batch {name}", where=str(directory),
                            fix="extract the whole cifar-10-python.tar.gz again")
    parts = [_read_batch(directory / name) for name in names]
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]])
    x_test, y_test = np.ascontiguousarray(parts[-1][0]), parts[-1][1]
    class_names: tuple[str, ...] = CIFAR10_CLASSES
    meta = directory / "batches.meta"
    if meta.is_file():
        names_raw = _load_batch(meta).get("label_names")
        if names_raw is not None:
            class_names = tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names_raw)
    return RawData(x_train, y_train, x_test, y_test, class_names, "cifar10-python")


# ── NPZ ──────────────────────────────────────────────────────────────────────────────────────────────────────────

def _uint8_fix(x: np.ndarray) -> str:
    """How to turn ``x`` into uint8 pixels, judged from its dtype and value range."""
    if x.size == 0:
        return "store uint8 images: x.astype(np.uint8)"
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            return "the array holds NaN or infinite values; clean them, then cast to uint8"
        if lo >= 0.0 and hi <= 1.0:
            return "values are in 0..1: (x * 255).round().astype(np.uint8)"
        if lo >= 0.0 and hi <= 255.0:
            return "values are already in 0..255: x.round().astype(np.uint8)"
        return f"values span {lo:g}..{hi:g}: rescale to 0..255 first, e.g. ((x - x.min()) / np.ptp(x) * 255).round().astype(np.uint8)"
    if np.issubdtype(x.dtype, np.integer):
        if lo >= 0 and hi <= 255:
            return "values are already in 0..255: x.astype(np.uint8)"
        if x.dtype == np.uint16 or (lo >= 0 and hi <= 65535):
            return "16-bit values: keep the top 8 bits, (x >> 8).astype(np.uint8)"
        return f"values span {lo:g}..{hi:g}: rescale to 0..255 first, then cast with .astype(np.uint8)"
    return "store images as a numeric array of uint8 pixels"


def _npz_images(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    if x.dtype != np.uint8:
        raise DataError(f"{key} must be uint8 images (0..255); got {x.dtype}", where=str(path), fix=_uint8_fix(x))
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[3] not in (1, 3):
        raise DataError(f"{key} must be NxHxW or NxHxWxC with C 1 or 3; got shape {x.shape}", where=str(path),
                        fix="store images channel-last, e.g. x.transpose(0, 2, 3, 1) for NxCxHxW")
    return x


def _npz_rate(rate: np.ndarray | None, path: Path) -> int | None:
    """An .npz with a ``sample_rate`` holds audio (what `helmholtz compress` writes for WAV data)."""
    if rate is None:
        return None
    if rate.size != 1 or not np.issubdtype(rate.dtype, np.integer) or not 1000 <= int(rate.reshape(-1)[0]) <= 192_000:
        raise DataError(f"sample_rate must be one integer in 1000..192000 Hz; got {rate!r}", where=str(path),
                        fix="store it as np.array(44100)")
    return int(rate.reshape(-1)[0])


def _npz_waves(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    if not np.issubdtype(x.dtype, np.floating) or x.ndim != 2:
        raise DataError(f"{key} must be float mono waves N×T (the .npz has a sample_rate); got {x.dtype} {x.shape}",
                        where=str(path), fix="store audio as float32 N×T in -1..1")
    if x.size and (not np.isfinite(x).all() or float(np.max(np.abs(x))) > 1.0 + 1e-6):
        raise DataError(f"{key} holds NaN, infinite or out-of-range samples (full scale is -1..1)", where=str(path),
                        fix="clean and normalise the waves to -1..1")
    return x.astype(np.float32, copy=False)


def _npz_labels(y: np.ndarray, key: str, n: int, path: Path) -> np.ndarray:
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{key} must hold integer class indices; got {y.dtype}", where=str(path),
                        fix="store labels as integers, e.g. y.astype(np.int64)")
    if y.ndim == 2 and y.shape[1] == 1:  # Keras' cifar10.load_data() gives N×1 labels
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"{key} has shape {y.shape} but there are {n} images", where=str(path),
                        fix="store one label per image")
    return y.astype(np.int64)


def read_npz(path: str | os.PathLike) -> RawData:
    """An ``.npz`` with ``x``, ``y`` (one pool) or ``x_train``, ``y_train`` [, ``x_val``, ``y_val``] [, ``x_test``,
    ``y_test``] — the layout `helmholtz compress` writes.

    ``x`` is uint8 N×H×W or N×H×W×C; an optional ``class_names`` array names the labels (else '0', '1', ...). A
    validation split joins the training pool, as ``val/`` does in a folder dataset: `make_dataset` carves its own
    validation split from the pool, with the ``--val-fraction`` and ``--split-seed`` asked for.
    """
    path = check_regular_file(path, fix="pass an .npz with x and y (or x_train, y_train, …)")
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            if "x_train" in keys or "y_train" in keys:
                want = (["x_train", "y_train"] + (["x_val", "y_val"] if keys & {"x_val", "y_val"} else [])
                        + (["x_test", "y_test"] if keys & {"x_test", "y_test"} else []))
            else:
                want = ["x", "y"]
            missing = [k for k in want if k not in keys]
            if missing:
                raise DataError(f"missing {', '.join(missing)} (holds {', '.join(sorted(keys)) or 'nothing'})",
                                where=str(path),
                                fix="save x and y, or x_train, y_train, x_test, y_test: np.savez(path, x=images, y=labels)")
            arrays = {k: z[k] for k in want}
            names = z["class_names"] if "class_names" in keys else None
            rate = z["sample_rate"] if "sample_rate" in keys else None
    except DataError:
        raise
    except ValueError as err:
        raise DataError(f"cannot load without pickle ({_one_line(err)})", where=str(path),
                        fix="store plain arrays; class_names as np.array(names, dtype=str)") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"not a readable .npz ({_one_line(err)})", where=str(path),
                        fix="write it with np.savez or np.savez_compressed") from None
    xk, yk = ("x_train", "y_train") if "x_train" in arrays else ("x", "y")
    sample_rate = _npz_rate(rate, path)
    items = _npz_images if sample_rate is None else _npz_waves
    x = items(arrays[xk], xk, path)
    y = _npz_labels(arrays[yk], yk, len(x), path)
    if "x_val" in arrays:
        x_val = items(arrays["x_val"], "x_val", path)
        y_val = _npz_labels(arrays["y_val"], "y_val", len(x_val), path)
        if x_val.shape[1:] != x.shape[1:]:
            raise DataError(f"x_val items are {x_val.shape[1:]} but x_train items are {x.shape[1:]}",
                            where=str(path), fix="store train and validation images of one size")
        x, y = np.concatenate([x, x_val]), np.concatenate([y, y_val])
    x_test = y_test = None
    if "x_test" in arrays:
        x_test = items(arrays["x_test"], "x_test", path)
        y_test = _npz_labels(arrays["y_test"], "y_test", len(x_test), path)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(f"x_test items are {x_test.shape[1:]} but x_train items are {x.shape[1:]}",
                            where=str(path), fix="store train and test images of one size")
    if names is not None:
        class_names = tuple(str(s) for s in np.asarray(names).reshape(-1).tolist())
    else:
        class_names = _digit_names(y, y_test)
    if sample_rate is not None:
        return RawData(x, y, x_test, y_test, class_names, "npz", modality="audio", sample_rate=sample_rate)
    return RawData(x, y, x_test, y_test, class_names, "npz")
