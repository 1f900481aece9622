"""`helmholtz synth guitar-fx` (the regenerable guitar-effects dataset) and `helmholtz demo-audio` (the audio demo).

`demo-audio` is the paper's audio experiment (Sec. 5.3, Fig. 7) in miniature on CPU: synthesise a small
guitar-effects set, sweep MP3 bitrates × archs A and C (the paper's Fig. 7 pair) × seeds through `run_sweep`, then
render the report. Every size is an option, so the same command scales up to a GPU run.
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
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random draw (notes, effect parameters, output peak levels).")]
SampleRate = Annotated[int, typer.Option("--sample-rate", help="Sample rate of the WAVs (Hz).")]
Duration = Annotated[float, typer.Option("--duration", help="Length of every note (s).")]
Force = Annotated[bool, typer.Option("--force", help="Replace a previous synth set in --out (other files are kept).")]
Soundfont = Annotated[Path | None, typer.Option(
    "--soundfont", help="SF2 file (default: $HELMHOLTZ_SOUNDFONT or /usr/share/sounds/sf2/FluidR3_GM.sf2).")]

#: demo-audio sizes: (notes per class, levels, archs, seeds, epochs, width); the full one takes ~20 min on
#: 2 CPU cores, --quick for a smoke test of about a minute
DEMO_SIZES: dict[str, dict[str, Any]] = {
    # measured: 40 notes/class × 8 epochs at ¼ width stayed at chance (0.08–0.13 on every level); 100 notes/class
    # at ½ width learns (arch A, original: 0.32 test accuracy after 15 epochs, still rising; chance 0.083)
    "full": {"notes_per_class": 100, "levels": "8,16,32,128,none", "archs": "A,C", "seeds": "2", "epochs": 12,
             "width": 0.5},
    "quick": {"notes_per_class": 6, "levels": "16,none", "archs": "A", "seeds": "1", "epochs": 1, "width": 0.25},
}


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
        "seed": manifest["seed"],
        "sample_rate": manifest["sample_rate"], "duration_s": manifest["duration_s"],
        "soundfont": manifest["soundfont"]["path"], "seconds": round(seconds, 2),
    }


def _ensure_demo_data(data_dir: Path, *, notes_per_class: int, seed: int, quiet: bool) -> None:
    """Generate the demo's synth set, or reuse the one already there when it was made with the same settings."""
    from helmholtz.errors import ConfigError
    from helmholtz.synth.guitar import read_manifest

    manifest = read_manifest(data_dir)
    if manifest is not None:
        same = (manifest.get("notes_per_class"), manifest.get("seed"), manifest.get("paired")) == (notes_per_class, seed, False)
        if same:
            return
        raise ConfigError(
            f"the demo data there was made with --notes-per-class {manifest.get('notes_per_class')} "
            f"--seed {manifest.get('seed')}{' --paired' if manifest.get('paired') else ''}, not {notes_per_class} / {seed}",
            where=str(data_dir),
            fix="pass the same sizes to resume, or a new --out",
        )
    t0 = time.perf_counter()
    summary = _summary(_synth_with_progress(data_dir, quiet=quiet, notes_per_class=notes_per_class, seed=seed,
                                            force=True), data_dir, 0.0)
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
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        force: Force = False,
        soundfont: Soundfont = None,
        paired: Paired = False,
        json_out: Json = False,
    ) -> None:
        """Guitar notes (Fluid R3 GM recordings) through the 12 IDMT-SMT-Audio-Effects classes, as 16-bit mono WAVs
        in the IDMT layout: OUT/Gitarre monophon/Samples/<Effect>/*.wav plus OUT/synth.json.

        Same --seed, same bytes. Programs 29/30 (recorded with distortion) are not used as clean sources. With
        --paired every note goes through all 12 effects (IDMT's structure; a random split then puts the same note
        in training and test under different labels).
        """
        from helmholtz.cli.common import console, print_json

        t0 = time.perf_counter()
        manifest = _synth_with_progress(
            out, quiet=json_out, notes_per_class=notes_per_class, seed=seed, sample_rate=sample_rate,
            duration_s=duration, force=force, soundfont=soundfont, paired=paired,
        )
        summary = _summary(manifest, out, time.perf_counter() - t0)
        if json_out:
            print_json(summary)
            return
        console.print(
            f"wrote {summary['n_files']} WAVs ({len(summary['classes'])} classes × {notes_per_class} {'paired' if paired else 'independent'} notes, "
            f"{sample_rate} Hz, {duration:g} s, 16-bit mono) in {summary['seconds']:.1f} s\n"
            f"  dataset:  {out}/Gitarre monophon/Samples/<Effect>/\n  manifest: {summary['manifest']}\n"
            f"  use it:   helmholtz sweep {out} --codec mp3"
        )

    @app.command("demo-audio")
    def demo_audio_cmd(
        out: Annotated[Path, typer.Option("--out", help="Demo directory: data/, results.sqlite, report/.")] = Path("runs/demo-audio"),
        quick: Annotated[bool, typer.Option("--quick", help="A ~1 minute smoke-test size.")] = False,
        notes_per_class: Annotated[int | None, typer.Option("--notes-per-class", help="Synth notes per class (default: 40, quick 6).")] = None,
        levels: Annotated[str | None, typer.Option("--levels", help="MP3 kbps list plus 'none' (default: 8,16,32,64,128,none).")] = None,
        archs: Annotated[str | None, typer.Option("--archs", help="Architectures (default: A,C, the paper's Fig. 7 pair).")] = None,
        seeds: Annotated[str | None, typer.Option("--seeds", help="Seed count or list (default: 2).")] = None,
        epochs: Annotated[int | None, typer.Option("--epochs", help="Epochs per run (default: 8, quick 1).")] = None,
        width: Annotated[float | None, typer.Option("--width", help="Width multiplier (default: 0.25).")] = None,
        optimizer: Annotated[str, typer.Option("--optimizer", help="sgd | adadelta | adam. The paper's audio recipe is "
                                                                   "adadelta; adam (lr 1e-3) learns faster in CPU-sized runs.")] = "adam",
        seed: Annotated[int, typer.Option("--seed", help="Seed of the synth data (the sweep's seeds are --seeds).")] = 0,
        quiet: Annotated[bool, typer.Option("--quiet", help="Plain log lines instead of progress bars.")] = False,
    ) -> None:
        """Run the paper's audio experiment in miniature: synth data → MP3 sweep (archs A, C) → report.html.

        Resumable: re-run the same command and finished runs are kept.
        """
        from rich.markup import escape

        from helmholtz.cli.common import console

        size = {**DEMO_SIZES["quick" if quick else "full"]}
        given = {"notes_per_class": notes_per_class, "levels": levels, "archs": archs, "seeds": seeds,
                 "epochs": epochs, "width": width}
        size.update({k: v for k, v in given.items() if v is not None})
        spec = demo_audio_spec(out / "data", optimizer=optimizer, **{k: v for k, v in size.items() if k != "notes_per_class"})
        # the synth set is made only after the whole sweep spec validated, so a bad option costs no time
        _ensure_demo_data(out / "data", notes_per_class=size["notes_per_class"], seed=seed, quiet=quiet)
        from helmholtz.report.build import build_report
        from helmholtz.sweep.runner import run_sweep  # torch: imported only once there is work to do

        t0 = time.perf_counter()
        run_sweep(spec, out, engine="local", quiet=quiet)
        files = build_report(out)
        console.print(f"[bold]{escape(files.headline)}[/bold]")
        console.print(f"demo-audio sweep + report in {time.perf_counter() - t0:.0f} s\n"
                      f"  report: {escape(str(files.html))} (self-contained, opens offline)\n"
                      f"  data:   {escape(str(out / 'data'))}   results: {escape(str(out / 'results.sqlite'))}")


def demo_audio_spec(data_dir: Path, *, levels: str, archs: str, seeds: str, epochs: int, width: float,
                    optimizer: str = "adam"):
    """The demo's validated SweepSpec: MP3 levels × archs × seeds on the synth set, the paper's audio recipe
    (batch 50, 25 % validation) but with Adam by default: like the image demo, CPU-sized runs learn faster with it
    than with the paper's Adadelta (pass optimizer='adadelta' for the paper's). The report states the recipe."""
    from helmholtz.cli.common import parse_int_list
    from helmholtz.cli.options import train_options
    from helmholtz.sweep.spec import make_sweep_spec, parse_archs, parse_seeds, validate_sweep

    options = train_options(modality="audio", epochs=epochs, optimizer=optimizer, width=width)
    spec = make_sweep_spec(
        str(data_dir), modality="audio", codec="mp3",
        levels=parse_int_list(levels, option="--levels", allow_none=True), archs=parse_archs(archs),
        seeds=parse_seeds(seeds), options=options,
    )
    validate_sweep(spec)
    return spec
