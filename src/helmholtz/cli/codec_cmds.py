"""`helmholtz codecs` (every codec of the registry), `helmholtz compress` (write a compressed copy of a dataset) and
`helmholtz bits` (the paper's Sec. 4.1 JPEG arithmetic beside the bits and fidelity a real round trip measures, for
any codec).

A thin layer over `helmholtz.api`: parse, call, print. Every codec fact comes from ``codecs.ops``; the tables
are drawn by ``cli.codec_tables``. Heavy modules are imported inside the commands so `helmholtz --help` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from helmholtz.cli.options import DatasetArg, Duration, Json, SampleRate, TestSize, TrainSize

CodecOpt = Annotated[str, typer.Option("--codec", help="Any codec of `helmholtz codecs` (jpeg, webp, avif, jxl, jp2 for images; mp3, opus, vorbis, aac for audio) | none.")]
LevelOpt = Annotated[int | None, typer.Option("--level", help="The codec's level: JPEG quality q in 1..100, MP3 bitrate in kbps, … (see `helmholtz codecs`).")]
OutOpt = Annotated[Path, typer.Option("--out", help="Where to write: a .npz file, or a folder with --format folder.")]
FormatOpt = Annotated[str, typer.Option("--format", help="npz (decoded arrays + byte counts) | folder (the real encoded image files).")]
SubsamplingOpt = Annotated[str | None, typer.Option("--subsampling", help="Chroma subsampling for RGB where the codec offers a choice (JPEG, AVIF): 4:2:0 (default, the paper's) | 4:2:2 | 4:4:4.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing non-empty --out (a folder keeps files outside train/, val/, test/).")]
QualityOpt = Annotated[str | None, typer.Option("--quality", help="Comma-separated JPEG qualities q, e.g. 5,10,20 (the same as --levels).")]
LevelsOpt = Annotated[str | None, typer.Option("--levels", help="Comma-separated levels of --codec \\[default: JPEG 5,10,20,25,50,75,95; other codecs their default grid].")]
BitsCodecOpt = Annotated[str, typer.Option("--codec", help="Codec to measure (see `helmholtz codecs`); JPEG also shows the paper's arithmetic.")]
BitsDatasetOpt = Annotated[str | None, typer.Option("--dataset", help="Measure a real round trip of this dataset's training split (required for codecs other than JPEG).")]


def register(app: typer.Typer) -> None:
    """Add `codecs`, `compress` and `bits` to `app`."""

    @app.command("codecs")
    def codecs_cmd(json_out: Json = False) -> None:
        """Every codec: modality, levels and units, default grid, encoder versions, what 'payload' means, and
        whether it runs on this machine."""
        from helmholtz import api
        from helmholtz.cli.codec_tables import render_codecs
        from helmholtz.cli.common import print_json

        rows = api.codecs()
        if json_out:
            print_json({"codecs": rows, "reference": "none (the uncompressed original; no levels)"})
        else:
            render_codecs(rows)

    @app.command("compress")
    def compress_cmd(
        dataset: DatasetArg,
        out: OutOpt,
        codec: CodecOpt = "jpeg",
        level: LevelOpt = None,
        fmt: FormatOpt = "npz",
        subsampling: SubsamplingOpt = None,
        train_size: TrainSize = None,
        test_size: TestSize = None,
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        force: ForceOpt = False,
        json_out: Json = False,
    ) -> None:
        """Write a compressed copy of DATASET: every split through the codec at one level, with measured bytes."""
        from helmholtz import api
        from helmholtz.cli.codec_tables import render_compress
        from helmholtz.cli.common import print_json

        done = api.compress(dataset, codec=codec, level=level, out=out, format=fmt, subsampling=subsampling,
                            force=force, train_size=train_size, test_size=test_size, sample_rate=sample_rate,
                            duration_s=duration)
        if json_out:
            print_json(done.summary)
        else:
            render_compress(done.summary)

    @app.command("bits")
    def bits_cmd(
        codec: BitsCodecOpt = "jpeg",
        levels: LevelsOpt = None,
        quality: QualityOpt = None,
        dataset: BitsDatasetOpt = None,
        train_size: TrainSize = None,
        subsampling: SubsamplingOpt = None,
        sample_rate: SampleRate = 44100,
        duration: Duration = 2.0,
        json_out: Json = False,
    ) -> None:
        """Bits at each level of a codec, measured on a dataset (whole file, payload, PSNR/SNR); for JPEG also the
        paper's estimate of the bits per pixel at quality q and the real tables' estimate."""
        from helmholtz import api
        from helmholtz.cli.codec_tables import render_bits
        from helmholtz.cli.common import print_json

        doc = api.bits_table(codec=codec, levels=levels, quality=quality, dataset=dataset, train_size=train_size,
                             subsampling=subsampling, sample_rate=sample_rate, duration_s=duration)
        if json_out:
            print_json(doc)
        else:
            render_bits(doc)
