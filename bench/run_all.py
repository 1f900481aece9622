"""Run every benchmark in bench/ and write one table of ratios measured within each run.

Usage: python bench/run_all.py [--quick] [--only NAME]
Writes bench/results/latest.md and bench/results/latest.json (git-ignored) and prints the table.
Each bench module exposes `run(*, quick: bool = False) -> list[dict]` with keys
benchmark, ours, baseline, unit, ratio, hardware, notes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ("bench_jpeg", "bench_train", "bench_pipeline", "bench_audio", "bench_codecs", "bench_stats",
           "bench_capacity", "bench_adaptive", "bench_flops")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short versions of every benchmark")
    parser.add_argument("--only", default=None, help="run one module, e.g. bench_jpeg")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    rows: list[dict] = []
    for name in MODULES:
        if args.only and name != args.only:
            continue
        if not (HERE / f"{name}.py").exists():
            continue
        t0 = time.perf_counter()
        module = importlib.import_module(name)
        rows.extend(module.run(quick=args.quick))
        print(f"[{name}] done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    from table import markdown

    table = markdown(rows)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(table + "\n")
    (out / "latest.json").write_text(json.dumps(rows, indent=2, default=str))
    print(table)
    print(f"\nwritten: {out / 'latest.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
