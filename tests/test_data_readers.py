"""Dataset readers on small files written in the true published formats, split behaviour, errors, real Fashion-MNIST.

The writers here are independent oracles: they build each format byte by byte from its spec (IDX header, CIFAR-10's
channel-major pickled rows), and the tests compare what the readers return with the arrays that went in.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import FASHION_MNIST_DIR, requires_fashion_mnist
from helmholtz.data import dataset_status, load_dataset
from helmholtz.data.image_readers import (
    FASHION_MNIST_CLASSES,
    read_cifar10_dir,
    read_idx_dir,
    read_image_folder,
    read_npz,
)
from helmholtz.data.locate import search_paths
from helmholtz.errors import DataError

# ── writers (used by test_data_cli.py too) ───────────────────────────────────────────────────────────────────────


def write_idx(path: Path, arr: np.ndarray, *, gz: bool) -> Path:
    """IDX: magic 0x0000 08 <ndim>, one big-endian uint32 per dim, then the uint8 payload."""
    blob = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(blob) if gz else blob)
    return path


def write_idx_dir(directory: Path, *, n_train: int = 40, n_test: int = 20, gz: bool = True, seed: int = 0):
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = (np.arange(n) % 10).astype(np.uint8)
        write_idx(directory / f"{split}-images-idx3-ubyte", x, gz=gz)
        write_idx(directory / f"{split}-labels-idx1-ubyte", y, gz=gz)
        out[split] = (x, y)
    return out


def cifar_row(img: np.ndarray) -> np.ndarray:
    """Naive oracle of CIFAR-10's layout: the 1024 R values row-major, then G, then B."""
    return np.concatenate([img[:, :, c].ravel() for c in range(3)])


