"""The `Dataset` every stage consumes: fixed splits, labels, class names and a content hash.

Readers return a `RawData` (the dataset's own train/test split, or one pool). `make_dataset` takes stratified
subsets (`train_size`, `test_size`), carves the validation split from the training data (never from test), and
hashes the result. All randomness here uses `split_seed`, which is independent of any run's training seed, so the
splits are fixed for a dataset whatever the sweep does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from helmholtz.errors import ConfigError, DataError

Modality = Literal["image", "audio"]


@dataclass(frozen=True, eq=False)
class RawData:
    """What a reader found. ``x_test is None`` when the source has no test split of its own."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...]
    format: str
    modality: Modality = "image"
    sample_rate: int | None = None


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset with fixed train/validation/test splits.

    Images are uint8 N×H×W×C; audio is float32 N×T mono waves at ``sample_rate``. Labels are int64 in
    [0, n_classes). ``content_hash`` covers every array, the class names and the split, so two datasets with the
    same hash hold the same bytes in the same splits.
    """

    name: str
    source: str
    format: str
    modality: Modality
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    content_hash: str
    sample_rate: int | None = None
    info: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def item_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def split_sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def with_arrays(self, *, x_train: np.ndarray, x_val: np.ndarray, x_test: np.ndarray, **info) -> Dataset:
        """The same dataset with transformed inputs (e.g. a codec round trip); the hash is recomputed."""
        out = replace(self, x_train=x_train, x_val=x_val, x_test=x_test, info={**self.info, **info})
        return replace(out, content_hash=content_hash(out))


def content_hash(ds: Dataset | RawData) -> str:
    """blake2b over every array's dtype, shape and bytes, plus the class names (hex, 16 bytes)."""
    h = hashlib.blake2b(digest_size=16)
    names = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
    for name in names:
        arr = getattr(ds, name, None)
        if arr is None:
            continue
        arr = np.ascontiguousarray(arr)
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(memoryview(arr).cast("B"))
    h.update("\x1f".join(ds.class_names).encode())
    return h.hexdigest()


def stratified_indices(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a stratified sample of ``size`` items: each class keeps its share, rounded fairly."""
    n = len(labels)
    if size >= n:
        return np.arange(n)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (size / n)
    take = np.floor(exact).astype(int)
    # hand the remaining slots to the classes with the largest fractional parts (ties by class order)
    remainder = size - take.sum()
    order = np.argsort(-(exact - take), kind="stable")
    take[order[:remainder]] += 1
    picked = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)]
    return np.sort(np.concatenate(picked))


def _stratified_subset(x: np.ndarray, y: np.ndarray, size: int, split: str, items: str, source: str,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """--train-size / --test-size: a stratified subset of ``size`` items of one split, or ConfigError if too few."""
    if size > len(y):
        raise ConfigError(f"--{split}-size {size} exceeds the {len(y)} {items} items", where=source,
                          fix=f"use --{split}-size ≤ {len(y)}")
    idx = stratified_indices(y, size, rng)
    return x[idx], y[idx]


def _split_off(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (keep, held_out) index arrays with about ``fraction`` of each class held out (at least 1)."""
    held = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(len(idx) * fraction))
        k = min(max(k, 1), len(idx) - 1) if len(idx) > 1 else 0
        held.append(idx[:k])
    held_idx = np.sort(np.concatenate(held)) if held else np.array([], dtype=int)
    keep = np.setdiff1d(np.arange(len(labels)), held_idx)
    return keep, held_idx


def make_dataset(
    raw: RawData,
    *,
    name: str,
    source: str,
    train_size: int | None = None,
    test_size: int | None = None,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    split_seed: int = 0,
) -> Dataset:
    """Fix the splits of ``raw``: optional stratified subsets, then validation carved from training data.

    ``train_size`` counts the training pool *before* the validation split is carved out of it, so
    ``train_size=10000, val_fraction=0.1`` trains on 9000 and validates on 1000. Sources without a test split of
    their own lose ``test_fraction`` of their items (stratified, seeded) to a test split first.
    """
    from helmholtz.checks import check_fraction, check_int, check_seed

    check_fraction(val_fraction, option="--val-fraction")
    check_seed(split_seed, option="--split-seed")
    for option, size in (("--train-size", train_size), ("--test-size", test_size)):
        if size is not None:
            check_int(size, option=option, lo=1, example=1000)
    y_all = np.asarray(raw.y_train, dtype=np.int64)
    if len(y_all) == 0:
        raise DataError("the dataset has no training items", where=source, fix="point at a non-empty dataset")
    n_classes = len(raw.class_names)
    if y_all.min() < 0 or y_all.max() >= n_classes:
        raise DataError(
            f"labels must lie in [0, {n_classes}); found {int(y_all.min())}..{int(y_all.max())}",
            where=source, fix="relabel the data or supply one class name per label",
        )
    present = np.unique(y_all if raw.y_test is None else np.concatenate([y_all, np.asarray(raw.y_test, np.int64)]))
    if len(present) < 2:
        only = raw.class_names[int(present[0])] if len(present) else "none"
        raise DataError(
            f"only one class ({only!r}) has items; a classifier needs at least two", where=source,
            fix="add a folder (or labels) for at least one more class",
        )
    # one generator per draw, so that e.g. the test subset does not depend on whether train_size was given
    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([split_seed, stream])

    x_pool, y_pool = raw.x_train, y_all
    if raw.x_test is None:
        keep, held = _split_off(y_pool, test_fraction, rng(0))
        x_test, y_test = x_pool[held], y_pool[held]
        x_pool, y_pool = x_pool[keep], y_pool[keep]
    else:
        x_test, y_test = raw.x_test, np.asarray(raw.y_test, dtype=np.int64)
    if train_size is not None:
        x_pool, y_pool = _stratified_subset(x_pool, y_pool, train_size, "train", "training", source, rng(1))
    if test_size is not None:
        x_test, y_test = _stratified_subset(x_test, y_test, test_size, "test", "test", source, rng(2))
    keep, held = _split_off(y_pool, val_fraction, rng(3))
    if len(held) == 0 or len(keep) == 0:
        raise DataError(
            f"too few training items ({len(y_pool)}) to carve a validation split", where=source,
            fix="use a larger --train-size",
        )
    ds = Dataset(
        name=name, source=source, format=raw.format, modality=raw.modality,
        x_train=np.ascontiguousarray(x_pool[keep]), y_train=y_pool[keep],
        x_val=np.ascontiguousarray(x_pool[held]), y_val=y_pool[held],
        x_test=np.ascontiguousarray(x_test), y_test=y_test,
        class_names=tuple(raw.class_names), content_hash="", sample_rate=raw.sample_rate,
        info={"train_size": train_size, "test_size": test_size, "val_fraction": val_fraction, "split_seed": split_seed},
    )
    return replace(ds, content_hash=content_hash(ds))
