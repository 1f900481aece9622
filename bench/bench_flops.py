"""Training FLOP/s against the core's peak: how near the hardware one single-threaded training run gets.

FLOPs of one training image = forward + backward of the model, counted by `torch.utils.flop_counter.FlopCounterMode`
(convolutions and matmuls, 2 FLOPs per multiply-add; element-wise ops, pooling and the optimizer are not counted,
so they are overhead here). Rate = AdamW steps on one fixed batch (the demo's models: archs A and F at ¼ width on
1×28×28, batch 128, one torch thread per run, as the demo runs two single-threaded runs at a time).

Peak per core = FLOP/cycle from the instruction-set flags in /proc/cpuinfo × the clock ("cpu MHz", or lscpu's max
MHz when larger). Assumptions (`peak_flop_per_cycle`): two FMA ports per core (server cores; some client AVX-512
cores have one), an FMA counts 2 FLOPs; fp32 AVX2+FMA 2 × 8 lanes × 2 = 32, AVX-512 2 × 16 × 2 = 64; bf16 AVX-512
BF16 dot products 128; AMX-BF16 1024 (a 16×32 · 32×16 tile product in 16 cycles). A VM's nominal clock is not its
turbo clock, so the percentages are approximate.

Every configuration runs in its own subprocess, so that the AVX2-only machine (AMD EPYC Zen 3, where the project's
users see 53–62 s per demo run) can be emulated: ``ONEDNN_MAX_CPU_ISA=AVX2`` and ``ATEN_CPU_CAPABILITY=avx2`` cap
oneDNN's and ATen's kernels at AVX2; its FLOP/s is compared with the AVX2 peak at this machine's clock.

Usage: python bench/bench_flops.py [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

WIDTH = 0.25
BATCH = 128                        # the `fast` recipe's training batch
SHAPE = (1, 28, 28)                # Fashion-MNIST

#: instruction-set caps for the emulated machines: environment for the subprocess
EMULATE = {"native": {}, "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}


# ---------------------------------------------------------------- peak FLOP/s from the instruction set (pure)


def half_width_fp(cpu_id: tuple[str, int, int] | None) -> bool:
    """AMD Zen 1 / Zen+ (family 0x17, model below 0x30) execute a 256-bit AVX2 op as two 128-bit halves: two FMA
    pipes of 4 fp32 lanes, so 16 fp32 FLOP/cycle, half of Zen 2 / Zen 3. ``cpu_id`` = (vendor, family, model)."""
    return cpu_id is not None and cpu_id[0] == "AuthenticAMD" and cpu_id[1] == 0x17 and cpu_id[2] < 0x30


def double_pumped_avx512(cpu_id: tuple[str, int, int] | None) -> bool:
    """AMD Zen 4 (family 0x19 with AVX-512) executes a 512-bit op as two 256-bit halves on its 256-bit FMA pipes:
    its AVX-512 peak is the AVX2 one, 32 fp32 FLOP/cycle (and 64 for AVX512_BF16 dot products), not 64."""
    return cpu_id is not None and cpu_id[0] == "AuthenticAMD" and cpu_id[1] == 0x19


def peak_flop_per_cycle(flags: frozenset[str] | set[str], dtype: str,
                        cpu_id: tuple[str, int, int] | None = None) -> tuple[int, str]:
    """FLOPs per cycle per core at ``dtype`` ('fp32' or 'bf16') for a CPU with these /proc/cpuinfo flags, and the
    instruction set it assumes. bf16 without native instructions → (0, 'none'): it is emulated through fp32.
    ``cpu_id`` (vendor, family, model) only matters for AMD: Zen 1's FP units are 128 bits wide, Zen 4's 256."""
    if dtype == "fp32":
        if "avx512f" in flags and double_pumped_avx512(cpu_id):
            return 32, "AVX-512 FMA on 256-bit units (Zen 4)"
        if "avx512f" in flags:
            return 64, "AVX-512 FMA"
        if {"avx2", "fma"} <= flags and half_width_fp(cpu_id):
            return 16, "AVX2+FMA on 128-bit units (Zen 1)"
        if {"avx2", "fma"} <= flags:
            return 32, "AVX2+FMA"
        if "avx" in flags:
            return 16, "AVX"
        return 8, "SSE"
    if dtype == "bf16":
        if "amx_bf16" in flags:
            return 1024, "AMX-BF16"
        if "avx512_bf16" in flags and double_pumped_avx512(cpu_id):
            return 64, "AVX512_BF16 on 256-bit units (Zen 4)"
        if "avx512_bf16" in flags:
            return 128, "AVX512_BF16"
        return 0, "none"
    raise ValueError(f"dtype must be 'fp32' or 'bf16'; got {dtype!r}")


def cap_flags(flags: frozenset[str] | set[str], isa: str) -> frozenset[str]:
    """The flags an emulated machine would show: 'avx2' drops every AVX-512 and AMX flag."""
    if isa == "native":
        return frozenset(flags)
    if isa == "avx2":
        return frozenset(f for f in flags if not f.startswith(("avx512", "amx")))
    raise ValueError(f"isa must be one of {sorted(EMULATE)}; got {isa!r}")


def clock_mhz(cpuinfo: str, lscpu: str = "") -> float:
    """The core clock: the largest of /proc/cpuinfo's "cpu MHz" and lscpu's "CPU max MHz" (0 when neither)."""
    values = [float(line.split(":", 1)[1]) for line in cpuinfo.splitlines() if line.startswith("cpu MHz")]
    values += [float(line.split(":", 1)[1]) for line in lscpu.splitlines() if line.strip().startswith("CPU max MHz")]
    return max(values, default=0.0)


def isa_summary(flags: frozenset[str] | set[str]) -> str:
    """The flags that matter for these kernels, in one short string, e.g. 'avx2 fma avx512f avx512_bf16 amx_bf16'."""
    keep = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")
    return " ".join(f for f in keep if f in flags) or "no AVX2"


def cpu_identity(cpuinfo: str) -> tuple[str, int, int] | None:
    """(vendor_id, cpu family, model) of the first CPU in /proc/cpuinfo, or None when a field is missing."""
    fields = {}
    for ln in cpuinfo.splitlines():
        key, _, value = ln.partition(":")
        if key.strip() in ("vendor_id", "cpu family", "model") and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    try:
        return fields["vendor_id"], int(fields["cpu family"]), int(fields["model"])
    except (KeyError, ValueError):
        return None


def _host() -> tuple[frozenset[str], float, str, tuple[str, int, int] | None]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    flags = next((frozenset(ln.split(":", 1)[1].split()) for ln in cpuinfo.splitlines() if ln.startswith("flags")),
                 frozenset())
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        lscpu = ""
    name = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "CPU")
    return flags, clock_mhz(cpuinfo, lscpu), name, cpu_identity(cpuinfo)


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


# ---------------------------------------------------------------- one configuration (in a subprocess)


def _model(arch: str, fmt):
    import torch

    from helmholtz.models.archs import build_model

    torch.manual_seed(0)
    model = build_model(arch, modality="image", input_shape=SHAPE, n_classes=10, width=WIDTH)
    return model.to(memory_format=fmt)


def flop_per_image(arch: str) -> float:
    """Forward + backward FLOPs of one training image (FlopCounterMode on a batch of 16, divided by 16)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = _model(arch, torch.contiguous_format)
    x, y = torch.rand(16, *SHAPE), torch.randint(0, 10, (16,))
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() / 16