def write_cifar_dir(directory: Path, *, per_batch: int = 6, str_keys: bool = False, seed: int = 0):
    """The CIFAR-10 python version: five training batches, a test batch and batches.meta, as protocol-2 pickles
    of the real dict layout (bytes keys, as Python 2 wrote them)."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    key = (lambda k: k) if str_keys else (lambda k: k.encode())
    images, labels = [], []
    for i, name in enumerate([f"data_batch_{b}" for b in range(1, 6)] + ["test_batch"]):
        imgs = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labs = [(j + i) % 10 for j in range(per_batch)]
        batch = {key("batch_label"): b"batch", key("labels"): labs,
                 key("data"): np.stack([cifar_row(im) for im in imgs]),
                 key("filenames"): [f"img_{i}_{j}.png".encode() for j in range(per_batch)]}
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        images.append(imgs)
        labels.append(labs)
    names = [n.encode() for n in ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")]
    with open(directory / "batches.meta", "wb") as f:
        pickle.dump({key("label_names"): names, key("num_vis"): 3072}, f, protocol=2)
    return np.concatenate(images[:5]), np.concatenate(labels[:5]), images[5], np.array(labels[5])


def write_image_folder(root: Path, *, classes=("cat", "dog"), per_class: int = 3, size=(8, 6), mode: str = "L",
                       ext: str = ".png", seed: int = 0) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = {}
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        out[c] = []
        for i in range(per_class):
            shape = (size[1], size[0]) + (() if mode == "L" else (3,))
            arr = rng.integers(0, 256, shape, dtype=np.uint8)
            Image.fromarray(arr, mode=mode).save(root / c / f"{i:03d}{ext}")
            out[c].append(arr)
    return out


def make_bad_source(kind: str, tmp: Path) -> tuple[str, str]:
    """A broken dataset of ``kind`` → (DATASET argument, regex its one-line error must match)."""
    if kind == "missing-path":
        return str(tmp / "nope"), r"no such file or directory.*known name: fashion-mnist, mnist, cifar10"
    if kind == "unknown-name":  # a known name that is nowhere to be found (the test isolates the search paths)
        return "cifar10", r"dataset 'cifar10' not found; looked in .*helmholtz/cifar10.*CIFAR-10 python version"
    root = tmp / kind
    if kind == "empty-class":
        write_image_folder(root)
        (root / "bird").mkdir()
        return str(root), r"bird: class folder is empty"
    if kind in ("corrupt-image", "truncated-image"):
        write_image_folder(root, mode="RGB", size=(32, 32))
        bad = root / "dog" / "001.png"
        blob = bad.read_bytes()
        bad.write_bytes(blob[: len(blob) // 2] if kind == "truncated-image" else b"\x89PNG garbage" * 10)
        return str(root), r"dog/001\.png: cannot decode image"
    if kind == "non-image":
        write_image_folder(root)
        (root / "cat" / "notes.txt").write_text("hello")
        return str(root), r"cat/notes\.txt: not an image file"
    if kind == "mismatched-sizes":
        write_image_folder(root, size=(8, 6))
        Image.fromarray(np.zeros((7, 9), np.uint8)).save(root / "dog" / "001.png")
        return str(root), r"dog/001\.png: image is 9x7 but the first image is 8x6"
    if kind == "truncated-cifar":
        write_cifar_dir(root)
        blob = (root / "data_batch_3").read_bytes()
        (root / "data_batch_3").write_bytes(blob[: len(blob) - 500])
        return str(root), r"data_batch_3: not a readable CIFAR-10 batch"
    if kind == "truncated-idx":
        write_idx_dir(root, gz=False)
        path = root / "train-images-idx3-ubyte"
        path.write_bytes(path.read_bytes()[:-100])
        return str(root), r"train-images-idx3-ubyte: payload is 31260 bytes but the header's dims 40x28x28 need 31360"
    raise AssertionError(kind)


BAD_KINDS = ("missing-path", "unknown-name", "empty-class", "corrupt-image", "truncated-image", "non-image",
             "truncated-cifar", "truncated-idx", "mismatched-sizes")


# ── IDX ──────────────────────────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    written = write_idx_dir(tmp_path / "digits", gz=gz)
    raw = read_idx_dir(tmp_path / "digits")
    assert raw.format == "idx" and raw.x_train.shape == (40, 28, 28, 1) and raw.x_train.dtype == np.uint8
    np.testing.assert_array_equal(raw.x_train[..., 0], written["train"][0])
    np.testing.assert_array_equal(raw.y_train, written["train"][1])
    np.testing.assert_array_equal(raw.x_test[..., 0], written["t10k"][0])
    assert raw.class_names == tuple("0123456789") and raw.x_train.flags.writeable


def test_idx_fashion_names_by_known_name_and_folder(tmp_path, isolated_search):
    write_idx_dir(isolated_search / "fashion-mnist")
    ds = load_dataset("fashion-mnist")
    assert ds.name == "fashion-mnist" and ds.class_names == FASHION_MNIST_CLASSES
    assert Path(ds.source) == (isolated_search / "fashion-mnist").resolve()
    write_idx_dir(tmp_path / "mnist-copy")
    assert load_dataset(tmp_path / "mnist-copy").class_names == tuple("0123456789")


def test_idx_bad_magic_and_label_count(tmp_path):
    root = tmp_path / "d"
    write_idx_dir(root, gz=False)
    (root / "train-labels-idx1-ubyte").write_bytes(struct.pack(">BBBBI", 0, 0, 8, 1, 39) + bytes(39))
    with pytest.raises(DataError, match=r"40 images but 39 labels"):
        read_idx_dir(root)
    (root / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(8))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: not an IDX images file: magic 0x00000801"):
        read_idx_dir(root)


def test_idx_truncated_gzip_and_missing_file(tmp_path):
    root = tmp_path / "d"
    write_idx_dir(root, gz=True)
    gzpath = root / "t10k-images-idx3-ubyte.gz"
    gzpath.write_bytes(gzpath.read_bytes()[:-40])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: cannot read the gzip stream"):
        read_idx_dir(root)
    gzpath.unlink()
    with pytest.raises(DataError, match=r"missing IDX file t10k-images-idx3-ubyte"):
        read_idx_dir(root)


# ── CIFAR-10 ─────────────────────────────────────────────────────────────────────────────────────────────────────

def test_cifar_channel_major_layout(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    x_train, y_train, x_test, y_test = write_cifar_dir(root)
    # one marked pixel in the R plane of training image 7 at (y=3, x=20): a wrong transpose moves it
    path = root / "data_batch_2"
    with open(path, "rb") as f:
        batch = pickle.load(f)
    batch[b"data"][1] = 0
    batch[b"data"][1, 0 * 1024 + 3 * 32 + 20] = 255
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)
    raw = read_cifar10_dir(root)
    assert raw.x_train.shape == (30, 32, 32, 3) and raw.x_test.shape == (6, 32, 32, 3)
    assert raw.x_train[7, 3, 20, 0] == 255 and raw.x_train[7].sum() == 255
    x_train[7] = 0
    x_train[7, 3, 20, 0] = 255
    np.testing.assert_array_equal(raw.x_train, x_train)
    np.testing.assert_array_equal(raw.y_train, y_train)
    np.testing.assert_array_equal(raw.x_test, x_test)
    np.testing.assert_array_equal(raw.y_test, y_test)
    assert raw.class_names[:2] == ("plane", "car") and raw.format == "cifar10-python"
    # the parent folder of cifar-10-batches-py/ is accepted too
    ds = load_dataset(tmp_path)
    sizes = ds.split_sizes()
    assert ds.format == "cifar10-python" and sizes["train"] + sizes["val"] == 30 and sizes["test"] == 6


def test_cifar_str_keys_and_no_code_execution(tmp_path):
    write_cifar_dir(tmp_path / "c", str_keys=True)
    assert read_cifar10_dir(tmp_path / "c").x_train.shape == (30, 32, 32, 3)

    class Evil:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    with open(tmp_path / "c" / "data_batch_4", "wb") as f:
        pickle.dump({b"data": Evil(), b"labels": []}, f, protocol=2)
    with pytest.raises(DataError, match=r"data_batch_4: not a CIFAR-10 batch: the pickle refers to .*never holds"):
        read_cifar10_dir(tmp_path / "c")
    assert not (tmp_path / "pwned").exists()


def test_cifar_missing_batch_and_wrong_row_length(tmp_path):
    root = tmp_path / "c"
    write_cifar_dir(root)
    with open(root / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]}, f, protocol=2)
    with pytest.raises(DataError, match=r"test_batch: data is uint8 \(2, 1024\), expected uint8 Nx3072"):
        read_cifar10_dir(root)
    (root / "data_batch_5").unlink()
    with pytest.raises(DataError, match=r"missing CIFAR-10 batch data_batch_5"):
        read_cifar10_dir(root)


# ── image folder ─────────────────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("mode", "ext"), [("L", ".png"), ("RGB", ".png"), ("L", ".bmp"), ("RGB", ".bmp")])
def test_image_folder_lossless(tmp_path, mode, ext):
    written = write_image_folder(tmp_path / "imgs", mode=mode, ext=ext)
    (tmp_path / "imgs" / ".DS_Store").write_bytes(b"\x00junk")
    (tmp_path / "imgs" / "dog" / ".DS_Store").write_bytes(b"\x00junk")
    raw = read_image_folder(tmp_path / "imgs")
    c = 1 if mode == "L" else 3
    assert raw.x_train.shape == (6, 6, 8, c) and raw.class_names == ("cat", "dog") and raw.x_test is None
    expected = np.stack(written["cat"] + written["dog"]).reshape(6, 6, 8, c)
    np.testing.assert_array_equal(raw.x_train, expected)
    np.testing.assert_array_equal(raw.y_train, [0, 0, 0, 1, 1, 1])


def test_image_folder_jpeg_matches_pillow_and_mixed_modes_give_rgb(tmp_path):
    root = tmp_path / "imgs"
    write_image_folder(root, mode="RGB", ext=".jpg", size=(16, 16))
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(gray).save(root / "cat" / "zz_gray.jpeg")
    raw = read_image_folder(root)
    assert raw.x_train.shape == (7, 16, 16, 3)
    files = sorted((root / "cat").iterdir()) + sorted((root / "dog").iterdir())
    oracle = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    np.testing.assert_array_equal(raw.x_train, oracle)
    # the grayscale JPEG is repeated over the three channels
    g = raw.x_train[3]
    assert (g[..., 0] == g[..., 1]).all() and (g[..., 1] == g[..., 2]).all()


def test_image_folder_split_layout(tmp_path):
    root = tmp_path / "split"
    write_image_folder(root / "train", per_class=8, seed=1)
    write_image_folder(root / "val", per_class=2, seed=2)
    test = write_image_folder(root / "test", per_class=3, seed=3)
    raw = read_image_folder(root)
    assert raw.class_names == ("cat", "dog") and len(raw.y_train) == 20
    np.testing.assert_array_equal(raw.x_test[..., 0], np.stack(test["cat"] + test["dog"]))
    ds = load_dataset(root)
    assert ds.name == "split" and ds.split_sizes() == {"train": 18, "val": 2, "test": 6}
    assert ds.info["own_test_split"] is True
    # without split folders the test split is held out of the one pool (20 % per class)
    flat = load_dataset(root / "train")
    assert flat.split_sizes()["test"] == 4 and flat.info["own_test_split"] is False


def test_image_folder_many_files_keeps_order_and_reports_first_bad(tmp_path):
    # above 255 files the decoder runs in a thread pool: order and error reporting must not change
    root = tmp_path / "many"
    written = write_image_folder(root, classes=("a", "b", "c"), per_class=100, size=(4, 4))
    raw = read_image_folder(root)
    np.testing.assert_array_equal(raw.x_train[..., 0], np.stack(written["a"] + written["b"] + written["c"]))
    for name in ("b/050.png", "c/010.png"):
        (root / name).write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"b/050\.png: cannot decode image"):
        read_image_folder(root)


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_sources_raise_one_line_data_error(tmp_path, isolated_search, kind):
    source, pattern = make_bad_source(kind, tmp_path)
    with pytest.raises(DataError, match=pattern) as info:
        load_dataset(source)
    assert "\n" not in str(info.value) and "fix: " in str(info.value)


def test_unknown_name_lists_every_search_path(isolated_search):
    with pytest.raises(DataError) as info:
        load_dataset("mnist")
    for path in search_paths("mnist"):
        assert str(path) in str(info.value)
    assert "put the four IDX files" in str(info.value)


# ── NPZ ──────────────────────────────────────────────────────────────────────────────────────────────────────────

def test_npz_both_layouts(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 5, 4), dtype=np.uint8)
    np.savez(tmp_path / "pool.npz", x=x, y=np.arange(12) % 3)
    raw = read_npz(tmp_path / "pool.npz")
    assert raw.x_train.shape == (12, 5, 4, 1) and raw.x_test is None and raw.class_names == ("0", "1", "2")
    np.testing.assert_array_equal(raw.x_train[..., 0], x)
    xt = rng.integers(0, 256, (4, 5, 4, 3), dtype=np.uint8)
    np.savez_compressed(tmp_path / "split.npz", x_train=xt, y_train=np.array([[0], [1], [1], [0]]),
                        x_test=xt[:2], y_test=np.array([1, 0]), class_names=np.array(["no", "yes"]))
    raw = read_npz(tmp_path / "split.npz")
    assert raw.class_names == ("no", "yes") and raw.y_train.tolist() == [0, 1, 1, 0] and raw.y_test.tolist() == [1, 0]
    np.testing.assert_array_equal(raw.x_test, xt[:2])
    assert load_dataset(tmp_path / "split.npz", val_fraction=0.5).name == "split"


@pytest.mark.parametrize(("arrays", "pattern"), [
    ({"x": np.zeros((3, 4, 4), np.float32), "y": np.zeros(3, int)}, r"x must be uint8 images \(0\.\.255\); got float32.*astype"),
    ({"x": np.zeros((3, 4, 4), np.uint8), "y": np.zeros(2, int)}, r"y has shape \(2,\) but there are 3 images"),
    ({"x": np.zeros((3, 4, 4, 2), np.uint8), "y": np.zeros(3, int)}, r"C 1 or 3; got shape \(3, 4, 4, 2\)"),
    ({"x_train": np.zeros((3, 4, 4), np.uint8), "y_train": np.zeros(3, int), "x_test": np.zeros((1, 4, 4), np.uint8)},
     r"missing y_test"),
    ({"images": np.zeros((3, 4, 4), np.uint8)}, r"missing x, y \(holds images\).*np\.savez"),
    ({"x": np.zeros((3, 4, 4), np.uint8), "y": np.array([0.0, 1.0, 1.0])}, r"y must hold integer class indices"),
])
def test_npz_errors(tmp_path, arrays, pattern):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=pattern):
        load_dataset(tmp_path / "bad.npz")


# ── splits through load_dataset ──────────────────────────────────────────────────────────────────────────────────

def _indexed_npz(path: Path, *, n_train: int = 300, n_test: int = 100) -> None:
    """Every image carries its own index in pixels (0,0) and (0,1), so a split's items can be traced back."""
    def images(n, offset):
        x = np.zeros((n, 4, 4), np.uint8)
        idx = np.arange(n) + offset
        x[:, 0, 0], x[:, 0, 1] = idx // 256, idx % 256
        return x
    y_train = np.repeat(np.arange(3), [150, 100, 50])
    np.savez(path, x_train=images(n_train, 0), y_train=y_train, x_test=images(n_test, 1000), y_test=np.arange(n_test) % 3)


