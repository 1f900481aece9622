"""Codecs compared: BD-rate/BD-accuracy with joint bootstrap CIs on simulated two-codec sweeps with a known answer,
N_approx per codec, the headline, the JSON contract and the report's BD table.

Oracle: a second codec whose levels reach exactly the first codec's accuracies at half the bits has a true BD-rate
of −50 % (and a positive BD-accuracy); the estimate must be near it and its 95 % interval must contain it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from helmholtz.analysis import analyze
from helmholtz.analysis.bootstrap import PairedBootstrap
from helmholtz.analysis.codec_compare import compare_pair, headline_text
from helmholtz.analysis.observations import REFERENCE, Observations, sort_levels
from helmholtz.analysis.simulate import Truth, simulate

LEVELS = (1, 5, 10, 20, 50, 90)
WEBP = (2, 6, 11, 21, 51, 89)   # other levels: their own cell noise; the same seeds (a seed is lucky everywhere)


def two_codecs(*, factor: float = 0.5, seeds: int = 5, webp_levels=WEBP, jpeg_levels=LEVELS,
               truth: Truth | None = None) -> Observations:
    """JPEG as simulated, and 'webp' reaching the same true accuracy as JPEG at ``factor`` × the bits: the true
    curve shifted by log2(factor) along the bits, so the true BD-rate is (factor − 1) · 100 %."""
    truth = truth or Truth("smooth", slope_pp=4.0)
    jpeg = simulate(truth, levels=(*jpeg_levels, None), seeds=seeds, n_items=2000, rng_seed=1)
    other = simulate(truth, levels=webp_levels, seeds=seeds, n_items=2000, rng_seed=1)
    relabel = {lv.key: f"webp:{lv.level}" for lv in other.levels}
    webp_levels_info = [replace(lv, key=relabel[lv.key], codec="webp", bits=lv.bits * factor,
                                bits_total=lv.bits_total * factor, display=f"WebP q {lv.level}", Q=None)
                        for lv in other.levels]
    cells = dict(jpeg.cells)
    for (m, key), c in other.cells.items():
        cells[(m, relabel[key])] = replace(c, level=relabel[key])
    return replace(jpeg, levels=sort_levels([*jpeg.levels, *webp_levels_info]), cells=cells,
                   runs=jpeg.runs + tuple(replace(r, level=relabel[r.level]) for r in other.runs))


def test_bd_rate_recovers_a_known_halving_with_a_covering_joint_interval():
    obs = two_codecs()
    assert obs.codecs() == ("jpeg", "webp")
    boot = PairedBootstrap(obs, n_boot=600, seed=0)
    c = compare_pair(obs, boot, "F", "jpeg", "webp")
    assert c.bd_rate == pytest.approx(-50, abs=8)
    lo, hi = c.bd_rate_ci
    assert lo < -50 < hi and hi - lo < 40
    assert c.bd_accuracy > 0 and c.bd_accuracy_ci[0] > 0     # at equal bits WebP is more accurate
    assert c.overlap > 0.75 and "BD-rate" not in (c.warning or "") and c.n_levels == (6, 6)
    # halving the bits moves WebP's bit range: BD-accuracy's shared range is small, and it says so
    assert "BD-accuracy over only" in c.warning and "joint bit range" in c.warning
    same = compare_pair(two_codecs(factor=1.0), boot.__class__(two_codecs(factor=1.0), n_boot=600), "F", "jpeg",
                        "webp")
    assert same.bd_rate_ci[0] < 0 < same.bd_rate_ci[1]          # no difference: the interval straddles 0


def test_analysis_reports_n_approx_per_codec_bd_json_and_headline():
    obs = two_codecs()
    a = analyze(obs, n_boot=400)
    assert {(x.model, x.codec) for x in a.n_approx_all} == {(m, c) for m in ("A", "F") for c in ("jpeg", "webp")}
    doc = a.to_json()
    rows = doc["codecs"]
    assert {(r["model"], r["a"], r["b"]) for r in rows} == {("A", "jpeg", "webp"), ("F", "jpeg", "webp")}
    keys = {"model", "a", "b", "bd_rate", "bd_rate_ci", "bd_accuracy", "bd_accuracy_ci", "overlap", "warning"}
    assert keys <= set(rows[0])
    assert all(r["bd_rate"] < -30 and len(r["bd_rate_ci"]) == 2 for r in rows)
    assert "N_approx per codec (F): JPEG" in a.headline and "WebP" in a.headline
    assert "WebP keeps F's accuracy at" in a.headline and "fewer bits than JPEG" in a.headline
    text = headline_text(a.codec_comparisons, model="F", first="jpeg")
    assert text.startswith("BD-rate on measured payload bits, 95% CI: WebP keeps F's accuracy at ") and "[" in text


def test_too_little_overlap_warns_and_one_codec_has_no_comparison():
    obs = two_codecs(factor=1.0, jpeg_levels=(1, 5, 10), webp_levels=(20, 50, 90),
                     truth=Truth("smooth", slope_pp=6.0))
    a = analyze(obs, n_boot=200)
    c = next(c for c in a.codec_comparisons if c.model == "F")
    assert c.warning is not None and (c.bd_rate is None or c.overlap < 0.75)
    assert any("WebP vs JPEG (F)" in w for w in a.warnings)
    single = simulate(Truth("knee"), levels=(5, 20, 50, None), seeds=3, n_items=500)
    assert analyze(single, n_boot=100).codec_comparisons == ()
    assert analyze(single, n_boot=100).to_json()["codecs"] == []


def test_few_seeds_give_no_interval_but_a_point():
    obs = two_codecs(seeds=2)
    c = compare_pair(obs, PairedBootstrap(obs, n_boot=100), "F", "jpeg", "webp")
    assert c.bd_rate is not None and c.bd_rate_ci is None and "no interval" in c.warning
    assert "(no interval" in headline_text((c,), model="F", first="jpeg")


def test_report_has_the_codecs_section_and_table(tmp_path):
    from helmholtz.report.build import write_report

    a = analyze(two_codecs(), n_boot=200)
    from helmholtz.report.html import codecs_html

    files = write_report(a, tmp_path, meta={}, extra=[("codecs", "Codecs compared", codecs_html(a))])
    html = files.html.read_text()
    assert 'id="codecs"' in html and "BD-rate" in html and "WebP vs JPEG" in html
    assert html.index('id="napprox"') < html.index('id="codecs"') < html.index('id="levels"')
    md = files.summary.read_text()
    assert "## Codecs compared" in md and "N_approx JPEG" in md and "N_approx WebP" in md
    assert np.isfinite([c.bd_rate for c in a.codec_comparisons]).all()
    assert REFERENCE in {lv.key for lv in a.obs.levels}


def test_headline_words_for_clear_inconclusive_and_costlier_codecs():
    from helmholtz.analysis.codec_compare import CodecComparison

    def cmp(b, rate, ci, overlap=0.9):
        return CodecComparison(model="A", a="jpeg", b=b, bd_rate=rate, bd_rate_ci=ci, bd_accuracy=0.01,
                               bd_accuracy_ci=None, overlap=overlap, n_levels=(5, 5), method="pchip")

    text = headline_text((cmp("avif", -38.2, (-46.0, -29.1)), cmp("jxl", -21.0, (-30.2, -12.0))), model="A",
                         first="jpeg")
    assert text.endswith(": AVIF keeps A's accuracy at 38 % [29, 46] fewer bits than JPEG; JPEG XL 21 % [12, 30] fewer")
    text = headline_text((cmp("webp", 12.0, (3.0, 20.0)), cmp("avif", -26.0, (-52.0, 116.0), overlap=0.46)),
                         model="A", first="jpeg")
    assert text.endswith("WebP needs 12 % [3, 20] more bits than JPEG for A's accuracy; AVIF 26 % fewer (95% CI "
                           "from 52 % fewer to 116 % more: inconclusive; over only 46% of the accuracy range)")
