"""Synthetic store rows from a known accuracy curve: for tests, and to try the report without training anything.

`synthetic_rows` returns (runs, levels) rows shaped like `Store.runs()` / `Store.levels()`: one run per
(level, architecture, seed) with test accuracy = the given curve + Gaussian noise, and one LevelStats row per level
with plausible bytes (JPEG: a fixed header plus a payload growing with q; MP3: the nominal bitrate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from helmholtz.analysis.table import Codec, level_label

#: a 28×28 grayscale item (Fashion-MNIST) for the JPEG byte model; 2 s at 44.1 kHz for MP3
_PIXELS, _CHANNELS, _SECONDS, _SR = 28 * 28, 1, 2.0, 44100
_JPEG_HEADER_BYTES = 330


def synthetic_level(level: int | None, *, codec: Codec = "jpeg") -> dict[str, Any]:
    """A LevelStats row for one level under a simple byte model (not a real codec measurement)."""
    audio = codec == "mp3"
    raw_bits = 16.0 * _SR if audio else 8.0 * _CHANNELS
    if level is None:
        raw_bytes = raw_bits * (_SECONDS if audio else _PIXELS) / 8
        return dict(codec="none", level=None, level_label="none", encoder="none", unit="second" if audio else "pixel",
                    bytes_total_mean=raw_bytes, bytes_payload_mean=raw_bytes, bits_total=raw_bits,
                    bits_payload=raw_bits, raw_bits=raw_bits, compression_ratio=1.0, fidelity_db=None, n_items=1000)
    if audio:
        payload = level * 1000 * _SECONDS / 8
        total = payload + 400                            # ID3/Xing/LAME tags
        per = _SECONDS
    else:
        payload = 10 + 4.0 * level
        total = payload + _JPEG_HEADER_BYTES
        per = _PIXELS
    return dict(codec=codec, level=level, level_label=level_label(level), encoder="synthetic",
                unit="second" if audio else "pixel", bytes_total_mean=total, bytes_payload_mean=payload,
                bits_total=8 * total / per, bits_payload=8 * payload / per, raw_bits=raw_bits,
                compression_ratio=raw_bits * per / 8 / total, fidelity_db=10 + level / 4, n_items=1000)


def synthetic_rows(accuracy: Callable[[str, int | None], float], *, levels: Sequence[int | None],
                   archs: Mapping[str, int], seeds: int | Sequence[int] = 3, noise_sd: float = 0.0,
                   codec: Codec = "jpeg", epochs: Callable[[str, int | None], float] | None = None,
                   wall_s: Callable[[str, int | None], float] | None = None, rng_seed: int = 0,
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(runs, levels) rows for a sweep whose true mean accuracy is `accuracy(arch, level)`.

    `archs` maps architecture name → parameter count. `epochs` and `wall_s` give the other per-run numbers (default:
    10 epochs, 60 s); noise of `noise_sd` is added to accuracy only, so tests can reason about it.
    """
    rng = np.random.default_rng(rng_seed)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    runs = []
    for lv in levels:
        for arch, n_params in archs.items():
            for s in seed_list:
                e = 10.0 if epochs is None else float(epochs(arch, lv))
                runs.append(dict(
                    run_id=f"{arch}-{level_label(lv)}-{s}", status="done", arch=arch,
                    codec="none" if lv is None else codec, level=lv, level_label=level_label(lv), seed=s,
                    test_acc=float(accuracy(arch, lv) + rng.normal(0.0, noise_sd)) if noise_sd else float(accuracy(arch, lv)),
                    test_loss=0.5, best_val_acc=float(accuracy(arch, lv)), best_epoch=int(round(e)),
                    epochs_to_converge=int(round(e)), epochs_run=int(round(e)) + 5, stopped_early=1,
                    wall_s=60.0 if wall_s is None else float(wall_s(arch, lv)), train_items_per_s=1000.0,
                    n_params=int(n_params), device="cpu", precision="fp32", code_version="synthetic",
                    versions_json="{}", host_json="{}", error=None,
                ))
    return runs, [synthetic_level(lv, codec=codec) for lv in levels]
