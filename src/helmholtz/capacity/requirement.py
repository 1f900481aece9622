"""The capacity a labelled dataset requires, estimated without training — numpy only, no torch.

Reference: Friedland, Metere & Krell (2018), algorithm "MaxCapReq", implemented in github.com/fractor/nntailoring
``capacityreq/capacityreq.py`` (and TFMeter's ``getReqCapacity``). Its steps, which `method="energy"` follows:

1. the energy of an item is the plain sum of its d features (optionally truncated to ``sigdigits`` decimals);
2. sort the items by energy with a stable sort (ties keep the data's order);
3. ``changes`` = how often the label switches along the sorted list;
4. estimated need = ceil(log2(changes + 1)) · d bits (a threshold per binary cut of the changes+1 clusters, each
   costing d weights); maximum need = changes · (d + 1) + changes bits (one neuron of d + 1 parameters per change
   plus one bit to combine it).

ceil(log2(changes + 1)) is computed exactly as ``changes.bit_length()``; it equals the reference's floating-point
``ceil(log(clusters)/log(2))`` for every count up to 4 million (checked). The reference says it is reliable for
balanced two-class problems only. For more than two classes we run it one-vs-rest: K binary problems (class c
against the rest) on the same sorted list, and their bits add (rule 3 of the MEC paper: neurons in parallel add).
``changes`` is then the sum of the K problems' changes (twice the multi-class label switches).

Two variants that respect the geometry of the data, with the same counting and the same formulas:

- ``projection``: the sum of the features is the projection onto the all-ones direction; we sort along ``k``
  seeded Gaussian random directions instead and report the median over directions and the spread (min, max, std).
- ``nn``: a change is an item whose nearest other item (Euclidean, in the input space) has another label — the
  analogue of "differs from its predecessor in the sorted list" without choosing a direction. Above ``nn_dims``
  features the distances are taken in the top ``nn_dims`` principal components (seeded randomised PCA).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from helmholtz.errors import ConfigError, DataError

Method = Literal["energy", "projection", "nn"]
METHODS: tuple[str, ...] = ("energy", "projection", "nn")

_CHUNK_ELEMS = 8_000_000   # float32 elements per block in the chunked matmuls (≈ 32 MB)


@dataclass(frozen=True)
class Requirement:
    """The capacity requirement of one labelled set by one method (bits, as the reference computes them)."""

    method: str
    scheme: str                       # 'binary' or 'one-vs-rest'
    n: int                            # items
    d: int                            # features per item
    classes: int
    changes: int                      # label changes (one-vs-rest: summed over the K problems); median for 'projection'
    estimated_bits: int               # Σ ceil(log2(changes_c + 1)) · d
    max_bits: int                     # Σ changes_c · (d + 1) + changes_c
    per_class_changes: tuple[int, ...]  # the changes of each binary problem (one entry for 'binary')
    class_balance: float              # share of the most frequent class (the reference's check for balance)
    spread: dict | None = None        # 'projection': min/max/std over the directions of changes and both bits
    params: dict | None = None        # the method's parameters (sigdigits, projections, nn_dims, seed)

    @property
    def change_rate(self) -> float:
        """Changes per item: ∝ n (a constant rate) means the labels look random along this view."""
        return self.changes / self.n if self.n else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["per_class_changes"] = list(self.per_class_changes)
        d["change_rate"] = self.change_rate
        return d


# ---------------------------------------------------------------- checks and the shared arithmetic


def as_features(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Items as rows of features (N×d, any numeric dtype) and labels as int64 0..K-1; DataError on bad input."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 1 or len(x) == 0:
        raise DataError(f"need at least one item; got x of shape {x.shape}", where="x", fix="pass a non-empty dataset")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"labels must be one per item; got y of shape {y.shape} for {len(x)} items", where="y",
                        fix="pass y with shape (N,)")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"features must be numeric; got dtype {x.dtype}", where="x", fix="convert to numbers")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        _, y = np.unique(y, return_inverse=True)  # other labels (e.g. the reference's -1/1) → 0..K-1, sorted
    flat = x.reshape(len(x), -1)
    if flat.shape[1] == 0:
        raise DataError("items have no features", where="x", fix="pass items with at least one feature")
    if np.issubdtype(flat.dtype, np.floating) and not np.isfinite(flat).all():
        raise DataError("features contain NaN or infinity", where="x", fix="clean or impute the features first")
    return flat, y.astype(np.int64)


def bits_from_changes(changes: Sequence[int] | np.ndarray, d: int) -> tuple[int, int]:
    """(estimated, maximum) bits of binary problems with the given label changes and d features each, summed:
    Σ ceil(log2(c + 1))·d and Σ c·(d + 1) + c. ceil(log2(c + 1)) == c.bit_length() for integers c ≥ 0."""
    cs = [int(c) for c in np.asarray(changes).ravel()]
    return sum(c.bit_length() * d for c in cs), sum(c * (d + 1) + c for c in cs)


def _classes(y: np.ndarray) -> int:
    return int(y.max()) + 1


def count_changes(sorted_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Label changes of each binary problem along the columns of ``sorted_labels`` (N, or N×k), as (k, P) ints.

    Two classes: P = 1, the plain count of switches. More: P = K one-vs-rest problems; a switch from a to b is a
    change for problem a and for problem b (every other class stays 'rest' on both sides).
    """
    ys = sorted_labels.reshape(len(sorted_labels), -1)
    k = ys.shape[1]
    switch = ys[1:] != ys[:-1]
    if n_classes <= 2:
        return switch.sum(axis=0).astype(np.int64)[:, None]
    col = np.broadcast_to(np.arange(k), switch.shape)[switch]
    before, after = ys[:-1][switch], ys[1:][switch]
    counts = np.bincount(col * n_classes + before, minlength=k * n_classes)
    counts += np.bincount(col * n_classes + after, minlength=k * n_classes)
    return counts.reshape(k, n_classes).astype(np.int64)


