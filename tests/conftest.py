"""Shared test setup: small CPU budgets and the location of the real Fashion-MNIST files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

# Tests share two cores with each other and with the codec worker pools.
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes codec caches under its own temp dir, never into the user's ~/.cache."""
    monkeypatch.setenv("HELMHOLTZ_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def isolated_search(tmp_path, monkeypatch):
    """Known names are searched only in an empty temp $HELMHOLTZ_DATA and a temp home."""
    data = tmp_path / "hdata"
    data.mkdir()
    monkeypatch.setenv("HELMHOLTZ_DATA", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return data


def fashion_mnist_available() -> bool:
    return (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists()


requires_fashion_mnist = pytest.mark.skipif(
    not fashion_mnist_available(), reason="Debian package dataset-fashion-mnist not installed (make test installs it)"
)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module: the tests share two cores, and OpenMP barriers stall when oversubscribed."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the console entry point in process: (exit status, stdout, stderr); a normal return is status 0."""
    from helmholtz.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as ex:
        code = ex.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
