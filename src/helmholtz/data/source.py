"""A dataset argument as the API takes it: a known name, a path, or a `Dataset` already loaded.

`resolve_dataset` loads a name or path with the split options given (a loaded `Dataset` passes through, and then
takes none); `source_name` is how a spec records where the data came from, so a sweep resumes from any directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helmholtz.errors import ConfigError

if TYPE_CHECKING:
    from helmholtz.data.dataset import Dataset

#: the Parquet column overrides (a loaded Dataset takes none)
COLUMNS = ("image_column", "label_column")
#: the options that re-split a dataset
SPLIT_OPTIONS = ("train_size", "test_size", "val_fraction")


def columns(image_column: str | None, label_column: str | None) -> dict[str, str]:
    """The Parquet column overrides that were given."""
    return {k: v for k, v in (("image_column", image_column), ("label_column", label_column)) if v}


def resolve_dataset(source: Any, **load: Any) -> Dataset:
    """A `Dataset` passes through (its subset and split options must then be left out); anything else is loaded
    with ``load`` (`helmholtz.data.load_dataset`'s options), checked before anything is read."""
    from helmholtz.data import check_split_options, load_dataset
    from helmholtz.data.dataset import Dataset

    check_split_options(**{k: v for k, v in load.items() if k not in COLUMNS})
    if isinstance(source, Dataset):
        given = {k: v for k, v in load.items() if k in (*SPLIT_OPTIONS, *COLUMNS) and v is not None}
        if given:
            raise ConfigError(f"{', '.join(given)} cannot re-split a Dataset that is already loaded",
                              fix="pass these to hz.load_dataset, or pass the name or path instead of the Dataset")
        return source
    return load_dataset(source, **load)


def source_name(source: Any, ds: Any) -> str:
    """How a spec records the dataset: an existing path absolute (resumable from any directory), a name as given,
    a loaded Dataset by its source path."""
    from helmholtz.data.dataset import Dataset
    from helmholtz.data.locate import known_name

    if isinstance(source, Dataset):
        return ds.source
    text = os.fspath(source)
    if known_name(text) is not None:   # a known name wins over a folder of that name (as load_dataset decides)
        return text
    p = Path(text).expanduser()
    return str(p.resolve()) if p.exists() else text


def inspect_dataset(source: Any, **load: Any) -> dict[str, Any]:
    """What `helmholtz inspect` shows: the dataset loaded with ``load``, described (`describe_dataset`)."""
    from helmholtz.data import describe_dataset, load_dataset

    return describe_dataset(load_dataset(source, **load))
