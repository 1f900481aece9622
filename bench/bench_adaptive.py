"""A whole answer, not one run: a fixed grid against `--until-decided`, on the same real data and cores.

Both sweeps train archs A and F on the same Fashion-MNIST subset with the same recipe. The fixed grid is the one a
user would pick without help: 8 levels (JPEG q 1, 5, 10, 20, 25, 50, 90 and the original) × 2 archs × 3 seeds.
The adaptive sweep starts from the coarse grid (q 5, 25, 50, 90 and the original, 3 seeds) and adds seeds and
levels where the answer is open. For each: runs trained, wall time, the width of N_approx's CI in bits, and
whether the status (and the A-vs-F verdict at q 25) is decided — from the same analysis (B = 2000, seed 0).

Usage: python bench/bench_adaptive.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

FIXED_LEVELS = (1, 5, 10, 20, 25, 50, 90, None)


def _hardware() -> str:
    from helmholtz.provenance import host_info

    info = host_info()
    return f"{info['cpu']} ({info['cpu_count']} cores)"


def _spec(levels, *, quick: bool):
    """The demo's data and recipe (`helmholtz.demos`), on the given levels with seeds 0, 1, 2."""
    from dataclasses import replace

    from helmholtz.demos import demo_spec

    return replace(demo_spec(quick=quick), levels=tuple(levels), seeds=(0, 1, 2))


def _answer(out: Path) -> dict:
    from helmholtz.analysis import analyze
    from helmholtz.report.build import load_observations

    obs, _ = load_observations(out)
    a = analyze(obs, n_boot=2000, seed=0)
    na, cmp = a.n_approx, a.headline_comparison
    width = (na.ci_bits[1] - na.ci_bits[0]) if na is not None and na.ci_bits else float("nan")
    return {"runs": obs.n_done, "status": na.status if na else "none", "level": na.display if na else "—",
            "ci_bits": na.ci_bits if na else None, "ci_width": width,
            "comparison": cmp.verdict if cmp else "—", "headline": a.headline}


def run(*, quick: bool = False) -> list[dict]:
    from helmholtz.adaptive.loop import coarse_levels, run_until_decided
    from helmholtz.sweep.runner import run_sweep

    hw = _hardware()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # both as the demo runs: 2 single-threaded runs at a time
        run = dict(quiet=True, workers=2, threads_per_run=1)
        t0 = time.perf_counter()
        run_sweep(_spec(FIXED_LEVELS, quick=quick), Path(tmp) / "fixed", **run)
        fixed_s = time.perf_counter() - t0
        fixed = _answer(Path(tmp) / "fixed")
        t0 = time.perf_counter()
        run_until_decided(_spec(coarse_levels("jpeg"), quick=quick), Path(tmp) / "adaptive",
                          max_runs=2 * len(FIXED_LEVELS) * 3, **run)
        adaptive_s = time.perf_counter() - t0
        adaptive = _answer(Path(tmp) / "adaptive")
    for name, r, secs in (("fixed grid 8 levels × 2 archs × 3 seeds", fixed, fixed_s),
                          ("--until-decided (coarse start, ≤ 48 runs)", adaptive, adaptive_s)):
        rows.append({"benchmark": f"whole answer: {name}", "ours": r["runs"], "baseline": "", "unit": "runs",
                     "ratio": "", "hardware": hw,
                     "notes": (f"{secs:.0f} s wall; N_approx {r['status']} at {r['level']}, CI width "
                               f"{r['ci_width']:.2f} bits/pixel {r['ci_bits']}; A vs F at q 25: {r['comparison']}")})
        print(f"{name}: {r['headline']}", file=sys.stderr)
    rows.append({"benchmark": "whole answer: adaptive / fixed", "ours": adaptive["runs"], "baseline": fixed["runs"],
                 "unit": "runs", "ratio": adaptive["runs"] / max(fixed["runs"], 1), "hardware": hw,
                 "notes": f"CI width {adaptive['ci_width']:.2f} vs {fixed['ci_width']:.2f} bits/pixel; wall "
                          f"{adaptive_s:.0f} s vs {fixed_s:.0f} s"})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for row in run(quick=args.quick):
        print(row)
