"""`--kernels avx2`: a sweep's runs on CPU kernels held to AVX2, recorded with each run; the environment restored."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess

import pytest

from helmholtz.errors import ConfigError
from helmholtz.kernels import KERNEL_SETS, check_kernels, pinned_kernels
from test_sweep_cli import TINY_ARGS
from test_sweep_resume import HELMHOLTZ, write_npz


def test_pinning_sets_keeps_the_user_s_values_and_restores(monkeypatch):
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE")
    with pinned_kernels("avx2") as held:
        assert os.environ["ATEN_CPU_CAPABILITY"] == "avx2"
        assert held == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}   # the user's wins
    assert "ATEN_CPU_CAPABILITY" not in os.environ and os.environ["ONEDNN_MAX_CPU_ISA"] == "AVX512_CORE"
    with pinned_kernels("native") as held:
        assert held == {} and "ATEN_CPU_CAPABILITY" not in os.environ
    with pytest.raises(ConfigError, match="--kernels got 'sse'"):
        check_kernels("sse")
    assert set(KERNEL_SETS) == {"native", "avx2"}


def test_a_sweep_with_avx2_kernels_runs_and_records_them(tmp_path):
    data = write_npz(tmp_path / "d.npz")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_SETS["avx2"]}
    args = [*HELMHOLTZ, "sweep", str(data), "--codec", "jpeg", "--levels", "none", "--archs", "A", "--seeds", "1",
            *TINY_ARGS, "--quiet", "--kernels", "avx2", "--out", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(out / "results.sqlite") as db:
        (host,) = db.execute("SELECT host_json FROM runs").fetchone()
    host = json.loads(host)
    assert host["kernel_caps"] == "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2"
    assert host["cpu_capability"] == "AVX2"      # what torch really ran, in this fresh process
    bad = subprocess.run([*args[:-2], "--kernels", "sse", "--out", str(tmp_path / "o2")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "--kernels got 'sse'" in bad.stderr and not (tmp_path / "o2").exists()
