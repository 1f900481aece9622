"""Still improving at the cap means something for annealed schedules: a one-cycle run whose best epoch is its last
only because the lr reached 0 is not flagged; one that gained more than half of δ in its last epoch is."""

from __future__ import annotations

import json

from helmholtz.analysis.observations import ANNEALED_GAIN, run_info


def _run(schedule: str | None) -> dict:
    opts = {"epochs": 6, **({"schedule": schedule} if schedule else {})}
    return {"arch": "A", "level": 25, "level_label": "25", "codec": "jpeg", "seed": 0, "epochs_run": 6,
            "spec_json": json.dumps({"options": opts})}


def test_an_annealed_run_that_barely_moved_at_the_end_is_not_still_improving():
    history = [0.60, 0.70, 0.75, 0.78, 0.790, 0.792]            # last epoch +0.2 pp: the lr annealed to 0
    assert not run_info(_run("onecycle"), history).still_improving
    assert run_info(_run(None), history).still_improving       # the paper's schedule keeps the plain rule


def test_an_annealed_run_that_still_gained_at_the_end_is_still_improving():
    history = [0.60, 0.70, 0.75, 0.78, 0.79, 0.79 + 2 * ANNEALED_GAIN]
    assert run_info(_run("cosine"), history).still_improving
    assert not run_info(_run("onecycle"), [0.6, 0.7, 0.8, 0.79, 0.78, 0.77]).still_improving   # best not last
