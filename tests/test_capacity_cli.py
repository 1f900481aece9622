"""`helmholtz capacity model|data|measure` through the CLI entry point: the JSON contract, tables, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import requires_fashion_mnist, run_cli

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODEL_KEYS = {"arch", "params", "mec_bits", "rule"}
LEVEL_KEYS = {"level", "bits", "method", "estimated_bits", "max_bits", "changes", "n"}
MEASURE_KEYS = {"arch", "mec_bits", "effective_bits", "n_memorised", "classes", "ratio"}


def _npz(tmp_path: Path, n: int = 240) -> Path:
    """Three classes of 16×16 gray images: dark, middle and bright (learnable), with noise."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    x = np.clip(rng.normal(60 + 70 * y[:, None, None], 25, (n, 16, 16)), 0, 255).astype(np.uint8)
    path = tmp_path / "three.npz"
    np.savez(path, x=x, y=y)
    return path


def _fails(args, capsys, match: str) -> None:
    code, _, err = run_cli(args, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert match in lines[0], lines[0]


def test_model_json_keys_and_values(capsys):
    code, out, _ = run_cli(["capacity", "model", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and [r["arch"] for r in rows] == [*"ABCDEF", "R8", "R20"]
    assert all(set(r) >= MODEL_KEYS for r in rows)
    assert rows[0]["params"] == 701_386 and rows[0]["mec_bits"] == 23_690 and "TFMeter" in rows[0]["rule"]
    code, out, _ = run_cli(["capacity", "model", "--arch", "a,f", "--input-shape", "1x28x28", "--width", "0.25",
                            "--json", "--layers"], capsys)
    rows = json.loads(out)
    assert [r["arch"] for r in rows] == ["A", "F"] and rows[0]["input_shape"] == [1, 28, 28]
    assert sum(layer["bits"] for layer in rows[0]["layers"]) == rows[0]["mec_bits"]


def test_model_table_states_the_rule(capsys):
    code, out, _ = run_cli(["capacity", "model", "--modality", "audio", "--arch", "A", "--layers"], capsys)
    assert code == 0 and "101,100" in out and "rule:" in out and "BatchNorm" in out and "cap (bits in)" in out


@pytest.mark.parametrize(("args", "match"), [
    (["--input-shape", "3x32"], "--input-shape got"),
    (["--modality", "audio", "--input-shape", "1x8x8"], "too small for audio arch"),
    (["--width", "0"], "width must be a multiplier"),
    (["--width", "12"], "width must be a multiplier"),
    (["--classes", "1"], "n_classes must be ≥ 2"),
    (["--arch", "Z"], "--arch got 'Z'"),
    (["--modality", "video"], "--modality got 'video'"),
])
def test_model_errors_are_one_line(args, match, capsys):
    _fails(["capacity", "model", *args], capsys, match)


def test_data_json_contract(tmp_path, capsys):
    path = _npz(tmp_path)
    code, out, _ = run_cli(["capacity", "data", str(path), "--levels", "10,50,none", "--fractions", "0.5,1",
                            "--projections", "4", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert {"levels", "progression", "turning_points"} <= set(doc)
    assert len(doc["levels"]) == 3 * 3 and all(set(row) >= LEVEL_KEYS for row in doc["levels"])
    assert [row["level"] for row in doc["levels"][::3]] == [10, 50, None]
    assert {row["method"] for row in doc["levels"]} == {"energy", "projection", "nn"}
    from helmholtz.data import load_dataset

    orig = doc["levels"][-1]
    assert orig["bits"] == 8.0 and orig["n"] == len(load_dataset(path).y_train) and orig["d"] == 256 and orig["scheme"] == "one-vs-rest"
    assert len(doc["progression"]) == 9 and [s["fraction"] for s in doc["progression"][0]["steps"]] == [0.5, 1.0]
    assert set(doc["turning_points"]) == {"energy", "projection", "nn"}
    assert doc["turning_points"]["nn"]["label"] in ("10", "50", "none")


def test_data_table_and_no_progression(tmp_path, capsys):
    path = _npz(tmp_path)
    code, out, _ = run_cli(["capacity", "data", str(path), "--codec", "none", "--methods", "energy",
                            "--no-progression"], capsys)
    assert code == 0 and "one-vs-rest" in out and "energy" in out and "does not turn" in out


@pytest.mark.parametrize(("args", "match"), [
    (["--methods", "magic"], "unknown method 'magic'"),
    (["--fractions", "0.5,x"], "--fractions got"),
    (["--fractions", "0,1"], "fractions must lie in"),
    (["--codec", "mp3"], "--codec mp3 does not apply to image data"),
    (["--codec", "none", "--levels", "5"], "--codec none takes no levels"),
    (["--levels", "500"], "quality"),
    (["--rise", "-1"], "--rise must be"),
])
def test_data_errors_are_one_line(args, match, tmp_path, capsys):
    _fails(["capacity", "data", str(_npz(tmp_path)), *args], capsys, match)


def test_measure_json_contract(tmp_path, capsys):
    path = _npz(tmp_path)
    args = ["capacity", "measure", str(path), "--arch", "F", "--width", "0.125", "--recipe", "fast", "--budget", "2",
            "--min-steps", "0", "--n-start", "8", "--max-items", "32", "--json"]
    code, out, _ = run_cli(args, capsys)
    doc = json.loads(out)
    assert code == 0 and isinstance(doc, dict) and set(doc) >= MEASURE_KEYS
    assert doc["arch"] == "F" and doc["classes"] == 3 and doc["recipe"] == "fast"
    assert doc["effective_bits"] == pytest.approx(doc["n_memorised"] * np.log2(3))
    code, out, _ = run_cli([*args[:-1], "--recipe", "paper,fast", "--json"], capsys)
    both = json.loads(out)
    assert isinstance(both, list) and [d["recipe"] for d in both] == ["paper", "fast"]


@pytest.mark.parametrize(("args", "match"), [
    (["--arch", "Q"], "--arch got 'Q'"),
    (["--recipe", "turbo"], "recipe must be one of"),
    (["--budget", "0"], "needs ≥ 1 epoch"),
    (["--downsample", "0"], "--downsample must be"),
    (["--downsample", "40"], "leaves nothing"),
    (["--width", "0"], "width must be a multiplier"),
])
def test_measure_errors_are_one_line(args, match, tmp_path, capsys):
    _fails(["capacity", "measure", str(_npz(tmp_path)), "--max-items", "16", "--n-start", "8", "--budget", "1",
            *args], capsys, match)


@pytest.mark.realdata
@requires_fashion_mnist
def test_fashion_mnist_energy_requirement_is_fast_and_one_vs_rest(capsys):
    code, out, _ = run_cli(["capacity", "data", "fashion-mnist", "--levels", "20,none", "--methods", "energy,projection",
                            "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["seconds"] < 120
    rows = {(r["label"], r["method"]): r for r in doc["levels"]}
    orig = rows[("none", "energy")]
    assert orig["n"] == 54_000 and orig["d"] == 784 and orig["classes"] == 10
    # pixel sums barely separate Fashion-MNIST's classes: most neighbours in the sorted list differ
    assert 1.4 < orig["change_rate"] < 1.9


def test_data_on_audio_uses_the_log_mel_features(tmp_path, capsys):
    import soundfile as sf

    sr = 8000
    t = np.arange(sr // 2) / sr
    for label, freq in (("low", 220.0), ("high", 1760.0)):
        (tmp_path / "wav" / label).mkdir(parents=True)
        for i in range(8):
            tone = 0.3 * np.sin(2 * np.pi * freq * (1 + 0.01 * i) * t)
            sf.write(str(tmp_path / "wav" / label / f"{i}.wav"), tone, sr, subtype="PCM_16")
    code, out, err = run_cli(["capacity", "data", str(tmp_path / "wav"), "--codec", "none", "--sample-rate", str(sr),
                              "--duration", "0.5", "--methods", "energy,nn", "--no-progression", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert "log-mel" in doc["features"] and doc["modality"] == "audio"
    row = doc["levels"][0]
    assert row["d"] % 96 == 0 and row["scheme"] == "binary" and row["unit"] == "second"
    nn_row = doc["levels"][1]
    assert nn_row["method"] == "nn" and nn_row["changes"] == 0      # two tones: every neighbour shares the label