def _requirement(method: str, changes: np.ndarray, *, n: int, d: int, y: np.ndarray, k_classes: int,
                 params: dict, spread: dict | None = None) -> Requirement:
    est, mx = bits_from_changes(changes, d)
    counts = np.bincount(y, minlength=k_classes)
    return Requirement(
        method=method, scheme="binary" if k_classes <= 2 else "one-vs-rest", n=n, d=d, classes=k_classes,
        changes=int(np.sum(changes)), estimated_bits=est, max_bits=mx,
        per_class_changes=tuple(int(c) for c in np.ravel(changes)), class_balance=float(counts.max() / n),
        spread=spread, params=params,
    )


# ---------------------------------------------------------------- the three methods


def energies(x: np.ndarray, *, sigdigits: int | None = None) -> np.ndarray:
    """The reference's energy of each item: the sum of its features (float64), optionally truncated toward zero to
    ``sigdigits`` decimals as ``int(e·10^s)/10^s`` (the reference's rounding for noisy data)."""
    flat = x.reshape(len(x), -1)
    e = flat.sum(axis=1, dtype=np.int64 if np.issubdtype(flat.dtype, np.integer) else np.float64).astype(np.float64)
    if sigdigits is not None:
        scale = 10.0 ** int(sigdigits)
        e = np.trunc(e * scale) / scale
    return e


