"""A whole answer, not one run: a fixed grid against `--until-decided`, on the same real data and cores.

Both sweeps train archs A and F on the demo's Fashion-MNIST subset with the demo's recipe (`helmholtz.demos`). The
fixed grid is the one a user would pick without help: 8 levels (JPEG q 1, 5, 10, 20, 25, 50, 90 and the original) ×
2 archs, trained with 6 seeds and analysed on its first 3, 4, 5 and 6 seeds (48, 64, 80, 96 runs), so one sweep
shows how the fixed grid's answer tightens with runs. The adaptive sweep starts from the coarse grid (q 5, 25, 50,
90 and the original, 3 seeds) with the demo's budget (70 runs, 18 min of summed training) and adds seeds and levels
where the answer is open. For each: runs trained, wall time, the width of N_approx's CI in bits, and whether the
status (and the A-vs-F verdict at q 25) is decided — from the same analysis (B = 2000, seed 0). The headline row:
how many runs the fixed grid needs to reach the adaptive sweep's CI width.

Usage: python bench/bench_adaptive.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

FIXED_LEVELS = (1, 5, 10, 20, 25, 50, 90, None)
FIXED_SEEDS = (3, 4, 5, 6)       # the fixed grid analysed on its first k seeds
DECIDED = ("found", "holds_everywhere")


def _hardware() -> str:
    from helmholtz.provenance import host_info

    info = host_info()
    return f"{info['cpu']} ({info['cpu_count']} cores)"


def _spec(levels, *, seeds: int, quick: bool):
    """The demo's data and recipe (`helmholtz.demos`), on the given levels with seeds 0 .. seeds-1."""
    from helmholtz.demos import demo_spec

    return replace(demo_spec(quick=quick), levels=tuple(levels), seeds=tuple(range(seeds)))


def _first_seeds(obs, k: int):
    """The observations restricted to seeds 0 .. k-1 (what a fixed grid with k seeds would have stored)."""
    import numpy as np

    cells = {}
    for key, cell in obs.cells.items():
        keep = np.array([s < k for s in cell.seeds])
        if keep.any():
            cells[key] = replace(cell, seeds=tuple(s for s in cell.seeds if s < k), acc=cell.acc[keep],
                                 correct=None if cell.correct is None else cell.correct[keep])
    return replace(obs, cells=cells, runs=tuple(r for r in obs.runs if r.seed < k))


def _answer(obs) -> dict:
    from helmholtz.analysis import analyze

    a = analyze(obs, n_boot=2000, seed=0)
    na, cmp = a.n_approx, a.headline_comparison
    width = (na.ci_bits[1] - na.ci_bits[0]) if na is not None and na.ci_bits else float("nan")
    return {"runs": obs.n_done, "status": na.status if na else "none", "level": na.display if na else "—",
            "ci_bits": na.ci_bits if na else None, "ci_width": width,
            "comparison": cmp.verdict if cmp else "—", "headline": a.headline}


def _row(name: str, r: dict, notes: str, hw: str) -> dict:
    ci = "—" if not r["ci_bits"] else f"[{r['ci_bits'][0]:.2f}, {r['ci_bits'][1]:.2f}]"
    return {"benchmark": f"whole answer: {name}", "ours": r["runs"], "baseline": "", "unit": "runs", "ratio": "",
            "hardware": hw, "notes": (f"{notes}N_approx {r['status']} at {r['level']}, CI {ci} bits/pixel (width "
                                      f"{r['ci_width']:.2f}); A vs F at q 25: {r['comparison']}")}


def run(*, quick: bool = False) -> list[dict]:
    from helmholtz.adaptive.loop import coarse_levels, run_until_decided
    from helmholtz.demos import IMAGE_SIZES
    from helmholtz.report.build import load_observations
    from helmholtz.sweep.runner import run_sweep

    hw = _hardware()
    size = IMAGE_SIZES["quick" if quick else "full"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # both as the demo runs: 2 single-threaded runs at a time
        how = dict(quiet=True, workers=2, threads_per_run=1)
        t0 = time.perf_counter()
        run_sweep(_spec(FIXED_LEVELS, seeds=max(FIXED_SEEDS), quick=quick), Path(tmp) / "fixed", **how)
        fixed_s = time.perf_counter() - t0
        fixed_obs, _ = load_observations(Path(tmp) / "fixed")
        fixed = {k: _answer(_first_seeds(fixed_obs, k)) for k in FIXED_SEEDS}
        t0 = time.perf_counter()
        run_until_decided(_spec(coarse_levels("jpeg"), seeds=3, quick=quick), Path(tmp) / "adaptive",
                          max_runs=size.max_runs, max_time_s=size.max_time_s, **how)
        adaptive_s = time.perf_counter() - t0
        adaptive = _answer(load_observations(Path(tmp) / "adaptive")[0])
    n_fixed = len(FIXED_LEVELS) * 2
    for k, r in fixed.items():
        rows.append(_row(f"fixed grid 8 levels × 2 archs × {k} seeds", r,
                         f"≈ {fixed_s * k / max(FIXED_SEEDS):.0f} s wall; ", hw))
        print(f"fixed, {k} seeds ({r['runs']} runs): {r['headline']}", file=sys.stderr)
    rows.append(_row(f"--until-decided (coarse start, ≤ {size.max_runs} runs)", adaptive, f"{adaptive_s:.0f} s wall; ",
                     hw))
    print(f"adaptive ({adaptive['runs']} runs): {adaptive['headline']}", file=sys.stderr)
    reached = [k * n_fixed for k, r in fixed.items() if r["ci_width"] <= adaptive["ci_width"] + 1e-9]
    need = f"{min(reached)}" if reached else f"> {max(FIXED_SEEDS) * n_fixed}"
    rows.append({"benchmark": "whole answer: runs to the adaptive sweep's CI width, adaptive vs fixed",
                 "ours": adaptive["runs"], "baseline": need, "unit": "runs",
                 "ratio": adaptive["runs"] / min(reached) if reached else "",
                 "hardware": hw,
                 "notes": (f"adaptive: {adaptive['status']}, CI width {adaptive['ci_width']:.2f} bits/pixel in "
                           f"{adaptive['runs']} runs; fixed grid widths at 48/64/80/96 runs: "
                           + ", ".join(f"{r['ci_width']:.2f} ({r['status']})" for r in fixed.values()))})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from table import markdown

    print(markdown(run(quick=args.quick)))
