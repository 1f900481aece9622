"""`helmholtz report` on stores written through the real results store: every file is written, the HTML parses,
holds every section and its embedded figures, references no external URL, and says what the analysis decided."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from helmholtz.analysis.observations import REFERENCE, Cell, LevelInfo, Observations
from helmholtz.analysis.simulate import Truth, simulate
from helmholtz.report.build import build_report
from helmholtz.report.figures import FIGURES
from helmholtz.report.html import SECTIONS
from helmholtz.sweep.spec import make_sweep_spec
from helmholtz.sweep.store import Store
from synthetic_store import write_store

LEVELS = (1, 5, 10, 20, 25, 50, 90, None)
QUIET = dict(seed_sd=0.002, cell_sd=0.001, rho=0.95)


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
    run = tmp_path_factory.mktemp("sweep") / "run"
    write_store(run, simulate(Truth("knee", step_pp=5), levels=LEVELS, seeds=5, n_items=3000, **QUIET))
    return run, build_report(run, n_boot=500)


def test_report_writes_every_file(full_report):
    run, files = full_report
    assert files.out_dir == run / "report"
    for name in FIGURES:
        png, svg = files.out_dir / f"{name}.png", files.out_dir / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert ET.parse(svg).getroot().tag.endswith("svg")               # well-formed XML
    for f in (files.html, files.summary, files.analysis_json):
        assert f.stat().st_size > 0
    data = json.loads(files.analysis_json.read_text())
    assert data["headline"] == files.headline and data["n_approx"]["level"] == files.analysis.n_approx.level
    assert data["paired_items"] is True and "provenance" in data


def test_html_parses_has_every_section_and_embedded_figures(full_report):
    _, files = full_report
    text = files.html.read_text(encoding="utf-8")
    p = _Links()
    p.feed(text)
    p.close()
    assert set(SECTIONS) <= p.ids
    assert len(p.imgs) == len(FIGURES) and all(s.startswith("data:image/png;base64,") for s in p.imgs)
    assert "script" not in p.tags and "link" not in p.tags
    assert not [r for r in p.refs if r.startswith(("http:", "https:", "//"))]
    assert "http://" not in text and "https://" not in text
    visible = html_text(files.html)
    assert files.headline in visible and "adam, lr 0.002" in visible          # headline and recipe
    assert "simulated" in visible and "synthetic" in visible                  # hardware and code version of the runs
    assert "fixed-sequence" in visible and "TOST" in visible                  # how the numbers were decided


def test_svg_files_reference_nothing_external(full_report):
    _, files = full_report
    for f in files.figures:
        svg = f.svg.read_text()
        hrefs = [v for v in ET.parse(f.svg).getroot().iter() for k, v in v.attrib.items() if k.endswith("href")]
        assert not [h for h in hrefs if str(h).startswith(("http:", "https:"))]
        assert "<image" not in svg


def test_summary_md_has_headline_and_tables(full_report):
    _, files = full_report
    md = files.summary.read_text(encoding="utf-8")
    assert files.headline in md
    for heading in ("## N_approx", "## Levels against the original", "## Collapse or smooth decline", "## Cells",
                    "## Epochs", "## Measured bits per level", "## Recommendation"):
        assert heading in md


def test_partial_sweep_says_so_and_labels_small_cells(tmp_path):
    obs = simulate(Truth("knee"), levels=(10, 20, None), seeds=3, n_items=500)
    write_store(tmp_path / "run", obs)
    with Store(tmp_path / "run") as st:      # the spec asks for 5 seeds: 2 more per cell still to come
        spec = st.spec()
        spec["seeds"] = [0, 1, 2, 3, 4]
        st._write(lambda c: c.execute("UPDATE meta SET value=? WHERE key='sweep_spec'", (json.dumps(spec),)))
    files = build_report(tmp_path / "run", n_boot=100)
    assert files.analysis.partial and "partial sweep: 18 of 30 runs" in files.headline


def test_two_seed_sweep_prints_no_interval(tmp_path):
    write_store(tmp_path / "run", simulate(Truth("knee"), levels=(10, 20, None), seeds=2, n_items=500))
    files = build_report(tmp_path / "run", n_boot=100)
    text = html_text(files.html)
    assert "too few for an interval" in text and "few seeds" in files.headline
    assert all(c.ci is None for c in files.analysis.cells)


# ----------------------------------------------------------------- through the CLI


def test_cli_report_json_has_the_contract_keys(full_report, tmp_path, capsys):
    run, files = full_report
    code, out, err = run_cli(["report", str(run), "--out", str(tmp_path / "r"), "--json", "--bootstrap", "500"],
                             capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["headline"] == files.headline and Path(data["files"]["report_html"]).exists()
    for key in ("n_approx", "collapse", "levels", "comparisons", "epochs", "warnings"):
        assert key in data
    assert data["n_approx"]["status"] in ("found", "holds_everywhere", "undecided")
    assert data["compare_at"] == "25"


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("none", [], "no such directory"),
    ("emptydir", [], "no results.sqlite here"),
    ("emptystore", [], "no finished runs"),
    ("full", ["--compare-at", "33"], "--compare-at '33' is not a level"),
    ("full", ["--compare", "A,Z"], "'Z' is not an architecture"),
    ("full", ["--model", "Q"], "--model 'Q' is not an architecture"),
    ("full", ["--tolerance", "-1"], "--tolerance must be a margin"),
    ("full", ["--bootstrap", "0"], "--bootstrap must be ≥ 1 draw and at most 100000"),
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


def test_audio_report_uses_kbps_q_and_states_the_batchnorm_count(tmp_path):
    from helmholtz.analysis import analyze
    from helmholtz.report.build import write_report

    rates = (8, 16, 32, 64, 160)
    levels = [LevelInfo(key=REFERENCE, codec="none", level=None, display="the original", bits=705.6,
                        bits_total=705.6, raw_bits=705.6)]
    levels += [LevelInfo(key=str(r), codec="mp3", level=r, display=f"{r} kbps", bits=float(r), bits_total=r + 1.0,
                         raw_bits=705.6, Q=(160 - r) / (160 - 8)) for r in rates]
    base = simulate(Truth("flat"), levels=(1, 5, 10, 20, 50, None), seeds=3, n_items=600, **QUIET)
    keys = dict(zip(("1", "5", "10", "20", "50", "none"), ("8", "16", "32", "64", "160", "none"), strict=True))
    cells = {(m, keys[lv]): replace(c, level=keys[lv]) for (m, lv), c in base.cells.items()}
    obs = replace(base, levels=tuple(sorted(levels, key=lambda lv: -lv.bits)), cells=cells, unit="kbps",
                  modality="audio", runs=())
    a = analyze(obs, n_boot=200)
    assert a.compare_level == "64" or a.compare_level is None     # Q 0.75 is 46 kbps here: not in the grid
    files = write_report(a, tmp_path / "rep", meta={"host": "x"})
    text = html_text(files.html)
    assert "312 lower than the paper" in text and "kbps" in text
    assert "| 32 kbps |" in files.summary.read_text()


def test_demo_specs_are_valid_and_quick_is_smaller():
    from helmholtz.demos import demo_spec
    from helmholtz.sweep.spec import validate_sweep

    full, quick = demo_spec(), demo_spec(quick=True)
    for spec in (full, quick):
        validate_sweep(spec)
        assert spec.archs == ("A", "F") and None in spec.levels
    assert quick.n_runs < full.n_runs and quick.data.train_size < full.data.train_size
    assert 25 in full.levels          # the paper's pre-set comparison level


def test_observations_cells_are_what_the_report_shows(full_report):
    _, files = full_report
    a = files.analysis
    for c in a.cells:
        cell = a.obs.cell(c.model, c.level)
        assert c.acc == pytest.approx(float(np.mean(cell.acc)))
        assert isinstance(cell, Cell) and isinstance(a.obs, Observations)


def test_the_capacity_section_when_the_sweep_recorded_capacity(tmp_path):
    # what a sweep records per level (the data's requirement on the model inputs) and once (the input shape)
    import json as _json

    from helmholtz.capacity.sweep_stats import level_capacity, model_input

    obs = simulate(Truth("knee", step_pp=5), levels=(5, 20, 50, None), seeds=3, n_items=600, **QUIET)
    write_store(tmp_path / "run", obs)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (400, 784)).astype(np.uint8), np.arange(400) % 10
    with Store(tmp_path / "run") as st:
        st.set_meta("model_input", model_input(x.reshape(400, 28, 28, 1), modality="image", n_classes=10,
                                               n_train=400))
        for row in st.levels():
            stats = _json.loads(row["stats_json"])
            st.put_level({**stats, "capacity": level_capacity(x, y)})
    files = build_report(tmp_path / "run", n_boot=200)
    cap = _json.loads(files.analysis_json.read_text())["capacity"]
    assert set(cap["mec"]) == {"A", "F"} and cap["mec"]["A"]["mec_bits"] > 0
    assert {r["method"] for r in cap["requirement"]} == {"energy", "nn"}
    assert len(cap["turns"]) == 2 and all("agreement" in t for t in cap["turns"])
    assert len(cap["generalisation"]) == len(files.analysis.cells)
    text = html_text(files.html)
    assert "Capacity in bits" in text and "Generalisation ratio" in text


def test_no_capacity_section_without_recorded_capacity(full_report):
    _, files = full_report
    assert json.loads(files.analysis_json.read_text())["capacity"] is None
    assert "Capacity in bits" not in html_text(files.html)


def test_epochs_figure_says_when_every_median_is_only_a_bound():
    """6-epoch runs never complete the paper's 10-epoch window: the figure must not let '≥ 1' read as 1 epoch."""
    from helmholtz.analysis import analyze
    from helmholtz.report.figures import epochs_vs_q

    def note(obs) -> list[str]:
        fig = epochs_vs_q(analyze(obs, n_boot=200, seed=0))
        return [t.get_text() for t in fig.axes[0].texts if "lower bound" in t.get_text()]

    obs = simulate(Truth("knee", step_pp=5), levels=(5, 25, 90, None), seeds=3, n_items=500, **QUIET)
    assert note(obs) == []     # converged runs (the simulation's 20-epoch histories): no note
    short = tuple(replace(r, epochs_run=6, epoch_cap=6, best_epoch=6, epochs_to_converge=None, censored=True,
                          censored_at=1, still_improving=True) for r in obs.runs)
    texts = note(replace(obs, runs=short))
    assert len(texts) == 1 and "≤ 6 epochs" in texts[0]


