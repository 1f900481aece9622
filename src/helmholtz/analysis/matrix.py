"""The train-level × test-level matrix: what a model trained at one level loses on data of another.

For each architecture, each (train level T, test level S) cell compares the models trained at T and tested on S
with the *matched* cell, the models trained and tested at S: d = acc(T → S) − acc(S → S). That is the cost of
deploying a model trained on T-quality data to S-quality data, against training on S itself. The intervals come
from the same paired bootstrap as every other number (`analysis.bootstrap`): the two cells are paired over seeds
(seed s at T and seed s at S) and over the test items (the same items of S's test split), and the verdict rule is
`verdicts.margin_verdict`'s, the one N_approx uses: *holds* when the lower one-sided 95 % bound is above −δ, *drops*
when the upper is below −δ, *inconclusive* otherwise (fewer than 3 common seeds too).

The headline's line (`serving`): the lowest test level, walking down from the original in the fixed testing order
and stopping at the first that does not hold, that a model trained at N_approx serves within δ — and the same for
a model trained on the original.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from helmholtz.analysis.bootstrap import N_BOOT, PairedBootstrap
from helmholtz.analysis.observations import Observations
from helmholtz.analysis.tolerance import Tolerance
from helmholtz.analysis.verdicts import margin_verdict

_SEP = "→"


@dataclass(frozen=True)
class MatrixCell:
    model: str
    train: str                        # level key the models were trained at
    test: str                         # level key of the test split
    acc: float                        # mean accuracy of the models trained at `train` on `test`
    diff: float | None                # acc − acc(test → test); 0 on the diagonal
    ci: tuple[float, float] | None    # the one-sided 95 % bounds (a 90 % interval)
    verdict: str                      # holds | drops | inconclusive | matched (the diagonal)
    n_seeds: int
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ci"] = list(self.ci) if self.ci else None
        return d


@dataclass(frozen=True)
class Serving:
    """How far down a model trained at one level serves test data within δ (the fixed-sequence walk)."""

    model: str
    train: str
    lowest: str | None                # the lowest test level served (None: not even the first below)
    stopped_at: str | None            # the first test level that does not hold, and why
    stop_verdict: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Matrix:
    levels: tuple[str, ...]           # the level keys of the axes, in testing order (the original first)
    cells: tuple[MatrixCell, ...]
    serving: tuple[Serving, ...]
    tolerance: Tolerance

    def cell(self, model: str, train: str, test: str) -> MatrixCell | None:
        return next((c for c in self.cells if (c.model, c.train, c.test) == (model, train, test)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"levels": list(self.levels), "tolerance_pp": self.tolerance.pp,
                "cells": [c.to_dict() for c in self.cells], "serving": [s.to_dict() for s in self.serving]}


def cross_key(train: str, test: str) -> str:
    return f"{train}{_SEP}{test}"


def build_matrix(obs: Observations, *, tolerance: Tolerance, n_boot: int = N_BOOT, seed: int = 0,
                 trained_at: dict[str, tuple[str, ...]] | None = None, codec: str | None = None) -> Matrix | None:
    """The matrix of every architecture with cross evaluations (`Observations.cross`); None without any.
    ``trained_at``: per model, the train levels whose serving walk the headline wants (besides the original);
    ``codec``: the walk goes down this codec's levels (default: the first codec)."""
    if not obs.cross:
        return None
    cells = dict(obs.cells)
    for (m, t, s), c in obs.cross.items():
        if (m, s) in obs.cells:
            cells[(m, cross_key(t, s))] = c
    boot = PairedBootstrap(replace(obs, cells=cells), n_boot=n_boot, seed=seed)
    order = [lv.key for lv in obs.levels]
    out: list[MatrixCell] = []
    for m in obs.models:
        trains = [t for t in order if (m, t) in obs.cells]
        for t in trains:
            for s in order:
                if (m, s) not in obs.cells:
                    continue
                if s == t:
                    c = obs.cells[(m, s)]
                    out.append(MatrixCell(m, t, s, c.mean, 0.0, None, "matched", c.n))
                    continue
                if (m, t, s) not in obs.cross:
                    continue
                key = (m, cross_key(t, s))
                n = boot.common_seeds(key, (m, s))
                acc = obs.cross[(m, t, s)].mean
                if n == 0:
                    out.append(MatrixCell(m, t, s, acc, None, None, "inconclusive", 0, "no seed in common"))
                    continue
                d = boot.diff(key, (m, s))
                verdict, ci, reason = margin_verdict(d, n, tolerance)
                out.append(MatrixCell(m, t, s, acc, d.point, ci, verdict, n, reason))
    matrix = Matrix(levels=tuple(order), cells=tuple(out), serving=(), tolerance=tolerance)
    family = obs.family(codec or (obs.codecs() or ("",))[0])
    walk = tuple(lv.key for lv in obs.levels if lv.is_reference) + tuple(lv.key for lv in family)
    walks = []
    for m in obs.models:
        for t in dict.fromkeys((trained_at or {}).get(m, ()) + (order[0],)):
            if (m, t) in obs.cells:
                walks.append(serving(matrix, m, t, walk))
    return replace(matrix, serving=tuple(walks))


def serving(matrix: Matrix, model: str, train: str, walk: tuple[str, ...] | None = None) -> Serving:
    """Walk the test levels ``walk`` (default: all) from the most bits down; the last that holds before the first
    that does not (the fixed sequence of N_approx, so one walk is one test at 5 %)."""
    lowest, stop, why = None, None, None
    for s in walk or matrix.levels:
        c = matrix.cell(model, train, s)
        if c is None:
            continue
        if c.verdict in ("holds", "matched"):
            lowest = s
            continue
        stop, why = s, c.verdict
        break
    return Serving(model=model, train=train, lowest=lowest, stopped_at=stop, stop_verdict=why)
