"""One training run end to end, ours against what a user would otherwise write, on real Fashion-MNIST at JPEG q 20.

Ours: `compress_dataset` runs the codec once for the level (libjpeg-turbo, batched; cached on disk for every later
run), then `train_run` holds the decoded images on the device as uint8, shuffles and shift/flip-augments a whole
batch at a time there.

The baseline is the usual PyTorch pipeline: the compressed copy is written as one JPEG file per image (Pillow, same
quality), and a `torch.utils.data.Dataset` opens and decodes one file per item with Pillow, augments it with the same
random shift (≤10 %, edge fill) and horizontal flip in numpy, and a `DataLoader` with 2 workers batches it.

Both train the same model (arch A, ¼ width) from the same seed with the same recipe (`fast`, capped at the same
number of epochs; one row as `fast` is, without augmentation, and one with the shift/flip augmentation on), the
same precision (the resolved ``auto``: bf16 autocast on a CPU with native bf16) and memory format, and both keep
the best-validation weights and read the test split once. The clock of each starts before its
codec work (our round trip; the baseline's JPEG file writing) and is read at the end of every epoch, after the
validation pass. Time to the same accuracy = the first epoch end at which the validation accuracy reaches the
target: 99 % of the lower of the two runs' best validation accuracies. ratio = baseline time / our time.

Usage: python bench/bench_pipeline.py [--quick] [--threads N]
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUALITY = 20
ARCH, WIDTH = "A", 0.25


def _hardware() -> str:
    import torch

    from helmholtz.provenance import host_info

    info = host_info()
    return f"{info['cpu']} ({info['cpu_count']} cores, {torch.get_num_threads()} torch threads)"


def _ours(ds, opts, *, seed: int, cache: Path) -> tuple[list[tuple[float, float]], float, float]:
    """(per-epoch (seconds since start, val acc), test acc, codec seconds)."""
    from helmholtz.codecs.cache import compress_dataset
    from helmholtz.train.run import train_run
    from helmholtz.train.spec import DataRef, RunSpec

    t0 = time.perf_counter()
    compressed, _ = compress_dataset(ds, codec="jpeg", level=QUALITY, cache_dir=cache)
    t_codec = time.perf_counter() - t0
    curve: list[tuple[float, float]] = []
    spec = RunSpec(DataRef("fashion-mnist", ds.content_hash), "jpeg", QUALITY, ARCH, seed, opts)
    result, _ = train_run(spec, compressed, device="cpu",
                          on_epoch=lambda row: curve.append((time.perf_counter() - t0, row.val_acc)))
    return curve, result.test_acc, t_codec


class JpegFiles:
    """The user's Dataset: one JPEG file per item, opened and decoded with Pillow in ``__getitem__``."""

    def __init__(self, paths: list[Path], labels: np.ndarray, *, augment: bool, seed: int) -> None:
        self.paths, self.labels, self.augment, self.seed = paths, labels, augment, seed
        self.rng: np.random.Generator | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def _shift_flip(self, img: np.ndarray) -> np.ndarray:
        """The same augmentation as ours (helmholtz.train.augment): shift ≤10 % per side, edge fill, flip."""
        if self.rng is None:  # one generator per worker process
            import torch.utils.data

            info = torch.utils.data.get_worker_info()
            self.rng = np.random.default_rng([self.seed, 0 if info is None else info.seed % 2**32])
        h, w = img.shape[:2]
        sy, sx = int(h * 0.1 + 1e-9), int(w * 0.1 + 1e-9)
        dy, dx = self.rng.integers(-sy, sy + 1), self.rng.integers(-sx, sx + 1)
        if self.rng.random() < 0.5:
            img = img[:, ::-1]
        rows = np.clip(np.arange(h) - dy, 0, h - 1)
        cols = np.clip(np.arange(w) - dx, 0, w - 1)
        return img[rows][:, cols]

    def __getitem__(self, i: int):
        import torch
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            img = np.array(im)
        if img.ndim == 2:
            img = img[..., None]
        if self.augment:
            img = self._shift_flip(img)
        x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)
        return x, int(self.labels[i])


def _write_jpegs(x: np.ndarray, folder: Path) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True)
    paths = []
    for i, img in enumerate(x):
        p = folder / f"{i:05d}.jpg"
        Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(p, "JPEG", quality=QUALITY)
        paths.append(p)
    return paths


