"""`helmholtz datasets` and `helmholtz inspect`: JSON holds the right numbers, bad input is one line and exit 2."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import FASHION_MNIST_DIR, requires_fashion_mnist, run_cli
from helmholtz.data import load_dataset
from test_data_readers import BAD_KINDS, make_bad_source, write_idx_dir


def test_datasets_json_reports_found_and_missing(isolated_search, capsys):
    write_idx_dir(isolated_search / "mnist")
    code, out, err = run_cli(["datasets", "--json"], capsys)
    assert code == 0 and err == ""
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows) == {"fashion-mnist", "mnist", "cifar10"}
    assert rows["mnist"]["found"] and rows["mnist"]["format"] == "idx"
    assert rows["mnist"]["path"] == str(isolated_search / "mnist")
    assert not rows["cifar10"]["found"] and rows["cifar10"]["path"] is None
    assert "CIFAR-10 python version" in rows["cifar10"]["how_to_get"]
    assert rows["cifar10"]["searched"][0] == str(isolated_search / "cifar10")
    fashion_here = (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
    assert rows["fashion-mnist"]["found"] == fashion_here
    code, out, _ = run_cli(["datasets"], capsys)
    assert code == 0 and "mnist" in out and "missing" in out and "found" in out


def test_inspect_json_on_small_idx(isolated_search, capsys):
    write_idx_dir(isolated_search / "mnist", n_train=40, n_test=20)
    code, out, err = run_cli(["inspect", "mnist", "--json", "--train-size", "20", "--test-size", "10"], capsys)
    assert code == 0 and err == ""
    info = json.loads(out)
    assert info["name"] == "mnist" and info["format"] == "idx" and info["modality"] == "image"
    assert info["item_shape"] == [28, 28, 1] and info["dtype"] == "uint8" and info["n_classes"] == 10
    assert info["splits"] == {"train": 10, "val": 10, "test": 10}   # 2 per class, one of each held out
    assert all(r["train"] == 1 and r["val"] == 1 and r["test"] == 1 for r in info["per_class"])
    ds = load_dataset("mnist", train_size=20, test_size=10)
    assert info["content_hash"] == ds.content_hash


def test_inspect_human_output(tmp_path, capsys):
    np.savez(tmp_path / "tiny.npz", x=np.zeros((20, 4, 4, 3), np.uint8), y=np.arange(20) % 2,
             class_names=np.array(["left", "right"]))
    code, out, err = run_cli(["inspect", str(tmp_path / "tiny.npz")], capsys)
    assert code == 0 and err == ""
    ds = load_dataset(tmp_path / "tiny.npz")
    for text in ("npz", "4x4x3 uint8", "left", "right", ds.content_hash, "held out"):
        assert text in out


@requires_fashion_mnist
def test_inspect_fashion_mnist_json(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HELMHOLTZ_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, err = run_cli(["inspect", "fashion-mnist", "--json"], capsys)
    assert code == 0 and err == ""
    info = json.loads(out)
    assert info["source"] == str(FASHION_MNIST_DIR) and info["format"] == "idx"
    assert info["item_shape"] == [28, 28, 1] and info["n_classes"] == 10
    assert info["class_names"][0] == "T-shirt/top" and info["class_names"][9] == "Ankle boot"
    assert info["splits"] == {"train": 54000, "val": 6000, "test": 10000}
    assert all((r["train"], r["val"], r["test"]) == (5400, 600, 1000) for r in info["per_class"])
    assert len(info["content_hash"]) == 32


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_inspect_bad_source_one_line_exit_2(tmp_path, isolated_search, capsys, kind):
    source, pattern = make_bad_source(kind, tmp_path)
    code, out, err = run_cli(["inspect", source], capsys)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err


    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (["--train-size", "0"], "--train-size must be an integer ≥ 1; got 0"),
    (["--train-size", "999"], "--train-size 999 exceeds the 40 training items"),
    (["--val-fraction", "1.5"], "--val-fraction must be a fraction in (0, 1)"),
])
def test_inspect_bad_options_exit_2(isolated_search, capsys, args, needle):
    write_idx_dir(isolated_search / "mnist")
    code, _, err = run_cli(["inspect", "mnist", *args], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and needle in err


def test_real_entry_point_subprocess(tmp_path):
    """The installed console script, not just main(): one line on stderr, exit 2, no traceback."""
    source, _ = make_bad_source("truncated-idx", tmp_path)
    exe = Path(sys.executable).with_name("helmholtz")
    env = {**os.environ, "HELMHOLTZ_DATA": str(tmp_path / "empty"), "HOME": str(tmp_path)}
    for args, needle in ((["inspect", source], "payload is 31260 bytes"),
                         (["inspect", "cifar10"], "dataset 'cifar10' not found")):
        proc = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 2 and proc.stdout == ""
        assert len(proc.stderr.splitlines()) == 1 and needle in proc.stderr and "Traceback" not in proc.stderr