def test_the_recipe_names_the_seeds_trained_not_only_the_specs(tmp_path):
    """An adaptive sweep adds seeds beyond its spec's (the audio demo: spec 0–2, runs 0–6), an unfinished sweep has
    fewer: the recipe line and table said 'seeds 0, 1, 2' for both."""
    from helmholtz.report.summary import seeds_text

    obs = simulate(Truth("knee"), levels=(10, 20, None), seeds=5, n_items=500)
    write_store(tmp_path / "run", obs)
    with Store(tmp_path / "run") as st:      # the start of an adaptive sweep: seeds 3 and 4 were added later
        spec = st.spec()
        spec["seeds"] = [0, 1, 2]
        st._write(lambda c: c.execute("UPDATE meta SET value=? WHERE key='sweep_spec'", (json.dumps(spec),)))
    files = build_report(tmp_path / "run", n_boot=100)
    said = "0–4 trained (the spec's: 0–2)"
    assert f"seeds {said}" in files.recipe and f"seeds {said}" in files.summary.read_text()
    assert said in html_text(files.html)
    assert seeds_text({"seeds": [0, 1, 2]}, [0, 1, 2, 5, 6, 9]) == "0–2, 5–6, 9 trained (the spec's: 0–2)"
    assert seeds_text({"seeds": [0, 1, 2, 3, 4]}, [0, 1, 2]) == "0–2 trained (the spec's: 0–4)"
    assert seeds_text({"seeds": [0, 1, 2]}, [2, 0, 1]) == seeds_text({"seeds": [0, 1, 2]}) == "0, 1, 2"