def _baseline(ds, opts, *, seed: int, root: Path) -> tuple[list[tuple[float, float]], float, float]:
    """The usual loop over a DataLoader; same model, optimizer, schedule, precision and model selection as ours."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    from helmholtz.models.archs import build_model
    from helmholtz.train.device import resolve_precision, use_channels_last
    from helmholtz.train.loop import make_optimizer
    from helmholtz.train.schedule import make_schedule

    t0 = time.perf_counter()
    files = {s: _write_jpegs(getattr(ds, f"x_{s}"), root / s) for s in ("train", "val", "test")}
    t_codec = time.perf_counter() - t0
    dev = torch.device("cpu")
    precision = resolve_precision(opts.precision, dev)
    fmt = torch.channels_last if use_channels_last(dev, precision) else torch.contiguous_format
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext

    def loader(split: str, *, train: bool) -> DataLoader:
        data = JpegFiles(files[split], getattr(ds, f"y_{split}"), augment=train and opts.augment, seed=seed)
        return DataLoader(data, batch_size=opts.batch_size if train else 1024, shuffle=train, num_workers=2,
                          generator=torch.Generator().manual_seed(seed) if train else None)

    @torch.no_grad()
    def accuracy(model, dl) -> float:
        model.eval()
        correct = n = 0
        for x, y in dl:
            with autocast():
                correct += (model(x.contiguous(memory_format=fmt)).float().argmax(1) == y).sum().item()
            n += len(y)
        return correct / n

    torch.manual_seed(seed)
    c, h, w = ds.x_train.shape[3], ds.x_train.shape[1], ds.x_train.shape[2]
    model = build_model(ARCH, modality="image", input_shape=(c, h, w), n_classes=ds.n_classes, width=opts.width)
    model = model.to(memory_format=fmt)
    optimizer = make_optimizer(model.parameters(), opts)
    train_dl, val_dl = loader("train", train=True), loader("val", train=False)
    lr_at = make_schedule(opts.schedule, lr0=opts.resolved_lr, decay=opts.resolved_lr_decay, epochs=opts.epochs,
                          steps_per_epoch=len(train_dl), warmup_epochs=opts.warmup_epochs)
    curve, best, best_state, step = [], -1.0, None, 0
    for _ in range(opts.epochs):
        model.train()
        for x, y in train_dl:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            with autocast():
                logits = model(x.contiguous(memory_format=fmt))
            loss = nn.functional.cross_entropy(logits.float(), y, label_smoothing=opts.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        val = accuracy(model, val_dl)
        curve.append((time.perf_counter() - t0, val))
        if val > best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return curve, accuracy(model, loader("test", train=False)), t_codec


def _time_to(curve: list[tuple[float, float]], target: float) -> float:
    return next((t for t, acc in curve if acc >= target), float("inf"))


def _compare(ds, opts, *, precision: str, epochs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ours, ours_test, ours_codec = _ours(ds, opts, seed=0, cache=Path(tmp) / "cache")
        base, base_test, base_codec = _baseline(ds, opts, seed=0, root=Path(tmp) / "jpeg")
    target = 0.99 * min(max(a for _, a in ours), max(a for _, a in base))
    t_ours, t_base = _time_to(ours, target), _time_to(base, target)
    per_epoch_ours = (ours[-1][0] - ours[0][0]) / max(1, len(ours) - 1)
    per_epoch_base = (base[-1][0] - base[0][0]) / max(1, len(base) - 1)
    aug = "shift/flip augmentation" if opts.augment else "no augmentation"
    return {
        "benchmark": f"one training run to the same val accuracy ({target:.3f}), JPEG q{QUALITY}, arch {ARCH} ¼ width, "
                     f"{aug}",
        "ours": round(t_ours, 2), "baseline": round(t_base, 2), "unit": "s", "ratio": round(t_base / t_ours, 2),
        "hardware": _hardware(),
        "notes": (f"Fashion-MNIST {len(ds.y_train)} train images, recipe fast ({aug}) capped at {epochs} epochs, "
                  f"{precision}; baseline: one JPEG file per image decoded by Pillow in a Dataset, DataLoader with 2 "
                  f"workers. Test acc ours {ours_test:.3f} vs baseline {base_test:.3f}. Codec once: ours "
                  f"{ours_codec:.2f} s (all splits, round trip + cache write) vs {base_codec:.2f} s writing JPEG "
                  f"files. Epoch incl. validation: ours {per_epoch_ours:.2f} s vs {per_epoch_base:.2f} s"),
    }


def run(*, quick: bool = False) -> list[dict]:
    import torch

    from helmholtz.data import load_dataset
    from helmholtz.train.device import resolve_precision
    from helmholtz.train.recipes import resolve_recipe

    train_size, test_size, epochs = (3000, 1000, 2) if quick else (10_000, 5000, 4)
    ds = load_dataset("fashion-mnist", train_size=train_size, test_size=test_size)
    rows = []
    for augment in (False,) if quick else (False, True):
        opts = resolve_recipe("fast", "image", epochs=epochs, width=WIDTH, augment=augment)
        precision = resolve_precision(opts.precision, torch.device("cpu"))
        rows.append(_compare(ds, opts, precision=precision, epochs=epochs))
    return rows


if __name__ == "__main__":
    if "--threads" in sys.argv:
        import torch

        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
    from table import markdown

    print(markdown(run(quick="--quick" in sys.argv)))
