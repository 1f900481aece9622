"""`helmholtz synth guitar-fx` (the regenerable guitar-effects dataset) and `helmholtz demo-audio` (the audio demo).

`demo-audio` is the paper's audio experiment (Sec. 5.3, Fig. 7) in miniature on CPU: synthesise a small
guitar-effects set, sweep MP3 bitrates × archs A and F (the smallest and the largest audio model, the paper's Fig. 9
question) × seeds through the adaptive sweep, then render the report. Every size is an option, so the same command scales up to a GPU run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

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
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random draw (notes, effect parameters, output peak levels).")]
SampleRate = Annotated[int, typer.Option("--sample-rate", help="Sample rate of the WAVs (Hz).")]
Duration = Annotated[float, typer.Option("--duration", help="Length of every note (s).")]
Force = Annotated[bool, typer.Option("--force", help="Replace a previous synth set in --out (other files are kept).")]
Soundfont = Annotated[Path | None, typer.Option(
    "--soundfont", help="SF2 file (default: $HELMHOLTZ_SOUNDFONT or /usr/share/sounds/sf2/FluidR3_GM.sf2).")]

def _synth_with_progress(out: Path, *, quiet: bool, **kwargs: Any) -> dict[str, Any]:
    """Run the synth with a rich progress bar on stderr (stdout stays free for --json)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from helmholtz.cli.common import err_console
    from helmholtz.synth.guitar import make_guitar_fx

    if quiet:
        return make_guitar_fx(out, **kwargs)
    columns = (TextColumn("synth guitar-fx: notes"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("notes", total=kwargs["notes_per_class"])
        return make_guitar_fx(out, on_progress=lambda done, total: progress.update(task, completed=done), **kwargs)


def _summary(manifest: dict[str, Any], out: Path, seconds: float) -> dict[str, Any]:
    return {
        "out": str(out), "manifest": str(out / "synth.json"), "n_files": manifest["n_files"],
        "classes": manifest["classes"], "notes_per_class": manifest["notes_per_class"], "paired": manifest["paired"],
        "seed": manifest["seed"], "settings": manifest["settings"],
        "sample_rate": manifest["sample_rate"], "duration_s": manifest["duration_s"],
        "soundfont": manifest["soundfont"]["path"], "seconds": round(seconds, 2),
    }


def _ensure_demo_data(data_dir: Path, *, notes_per_class: int, seed: int, settings: str, quiet: bool) -> None:
    """Generate the demo's synth set, or reuse the one already there when it was made with the same settings."""
    from helmholtz.errors import ConfigError
    from helmholtz.synth.guitar import manifest_settings, read_manifest

    manifest = read_manifest(data_dir)
    if manifest is not None:
        made = (manifest.get("notes_per_class"), manifest.get("seed"), manifest_settings(manifest), manifest.get("paired"))
        if made == (notes_per_class, seed, settings, False):
            return
        raise ConfigError(
            f"the demo data there was made with --notes-per-class {made[0]} --seed {made[1]} --settings {made[2]}"
            f"{' --paired' if made[3] else ''}, not {notes_per_class} / {seed} / {settings}",
            where=str(data_dir),
            fix="pass the same sizes to resume, or a new --out",
        )
    t0 = time.perf_counter()
    summary = _summary(_synth_with_progress(data_dir, quiet=quiet, notes_per_class=notes_per_class, seed=seed,
                                            settings=settings, force=True), data_dir, 0.0)
    if not quiet:
        from helmholtz.cli.common import err_console

        err_console.print(f"synthesised {summary['n_files']} notes in {time.perf_counter() - t0:.1f} s → {data_dir}")


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
        json_out: Json = False,
    ) -> None:
        """Guitar and bass notes (Fluid R3 GM recordings) through the 12 IDMT-SMT-Audio-Effects classes, as 16-bit
        mono WAVs in the IDMT layout: OUT/Gitarre monophon/Samples/<Effect>/*.wav (and Bass monophon with --settings
        idmt) plus OUT/synth.json.

        Same --seed, same bytes. Programs 29/30 (recorded with distortion) are not used as clean sources. With
        --paired every note goes through all 12 effects (IDMT's structure; a random split then puts the same note
        in training and test under different labels).
        """
        from helmholtz.cli.common import console, print_json

        t0 = time.perf_counter()
        manifest = _synth_with_progress(
            out, quiet=json_out, notes_per_class=notes_per_class, seed=seed, settings=settings, sample_rate=sample_rate,
            duration_s=duration, force=force, soundfont=soundfont, paired=paired,
        )
        summary = _summary(manifest, out, time.perf_counter() - t0)
        if json_out:
            print_json(summary)
            return
        console.print(
            f"wrote {summary['n_files']} WAVs ({len(summary['classes'])} classes × {notes_per_class} {'paired' if paired else 'independent'} notes, "
            f"--settings {settings}, {sample_rate} Hz, {duration:g} s, 16-bit mono) in {summary['seconds']:.1f} s\n"
            f"  dataset:  {out}/{'{Gitarre,Bass} monophon' if settings == 'idmt' else 'Gitarre monophon'}/Samples/<Effect>/\n"
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

        The idmt synth set (200 notes per class, three fixed settings per effect), archs A and F (the smallest and
        the largest audio model) at ½ width, the fast audio recipe capped at 12 epochs, MP3 16, 40 (the paper's
        Q 0.75), 112 kbps and the original, 3 seeds to start (A at every level, F at 40 kbps); seeds and levels are
        added where the answer is open, within a budget of 24 runs (2 at a time).
        Resumable: re-run the same command and finished runs are kept.
        """
        from dataclasses import replace

        from rich.markup import escape

        from helmholtz.cli.common import console
        from helmholtz.demos import AUDIO_SIZES, audio_demo

        size = AUDIO_SIZES["quick" if quick else "full"]
        given = {"notes_per_class": notes_per_class, "epochs": epochs, "width": width, "max_runs": max_runs}
        size = replace(size, **{k: v for k, v in given.items() if v is not None})
        t0 = time.perf_counter()
        files = audio_demo(out, size, quiet=quiet, ensure_data=lambda d: _ensure_demo_data(
            d, notes_per_class=size.notes_per_class, seed=seed, settings=size.settings, quiet=quiet))
        console.print(f"[bold]{escape(files.headline)}[/bold]")
        console.print(f"demo-audio sweep + report in {time.perf_counter() - t0:.0f} s\n"
                      f"  report: {escape(str(files.html))} (self-contained, opens offline)\n"
                      f"  data:   {escape(str(out / 'data'))}   results: {escape(str(out / 'results.sqlite'))}")
