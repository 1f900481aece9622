"""The audio pipeline end to end through the real CLI: synth guitar-fx → sweep (MP3 via LAME, log-mel, arch A) →
results store → report.html. Also the demo-audio guard rails that cost no training.

Everything is real (fluidsynth, pedalboard, lameenc, torch, SQLite, matplotlib); sizes are tiny (4 notes per class,
one epoch, ¼ width), so the accuracies are not meaningful — the test checks the plumbing and the measured bits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helmholtz.synth.guitar import make_guitar_fx
from helmholtz.synth.notes import DEFAULT_SOUNDFONT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEFAULT_SOUNDFONT.exists(), reason="Debian package fluid-soundfont-gm not installed"),
]


def _helmholtz(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from helmholtz.cli import main; main(sys.argv[1:])", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img" and (dict(attrs).get("src") or "").startswith("data:image/"):
            self.images += 1
        if tag == "svg":
            self.images += 1


def test_synth_then_mp3_sweep_then_report(tmp_path: Path) -> None:
    data, out = tmp_path / "guitar-fx", tmp_path / "sweep"
    proc = _helmholtz("synth", "guitar-fx", "--out", str(data), "--notes-per-class", "4", "--seed", "5", "--json",
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n_files"] == 48

    proc = _helmholtz("sweep", str(data), "--codec", "mp3", "--levels", "32,none", "--archs", "A", "--seeds", "1",
                      "--epochs", "1", "--width", "0.25", "--out", str(out), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr

    from helmholtz.sweep.store import Store

    store = Store(out / "results.sqlite")
    spec = store.spec()
    assert spec["modality"] == "audio" and spec["codec"] == "mp3" and spec["data"]["val_fraction"] == 0.25
    runs = store.runs()
    assert sorted(r["level_label"] for r in runs) == ["32", "none"]
    for r in runs:
        assert r["status"] == "done" and r["arch"] == "A" and r["epochs_run"] == 1
        assert 0.0 <= r["test_acc"] <= 1.0 and r["n_params"] > 0
        assert json.loads(r["spec_json"])["modality"] == "audio"
    assert len(store.epochs()) == 2
    levels = {lv["level_label"]: lv for lv in store.levels()}
    # measured bits per second: CBR 32 kbps within 15 % (frame padding, headers), the original 16 bit × 44.1 kHz
    assert levels["32"]["unit"] == "second"
    assert 0.85 * 32000 <= levels["32"]["bits_total"] <= 1.15 * 32000
    assert levels["32"]["bits_payload"] <= levels["32"]["bits_total"]
    assert levels["none"]["raw_bits"] == 16 * 44100

    proc = _helmholtz("report", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    html_path = out / "report" / "report.html"
    html = html_path.read_text()
    parser = _Tags()
    parser.feed(html)
    assert "html" in parser.tags and parser.images >= 2, "the figures are embedded"
    assert "kbps" in html and "mp3" in html.lower()
    assert not any(f'{attr}="http' in html for attr in ("src", "href")), "self-contained: no external references"
    assert (out / "report" / "summary.md").exists()


def test_demo_audio_refuses_data_made_with_other_settings(tmp_path: Path) -> None:
    # an existing demo set made with 2 notes per class; asking for 3 must not silently mix them (no training happens)
    make_guitar_fx(tmp_path / "demo" / "data", notes_per_class=2, seed=0)
    proc = _helmholtz("demo-audio", "--out", str(tmp_path / "demo"), "--notes-per-class", "3", "--quick", cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--notes-per-class 2" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "demo" / "results.sqlite").exists()


def test_demo_audio_validates_the_sweep_before_synthesising(tmp_path: Path) -> None:
    proc = _helmholtz("demo-audio", "--out", str(tmp_path / "demo"), "--width", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--width" in proc.stderr
    assert not (tmp_path / "demo" / "data").exists(), "nothing synthesised for a sweep that cannot run"

