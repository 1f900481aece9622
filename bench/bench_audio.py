"""Audio throughput: log-mel extraction and a whole training run, each against a plain baseline in the same process.

- **features**: our `log_mel` (torch STFT + mel matmul, 8 clips per call) against a naive per-clip numpy loop
  (rfft of Hann-windowed frames, the same filterbank), clips of 2 s at 44.1 kHz, at the fast recipe's front end
  (48 mels, hop 1024) and the paper's (96, hop 512).
- **training**: our whole `train_run` of arch A at ½ width with the fast audio recipe (48×87 inputs, batch 16):
  every epoch's steps plus its BatchNorm recalibration and validation pass, and the test pass; against a bare
  forward/backward/step loop over the same model, optimizer, batch size and memory format on the same tensors.
  ratio = ours / baseline in clips trained per second of wall time (≥ 0.8: the evaluation and bookkeeping of a run
  cost at most a fifth of it).

Ours and the baseline alternate and each keeps its best of ``repeats``. The hardware column names the CPU and its
instruction set (AVX2 / AVX-512 / AMX), since bf16 and fp32 speeds differ by CPU kind.
"""

from __future__ import annotations

import time

import numpy as np

SR = 44100


def _clips(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(2 * SR) / SR
    f0 = rng.uniform(80, 800, (n, 1))
    env = np.exp(-t / rng.uniform(0.3, 1.5, (n, 1)))
    return (0.3 * env * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.standard_normal((n, t.size))).astype(np.float32)


def _naive_mel(x: np.ndarray, *, n_mels: int, hop: int) -> np.ndarray:
    from helmholtz.features.mel import mel_filterbank

    fb, win, n_fft = mel_filterbank(sr=SR, n_fft=2048, n_mels=n_mels), np.hanning(2049)[:-1], 2048
    out = []
    for clip in x:
        frames = np.lib.stride_tricks.sliding_window_view(np.pad(clip, n_fft // 2), n_fft)[::hop] * win
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        out.append(10 * np.log10(np.maximum(fb @ power.T, 1e-10)))
    return np.stack(out)


def _hardware() -> str:
    """The device and its instruction set (bf16 and fp32 speeds differ by CPU kind), e.g. 'cpu (AMD EPYC, 2 threads)
    [avx2 fma; AuthenticAMD family 23 model 1]'."""
    import torch

    from bench_flops import _host, isa_summary
    from helmholtz.train.device import describe_device

    flags, _, _, cpu_id = _host()
    ident = f"; {cpu_id[0]} family {cpu_id[1]} model {cpu_id[2]}" if cpu_id else ""
    return f"{describe_device(torch.device('cpu'))} [{isa_summary(flags)}{ident}]"


def _features(n: int, repeats: int) -> list[dict]:
    from helmholtz.features.mel import log_mel

    x, rows = _clips(n), []
    log_mel(x[:8], sr=SR)   # the first call of a process initialises torch's FFT (seconds): not the steady state
    for n_mels, hop, label in ((48, 1024, "fast 48×87"), (96, 512, "paper 96×173")):
        ours = base = 0.0
        for _ in range(repeats):
            t0 = time.perf_counter()
            a = log_mel(x, sr=SR, n_mels=n_mels, hop=hop)
            ours = max(ours, n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            b = _naive_mel(x, n_mels=n_mels, hop=hop)
            base = max(base, n / (time.perf_counter() - t0))
        assert np.abs(a - b).max() < 0.5, "the naive oracle computes the same features"
        rows.append({"benchmark": f"log-mel extraction ({label}) vs naive numpy per-clip loop", "ours": round(ours, 1),
                     "baseline": round(base, 1), "unit": "clips/s", "ratio": round(ours / base, 3),
                     "hardware": _hardware(), "notes": f"{n} clips of 2 s at 44.1 kHz, torch threads as set, best of {repeats}"})
    return rows


def _dataset(n_train: int):
    from helmholtz.data.dataset import RawData, make_dataset
    from helmholtz.train.inputs import prepare_inputs

    n_pool = int(n_train / 0.75) + 1
    x = _clips(n_pool + 48, seed=1)
    y = np.arange(len(x)) % 12
    raw = RawData(x[:n_pool], y[:n_pool], x[n_pool:], y[n_pool:], tuple(map(str, range(12))), "wav", modality="audio",
                  sample_rate=SR)
    ds = make_dataset(raw, name="bench", source="bench", val_fraction=0.25)
    return prepare_inputs(ds, n_mels=48, hop=1024, cache=False)


def _training(n_train: int, epochs: int, repeats: int) -> dict:
    import torch

    from helmholtz.models.archs import build_model
    from helmholtz.train.device import use_channels_last
    from helmholtz.train.recipes import resolve_recipe
    from helmholtz.train.run import train_run
    from helmholtz.train.spec import DataRef, RunSpec

    ds = _dataset(n_train)
    opts = resolve_recipe("fast", "audio", epochs=epochs, width=0.5, patience=epochs + 1)
    spec = RunSpec(data=DataRef("bench", ds.content_hash, val_fraction=0.25), codec="none", level=None, arch="A",
                   seed=0, options=opts, modality="audio")
    cpu = torch.device("cpu")
    fmt = torch.channels_last if use_channels_last(cpu, "fp32") else torch.contiguous_format
    x = torch.from_numpy(ds.x_train).contiguous(memory_format=fmt)
    y = torch.from_numpy(ds.y_train)

    def bare() -> float:
        torch.manual_seed(0)
        model = build_model("A", modality="audio", input_shape=tuple(ds.x_train.shape[1:]), n_classes=12, width=0.5)
        model = model.to(memory_format=fmt).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
        t0 = time.perf_counter()
        for _ in range(epochs):
            for s in range(0, len(y), opts.batch_size):
                loss = torch.nn.functional.cross_entropy(model(x[s:s + opts.batch_size]), y[s:s + opts.batch_size])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            loss.item()
        return len(y) * epochs / (time.perf_counter() - t0)

    def ours() -> float:
        result, _ = train_run(spec, ds, device="cpu")
        return len(ds.y_train) * epochs / result.wall_s

    bare()
    o = b = 0.0
    for _ in range(repeats):
        o, b = max(o, ours()), max(b, bare())
    return {"benchmark": "audio run (steps + BN recalibration + validation + test) vs bare training loop",
            "ours": round(o, 1), "baseline": round(b, 1), "unit": "clips/s", "ratio": round(o / b, 3),
            "hardware": _hardware(),
            "notes": f"arch A ½ width, fast audio recipe (48×87, batch 16), {len(ds.y_train)} train clips × {epochs} "
                     f"epochs, {len(ds.y_val)} val, {len(ds.y_test)} test, fp32, best of {repeats}"}


def run(*, quick: bool = False) -> list[dict]:
    n, repeats = (32, 1) if quick else (256, 3)
    rows = _features(n, repeats)
    rows.append(_training(256 if quick else 1024, 1 if quick else 2, repeats))
    return rows


if __name__ == "__main__":
    import sys

    from table import markdown

    print(markdown(run(quick="--quick" in sys.argv)))
