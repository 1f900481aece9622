"""Bad input from the issue's hostile test, each answered with one line and exit status 2 before any work:
seeds (defect 4), NaN, out-of-range and truncated audio (5, 13), unbounded sizes (11) and unclear messages (12)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from synthetic_store import write_synthetic_store
from test_sweep_resume import HELMHOLTZ, write_npz

SR = 8000


def _one_line(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def data(tmp_path):
    return write_npz(tmp_path / "d.npz", n_train=80, n_test=40)


def _sweep(data: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(data), "--codec", "jpeg", "--levels", "10", "--archs", "A", "--epochs", "1", "--width",
            "0.125", "--optimizer", "adam", "--precision", "fp32", "--threads-per-run", "1", "--out", str(out),
            "--quiet", *extra]


# ---------------------------------------------------------------- defect 4: every seed is an integer in 0..2³²−1

SEED_CASES = [
    (["inspect", "DATA", "--split-seed", "-1"], "--split-seed must be an integer in 0..4294967295; got -1"),
    (["train", "DATA", "--split-seed", "-1"], "--split-seed must be an integer in 0..4294967295; got -1"),
    (["SWEEP", "--split-seed", "-1"], "--split-seed must be an integer in 0..4294967295; got -1"),
    (["REPORT", "--seed", "-1"], "--seed must be an integer in 0..4294967295; got -1"),
    (["train", "DATA", "--seed", "99999999999999999999"], "--seed must be an integer in 0..4294967295"),
    (["train", "DATA", "--seed", "-1"], "--seed must be an integer in 0..4294967295; got -1"),
    (["SWEEP", "--seeds", "99999999999999999999,"], "a seed must be an integer in 0..4294967295"),
    (["SWEEP", "--seeds", "-1,"], "a seed must be an integer in 0..4294967295; got -1"),
    (["SWEEP", "--seeds", "100000000000"], "--seeds count must be at most 10000"),
]


@pytest.mark.parametrize(("argv", "match"), SEED_CASES)
def test_every_seed_is_checked_everywhere(tmp_path, capsys, data, argv, match):
    out = tmp_path / "out"
    if argv[0] == "SWEEP":
        argv = _sweep(data, out, *argv[1:])
    elif argv[0] == "REPORT":
        argv = ["report", str(write_synthetic_store(tmp_path / "run")), *argv[1:]]
    argv = [str(data) if a == "DATA" else a for a in argv]
    code, _, err = run_cli(argv, capsys)
    assert match in _one_line(code, err)
    assert not out.exists() and not (tmp_path / "run" / "report").exists()


# ---------------------------------------------------------------- defect 5 and 13: audio checked at read time


def _wav_folder(root: Path, *, bad: str | None = None) -> tuple[Path, Path]:
    import soundfile as sf

    rng = np.random.default_rng(0)
    for name in ("low", "high"):
        (root / name).mkdir(parents=True)
        for i in range(4):
            sf.write(root / name / f"{i}.wav", np.clip(0.3 * rng.standard_normal(SR), -0.9, 0.9).astype(np.float32), SR,
                     subtype="FLOAT")
    victim = root / "high" / "2.wav"
    wave = np.clip(0.3 * rng.standard_normal(SR), -0.9, 0.9).astype(np.float32)
    if bad == "nan":
        wave[100:110] = np.nan
    elif bad == "loud":
        wave *= 100
    if bad in ("nan", "loud"):
        sf.write(victim, wave, SR, subtype="FLOAT")
    elif bad == "truncated":
        blob = victim.read_bytes()
        victim.write_bytes(blob[: len(blob) // 2])   # a copy cut short: the header still claims the whole clip
    return root, victim


@pytest.mark.parametrize(("bad", "match"), [("nan", "holds 10 NaN or infinite samples"),
                                            ("loud", "outside full scale -1..1"),
                                            ("truncated", "truncated: its header declares")])
def test_bad_audio_is_refused_at_read_time_naming_the_file(tmp_path, capsys, bad, match):
    root, victim = _wav_folder(tmp_path / "wavs", bad=bad)
    for argv in (["inspect", str(root), "--sample-rate", str(SR), "--duration", "1"],
                 ["train", str(root), "--codec", "mp3", "--level", "32", "--sample-rate", str(SR), "--duration",
                  "1", "--epochs", "1", "--width", "0.25"]):
        line = _one_line(*run_cli(argv, capsys)[:3:2])
        assert line.startswith(f"error: {victim}: WAV file 2.wav") and match in line, line


def test_train_and_sweep_take_the_sample_rate_and_duration(tmp_path, capsys):
    import json

    from helmholtz.sweep.store import Store

    root, _ = _wav_folder(tmp_path / "wavs")
    common = ["--sample-rate", "22050", "--duration", "1", "--epochs", "1", "--width", "0.25", "--batch-size", "8"]
    # 1 s at the fast recipe's hop of 1024 is 22 frames: too few for A's four pools, and the error says what to change
    code, _, err = run_cli(["train", str(root), "--codec", "none", *common], capsys)
    assert code == 2 and "1×48×22 is too small for audio arch A" in err and "a smaller --hop" in err, err
    common += ["--hop", "512"]
    code, out, err = run_cli(["train", str(root), "--codec", "none", *common, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["result"]["spec"]["data"]["sample_rate"] == 22050
    code, _, err = run_cli(["sweep", str(root), "--codec", "none", "--archs", "A", "--seeds", "1", *common,
                            "--threads-per-run", "1", "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 0, err
    with Store(tmp_path / "out") as store:
        assert store.spec()["data"]["sample_rate"] == 22050 and store.spec()["data"]["duration_s"] == 1.0
        assert len(store.runs()) == 1


# ---------------------------------------------------------------- defect 11: sizes are bounded


def test_sizes_are_bounded_before_any_work(tmp_path, capsys, data, monkeypatch):
    root, _ = _wav_folder(tmp_path / "wavs")
    code, _, err = run_cli(["inspect", str(root), "--duration", "100000"], capsys)
    assert "--duration must be a number of seconds in (0, 600]" in _one_line(code, err)
    code, _, err = run_cli(["inspect", str(root), "--sample-rate", "10000000"], capsys)
    assert "--sample-rate must be an integer in 1000..192000" in _one_line(code, err)
    code, _, err = run_cli(["report", str(write_synthetic_store(tmp_path / "run")), "--bootstrap", "100000000"], capsys)
    assert "--bootstrap must be ≥ 1 draw and at most 100000" in _one_line(code, err)
    from helmholtz.checks import available_cpus

    too_many = available_cpus() + 1
    code, _, err = run_cli(_sweep(data, tmp_path / "out", "--threads-per-run", str(too_many)), capsys)
    assert f"--threads-per-run {too_many} exceeds the {available_cpus()} CPUs" in _one_line(code, err)
    assert not (tmp_path / "out").exists()
    # within the bounds but more than this machine holds: refused before the clips are allocated
    import helmholtz.checks

    monkeypatch.setattr(helmholtz.checks, "available_memory_bytes", lambda: 1 << 20)
    code, _, err = run_cli(["inspect", str(root), "--duration", "600"], capsys)
    assert "8 clips of 600 s at 44100 Hz need 0.8 GiB of memory; 0.0 GiB are available" in _one_line(code, err)


# ---------------------------------------------------------------- defect 12: messages say what, where and how


def test_messages_say_what_is_wrong_where_and_how_to_fix_it(tmp_path, capsys, data):
    code, _, err = run_cli(["compress", str(data), "--out", str(tmp_path / "o.npz")], capsys)
    assert "--codec jpeg needs --level (JPEG quality 1..100)" in _one_line(code, err)
    only_test = tmp_path / "only-test"
    (only_test / "test" / "cat").mkdir(parents=True)
    (only_test / "test" / "cat" / "a.png").write_bytes(b"")
    code, _, err = run_cli(["inspect", str(only_test)], capsys)
    assert "has test/ but no train/ folder" in _one_line(code, err)
    for arr, fix in ((np.full((6, 4, 4), 200.0, np.float32), "values are already in 0..255: x.round().astype(np.uint8)"),
                     (np.full((6, 4, 4), 0.5, np.float32), "(x * 255).round().astype(np.uint8)"),
                     (np.full((6, 4, 4), 40000, np.uint16), "(x >> 8).astype(np.uint8)")):
        path = tmp_path / "bad.npz"
        np.savez(path, x=arr, y=np.arange(6) % 2)
        code, _, err = run_cli(["inspect", str(path)], capsys)
        line = _one_line(code, err)
        assert fix in line and (fix == "(x * 255).round().astype(np.uint8)" or "x * 255" not in line)
    # --val-fraction is checked before the dataset is even looked for, and named as the option it is
    code, _, err = run_cli(["inspect", str(tmp_path / "missing.npz"), "--val-fraction", "1.5"], capsys)
    assert "--val-fraction must be a fraction in (0, 1); got 1.5" in _one_line(code, err)
    code, _, err = run_cli(["inspect", "/dev/null"], capsys)
    line = _one_line(code, err)
    assert "not a regular file or folder" in line and "dataset folder" not in line


def test_an_unwritable_out_is_named_once(tmp_path, data):
    locked = tmp_path / "st_ro2"
    locked.mkdir()
    locked.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv cannot take away its own file access")
        prefix = [shutil.which("setpriv"), "--bounding-set", "-dac_override,-dac_read_search", "--"]
    try:
        proc = subprocess.run([*prefix, *HELMHOLTZ, *_sweep(data, locked)], capture_output=True, text=True,
                              timeout=120)
    finally:
        locked.chmod(0o755)
    line = _one_line(proc.returncode, proc.stderr)
    assert line.count("st_ro2") == 1 and "the folder is not writable" in line


# ---------------------------------------------------------------- defect 13: smaller things


def _idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(header + arr.astype(np.uint8).tobytes())


def test_resuming_with_the_path_of_a_named_dataset_resumes(tmp_path, capsys, monkeypatch):
    home = tmp_path / "hdata"
    mnist = home / "mnist"
    mnist.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("t10k", 40)):
        y = np.arange(n) % 2
        x = rng.integers(0, 60, (n, 8, 8)).astype(np.uint8)
        x[y == 1, :4] += 150
        _idx(mnist / f"{split}-images-idx3-ubyte", x)
        _idx(mnist / f"{split}-labels-idx1-ubyte", y)
    monkeypatch.setenv("HELMHOLTZ_DATA", str(home))
    out = tmp_path / "out"
    args = ["--codec", "none", "--archs", "A", "--seeds", "1", "--epochs", "1", "--width", "0.125", "--optimizer",
            "adam", "--precision", "fp32", "--no-augment", "--threads-per-run", "1", "--out", str(out), "--quiet"]
    assert run_cli(["sweep", "mnist", *args], capsys)[0] == 0
    code, _, err = run_cli(["sweep", str(mnist), *args, "--json"], capsys)
    assert code == 0, err
    assert "1 already done, 0 to run" in err


def test_results_out_does_not_create_missing_folders(tmp_path, capsys):
    run = write_synthetic_store(tmp_path / "run")
    target = tmp_path / "no" / "such" / "r.csv"
    code, _, err = run_cli(["results", str(run), "--format", "csv", "--out", str(target)], capsys)
    assert "does not exist" in _one_line(code, err) and "mkdir -p" in err
    assert not (tmp_path / "no").exists()


def test_a_sweep_prints_its_plan_and_an_estimate(tmp_path, capsys, data, monkeypatch):
    import helmholtz.sweep.progress as progress

    monkeypatch.setattr(progress, "LONG_S", 0.0)   # any sweep counts as long: the CPU hint must show
    code, _, err = run_cli(_sweep(data, tmp_path / "out", "--seeds", "2"), capsys)
    assert code == 0, err
    assert "plan: 1 levels × 1 archs × 2 seeds = 2 runs, 2 to run, up to 1 epochs each at width 0.125" in err
    assert "estimate from the first epoch" in err and "estimate from the first run" in err
    assert "that is long for a CPU: try a GPU" in err
