"""The statistics engine: operating characteristics on simulated sweeps with a known truth, and its speed.

1. Operating characteristics (the larger version of tests/test_analysis_simulated.py): for each truth (flat;
   smooth, 3 pp per halving of the bits; a sharp knee at q 20; the knee with A 2 pp worse; the knee with equal models
   and 20 quiet seeds), ``--sims`` simulated sweeps (default 200; 60 with --quick) of 10 JPEG levels on Fashion-MNIST's
   measured bits, 2 models, 5000 test items, seed sd 1.5 pp shared + 0.5 pp per cell (`make bench` runs 200 per row,
   about 15 minutes; the README's table is 400: `python bench/bench_stats.py --sims 400`). Counts: collapse claimed,
   N_approx status, decided N_approx right (the true boundary inside the decided bracket: N_approx or an open or
   margin level between it and the drop) and exact (N_approx is the true one), N_approx CI covering the true
   boundary, "equivalent" at q 25.
2. Speed: one full `analyze` of a 10-level × 6-architecture × 5-seed × 10k-item sweep with B = 2000, against the
   same analysis with B = 200 (the ratio is how the cost scales with B).

3. Power beside two oracles (`simulate.level_power`): one level that truly differs from the original by 0, −δ and
   −2δ (δ = 1 pp), 5 seeds; the engine's "holds"/"drops" shares beside the z oracle (knows σ: the ceiling) and the
   paired t-test over seeds (estimates σ from the seeds, as any real test must). Twice: at the harness' round numbers
   and at the noise measured on real demo runs (`REAL_NOISE`, `analysis.noise.measured_noise`).

Usage: python bench/bench_stats.py [--quick] [--sims N]
"""

from __future__ import annotations

import argparse
import sys
import time

SETTINGS = (
    ("flat", dict(kind="flat")),
    ("smooth (3 pp/halving)", dict(kind="smooth")),
    ("sharp knee at q 20", dict(kind="knee")),
    ("knee, A 2 pp worse", dict(kind="knee_gap", gap_pp=2.0)),
    ("knee, A = F, 20 quiet seeds", dict(kind="knee", seeds=20, seed_sd=0.003, cell_sd=0.003)),
)


def _hardware() -> str:
    from helmholtz.provenance import host_info

    info = host_info()
    return f"{info['cpu']} ({info['cpu_count']} cores)"


def operating_table(sims: int, *, n_items: int = 5000, n_boot: int = 1000) -> list[dict]:
    from helmholtz.analysis.simulate import Setting, Truth, operating_characteristics

    rows = []
    for name, kw in SETTINGS:
        kw = dict(kw)
        truth = Truth(kw.pop("kind"), **{k: kw.pop(k) for k in ("gap_pp",) if k in kw})
        setting = Setting(name, truth, n_items=n_items, **kw)
        t0 = time.perf_counter()
        oc = operating_characteristics(setting, sims=sims, n_boot=n_boot)
        rows.append({"setting": name, "sims": sims, "collapse claimed": oc.collapse_rate,
                     "status": oc.status, "decided right": oc.right, "decided exact": oc.exact,
                     "CI covers truth": oc.ci_covers,
                     "equivalent at q 25": oc.equivalent, "comparison verdicts": oc.compare,
                     "seconds": time.perf_counter() - t0})
        print(rows[-1], file=sys.stderr)
    return rows


#: measured with `analysis.noise.measured_noise` on a real demo store (2026-12-03: Fashion-MNIST, 5,000 training
#: images, archs A and F at ¼ width, fast recipe at 6 epochs, fp32, 10,000 test items, 42 runs): churn 13.3 % of
#: items between two seeds of a cell at accuracy 0.73; paired sd 0.87 pp per seed
REAL_NOISE = dict(seed_sd=0.0158, cell_sd=0.0056, rho=0.936, n_items=10_000, base=0.73)
ROUND_NOISE = dict(seed_sd=0.015, cell_sd=0.005, rho=0.85, n_items=2000, base=0.85)


def power_table(sims: int) -> list[dict]:
    from helmholtz.analysis.simulate import level_power

    rows = []
    for noise_name, noise in (("round numbers", ROUND_NOISE), ("real demo runs", REAL_NOISE)):
        for true_pp in (0.0, -1.0, -2.0):
            p = level_power(true_pp / 100, sims=sims, **noise)
            hit, z, t = (p.holds, p.z_holds, p.t_holds) if true_pp > -1.5 else (p.drops, p.z_drops, p.t_drops)
            rows.append({"noise": noise_name, "true diff (pp)": true_pp, "claim": "holds" if true_pp > -1.5 else
                         "drops", "engine": hit, "z oracle": z, "t oracle": t, "covers": p.covers,
                         "width / t": p.mean_width / p.t_width})
            print(rows[-1], file=sys.stderr)
    return rows


def speed(n_boot: int) -> float:
    from helmholtz.analysis import analyze
    from helmholtz.analysis.simulate import Truth, simulate

    obs = simulate(Truth("knee"), levels=(1, 5, 10, 15, 20, 25, 30, 50, 75, None),
                   models=("A", "B", "C", "D", "E", "F"), seeds=5, n_items=10_000)
    t0 = time.perf_counter()
    analyze(obs, n_boot=n_boot)
    return time.perf_counter() - t0


def run(*, quick: bool = False, sims: int | None = None) -> list[dict]:
    hw = _hardware()
    out = []
    big, small = speed(2000), speed(200)
    out.append({"benchmark": "analyze 10 levels × 6 archs × 5 seeds × 10k items, B = 2000", "ours": big,
                "baseline": small, "unit": "s (baseline: B = 200)", "ratio": big / small, "hardware": hw,
                "notes": "two-stage paired bootstrap, verdicts, collapse tests, comparisons"})
    for r in operating_table(sims or (60 if quick else 200)):
        out.append({"benchmark": f"OC: {r['setting']}", "ours": r["CI covers truth"], "baseline": "",
                    "unit": "share of sims", "ratio": "", "hardware": hw,
                    "notes": (f"collapse {r['collapse claimed']:.3f}; status {r['status']}; decided right "
                              f"{r['decided right']:.3f} (exact {r['decided exact']:.3f}); CI covers {r['CI covers truth']:.3f}; equivalent "
                              f"{r['equivalent at q 25']:.3f}; {r['sims']} sims")})
    for r in power_table(sims or (100 if quick else 400)):
        truth = "exactly −δ: a false claim" if r["true diff (pp)"] == -1.0 else f"{r['true diff (pp)']:+g} pp"
        out.append({"benchmark": f"power: '{r['claim']}' at {truth}, {r['noise']}", "ours": r["engine"],
                    "baseline": r["t oracle"], "unit": "share of sims (baseline: paired t oracle)",
                    "ratio": r["engine"] / r["t oracle"] if r["t oracle"] else "", "hardware": hw,
                    "notes": f"z oracle (knows σ) {r['z oracle']:.3f}; 95% CI covers {r['covers']:.3f}; "
                             f"90% width {r['width / t']:.2f}× the t oracle's"})
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sims", type=int, default=None)
    args = parser.parse_args()
    from table import markdown

    print(markdown(run(quick=args.quick, sims=args.sims)))