def measure(arch: str, *, precision: str, channels_last: bool, batch: int, seconds: float, compile: bool = False,
            flush_denormal: bool = False) -> dict:
    """Images/s of AdamW steps on one fixed batch, one thread, after a warm-up; best of three timed slices."""
    import contextlib

    import torch

    torch.set_num_threads(1)
    if flush_denormal:
        torch.set_flush_denormal(True)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = _model(arch, fmt)
    step_model = torch.compile(model) if compile else model
    opt = torch.optim.AdamW(model.parameters(), lr=4e-3)
    x = torch.rand(batch, *SHAPE).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext

    def step():
        with autocast():
            out = step_model(x)
        loss = torch.nn.functional.cross_entropy(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t0 = time.perf_counter()
    for _ in range(3):
        step()
    warm_s = time.perf_counter() - t0
    best = 0.0
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while (dt := time.perf_counter() - t0) < seconds / 3:
            step()
            n += 1
        best = max(best, n * batch / dt)
    return {"img_per_s": best, "warmup_s": warm_s, "flop_per_image": flop_per_image(arch),
            "capability": torch.backends.cpu.get_cpu_capability()}


def _worker(cfg: dict) -> dict:
    """Run one configuration in a subprocess under the environment of its emulated instruction set."""
    env = {**os.environ, **EMULATE[cfg.get("isa", "native")], "OMP_NUM_THREADS": "1"}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    load0 = _load()
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(cfg)], env=env, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"bench_flops worker {cfg} failed:\n{proc.stderr[-2000:]}")
    return {**cfg, **json.loads(proc.stdout.strip().splitlines()[-1]), "load": f"{load0}→{_load()}"}


