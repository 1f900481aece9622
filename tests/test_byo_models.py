"""Bring your own model (issue 18): a factory in a temporary module trains, sweeps (local and on a real local Ray
cluster), resumes, and is refused when its source changes; each way a factory can be wrong is one line and exit 2;
the residual family's counts match ResNet-20's and the MEC of a traced module matches the shape arithmetic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from conftest import run_cli
from test_bad_input import _one_line
from test_sweep_resume import HELMHOLTZ, write_npz

GOOD = '''
from torch import nn

def make(input_shape, n_classes, width=1.0):
    c, h, w = input_shape
    k = max(1, int(round(8 * width)))
    return nn.Sequential(nn.Conv2d(c, k, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                         nn.Linear(16 * k, n_classes))

not_callable = 3

def wrong_signature(shape):
    return make(shape, 4)

def returns_int(input_shape, n_classes, width=1.0):
    return 7

def wrong_output(input_shape, n_classes, width=1.0):
    return make(input_shape, n_classes + 1)

def no_parameters(input_shape, n_classes, width=1.0):
    return nn.Sequential(nn.Flatten())

def raises(input_shape, n_classes, width=1.0):
    raise ValueError("this factory only builds 3-channel models")

class Gated(nn.Module):
    def __init__(self, c, n_classes):
        super().__init__()
        self.conv = nn.Conv2d(c, 8, 3, padding=1)
        self.norm = nn.LayerNorm([8, 16, 16])
        self.head = nn.Linear(8, n_classes)

    def forward(self, x):
        y = self.conv(x)
        y = y + self.norm(y)            # a residual add
        return self.head(y.mean(dim=(2, 3)))

def gated(input_shape, n_classes, width=1.0):
    return Gated(input_shape[0], n_classes)
'''


@pytest.fixture
def factory(tmp_path, monkeypatch):
    """A uniquely named module with the factories above, importable here (sys.path) and by subprocesses
    (PYTHONPATH); returns (module name, its file)."""
    name = f"userfactory_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "pkgs"
    folder.mkdir()
    file = folder / f"{name}.py"
    file.write_text(textwrap.dedent(GOOD))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    yield name, file
    sys.modules.pop(name, None)


@pytest.fixture
def data(tmp_path):
    return write_npz(tmp_path / "d.npz", n_train=120, n_test=40)


TRAIN = ["--codec", "none", "--epochs", "1", "--recipe", "fast", "--precision", "fp32", "--json"]


@pytest.mark.parametrize(("attr", "match"), [
    ("not_callable", "'not_callable' is a int, not a callable"),
    ("wrong_signature", "does not take input_shape=, n_classes= and width="),
    ("returns_int", "returned a int, not a torch.nn.Module"),
    ("wrong_output", "a batch of 2 gave 2×5, expected logits 2×4"),
    ("no_parameters", "the model has no trainable parameters"),
    ("raises", "raised ValueError while building"),
    ("missing", "has no attribute 'missing'"),
])
def test_each_bad_factory_is_one_line_and_exit_2(factory, data, capsys, attr, match):
    name, _ = factory
    code, _, err = run_cli(["train", str(data), "--model", f"{name}:{attr}", *TRAIN], capsys)
    line = _one_line(code, err)
    assert match in line and f"{name}:{attr}" in line, line


def test_an_unimportable_factory_names_its_module(data, capsys):
    code, _, err = run_cli(["train", str(data), "--model", "no_such_module_xyz:make", *TRAIN], capsys)
    line = _one_line(code, err)
    assert "cannot import module 'no_such_module_xyz'" in line and "PYTHONPATH" in line, line
    code, _, err = run_cli(["train", str(data), "--model", "not a path", *TRAIN], capsys)
    assert "model name" in _one_line(code, err)


def test_a_user_factory_trains_and_records_its_provenance(factory, data, capsys):
    name, file = factory
    code, out, err = run_cli(["train", str(data), "--model", f"{name}:make@0.5", *TRAIN], capsys)
    assert code == 0, err
    result = json.loads(out)["result"]
    k = 4   # round(8 · 0.5) channels: conv 1→4 (3·3·1·4 + 4) and FC 64→4 (16·4·4 + 4)
    assert result["n_params"] == (9 * k + k) + (16 * k * 4 + 4)
    assert result["model"]["factory"] == f"{name}:make" and result["model"]["width"] == 0.5
    import hashlib

    assert result["model"]["source_sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()[:16]


def test_a_factory_family_sweeps_resumes_and_is_refused_when_its_source_changes(factory, data, tmp_path):
    name, file = factory
    out = tmp_path / "sweep"
    cmd = [*HELMHOLTZ, "sweep", str(data), "--out", str(out), "--model", f"{name}:make,R8", "--widths", "0.5,1",
           "--levels", "10,none", "--seeds", "1", "--epochs", "1", "--recipe", "fast", "--precision", "fp32",
           "--quiet", "--threads-per-run", "1"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    assert first.returncode == 0, first.stderr[-2000:]
    from helmholtz.sweep.store import Store

    with Store(out) as store:
        runs = store.runs()
        assert sorted({r["arch"] for r in runs}) == ["R8@0.5", "R8@1", f"{name}:make@0.5", f"{name}:make@1"]
        params = {r["arch"]: r["n_params"] for r in runs}
        assert params[f"{name}:make@0.5"] < params[f"{name}:make@1"] and params["R8@0.5"] < params["R8@1"]
        assert all(json.loads(r["model_json"])["n_params"] == r["n_params"] for r in runs)
    again = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    assert again.returncode == 0 and "0 runs trained now, 8 were already done" in again.stdout + again.stderr
    file.write_text(file.read_text() + "\n# a changed line\n")
    changed = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    lines = [ln for ln in changed.stderr.splitlines() if ln.strip()]
    assert changed.returncode == 2 and len(lines) == 1 and "Traceback" not in changed.stderr, changed.stderr
    assert f"the source of model factory {name}:make changed" in lines[0]
    with Store(out) as store:
        assert len(store.runs()) == 8   # nothing stored was touched


def test_widths_and_width_together_are_refused(data, tmp_path, capsys):
    code, _, err = run_cli(["sweep", str(data), "--out", str(tmp_path / "o"), "--archs", "R8", "--widths", "0.5,1",
                            "--width", "0.25"], capsys)
    assert "--widths and --width 0.25 both set the width" in _one_line(code, err)
    code, _, err = run_cli(["sweep", str(data), "--out", str(tmp_path / "o"), "--archs", "A", "--model", "R8"], capsys)
    assert "--archs and --model both name the models" in _one_line(code, err)
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- the residual family and MEC of a module


def test_r20_has_resnet20s_layers_and_parameter_count():
    from torch import nn

    from helmholtz.capacity.mec import mec_bits
    from helmholtz.models.archs import build_model, count_params

    model = build_model("R20", modality="image", input_shape=(3, 32, 32), n_classes=10)
    convs3 = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    dense = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(convs3) + len(dense) == 20      # 19 3×3 convs and the FC: ResNet-20 (He et al. 2016, Sec. 4.2)
    assert 265_000 < count_params(model) < 275_000   # "0.27M" in the paper's Table 6
    for name in ("R8", "R20"):
        for w in (0.25, 0.5, 1.0):
            m = build_model(name, modality="image", input_shape=(1, 28, 28), n_classes=10, width=w)
            assert count_params(m) == mec_bits(name, input_shape=(1, 28, 28), n_classes=10, width=w).params


def test_the_residual_shortcut_is_a_strided_1x1_conv_without_calling_one():
    """R8's projection shortcut equals nn.Conv2d(1×1, stride 2) with the same weight, and R8 at ¼ width (4 input
    channels to the first projection) trains a step in channels_last: torch 2.13's strided 1×1 conv backward there
    hangs or corrupts the heap on an AVX2 CPU, which the subsampled form never calls."""
    import torch
    from torch import nn

    from helmholtz.models.builder import StridedPointwise
    from helmholtz.models.factory import build

    torch.manual_seed(0)
    mine = StridedPointwise(4, 8, 2)
    ref = nn.Conv2d(4, 8, 1, stride=2, bias=False)
    ref.weight.data.copy_(mine.weight.data)
    x = torch.rand(3, 4, 15, 15)
    assert torch.allclose(mine(x), ref(x), atol=1e-6) and mine(x).shape == ref(x).shape == (3, 8, 8, 8)
    model = build("R8@0.25", modality="image", input_shape=(1, 28, 28), n_classes=10)
    assert not [m for m in model.modules() if type(m) is nn.Conv2d and m.kernel_size == (1, 1) and m.stride != (1, 1)]
    model = model.to(memory_format=torch.channels_last)
    loss = model(torch.rand(8, 1, 28, 28).contiguous(memory_format=torch.channels_last)).logsumexp(1).sum()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("arch", ["A", "F", "R8", "R20"])
def test_mec_of_a_traced_module_equals_the_shape_arithmetic(arch):
    from helmholtz.capacity.mec import mec_bits
    from helmholtz.capacity.mec_module import module_mec
    from helmholtz.models.archs import build_model

    model = build_model(arch, modality="image", input_shape=(3, 32, 32), n_classes=10, width=0.5)
    traced = module_mec(model, input_shape=(3, 32, 32), n_classes=10)
    arithmetic = mec_bits(arch, input_shape=(3, 32, 32), n_classes=10, width=0.5)
    assert traced.mec_bits == arithmetic.mec_bits and traced.params == arithmetic.params and not traced.uncounted


def test_capacity_model_of_a_user_module_names_what_it_does_not_count(factory, capsys):
    name, _ = factory
    code, out, err = run_cli(["capacity", "model", "--model", f"{name}:gated", "--input-shape", "1x16x16",
                              "--classes", "4", "--json", "--layers"], capsys)
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["uncounted"] == ["norm (LayerNorm, 4,096 parameters)"]
    kinds = [layer["kind"] for layer in row["layers"]]
    assert kinds == ["conv", "add", "pool", "dense"]
    conv_params = 9 * 8 + 8
    # conv: first weighted layer, its parameters; FC: min(8·4 + 4, narrowest earlier activation = 8 after the mean)
    assert row["mec_bits"] == conv_params + min(36, 8)
    assert row["params"] == conv_params + 2 * 8 * 16 * 16 + 36   # LayerNorm's γ, β stay in the count


# ---------------------------------------------------------------- on a real local Ray cluster


@pytest.fixture
def ray_here(factory):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    # the workers inherit this process's environment, with the factory's folder on PYTHONPATH
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_a_factory_sweeps_on_ray_as_it_does_locally(factory, ray_here, data, tmp_path):
    from helmholtz import api

    name, _ = factory
    kw = dict(levels="10,none", model=f"{name}:make", widths="0.5", seeds=1, epochs=1, recipe="fast",
              precision="fp32", threads_per_run=1)
    api.sweep(str(data), out=tmp_path / "local", **kw)
    api.sweep(str(data), out=tmp_path / "ray", engine="ray", **kw)
    from helmholtz.sweep.store import Store

    with Store(tmp_path / "local") as s1, Store(tmp_path / "ray") as s2:
        a, b = s1.runs(), s2.runs()
        assert len(a) == len(b) == 2 and [r["test_acc"] for r in a] == [r["test_acc"] for r in b]
        assert [c["test_acc"] for c in s1.cross()] == [c["test_acc"] for c in s2.cross()] and len(s2.cross()) == 4
    assert sorted(p.name for p in (tmp_path / "ray" / "weights").iterdir()) == sorted(r["run_id"] + ".pt" for r in b)


def test_a_factory_the_ray_workers_cannot_import_is_named(tmp_path, data, monkeypatch):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    # a module importable by the driver only (sys.path), not by the workers (not on their PYTHONPATH)
    name = f"driveronly_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "hidden"
    folder.mkdir()
    (folder / f"{name}.py").write_text(textwrap.dedent(GOOD))
    monkeypatch.syspath_prepend(str(folder))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        from helmholtz import api
        from helmholtz.errors import ConfigError

        with pytest.raises(ConfigError) as info:
            api.sweep(str(data), out=tmp_path / "o", engine="ray", levels="none", model=f"{name}:make", seeds=1,
                      epochs=1, recipe="fast", precision="fp32", threads_per_run=1)
        assert f"the model factory's module '{name}' does not import on the Ray workers" in str(info.value)
    finally:
        ray.shutdown()
        sys.modules.pop(name, None)
