"""`build_report`: open a sweep's results store, analyse it, and write the report directory.

Writes, under `out_dir` (default `RUN_DIR/report`): the figures as PNG and SVG, `report.html` (self-contained),
`summary.md`, and `analysis.json` (every number of the report, machine-readable). This is the only module of the
analysis and report stages that opens the store; everything else works on plain rows. Never imports torch.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from helmholtz.analysis.analyze import Analysis, analyze
from helmholtz.analysis.observations import Observations, parse_json, read_store
from helmholtz.errors import StoreError
from helmholtz.fsutil import atomic_dir
from helmholtz.report.capacity import capacity_html, capacity_section
from helmholtz.report.figures import FigureFiles, write_figures
from helmholtz.report.html import codecs_html, render_html, timeline_html
from helmholtz.report.summary import render_markdown


@dataclass(frozen=True)
class ReportFiles:
    """What `build_report` wrote, and the analysis behind it."""

    out_dir: Path
    html: Path
    summary: Path
    analysis_json: Path
    figures: tuple[FigureFiles, ...]
    headline: str
    analysis: Analysis

    @property
    def recipe(self) -> str:
        """The recipe in one line, for the terminal."""
        from helmholtz.report.summary import recipe_short

        return recipe_short(self.analysis.obs.spec, self.analysis.obs.seeds)


def load_observations(run_dir: str | os.PathLike) -> tuple[Observations, list[dict]]:
    """The observations of the sweep in `run_dir`, and its run rows (incl. failed). Raises StoreError when missing."""
    from helmholtz.sweep.store import STORE_FILE, Store

    path = Path(run_dir)
    if not path.exists():
        raise StoreError("no such directory", where=str(path), fix="pass the --out directory of a `helmholtz sweep`")
    if path.is_dir() and not (path / STORE_FILE).exists():
        raise StoreError(f"no {STORE_FILE} here", where=str(path),
                         fix="pass the --out directory of a `helmholtz sweep`, or run one first")
    with Store(path) as store:
        obs, runs = read_store(store)
        steps, adaptive, result = store.plan_steps(), store.get_meta("adaptive"), store.get_meta("adaptive_result")
        model_input = store.get_meta("model_input")
    obs = replace(obs, model_input=model_input)
    if steps or adaptive:
        grid = (adaptive or {}).get("grid_runs", obs.n_expected or 0)
        obs = replace(obs, n_expected=grid + len({(r.get("codec"), r["arch"], r["level"], r["seed"]) for st in steps
                                                   for r in st["runs"]}))
        obs = replace(obs, adaptive={"steps": steps, "budget": adaptive, "result": result, "grid_runs": grid})
    return obs, runs


def _unique(values: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v is not None and v not in seen:
            seen.append(v)
    return seen


def provenance(runs: Sequence[Mapping[str, Any]], *, store_path: Path) -> dict[str, Any]:
    """Code, library versions and hardware of the runs, and of the machine that wrote this report."""
    from helmholtz.provenance import code_version, host_info, library_versions

    done = [r for r in runs if r.get("status", "done") == "done"]
    times = sorted(t for r in done for t in (r.get("started_at"), r.get("finished_at")) if t)
    meta: dict[str, Any] = {
        "results store": str(store_path),
        "runs": dict(Counter(str(r.get("status", "done")) for r in runs)),
        "run period (UTC)": f"{times[0]} – {times[-1]}" if times else "—",
        "code version of the runs": ", ".join(_unique([r.get("code_version") for r in done])) or "—",
        "devices": ", ".join(_unique([r.get("device") for r in done])) or "—",
        "precision": ", ".join(_unique([r.get("precision") for r in done])) or "—",
    }
    for i, host in enumerate(_unique([parse_json(r.get("host_json")) for r in done])):
        meta[f"hardware of the runs{f' ({i + 1})' if i else ''}"] = host
    for i, ver in enumerate(_unique([parse_json(r.get("versions_json")) for r in done])):
        meta[f"libraries of the runs{f' ({i + 1})' if i else ''}"] = ver
    meta["report written by"] = f"helmholtz {code_version()}"
    meta["report libraries"] = library_versions()
    meta["report host"] = host_info()
    return meta


#: lists the files of a report folder, so the next report may replace exactly those
REPORT_MANIFEST = ".helmholtz-report.json"


def _manifest(out: Path) -> set[str] | None:
    try:
        return set(json.loads((out / REPORT_MANIFEST).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _replaceable(out: Path) -> bool:
    """The whole folder may be swapped for the new report: it is missing, empty, or holds only an earlier report's
    files. A folder with anything else in it (``--out .``) gets the new files merged in and keeps the rest."""
    if not out.is_dir():
        return True
    names = {p.name for p in out.iterdir()}
    if not names:
        return True
    listed = _manifest(out)
    return listed is not None and names <= listed | {REPORT_MANIFEST}


def _relocated(obj: Any, tmp: Path, out: Path) -> Any:
    """The same dataclass with every path under the temporary folder moved to the final one."""
    changes = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, Path) and value.is_relative_to(tmp):
            changes[f.name] = out / value.relative_to(tmp)
    return replace(obj, **changes) if changes else obj


#: options a longer-budget sweep may change: the epoch cap, and the patience the recipe derives from it
_BUDGET_OPTIONS = ("epochs", "patience")


def _epoch_cap(obs: Observations, where: str | os.PathLike) -> int:
    try:
        return int(obs.spec["options"]["epochs"])
    except (KeyError, TypeError, ValueError):
        raise StoreError("the sweep records no epoch cap", where=str(where),
                         fix="compare sweeps written by this helmholtz") from None


def _budget_invariant(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What two sweeps of one budget check must share: the data, modality, codec and recipe but its cap."""
    out = {k: spec[k] for k in ("data", "modality", "codec", "options") if k in spec}
    if "options" in out:
        out["options"] = {o: v for o, v in out["options"].items() if o not in _BUDGET_OPTIONS}
    return out


