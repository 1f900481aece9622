"""The measurement that chose `--recipe fast`: candidate recipes on real Fashion-MNIST, archs A and F at ¼ width.

Every candidate trains on the same 10k-image subset (9k train, 1k validation; the full 10k test split), from the
same seeds, at several epoch caps. A run's schedule spans its cap (one-cycle and cosine anneal to 0 there), so each
cap is a separate run; early stopping is off (patience > cap), so the test accuracy is that of the best-validation
epoch within the cap. On a shared machine wall-clock times are noise, so candidates are compared by accuracy at a
fixed number of epochs; the time per epoch of each candidate is measured separately (`speed`: one epoch per
candidate and arch, interleaved, best of ``--repeats``, in one process) and converts epochs into seconds.

Usage:
    python bench/recipe_search.py run   --out runs/recipes.jsonl [--archs A,F] [--seeds 0,1] [--caps 3,6] [--only NAME,...]
    python bench/recipe_search.py speed --out runs/recipes-speed.json [--repeats 2]
    python bench/recipe_search.py table runs/recipes.jsonl runs/recipes-speed.json [--budgets 15,30]
Threads: --threads N (default 1) for every subcommand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

TRAIN_SIZE, WIDTH = 10_000, 0.25
_ADAM = {"optimizer": "adam", "lr": 0.004, "lr_decay": 0.0, "warmup_epochs": 1.0}

#: the candidates: name → TrainOptions values (width and epochs are set per run)
CANDIDATES: dict[str, dict] = {
    "paper": {},  # SGD Nesterov 0.9, lr 0.01, Keras decay 1e-6, batch 128, shift/flip augmentation
    "adamconst-2e-3-noaug-bs64": {"optimizer": "adam", "lr": 0.002, "augment": False, "batch_size": 64},  # wave-1 demo
    "adam1c-4e-3-aug-ls": {**_ADAM, "schedule": "onecycle", "label_smoothing": 0.1},
    "adam1c-4e-3-noaug": {**_ADAM, "schedule": "onecycle", "augment": False},
    "adam1c-4e-3-noaug-ls": {**_ADAM, "schedule": "onecycle", "augment": False, "label_smoothing": 0.1},
    "adamcos-4e-3-noaug": {**_ADAM, "schedule": "cosine", "augment": False},
    "adam1c-4e-3-noaug-bs64": {**_ADAM, "schedule": "onecycle", "augment": False, "batch_size": 64},
    "adam1c-4e-3-aug-bs64": {**_ADAM, "schedule": "onecycle", "augment": True, "batch_size": 64},
}


def _dataset():
    from helmholtz.data import load_dataset

    return load_dataset("fashion-mnist", train_size=TRAIN_SIZE)


def _spec(ds, name: str, arch: str, seed: int, cap: int, **extra):
    from helmholtz.train.spec import DataRef, RunSpec, TrainOptions

    opts = TrainOptions(**{"width": WIDTH, "patience": cap + 1, **CANDIDATES[name], "epochs": cap, **extra})
    return RunSpec(DataRef("fashion-mnist", ds.content_hash, train_size=TRAIN_SIZE), "none", None, arch, seed, opts)


def cmd_run(args) -> None:
    from helmholtz.train.run import train_run

    ds = _dataset()
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {(r["name"], r["arch"], r["seed"], r["cap"]) for r in map(json.loads, out.read_text().splitlines())}
    names = args.only.split(",") if args.only else list(CANDIDATES)
    for cap in map(int, args.caps.split(",")):
        for name in names:
            for arch in args.archs.split(","):
                for seed in map(int, args.seeds.split(",")):
                    if (name, arch, seed, cap) in done:
                        continue
                    result, hist = train_run(_spec(ds, name, arch, seed, cap), ds)
                    row = {"name": name, "arch": arch, "seed": seed, "cap": cap, "opts": CANDIDATES[name],
                           "test_acc": result.test_acc, "best_epoch": result.best_epoch,
                           "epochs_run": result.epochs_run, "val": [h.val_acc for h in hist],
                           "train_acc": [h.train_acc for h in hist], "sec": [h.seconds for h in hist],
                           "items_per_s": result.train_items_per_s, "wall_s": result.wall_s}
                    with out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(f"{name} {arch} seed {seed} cap {cap}: test {result.test_acc:.4f}, best epoch "
                          f"{result.best_epoch}", flush=True)


def _compute_key(name: str) -> str:
    """What sets a candidate's time per epoch: optimizer, batch size and augmentation (not the lr or schedule)."""
    from helmholtz.train.spec import TrainOptions

    o = TrainOptions(**CANDIDATES[name])
    return f"{o.optimizer} bs{o.batch_size} {'aug' if o.augment else 'noaug'}"


