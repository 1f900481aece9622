"""The margin δ as one value (`analysis.tolerance.Tolerance`): one check with one wording, one unit at the boundary
(percentage points, ``tolerance_pp``), the fraction the statistics use, and the same δ from the API's keyword to the
JSON and the report's text."""

from __future__ import annotations

import json
import math

import pytest

from helmholtz.analysis.tolerance import MAX_TOLERANCE_PP, Tolerance, check_tolerance
from helmholtz.errors import ConfigError

MESSAGE = r"--tolerance must be a margin in \(0, 50\] percentage points; got"


@pytest.mark.parametrize("bad", [0, -1, 0.0, MAX_TOLERANCE_PP + 0.5, math.nan, math.inf, True, "1", None])
def test_exception_of_refuses_anything_but_a_margin_in_range(bad):
    with pytest.raises(ConfigError, match=MESSAGE):
        Tolerance.of(bad)


def test_exception_check_tolerance_is_the_same_check():
    with pytest.raises(ConfigError, match=MESSAGE + " -2"):
        check_tolerance(-2)
    assert check_tolerance(2) == Tolerance.of(2).pp == 2.0


def test_exception_names_where_the_value_came_from():
    with pytest.raises(ConfigError, match=r"^tolerance_pp must be a margin in \(0, 50\] percentage points; got 0"):
        Tolerance.of(0, where="tolerance_pp")


@pytest.mark.parametrize("pp", [0.01, 0.5, 0.9, 1, 2.5, MAX_TOLERANCE_PP])
def test_feature_fraction_is_pp_over_100(pp):
    t = Tolerance.of(pp)
    assert isinstance(t.pp, float) and t.pp == pp
    assert t.fraction == pp / 100


@pytest.mark.parametrize("pp,text", [(1, "1 pp"), (1.0, "1 pp"), (0.5, "0.5 pp"), (2.5, "2.5 pp")])
def test_feature_text_is_how_the_reports_print_it(pp, text):
    assert Tolerance.of(pp).text == text


def test_feature_tolerance_pp_round_trips_through_the_json_and_the_report(tmp_path):
    import helmholtz.analysis
    from helmholtz.analysis.simulate import Truth, simulate
    from helmholtz.report.build import write_report

    obs = simulate(Truth("knee"), levels=(10, 25, 50, None), seeds=3, n_items=500, rng_seed=0)
    a = helmholtz.analysis.analyze(obs, tolerance_pp=2.0, n_boot=200)
    assert a.to_json()["tolerance_pp"] == 2.0
    assert a.tolerance == Tolerance.of(2.0)
    files = write_report(a, tmp_path / "report", meta={})
    assert json.loads(files.analysis_json.read_text())["tolerance_pp"] == 2.0
    assert "margin δ = 2 pp" in files.html.read_text()
