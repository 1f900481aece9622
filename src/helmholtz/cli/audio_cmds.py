"""`helmholtz synth guitar-fx` (the regenerable guitar-effects dataset) and `helmholtz demo-audio` (the audio demo).

`demo-audio` is the paper's audio experiment (Sec. 5.3, Fig. 7) in miniature on CPU: synthesise a small
guitar-effects set, sweep MP3 bitrates × archs A and F (the smallest and the largest audio model, the paper's Fig. 9
question) × seeds through the adaptive sweep, then render the report. Every size is an option, so the same command scales up to a GPU run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from helmholtz.cli.options import Json

Out = Annotated[Path, typer.Option("--out", help="Directory to write the dataset to (must be empty unless --force).")]
NotesPerClass = Annotated[int, typer.Option("--notes-per-class", help="Files per effect class (12×N files in all).")]
Paired = Annotated[bool, typer.Option(
    "--paired/--independent", help="Paired (IDMT-like): the same N notes through every effect. Independent: a fresh "
                                   "note for every file.")]
SettingsOpt = Annotated[str, typer.Option(
    "--settings", help="idmt: IDMT's protocol, three fixed settings per effect, guitar and bass notes (the README "
                       "lists every value). random: every effect parameter drawn from a range, guitar only (harder).")]
Instruments = Annotated[str, typer.Option(
    "--instruments", help="idmt: guitar (the paper's task: IDMT's monophonic guitar set), bass, or both (IDMT's two "
                          "sets, half the notes each).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random draw (notes, effect parameters, output peak levels).")]
SampleRate = Annotated[int, typer.Option("--sample-rate", help="Sample rate of the WAVs (Hz).")]
Duration = Annotated[float, typer.Option("--duration", help="Length of every note (s).")]
Force = Annotated[bool, typer.Option("--force", help="Replace a previous synth set in --out (other files are kept).")]
Soundfont = Annotated[Path | None, typer.Option(
    "--soundfont", help="SF2 file (default: $HELMHOLTZ_SOUNDFONT or /usr/share/sounds/sf2/FluidR3_GM.sf2).")]

def _synth_progress(quiet: bool):
    """A rich progress bar on stderr over the notes being made (stdout stays free for --json), shown only while
    notes are made: a context manager giving the ``on_progress(done, total)`` callback, None when quiet."""
    from contextlib import contextmanager

    @contextmanager
    def bar():
        if quiet:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from helmholtz.cli.common import err_console

        columns = (TextColumn("synth guitar-fx: notes"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        progress = Progress(*columns, console=err_console, transient=True)
        task: list = []

        def on_progress(done: int, total: int) -> None:
            if not task:
                progress.start()
                task.append(progress.add_task("notes", total=total))
            progress.update(task[0], completed=done)
            if done >= total:
                progress.stop()

        try:
            yield on_progress
        finally:
            progress.stop()

    return bar()


def _set_folders(instruments: str) -> str:
    return {"both": "{Gitarre,Bass} monophon", "bass": "Bass monophon"}.get(instruments, "Gitarre monophon")


def register(app: typer.Typer) -> None:
    """Add `synth guitar-fx` and `demo-audio` to `app`."""
    synth_app = typer.Typer(help="Generate datasets users can regenerate from real recordings.", no_args_is_help=True)
    app.add_typer(synth_app, name="synth")

    @synth_app.command("guitar-fx")
    def guitar_fx_cmd(
        out: Out,
        notes_per_class: NotesPerClass = 100,
        seed: Seed = 0,
        settings: SettingsOpt = "idmt",
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        force: Force = False,
        soundfont: Soundfont = None,
        paired: Paired = False,
        instruments: Instruments = "both",
        json_out: Json = False,
    ) -> None:
        """Guitar and bass notes (Fluid R3 GM recordings) through the 12 IDMT-SMT-Audio-Effects classes, as 16-bit
        mono WAVs in the IDMT layout: OUT/Gitarre monophon/Samples/<Effect>/*.wav (and Bass monophon with --settings
        idmt and --instruments both or bass) plus OUT/synth.json.

        Same --seed, same bytes. Programs 29/30 (recorded with distortion) are not used as clean sources. With
        --paired every note goes through all 12 effects (IDMT's structure; a random split then puts the same note
        in training and test under different labels).
        """
        from helmholtz import api
        from helmholtz.cli.common import console, print_json

        with _synth_progress(json_out) as on_progress:
            summary = api.synth_guitar_fx(
                out, notes_per_class=notes_per_class, seed=seed, settings=settings, sample_rate=sample_rate,
                duration_s=duration, force=force, soundfont=soundfont, paired=paired, instruments=instruments,
                on_progress=on_progress,
            )
        if json_out:
            print_json(summary)
            return
        console.print(
            f"wrote {summary['n_files']} WAVs ({len(summary['classes'])} classes × {notes_per_class} {'paired' if paired else 'independent'} notes, "
            f"--settings {settings}, {sample_rate} Hz, {duration:g} s, 16-bit mono) in {summary['seconds']:.1f} s\n"
            f"  dataset:  {out}/{_set_folders(summary['instruments'])}/Samples/<Effect>/\n"
            f"  manifest: {summary['manifest']}\n"
            f"  use it:   helmholtz sweep {out} --codec mp3"
        )

    @app.command("demo-audio")
    def demo_audio_cmd(
        out: Annotated[Path, typer.Option("--out", help="Demo directory: data/, results.sqlite, report/.")] = Path("runs/demo-audio"),
        quick: Annotated[bool, typer.Option("--quick", help="A ~1 minute smoke-test size.")] = False,
        notes_per_class: Annotated[int | None, typer.Option("--notes-per-class", help="Synth notes per class (default: 200, quick 8).")] = None,
        epochs: Annotated[int | None, typer.Option("--epochs", help="The fast recipe's epoch cap (default: 12, quick 1).")] = None,
        width: Annotated[float | None, typer.Option("--width", help="Width multiplier (default: 0.5).")] = None,
        max_runs: Annotated[int | None, typer.Option("--max-runs", help="The adaptive sweep's run budget (default: 33).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the synth data (the sweep's seeds are 0, 1, 2, …).")] = 0,
        quiet: Annotated[bool, typer.Option("--quiet", help="Plain log lines instead of progress bars.")] = False,
    ) -> None:
        """The paper's audio experiment in miniature, adaptive: synth guitar effects → MP3 sweep until decided → report.

        The idmt synth set of guitar notes (200 per class, three fixed settings per effect: the paper's task is
        IDMT's monophonic guitar set), archs A and F (the smallest and the largest audio model) at ½ width, the fast
        audio recipe capped at 12 epochs, MP3 16, 40 (the paper's Q 0.75), 112 kbps and the original, 3 seeds to
        start (A at every level, F at 40 kbps); seeds and levels are added where the answer is open, within a budget
        of 33 runs (2 at a time).
        Resumable: re-run the same command and finished runs are kept.
        """
        from rich.markup import escape

        from helmholtz import api
        from helmholtz.cli.common import console, err_console

        def made(summary: dict) -> None:
            if not quiet:
                err_console.print(f"synthesised {summary['n_files']} notes in {summary['seconds']:.1f} s → "
                                  f"{summary['out']}")

        t0 = time.perf_counter()
        with _synth_progress(quiet) as on_progress:
            files = api.demo_audio(out, quick=quick, notes_per_class=notes_per_class, epochs=epochs, width=width,
                                   max_runs=max_runs, seed=seed, quiet=quiet, on_synth_progress=on_progress,
                                   on_synth_made=made)
        console.print(f"[bold]{escape(files.headline)}[/bold]")
        console.print(f"demo-audio sweep + report in {time.perf_counter() - t0:.0f} s\n"
                      f"  report: {escape(str(files.html))} (self-contained, opens offline)\n"
                      f"  data:   {escape(str(out / 'data'))}   results: {escape(str(out / 'results.sqlite'))}")
