"""Capacity requirement on a 60k-item level: the vectorised reference algorithm against the reference's own way
(a Python loop summing each row, Python's sorted, a loop counting label changes), and the nearest-neighbour variant
in 64 principal components against all 784 pixels. Fashion-MNIST train + validation (60k × 28×28 gray; 6000 with
quick=True), one level (the original), measured in the same run.

Usage: python bench/bench_capacity.py [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _hardware() -> str:
    from helmholtz.provenance import host_info

    info = host_info()
    return f"{info['cpu']} ({info['cpu_count']} cores)"


def _naive_energy_changes(x: np.ndarray, y: np.ndarray) -> int:
    """The reference's loop structure (one-vs-rest summed, as ours): row sums in Python, sorted, switches counted."""
    rows = [(float(sum(float(v) for v in row)), int(c)) for row, c in zip(x.reshape(len(x), -1).tolist(), y, strict=True)]
    ordered = sorted(rows, key=lambda r: r[0])
    total = 0
    for cls in range(int(y.max()) + 1):
        cur = ordered[0][1] == cls
        for _, label in ordered:
            if (label == cls) != cur:
                total += 1
                cur = label == cls
    return total


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(*, quick: bool = False) -> list[dict]:
    from helmholtz.capacity.requirement import capacity_requirement
    from helmholtz.data import load_dataset

    ds = load_dataset("fashion-mnist")
    x = np.concatenate([ds.x_train, ds.x_val])
    y = np.concatenate([ds.y_train, ds.y_val])
    if quick:
        x, y = x[:6000], y[:6000]
    n, hardware = len(x), _hardware()
    t_ours, ours = _timed(lambda: capacity_requirement(x, y, method="energy"))
    t_naive, naive = _timed(lambda: _naive_energy_changes(x, y))
    assert naive == ours.changes, (naive, ours.changes)
    rows = [{
        "benchmark": f"capacity requirement, reference algorithm (energy), {n} × 784 Fashion-MNIST, 10 classes one-vs-rest",
        "ours": n / t_ours, "baseline": n / t_naive, "unit": "items/s", "ratio": t_naive / t_ours, "hardware": hardware,
        "notes": f"ours {t_ours:.2f} s, Python loops {t_naive:.1f} s; both count {ours.changes:,} changes",
    }]
    t_pca, pca = _timed(lambda: capacity_requirement(x, y, method="nn", nn_dims=64))
    t_full, full = _timed(lambda: capacity_requirement(x, y, method="nn", nn_dims=None))
    rows.append({
        "benchmark": f"capacity requirement, nearest-neighbour variant, {n} items: 64 principal components vs 784 pixels",
        "ours": n / t_pca, "baseline": n / t_full, "unit": "items/s", "ratio": t_full / t_pca, "hardware": hardware,
        "notes": (f"{t_pca:.1f} s vs {t_full:.1f} s; changes {pca.changes:,} vs {full.changes:,} "
                  f"({(pca.changes - full.changes) / full.changes:+.1%})"),
    })
    t_proj, proj = _timed(lambda: capacity_requirement(x, y, method="projection", projections=16))
    rows.append({
        "benchmark": f"capacity requirement, 16 random projections, {n} items",
        "ours": n / t_proj, "baseline": n / t_ours, "unit": "items/s", "ratio": t_ours / t_proj, "hardware": hardware,
        "notes": f"{t_proj:.2f} s (baseline column: the single all-ones projection, {t_ours:.2f} s); "
                 f"changes {proj.spread['changes']['min']:,.0f}–{proj.spread['changes']['max']:,.0f}",
    })
    return rows


def main(argv: list[str] | None = None) -> int:
    from table import markdown

    print(markdown(run(quick="--quick" in (argv if argv is not None else sys.argv[1:]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