def _ids(x: np.ndarray) -> np.ndarray:
    return x[:, 0, 0, 0].astype(int) * 256 + x[:, 0, 1, 0]


def test_splits_stratified_val_from_train_test_untouched(tmp_path):
    _indexed_npz(tmp_path / "d.npz")
    ds = load_dataset(tmp_path / "d.npz", train_size=60, val_fraction=0.2)
    pool = np.concatenate([ds.y_train, ds.y_val])
    assert np.bincount(pool).tolist() == [30, 20, 10]       # 60 drawn in the 150:100:50 proportions
    assert np.bincount(ds.y_val).tolist() == [6, 4, 2]      # 20 % of each class
    ids_train, ids_val, ids_test = _ids(ds.x_train), _ids(ds.x_val), _ids(ds.x_test)
    assert ids_val.max() < 300 and not set(ids_val) & set(ids_train)   # validation comes from training items only
    assert ids_test.tolist() == list(range(1000, 1100))                 # the test split is untouched
    # labels travel with their images
    y_all = np.repeat(np.arange(3), [150, 100, 50])
    np.testing.assert_array_equal(ds.y_train, y_all[ids_train])
    sub = load_dataset(tmp_path / "d.npz", test_size=30)
    assert np.bincount(sub.y_test).tolist() == [10, 10, 10] and sub.split_sizes()["train"] == 270


