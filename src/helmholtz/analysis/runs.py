"""One stored run row as the analysis reads it: its level key, its JSON and number columns, its per-item
correctness, and its epoch facts (`RunInfo`), recomputed from its validation history when the store has it.

A row is a plain mapping, shaped like `Store.runs()` (or an export of it), so nothing here names the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from helmholtz.codecs.registry import CODECS, REFERENCE, level_label
from helmholtz.train.convergence import convergence


@dataclass(frozen=True)
class RunInfo:
    """What the epoch analysis needs of one run: its history's verdicts, not its numbers' means."""

    model: str
    level: str
    seed: int
    epochs_run: int | None
    epoch_cap: int | None             # the recipe's epoch limit
    best_epoch: int | None
    epochs_to_converge: int | None    # the paper's rule on full 10-epoch windows only; None when censored
    censored: bool                    # no full window reached the rule: converged at ≥ `censored_at`, or never
    censored_at: int | None
    still_improving: bool             # best validation epoch = last epoch, and the cap stopped it
    wall_s: float | None = None
    train_acc: float | None = None    # training accuracy at the best validation epoch (the kept weights)


def parse_json(value: Any) -> Any:
    """A *_json column as Python: the store keeps JSON text, exports may already have parsed it."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def number(row: Mapping[str, Any] | None, key: str, scale: float = 1.0) -> float | None:
    """A number column of a row (None for a missing row or value), times ``scale``."""
    value = None if row is None else row.get(key)
    return None if value is None else float(value) * scale


def row_key(row: Mapping[str, Any]) -> str:
    """The level key of a store row: its ``level_label``, else the registry's label of its codec and level."""
    if row.get("level_label"):
        return str(row["level_label"])
    level, codec = row.get("level"), str(row.get("codec") or "")
    if level is None:
        return REFERENCE
    return level_label(codec, int(level), check=False) if codec in CODECS else str(level)


def correct_items(run: Mapping[str, Any], labels: np.ndarray | None) -> np.ndarray | None:
    """Per-item correctness (bool, one per test item) of a run's stored predictions; None without them."""
    blob = run.get("predictions")
    if blob is None or labels is None:
        return None
    dtype = np.uint8 if int(run.get("n_classes") or 0) <= 256 else np.uint16
    pred = np.frombuffer(bytes(blob), dtype=dtype)
    if pred.shape != labels.shape:
        return None
    return pred == labels


#: annealed schedules (one-cycle, cosine) end at lr 0, so their best epoch is nearly always the last: such a run
#: counts as still improving only when its last epoch gained more than this over every earlier one (half of the
#: default margin δ = 1 pp, in accuracy)
ANNEALED_GAIN = 0.005
ANNEALED = ("onecycle", "cosine")


def _schedule(run: Mapping[str, Any]) -> str | None:
    spec = parse_json(run.get("spec_json"))
    try:
        return str(spec["options"].get("schedule"))
    except (KeyError, TypeError, AttributeError):
        return None


def _epoch_cap(run: Mapping[str, Any]) -> int | None:
    spec = parse_json(run.get("spec_json"))
    try:
        return int(spec["options"]["epochs"])
    except (KeyError, TypeError, ValueError):
        return None


def run_info(run: Mapping[str, Any], history: Sequence[float] | None,
             train_history: Sequence[float] | None = None) -> RunInfo:
    """Epoch facts of one stored run, recomputed from its validation history when the store has it."""
    cap, ran = _epoch_cap(run), run.get("epochs_run")
    best = run.get("best_epoch")
    if history:
        conv = convergence(history)
        etc, censored, at = conv.epoch, conv.censored, conv.censored_at
        ran = len(history)
        best = int(np.argmax(history)) + 1
    else:  # no history: only a stored value from a full window could be trusted, and old stores used a shrinking one
        etc, censored, at = None, True, None
    capped = cap is not None and ran is not None and int(ran) >= cap
    improving = bool(best is not None and ran is not None and int(best) == int(ran) and capped)
    if improving and history and len(history) >= 2 and _schedule(run) in ANNEALED:
        improving = float(history[-1]) - float(max(history[:-1])) > ANNEALED_GAIN
    train_acc = None
    if train_history and best is not None and 1 <= int(best) <= len(train_history):
        train_acc = float(train_history[int(best) - 1])
    return RunInfo(model=str(run["arch"]), level=row_key(run), seed=int(run["seed"]),
                   epochs_run=None if ran is None else int(ran), epoch_cap=cap,
                   best_epoch=None if best is None else int(best), epochs_to_converge=etc, censored=censored,
                   censored_at=at, still_improving=improving, wall_s=number(run, "wall_s"), train_acc=train_acc)


__all__ = ["ANNEALED_GAIN", "RunInfo", "correct_items", "number", "parse_json", "row_key", "run_info"]