# ---------------------------------------------------------------- the table


def _row(res: dict, flags: frozenset[str], mhz: float, cpu: str, cpu_id: tuple[str, int, int] | None) -> dict:
    dtype = res["precision"]
    per_cycle, isa = peak_flop_per_cycle(cap_flags(flags, res["isa"]), dtype, cpu_id)
    peak = per_cycle * mhz * 1e6
    gflops = res["img_per_s"] * res["flop_per_image"] / 1e9
    layout = "channels_last" if res["channels_last"] else "NCHW"
    extra = (" + compile" if res.get("compile") else "") + (" + flush_denormal" if res.get("flush_denormal") else "")
    emu = " (AVX2 emulated)" if res["isa"] == "avx2" else ""
    return {
        "benchmark": f"training FLOP/s, arch {res['arch']} ¼ width, {dtype}, {layout}{extra}, batch {res['batch']}, "
                     f"1 thread{emu}",
        "ours": round(gflops, 1), "baseline": round(peak / 1e9, 1), "unit": "GFLOP/s (vs peak)",
        "ratio": round(gflops * 1e9 / peak, 3) if peak else "",
        "hardware": f"{cpu}, {mhz:.0f} MHz, ISA {isa_summary(cap_flags(flags, res['isa']))}; "
                    f"ATen {res['capability']}",
        "notes": f"{res['img_per_s']:.0f} img/s, {res['flop_per_image'] / 1e6:.1f} MFLOP/image (fwd+bwd), peak "
                 f"{per_cycle} FLOP/cycle ({isa}), load {res['load']}",
    }


def configs(flags: frozenset[str], *, quick: bool) -> list[dict]:
    """The measured configurations: A and F in fp32 (and bf16 where native), channels_last and NCHW for A, and
    the fp32 runs again under the AVX2 cap."""
    seconds = 1.5 if quick else 4.0
    base = dict(batch=BATCH, seconds=seconds, compile=False)
    out = []
    precisions = ["fp32"] + (["bf16"] if peak_flop_per_cycle(flags, "bf16")[0] else [])
    for isa in EMULATE:
        for arch in ("A", "F"):
            for precision in precisions if isa == "native" else ["fp32"]:
                out.append(dict(base, arch=arch, precision=precision, channels_last=True, isa=isa))
        if not quick:
            out.append(dict(base, arch="A", precision="fp32", channels_last=False, isa=isa))
    return out


def run(*, quick: bool = False) -> list[dict]:
    flags, mhz, cpu, cpu_id = _host()
    return [_row(_worker(cfg), flags, mhz, cpu, cpu_id) for cfg in configs(flags, quick=quick)]


if __name__ == "__main__":
    if "--worker" in sys.argv:
        cfg = json.loads(sys.argv[sys.argv.index("--worker") + 1])
        keys = ("precision", "channels_last", "batch", "seconds", "compile", "flush_denormal")
        print(json.dumps(measure(cfg["arch"], **{k: cfg[k] for k in keys if k in cfg})))
        sys.exit(0)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from table import markdown

    print(markdown(run(quick="--quick" in sys.argv)))