def longer_budgets(run_dir: str | os.PathLike, obs: Observations,
                   others: Sequence[str | os.PathLike]) -> dict[int, Observations]:
    """Observations per epoch cap: ``obs`` (the sweep in ``run_dir``) and the sweeps in ``others``, which must be the
    same sweep (data, codec, recipe) trained to a longer cap; each is analysed on its own (`analysis.budget`)."""
    from helmholtz.sweep.spec_diff import spec_differences

    cap = _epoch_cap(obs, run_dir)
    out = {cap: obs}
    for other in others:
        other_obs = load_observations(other)[0]
        other_cap = _epoch_cap(other_obs, other)
        diffs = spec_differences(_budget_invariant(obs.spec), _budget_invariant(other_obs.spec))
        if diffs:
            raise StoreError(f"--budget-check needs the same sweep at another epoch cap, but {'; '.join(diffs)}",
                             where=str(other), fix="sweep the same data and recipe with only --epochs changed")
        if other_cap in out:
            raise StoreError(f"both sweeps train to {other_cap} epochs", where=str(other),
                             fix="pass a sweep with a longer --epochs (e.g. twice the cap)")
        out[other_cap] = other_obs
    if min(out) != cap:
        raise StoreError(f"this sweep trains to {cap} epochs, longer than the {min(out)} of its --budget-check sweep",
                         where=str(run_dir), fix="report the shorter sweep and pass the longer one to --budget-check")
    return out


def build_report(run_dir: str | os.PathLike, *, out_dir: str | os.PathLike | None = None,
                 budget_check: Sequence[str | os.PathLike] = (), **analysis_options: Any) -> ReportFiles:
    """Analyse the sweep in `run_dir` and write its report (default: `RUN_DIR/report`). Works on a partial sweep;
    raises StoreError when the directory has no store or no finished run, ConfigError for bad options.
    ``budget_check``: sweeps of the same cells at a longer epoch cap, whose verdicts are compared with these
    (`analysis.budget`). ``analysis_options`` go to `helmholtz.analysis.analyze` (tolerance_pp, n_boot, seed,
    model, compare_pair, compare_level)."""
    from helmholtz.analysis import with_budget_check
    from helmholtz.analysis.budget import BUDGET_DIR
    from helmholtz.sweep.store import STORE_FILE, store_file

    own = Path(run_dir) / BUDGET_DIR          # an adaptive sweep's own training-budget check
    if not budget_check and (own / STORE_FILE).exists():
        budget_check = (own,)
    obs, runs = load_observations(run_dir)
    by_budget = longer_budgets(run_dir, obs, budget_check) if budget_check else None
    headline = ((obs.adaptive or {}).get("budget") or {}).get("headline")
    if headline in obs.models and analysis_options.get("model") is None:
        analysis_options["model"] = headline      # a focused adaptive sweep decided this architecture's N_approx
    analysis = analyze(obs, **analysis_options)
    if by_budget:
        analysis = with_budget_check(analysis, by_budget)
    run = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else (run.parent if run.is_file() else run) / "report"
    extra = [("timeline", "How the adaptive sweep decided", timeline_html(obs.adaptive))] if obs.adaptive else []
    if analysis.codec_comparisons:
        extra.insert(0, ("codecs", "Codecs compared: N_approx per codec, BD-rate and BD-accuracy",
                         codecs_html(analysis)))
    cap = capacity_section(analysis, runs)
    if cap is not None:
        extra.append(("capacity", "Capacity in bits: what the models can store and what the data needs",
                      capacity_html(cap)))
    return write_report(analysis, out, meta=provenance(runs, store_path=store_file(run_dir)), extra=extra,
                        data={"capacity": cap})


def write_report(analysis: Analysis, out: Path, *, meta: dict[str, Any],
                 extra: Sequence[tuple[str, str, str]] = (), data: dict[str, Any] | None = None) -> ReportFiles:
    """Write the figures, `report.html`, `summary.md` and `analysis.json` of an analysis under `out`.

    Everything is written into a temporary folder beside `out` and moved into place only when complete, so a full
    disk or a kill leaves the previous report as it was (`fsutil.atomic_dir`)."""
    out = Path(out)
    merge, earlier = not _replaceable(out), _manifest(out) or set()
    with atomic_dir(out, what="the report", merge=merge) as tmp:
        figures = tuple(write_figures(analysis, tmp))
        (tmp / "report.html").write_text(render_html(analysis, figures, meta=meta, extra=extra), encoding="utf-8")
        (tmp / "summary.md").write_text(render_markdown(analysis, figures=[f.name for f in figures]),
                                        encoding="utf-8")
        (tmp / "analysis.json").write_text(json.dumps({**analysis.to_json(), **(data or {}), "provenance": meta},
                                                      indent=1, default=str), encoding="utf-8")
        written = sorted(p.name for p in tmp.iterdir())
        (tmp / REPORT_MANIFEST).write_text(json.dumps({"files": written}) + "\n", encoding="utf-8")
    if merge:  # the files an earlier report listed that this one no longer writes
        for name in earlier - set(written) - {REPORT_MANIFEST}:
            with contextlib.suppress(OSError):
                (out / name).unlink()
    figures = tuple(_relocated(f, tmp, out) for f in figures)
    html, summary, data = out / "report.html", out / "summary.md", out / "analysis.json"
    return ReportFiles(out_dir=out, html=html, summary=summary, analysis_json=data, figures=figures,
                       headline=analysis.headline, analysis=analysis)
