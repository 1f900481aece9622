"""What a sweep shows while it runs, on stderr (stdout stays free for --json): a rich progress display, or with
``quiet`` plain log lines — one per compressed level and one per finished run — for CI and cluster logs.

Both reporters consume the sweep's events (dicts with an ``"event"`` key; see `helmholtz.sweep.runner`).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from helmholtz.codecs.registry import level_display
from helmholtz.sweep.summary import format_cell, grid, level_heading, plain_table


def level_name(ev: dict[str, Any]) -> str:
    """The level of a sweep event in prose, from the registry: 'q 20', '64 kbps', 'WebP q 40', 'the original'."""
    return level_display(ev["codec"], ev.get("level"))


def _run_name(ev: dict[str, Any]) -> str:
    return f"{level_name(ev)} · {ev['arch']} · seed {ev['seed']}"


def _level_line(ev: dict[str, Any]) -> str:
    s = ev["stats"]
    unit = "pixel" if s.get("unit", "pixel") == "pixel" else "second"
    parts = [f"level {level_name(ev)}:"]
    if s.get("bits_total") is not None:
        # the whole file, then the payload alone (JPEG's entropy-coded scan, MP3's frames, …: CodecSpec.payload)
        scale, name, inner = (1.0, "bits/pixel", "payload") if unit == "pixel" else (1e-3, "kbps", "payload")
        extra = f" ({inner} {s['bits_payload'] * scale:.3g})" if s.get("bits_payload") is not None else ""
        parts.append(f"{s['bits_total'] * scale:.3g} {name}{extra}")
    if s.get("compression_ratio") is not None:
        parts.append(f"ratio {s['compression_ratio']:.3g}×")
    if s.get("fidelity_db") is not None:
        parts.append(f"{'PSNR' if unit == 'pixel' else 'SNR'} {s['fidelity_db']:.1f} dB")
    parts.append(f"[{ev['seconds']:.1f} s]")
    return " ".join(parts)


def _done_line(ev: dict[str, Any]) -> str:
    return (
        f"run {ev['n_finished']}/{ev['n_total']} done: {_run_name(ev)} — test acc {ev['test_acc']:.4f} "
        f"(best val {ev['best_val_acc']:.4f} at epoch {ev['best_epoch']}/{ev['epochs_run']}) in {ev['wall_s']:.1f} s"
    )


def _failed_line(ev: dict[str, Any]) -> str:
    return f"run {ev['n_finished']}/{ev['n_total']} FAILED: {_run_name(ev)} — {ev['error'].splitlines()[0]}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def plan_line(ev: dict[str, Any]) -> str | None:
    """What the sweep is about to do, from the ``start`` event: the grid, the epoch budget and the hardware."""
    if "n_levels" not in ev or not ev["n_todo"]:
        return None
    gpus = ev.get("gpus")
    where = ("" if gpus is None else f", {gpus} GPU{'s' if gpus != 1 else ''}" if gpus else ", no GPU")
    full = ev['n_levels'] * ev['n_archs'] * ev['n_seeds']
    grid = (f"{ev['n_levels']} levels × {ev['n_archs']} archs × {ev['n_seeds']} seeds = {ev['n_total']} runs"
            if full == ev['n_total'] else f"{ev['n_total']} runs of a {ev['n_levels']}-level × {ev['n_archs']}-arch × "
            f"{ev['n_seeds']}-seed grid")
    return (f"plan: {grid}, "
            f"{ev['n_todo']} to run, up to {ev['epochs']} epochs each at width {ev['width']:g}; "
            f"{ev['workers']} at a time × {ev['threads']} CPU threads{where}")


#: ways to make a long sweep shorter, suggested with an estimate that runs past `LONG_S` on a CPU
SPEEDUP_HINTS = ("a GPU (a CUDA machine, or --engine ray on a cluster)", "fewer --levels, --archs or --seeds",
                 "--width 0.25 with fewer --epochs")
LONG_S = 3600.0


class Estimator:
    """The sweep's time estimate, said once after the first epoch (in-process engine: that run's epoch time × the
    epoch budget, an upper bound since early stopping may end runs sooner) and once after the first run."""

    def __init__(self) -> None:
        self.todo, self.workers, self.epochs, self.gpus = 0, 1, 1, None
        self.started: dict[str, float] = {}
        self.said_epoch = self.said_run = False

    def _hint(self, total_s: float, device: str | None) -> str:
        on_cpu = (device or "").startswith("cpu") or (device is None and self.gpus == 0)
        if total_s < LONG_S or not on_cpu:
            return ""
        return "; that is long for a CPU: try " + ", or ".join(SPEEDUP_HINTS)

    def __call__(self, ev: dict[str, Any]) -> str | None:
        kind = ev["event"]
        if kind == "start":
            self.todo, self.workers = ev["n_todo"], max(1, ev["workers"])
            self.epochs, self.gpus = ev.get("epochs", 1), ev.get("gpus")
        elif kind == "run_start":
            self.started.setdefault(ev["run_id"], time.monotonic())
        elif kind == "epoch" and not self.said_epoch and not self.said_run and ev["epoch"] == 1:
            self.said_epoch = True
            per_epoch = time.monotonic() - self.started.get(ev["run_id"], time.monotonic())
            per_run = per_epoch * self.epochs
            total = per_run * self.todo / self.workers
            return (f"estimate from the first epoch ({_duration(per_epoch)}): up to {_duration(per_run)} per run of "
                    f"≤{self.epochs} epochs, up to {_duration(total)} for the {self.todo} runs (early stopping may "
                    f"end runs sooner){self._hint(total, None)}")
        elif kind == "run_done" and not self.said_run:
            self.said_run = True
            left = self.todo - 1
            if left <= 0:
                return None
            total = ev["wall_s"] * left / self.workers
            return (f"estimate from the first run ({_duration(ev['wall_s'])}, {ev['epochs_run']} epochs): about "
                    f"{_duration(total)} for the {left} runs to go{self._hint(total, ev.get('device'))}")
        return None


def matrix_line(ev: dict[str, Any]) -> str:
    """'matrix: 24 evaluations of 8 stored models on 3 levels' test splits in 4.1 s (0.5 s a model)'."""
    per = ev["seconds"] / max(ev["n_runs"], 1)
    return (f"matrix: {ev['n_evaluations']} evaluations of {ev['n_runs']} stored models on {ev['n_levels']} levels' "
            f"test splits in {ev['seconds']:.1f} s ({per:.1f} s a model; no training)")