def test_splits_fixed_by_seed_and_hash_tracks_content(tmp_path):
    _indexed_npz(tmp_path / "d.npz")
    a, b = load_dataset(tmp_path / "d.npz"), load_dataset(tmp_path / "d.npz")
    c = load_dataset(tmp_path / "d.npz", split_seed=1)
    assert a.content_hash == b.content_hash and (_ids(a.x_val) == _ids(b.x_val)).all()
    assert c.content_hash != a.content_hash and set(_ids(c.x_val)) != set(_ids(a.x_val))
    with np.load(tmp_path / "d.npz") as z:
        arrays = dict(z)
    arrays["x_train"][5, 3, 3] ^= 1
    np.savez(tmp_path / "d.npz", **arrays)
    assert load_dataset(tmp_path / "d.npz").content_hash != a.content_hash


# ── real Fashion-MNIST ───────────────────────────────────────────────────────────────────────────────────────────

@requires_fashion_mnist
def test_real_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("HELMHOLTZ_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    raw = read_idx_dir(FASHION_MNIST_DIR)
    assert raw.x_train.shape == (60000, 28, 28, 1) and raw.x_test.shape == (10000, 28, 28, 1)
    assert raw.y_train[:3].tolist() == [9, 0, 0] and raw.y_test[0] == 9   # the published first labels
    assert raw.class_names == FASHION_MNIST_CLASSES   # the Debian path alone gives Fashion-MNIST's names
    # a second, naive reader of the first test image: skip the 16-byte header
    with gzip.open(FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz") as f:
        first = np.frombuffer(f.read(16 + 784)[16:], np.uint8).reshape(28, 28)
    np.testing.assert_array_equal(raw.x_test[0, :, :, 0], first)
    ds = load_dataset("fashion-mnist")
    assert Path(ds.source) == FASHION_MNIST_DIR and ds.class_names == FASHION_MNIST_CLASSES
    assert np.bincount(np.concatenate([ds.y_train, ds.y_val])).tolist() == [6000] * 10
    assert ds.split_sizes() == {"train": 54000, "val": 6000, "test": 10000}
    status = {row["name"]: row for row in dataset_status()}
    assert status["fashion-mnist"]["found"] and status["fashion-mnist"]["format"] == "idx"