def _matmul_chunked(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x (N×d, any dtype) @ w (d×k, float32) in float32, converting x a block of rows at a time."""
    rows = max(1, _CHUNK_ELEMS // max(1, x.shape[1]))
    out = np.empty((len(x), w.shape[1]), dtype=np.float32)
    for lo in range(0, len(x), rows):
        out[lo:lo + rows] = x[lo:lo + rows].astype(np.float32) @ w
    return out


def random_directions(d: int, k: int, *, seed: int) -> np.ndarray:
    """k seeded Gaussian directions in R^d (d×k float32, unit columns)."""
    w = np.random.default_rng([seed, 0x5EED]).standard_normal((d, k))
    return (w / np.linalg.norm(w, axis=0, keepdims=True)).astype(np.float32)


def pca_reduce(x: np.ndarray, dims: int, *, seed: int) -> np.ndarray:
    """Items projected on their top ``dims`` principal components (randomised PCA with one power iteration,
    seeded), float32; items with at most ``dims`` features come back centred but otherwise unchanged."""
    xf = x.astype(np.float32)
    xf -= xf.mean(axis=0, dtype=np.float64).astype(np.float32)
    if xf.shape[1] <= dims:
        return xf
    rng = np.random.default_rng([seed, 0x9CA])
    g = rng.standard_normal((xf.shape[1], dims + 10)).astype(np.float32)
    q, _ = np.linalg.qr(xf @ g)
    q, _ = np.linalg.qr(xf @ (xf.T @ q))          # one power iteration sharpens the spectrum
    _, _, vt = np.linalg.svd(q.T @ xf, full_matrices=False)
    return xf @ vt[:dims].T


def nearest_neighbours(z: np.ndarray) -> np.ndarray:
    """Index of each row's nearest other row (squared Euclidean, ties → lowest index), blockwise in float32."""
    z = np.ascontiguousarray(z, dtype=np.float32)
    n = len(z)
    sq = np.einsum("ij,ij->i", z, z)
    out = np.empty(n, dtype=np.int64)
    rows = max(1, _CHUNK_ELEMS // max(1, n))
    for lo in range(0, n, rows):
        hi = min(n, lo + rows)
        dist = z[lo:hi] @ z.T
        dist *= -2.0
        dist += sq[None, :]
        dist += sq[lo:hi, None]
        dist[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        out[lo:hi] = dist.argmin(axis=1)
    return out


def capacity_requirement(
    x: np.ndarray,
    y: np.ndarray,
    *,
    method: Method = "energy",
    sigdigits: int | None = None,
    projections: int = 16,
    nn_dims: int | None = 64,
    seed: int = 0,
    n_classes: int | None = None,
) -> Requirement:
    """The capacity (bits) that labelled items ``x`` (N×…, flattened to N×d features) with labels ``y`` require.

    ``method='energy'``: the reference algorithm, faithfully (sum of features, stable sort, label changes;
    ``sigdigits`` truncates the energies as the reference's optional argument does). ``'projection'``: the same
    along ``projections`` seeded random directions; the fields hold the median over directions and ``spread`` their
    min/max/std. ``'nn'``: changes are items whose nearest neighbour has another label; ``nn_dims`` caps the
    features the distances use (top principal components; None = all features). Two classes are one binary problem;
    more are K one-vs-rest problems whose bits add; ``n_classes`` fixes K when a subset lacks some class.
    """
    flat, y = as_features(x, y)
    n, d = flat.shape
    k_classes = max(2, _classes(y), n_classes or 0)
    if method == "energy":
        order = np.argsort(energies(flat, sigdigits=sigdigits), kind="stable")
        changes = count_changes(y[order], k_classes)[0]
        return _requirement("energy", changes, n=n, d=d, y=y, k_classes=k_classes,
                            params={"sigdigits": sigdigits})
    if method == "projection":
        if projections < 1:
            raise ConfigError(f"projections must be ≥ 1; got {projections}", where="--projections", fix="e.g. 16")
        e = _matmul_chunked(flat, random_directions(d, projections, seed=seed))
        order = np.argsort(e, axis=0, kind="stable")
        per = count_changes(y[order], k_classes)                      # projections × problems
        bits = np.array([bits_from_changes(row, d) for row in per])   # projections × (est, max)
        totals = per.sum(axis=1)
        mid = int(np.argsort(totals, kind="stable")[(len(totals) - 1) // 2])  # the (lower) median direction
        spread = {
            "projections": projections,
            "changes": _stats(totals), "estimated_bits": _stats(bits[:, 0]), "max_bits": _stats(bits[:, 1]),
        }
        return _requirement("projection", per[mid], n=n, d=d, y=y, k_classes=k_classes, spread=spread,
                            params={"projections": projections, "seed": seed})
    if method == "nn":
        if nn_dims is not None and nn_dims < 1:
            raise ConfigError(f"nn_dims must be ≥ 1 (or None for all features); got {nn_dims}", where="--nn-dims",
                              fix="e.g. --nn-dims 64")
        if n < 2:
            raise DataError("the nearest-neighbour method needs at least 2 items", where="x", fix="pass more items")
        # centred in float32 either way: |a|² + |b|² − 2a·b loses less to cancellation near the origin
        z = pca_reduce(flat, nn_dims if nn_dims is not None else flat.shape[1], seed=seed)
        nn = nearest_neighbours(z)
        differs = y != y[nn]
        if k_classes <= 2:
            changes = np.array([int(differs.sum())])
        else:  # item i is a change for problem y_i and for problem y_nn(i)
            changes = np.bincount(y[differs], minlength=k_classes) + np.bincount(y[nn][differs], minlength=k_classes)
        return _requirement("nn", changes, n=n, d=d, y=y, k_classes=k_classes,
                            params={"nn_dims": min(nn_dims, d) if nn_dims is not None else d, "seed": seed})
    raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {method!r}", where="--method",
                      fix="e.g. --method energy")


def _stats(v: np.ndarray) -> dict:
    v = np.asarray(v, dtype=np.float64)
    return {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max()), "std": float(v.std())}
