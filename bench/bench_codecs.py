"""Encode + decode throughput of every codec in the registry, measured in one run against JPEG (images) and MP3
(audio) as the baselines, with the bits each wrote.

Images: the real Fashion-MNIST training split (60k 28×28 gray; 3000 with quick=True), each image codec at a middle
level, through ``CodecSpec.roundtrip`` with every core (the thread pools of codecs/imaging.py). Audio: 2 s mono
clips of band-limited noise at 44.1 kHz (no real audio ships with the machine; 40 clips, 12 with quick=True).
``ratio`` = the codec's items/s over the baseline's in the same run; the absolute numbers name the hardware.

Usage: python bench/bench_codecs.py [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np

IMAGE_LEVELS = {"jpeg": 50, "webp": 50, "avif": 50, "jxl": 50, "jp2": 30}
AUDIO_LEVELS = {"mp3": 64, "opus": 64, "vorbis": 4, "aac": 64}
SR = 44100


def _hardware() -> str:
    from helmholtz.provenance import host_info

    info = host_info()
    return f"{info['cpu']} ({info['cpu_count']} cores)"


def _fashion_train() -> np.ndarray:
    from helmholtz.data.image_readers import read_idx_dir
    from helmholtz.data.locate import locate

    return read_idx_dir(locate("fashion-mnist")).x_train


def _clips(n: int) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(0)
    x = sosfilt(butter(4, (80.0, 8000.0), btype="band", fs=SR, output="sos"), rng.standard_normal((n, 2 * SR)), axis=1)
    return (0.3 * x / np.abs(x).max(axis=1, keepdims=True)).astype(np.float32)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _measure(names: dict[str, int], x: np.ndarray, *, sample_rate: int | None) -> dict[str, tuple[float, object]]:
    from helmholtz.codecs.registry import get_codec

    out = {}
    for name, level in names.items():
        spec = get_codec(name)
        if not spec.available()[0]:
            continue
        spec.roundtrip(x[:8], level=level, sample_rate=sample_rate)  # imports and one-time set-up out of the timing
        out[name] = _timed(lambda spec=spec, level=level: spec.roundtrip(x, level=level, sample_rate=sample_rate))
    return out


def _row(name, kind, n, seconds, base_name, base_seconds, res, *, unit, per_item_bits, hardware, extra=""):
    from helmholtz.codecs.registry import get_codec

    spec = get_codec(name)
    level = (IMAGE_LEVELS | AUDIO_LEVELS)[name]
    bits = 8.0 * res.total_bytes.mean() / per_item_bits
    payload = 8.0 * res.payload_bytes.mean() / per_item_bits
    per = "bpp" if kind == "image" else "kbps"
    scale = 1.0 if kind == "image" else 1e-3
    return {
        "benchmark": f"{spec.title} round trip at {spec.display(level)}, {n} {'images' if kind == 'image' else 'clips'}",
        "ours": n / seconds, "baseline": n / base_seconds, "unit": unit, "ratio": base_seconds / seconds,
        "hardware": hardware,
        "notes": (f"{spec.encoder()}; baseline {base_name} in the same run; file {bits * scale:.3g} {per}, payload "
                  f"{payload * scale:.3g} {per}{extra}"),
    }


def run(*, quick: bool = False) -> list[dict]:
    hardware = _hardware()
    x = _fashion_train()
    if quick:
        x = x[:3000]
    images = _measure(IMAGE_LEVELS, x, sample_rate=None)
    base_s, _ = images["jpeg"]
    rows = []
    for name, (seconds, res) in images.items():
        psnr = 10 * np.log10(255.0**2 / np.mean((res.data.astype(np.float64) - x) ** 2, axis=(1, 2)).clip(1e-10))
        rows.append(_row(name, "image", len(x), seconds, "JPEG", base_s, res, unit="images/s", per_item_bits=28 * 28,
                         hardware=hardware, extra=f", mean PSNR {np.mean(np.minimum(psnr, 100)):.2f} dB"))
    clips = _clips(12 if quick else 40)
    audio = _measure(AUDIO_LEVELS, clips, sample_rate=SR)
    base_s, _ = audio["mp3"]
    for name, (seconds, res) in audio.items():
        rows.append(_row(name, "audio", len(clips), seconds, "MP3", base_s, res, unit="clips/s", per_item_bits=2.0,
                         hardware=hardware, extra=", 2 s band-limited noise at 44.1 kHz"))
    return rows


def main(argv: list[str] | None = None) -> int:
    from table import markdown

    print(markdown(run(quick="--quick" in (argv if argv is not None else sys.argv[1:]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