def _end_lines(ev: dict[str, Any]) -> list[str]:
    s = ev["summary"]
    lines = [
        f"sweep finished in {s['wall_s']:.1f} s: {s['n_done_now']} runs trained now, {s['n_skipped']} were already done, "
        f"{s['n_failed_now']} failed",
    ]
    if s["failures"]:
        lines.append("failed runs are recorded with their error and retried when the same command is re-run:")
        lines += [f"  {f['level_label']} {f['arch']} seed {f['seed']}: {f['error'].splitlines()[0]}" for f in s["failures"][:5]]
    lines.append(f"results: {s['store']}")
    return lines


def decision_line(ev: dict[str, Any]) -> str:
    """An adaptive sweep's decision: its state, then what it adds (or why it stops)."""
    head = f"decision: {ev['state']}"
    if ev.get("n_runs"):
        return f"{head} · {ev['reason']} → {ev['n_runs']} more runs"
    verdict = "decided" if ev.get("decided") else "stopping undecided"
    opens = "; ".join(ev.get("open") or ())
    more = "not narrowed further" if ev.get("decided") else "still open"
    return f"{head} · {verdict}" + (f" — {more}: {opens}" if opens else "")


class PlainReporter:
    """Plain log lines on stderr, one per level compressed and per run finished, then the level × arch table."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self.finished_now = 0
        self.todo = 0
        self.estimate = Estimator()

    def _eta(self) -> str:
        # the mean time per run finished so far in this session, times the runs still to go
        left = self.todo - self.finished_now
        if self.finished_now == 0 or left <= 0:
            return ""
        secs = (time.monotonic() - self.t0) / self.finished_now * left
        return f" · ETA {int(secs // 3600)}:{int(secs % 3600 // 60):02d}:{int(secs % 60):02d}"

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __call__(self, ev: dict[str, Any]) -> None:
        kind = ev["event"]
        estimate = self.estimate(ev)
        if kind == "start":
            self.t0, self.todo = time.monotonic(), ev["n_todo"]
            self._print(
                f"sweep: {ev['n_total']} runs ({ev['n_skipped']} already done, {ev['n_todo']} to run) on the {ev['engine']} "
                f"engine, {ev['workers']} at a time × {ev['threads']} threads → {ev['store']}"
            )
            if plan := plan_line(ev):
                self._print(plan)
        elif kind == "level":
            self._print(_level_line(ev))
        elif kind == "decision":
            self._print(decision_line(ev))
        elif kind == "matrix":
            self._print(matrix_line(ev))
        elif kind == "batch":
            self.todo = self.finished_now + ev["n_todo"]
        elif kind == "run_done":
            self.finished_now += 1
            self._print(_done_line(ev) + self._eta())
        elif kind == "run_failed":
            self.finished_now += 1
            self._print(_failed_line(ev) + self._eta())
        elif kind == "end":
            self._print(plain_table(ev["summary"]["cells"], codecs=_codecs(ev["summary"])))
            for line in _end_lines(ev):
                self._print(line)
        if estimate:
            self._print(estimate)


class RichReporter:
    """A rich live display on stderr: runs done/total with ETA, and the current run's epoch and validation acc."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console, transient=False,
        )
        self.sweep_task = None
        self.run_task = None
        self.running: dict[str, dict[str, Any]] = {}
        self.last_step = 0.0
        self.total = 0
        self.estimate = Estimator()

    def __enter__(self) -> RichReporter:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def __call__(self, ev: dict[str, Any]) -> None:
        kind = ev["event"]
        p = self.progress
        estimate = self.estimate(ev)
        if estimate:
            self.console.print(estimate, markup=False, highlight=False)
        if kind == "start":
            self.console.print(
                f"sweep: {ev['n_total']} runs ({ev['n_skipped']} already done, {ev['n_todo']} to run) · {ev['engine']} engine, "
                f"{ev['workers']} at a time × {ev['threads']} threads → {ev['store']}", markup=False, highlight=False,
            )
            self.total = ev["n_todo"]
            if plan := plan_line(ev):
                self.console.print(plan, markup=False, highlight=False)
            self.sweep_task = p.add_task("runs", total=ev["n_todo"], info="")
            self.run_task = p.add_task("current", total=None, info="", visible=ev["n_todo"] > 0)
        elif kind == "level":
            self.console.print(_level_line(ev), markup=False, highlight=False)
        elif kind == "decision":
            self.console.print(decision_line(ev), markup=False, highlight=False, style="bold")
        elif kind == "matrix":
            self.console.print(matrix_line(ev), markup=False, highlight=False)
        elif kind == "batch":
            self.total += ev["n_todo"]
            p.update(self.sweep_task, total=self.total)
            p.update(self.run_task, visible=ev["n_todo"] > 0)
        elif kind == "run_start":
            self.running[ev["run_id"]] = ev
            self._show_running(ev, epoch=0, total=ev["epochs"], info="")
        elif kind == "epoch":
            self._show_running(ev, epoch=ev["epoch"], total=ev["epochs"], info=f"val acc {ev['val_acc']:.4f}")
        elif kind == "step":
            now = time.monotonic()
            if now - self.last_step > 0.25:   # redraw at most 4× a second: steps can be thousands per second
                self.last_step = now
                frac = ev["epoch"] - 1 + ev["done"] / max(ev["of"], 1)
                p.update(self.run_task, completed=frac)
        elif kind in ("run_done", "run_failed"):
            self.running.pop(ev["run_id"], None)
            p.advance(self.sweep_task)
            if kind == "run_failed":
                self.console.print(_failed_line(ev), style="red", markup=False, highlight=False)
            if self.running:
                other = next(iter(self.running.values()))
                self._show_running(other, epoch=0, total=other["epochs"], info="")
        elif kind == "end":
            p.update(self.run_task, visible=False)
            p.stop()
            self._table(ev["summary"])
            for line in _end_lines(ev):
                self.console.print(line, markup=False, highlight=False)

    def _show_running(self, ev: dict[str, Any], *, epoch: int, total: int, info: str) -> None:
        n = len(self.running)
        desc = _run_name(ev) if n <= 1 else f"{n} runs in flight (latest: {_run_name(ev)})"
        self.progress.update(self.run_task, description=desc, completed=epoch, total=total, info=info, visible=True)

    def _table(self, s: dict[str, Any]) -> None:
        from rich.table import Table

        levels, archs, by = grid(s["cells"])
        if not levels:
            self.console.print("no finished runs yet")
            return
        table = Table(title="mean test accuracy ± std over seeds (n)", title_justify="left")
        table.add_column(level_heading(_codecs(s)))
        for a in archs:
            table.add_column(f"arch {a}", justify="right")
        for lv in levels:
            table.add_row(lv, *(format_cell(by.get((lv, a))) for a in archs))
        self.console.print(table)


def _codecs(summary: dict[str, Any]) -> list[str]:
    return summary.get("codecs") or [summary.get("codec", "")]


def make_reporter(*, quiet: bool):
    """The display for a sweep: rich progress on a terminal, plain lines with ``quiet`` or when stderr is a pipe."""
    if quiet or not sys.stderr.isatty():
        return PlainReporter()
    return RichReporter()