def cmd_speed(args) -> None:
    """Seconds per epoch (training + validation pass) per compute setting and arch: one epoch each, interleaved,
    best of ``repeats`` (on a shared machine the best is the least disturbed)."""
    import torch

    from helmholtz.train.device import describe_device
    from helmholtz.train.run import train_run

    ds = _dataset()
    keys = {}
    for name in CANDIDATES:
        keys.setdefault(_compute_key(name), name)
    best: dict[str, float] = {}
    items: dict[str, float] = {}
    train_run(_spec(ds, "paper", "A", 0, 1), ds)  # warm-up: oneDNN primitives
    for _ in range(args.repeats):
        for key, name in keys.items():
            for arch in ("A", "F"):
                result, hist = train_run(_spec(ds, name, arch, 0, 1), ds)
                k = f"{key}/{arch}"
                best[k] = min(best.get(k, float("inf")), hist[0].seconds)
                items[k] = max(items.get(k, 0.0), result.train_items_per_s)
    info = {"device": describe_device(torch.device("cpu")), "repeats": args.repeats,
            "n_train": len(ds.y_train), "n_val": len(ds.y_val), "seconds_per_epoch": best, "train_items_per_s": items}
    Path(args.out).write_text(json.dumps(info, indent=1))
    print(json.dumps(info, indent=1))


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def cmd_table(args) -> None:
    rows = [json.loads(line) for line in Path(args.results).read_text().splitlines()]
    speed = json.loads(Path(args.speed).read_text()) if args.speed else None
    budgets = [float(b) for b in args.budgets.split(",")]
    cells: dict[tuple[str, int, str], list[dict]] = {}
    for r in rows:
        cells.setdefault((r["name"], r["cap"], r["arch"]), []).append(r)
    names = [n for n in CANDIDATES if any(k[0] == n for k in cells)]
    caps = sorted({k[1] for k in cells})

    def spe(name: str, arch: str) -> float | None:
        return None if speed is None else speed["seconds_per_epoch"].get(f"{_compute_key(name)}/{arch}")

    def fmt(rs: list[dict]) -> str:
        if not rs:
            return "–"
        accs = [100 * r["test_acc"] for r in rs]
        return f"{_mean(accs):.1f}" + (f" ± {statistics.stdev(accs):.1f}" if len(accs) > 1 else "")

    head = ["recipe", "epochs", "A test acc %", "F test acc %", "seeds A · F", "best epoch = cap", "s/epoch A · F"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in names:
        for cap in caps:
            a, f = cells.get((name, cap, "A"), []), cells.get((name, cap, "F"), [])
            if not a and not f:
                continue
            at_cap = sum(r["best_epoch"] == r["cap"] for r in a + f)
            s_ep = " · ".join("–" if spe(name, x) is None else f"{spe(name, x):.2f}" for x in "AF")
            line = [name, str(cap), fmt(a), fmt(f), f"{len(a)} · {len(f)}", f"{at_cap}/{len(a) + len(f)}", s_ep]
            print("| " + " | ".join(line) + " |")
    if speed is None:
        return

    def within(name: str, arch: str, seconds: float) -> str:
        # the largest measured cap whose epochs fit in the budget at this candidate's measured s/epoch
        fit = [c for c in caps if (name, c, arch) in cells and spe(name, arch) and c * spe(name, arch) <= seconds]
        return "–" if not fit else f"{fmt(cells[(name, max(fit), arch)])} ({max(fit)} ep)"

    print("\nTest accuracy % within a training-time budget (largest measured cap that fits at the s/epoch above):\n")
    head = ["recipe"] + [f"A, {b:g} s" for b in budgets] + [f"F, {b:g} s" for b in budgets]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in names:
        line = [name] + [within(name, "A", b) for b in budgets] + [within(name, "F", b) for b in budgets]
        print("| " + " | ".join(line) + " |")
    print(f"\ns/epoch: training + validation pass ({speed['n_train']} + {speed['n_val']} images), best of "
          f"{speed['repeats']}, measured interleaved in one process on {speed['device']}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--out", required=True)
    p.add_argument("--archs", default="A,F")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--caps", default="3,6")
    p.add_argument("--only", default=None)
    p = sub.add_parser("speed")
    p.add_argument("--out", required=True)
    p.add_argument("--repeats", type=int, default=4)
    p = sub.add_parser("table")
    p.add_argument("results")
    p.add_argument("speed", nargs="?")
    p.add_argument("--budgets", default="15,30")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    {"run": cmd_run, "speed": cmd_speed, "table": cmd_table}[args.cmd](args)
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    sys.exit(code)
