"""`helmholtz report` on small stores written through the real results store (H4's `Store`): every file is
written, the HTML parses, holds every section and its embedded figures, and references no external URL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from helmholtz.report.build import build_report
from helmholtz.report.figures import FIGURES
from helmholtz.report.html import SECTIONS
from helmholtz.sweep.spec import make_sweep_spec, run_spec_for
from helmholtz.sweep.store import Store
from helmholtz.train.spec import EpochRow, RunResult, TrainOptions

LEVELS = (1, 5, 10, 20, 50, 90, None)


def write_store(out: Path, accuracy, *, levels=LEVELS, archs=("A", "F"), seeds=2, drop=None, noise=0.003) -> Path:
    """A sweep store with synthetic results, written through the Store API exactly as a sweep writes it.
    `drop(level, arch, seed)` → True leaves that run out (an interrupted sweep)."""
    spec = make_sweep_spec("fashion-mnist", modality="image", levels=levels, archs=archs, seeds=seeds,
                           options=TrainOptions(optimizer="adam", lr=2e-3, epochs=4, width=0.25),
                           train_size=1000, data_hash="0123abcd")
    rng = np.random.default_rng(0)
    with Store(out, create=True) as st:
        st.init_spec(spec.to_dict())
        for lv in levels:
            total = 784 if lv is None else 340 + 3 * lv
            payload = 784 if lv is None else 10 + 3 * lv
            st.put_level(dict(codec="none" if lv is None else "jpeg", level=lv, encoder="test", unit="pixel",
                              bytes_total_mean=total, bytes_payload_mean=payload, bits_total=8 * total / 784,
                              bits_payload=8 * payload / 784, raw_bits=8.0, compression_ratio=784 / total,
                              fidelity_db=None if lv is None else 15 + lv / 5, n_items=900))
            for arch in archs:
                for seed in spec.seeds:
                    if drop and drop(lv, arch, seed):
                        continue
                    rs = run_spec_for(spec, level=lv, arch=arch, seed=seed)
                    acc = accuracy(arch, lv) + rng.normal(0, noise)
                    res = RunResult(
                        run_id=rs.run_id, spec=rs.to_dict(), test_acc=acc, test_loss=0.4, best_val_acc=acc,
                        best_epoch=3, epochs_to_converge=2 if arch == "A" else 3, epochs_run=4, stopped_early=False,
                        wall_s=20.0 + (10 if arch == "F" else 0) + rng.normal(0, 1), train_items_per_s=900.0,
                        n_params=44_000 if arch == "A" else 105_000, device="cpu", precision="bf16",
                        versions={"numpy": "2.x"}, code_version="0.1.0+test", host={"cpu": "test cpu"},
                        started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:00:30+00:00")
                    epochs = [EpochRow(epoch=e, train_loss=1.0 / e, train_acc=acc, val_loss=1.0, val_acc=acc,
                                       lr=2e-3, seconds=5.0) for e in range(1, 5)]
                    st.put_run(res, epochs)
    return out


def knee_at_10(arch, lv):
    return 0.85 if lv is None or lv >= 10 else 0.85 - 0.05 * (3 if lv == 1 else 1)


class _Links(HTMLParser):
    """Collects tags, ids, img sources and every src/href value."""

    def __init__(self):
        super().__init__()
        self.ids, self.imgs, self.refs, self.tags, self.text = set(), [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]

    def handle_data(self, data):
        self.text.append(data)


def html_text(path: Path) -> str:
    """The visible text of a page, entities decoded."""
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return "".join(p.text)


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    run = write_store(tmp_path_factory.mktemp("sweep") / "run", knee_at_10)
    return run, build_report(run, n_boot=300)


def test_report_writes_every_file(full_report):
    run, files = full_report
    assert files.out_dir == run / "report"
    for name in FIGURES:
        png, svg = files.out_dir / f"{name}.png", files.out_dir / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        root = ET.parse(svg).getroot()                                  # well-formed XML
        assert root.tag.endswith("svg")
    for f in (files.html, files.summary, files.analysis_json):
        assert f.stat().st_size > 0
    data = json.loads(files.analysis_json.read_text())
    assert data["knee"]["knee_label"] == "10" and data["headline"] == files.headline


def test_html_parses_has_every_section_and_embedded_figures(full_report):
    _, files = full_report
    text = files.html.read_text(encoding="utf-8")
    p = _Links()
    p.feed(text)
    p.close()
    assert set(SECTIONS) <= p.ids
    assert len(p.imgs) == len(FIGURES) and all(s.startswith("data:image/png;base64,") for s in p.imgs)
    assert "script" not in p.tags and "link" not in p.tags
    # nothing is fetched from anywhere: no http(s) in any src/href, nor anywhere in the page
    assert not [r for r in p.refs if r.startswith(("http:", "https:", "//"))]
    assert "http://" not in text and "https://" not in text
    assert "N_approx ≈ q 10" in text and "adam, lr 0.002" in text          # headline and recipe
    assert "test cpu" in text and "0.1.0+test" in text                     # hardware and code version of the runs


def test_svg_files_reference_nothing_external(full_report):
    _, files = full_report
    for f in files.figures:
        svg = f.svg.read_text()
        # xmlns="http://www.w3.org/2000/svg" names a namespace, it is not fetched; links and images would be
        hrefs = [v for v in ET.parse(f.svg).getroot().iter() for k, v in v.attrib.items() if k.endswith("href")]
        assert not [h for h in hrefs if str(h).startswith(("http:", "https:"))]
        assert "<image" not in svg


def test_summary_md_has_headline_and_tables(full_report):
    _, files = full_report
    md = files.summary.read_text(encoding="utf-8")
    assert files.headline in md
    for heading in ("## Findings", "## Recipe", "## Cells", "## Knee per curve", "## Fit", "## Measured bits"):
        assert heading in md
    assert files.headline.startswith("N_approx ≈ q 10 (CI q 10) = 0.41 bits/pixel scan")


def test_partial_sweep_labels_single_seed_cells(tmp_path):
    run = write_store(tmp_path / "run", knee_at_10, drop=lambda lv, arch, seed: seed == 1 and lv in (5, 20))
    files = build_report(run, n_boot=100)
    assert files.analysis.partial and "partial sweep: 24 of 28 runs" in files.headline
    assert "n<2" in html_text(files.html) and "n<2" in files.summary.read_text()


def test_flat_sweep_says_no_knee(tmp_path):
    run = write_store(tmp_path / "run", lambda arch, lv: 0.85, levels=(5, 50, None), archs=("A",), noise=0.001)
    files = build_report(run, out_dir=tmp_path / "rep", n_boot=100)
    assert files.out_dir == tmp_path / "rep"
    assert "no knee within the grid: accuracy holds down to the lowest level, q 5" in files.headline


# ----------------------------------------------------------------- through the CLI


def test_cli_report_json(full_report, tmp_path, capsys):
    run, files = full_report
    code, out, err = run_cli(["report", str(run), "--out", str(tmp_path / "r"), "--json", "--bootstrap", "300"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["headline"] == files.headline and Path(data["report_html"]).exists()
    assert data["analysis"]["recommendation"]["arch"] == "A"


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("none", [], "no such directory"),
    ("emptydir", [], "no results.sqlite here"),
    ("emptystore", [], "no finished runs"),
    ("full", ["--level", "33"], "--level '33' is not a level"),
    ("full", ["--tolerance", "-1"], "--tolerance must be ≥ 0"),
    ("full", ["--bootstrap", "0"], "--bootstrap must be ≥ 1"),
])
def test_cli_report_bad_input_is_one_line_exit_2(setup, args, message, full_report, tmp_path, capsys):
    target = tmp_path / "x"
    if setup == "emptydir":
        target.mkdir()
    elif setup == "emptystore":
        with Store(target, create=True) as st:
            st.init_spec(make_sweep_spec("fashion-mnist", modality="image", archs=("A",), seeds=1).to_dict())
    elif setup == "full":
        target = full_report[0]
    code, out, err = run_cli(["report", str(target), "--out", str(tmp_path / "r"), *args], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Traceback" not in err + out


def test_audio_report_pieces_use_kbps_and_state_the_batchnorm_count(tmp_path):
    from helmholtz.analysis import analyze
    from helmholtz.analysis.synthetic import synthetic_rows
    from helmholtz.report.figures import write_figures
    from helmholtz.report.html import render_html
    from helmholtz.report.summary import render_markdown

    runs, levels = synthetic_rows(lambda a, kbps: 0.8 if kbps is None or kbps >= 32 else 0.5,
                                  levels=[8, 16, 32, 64, 160, None], archs={"A": 101_100, "C": 427_180}, seeds=2,
                                  codec="mp3", noise_sd=0.002)
    a = analyze(runs=runs, levels=levels, spec={"codec": "mp3", "modality": "audio",
                                                "levels": [8, 16, 32, 64, 160, None]}, n_boot=100)
    assert a.grid.get("160").Q == 0.0 and a.grid.get("8").Q == 1.0
    figs = write_figures(a, tmp_path)
    page = render_html(a, figs, meta={"host": "x"})
    assert "32 kbps" in a.knee.knee_label + " kbps" and "N_approx ≈ 32 kbps" in page
    assert "312 lower than the paper" in page
    assert "| 32 kbps |" in render_markdown(a)


def test_demo_specs_are_valid_and_quick_is_smaller():
    from helmholtz.cli.report_cmds import demo_spec
    from helmholtz.sweep.spec import validate_sweep

    full, quick = demo_spec(), demo_spec(quick=True)
    for spec in (full, quick):
        validate_sweep(spec)
        assert spec.archs == ("A", "F") and spec.seeds == (0, 1) and None in spec.levels
        assert spec.options.optimizer == "adam" and spec.options.width == 0.25
    assert quick.n_runs < full.n_runs and quick.data.train_size < full.data.train_size
    assert full.levels == (1, 5, 10, 20, 30, 50, 90, None)
