"""`helmholtz codecs` (every codec of the registry), `helmholtz compress` (write a compressed copy of a dataset) and
`helmholtz bits` (the paper's Sec. 4.1 JPEG arithmetic beside the bits and fidelity a real round trip measures, for
any codec).

A thin layer over `helmholtz.api`: parse, call, print. Every codec fact comes from ``codecs.registry``; the tables
are drawn by ``cli.codec_tables``. Heavy modules are imported inside the commands so `helmholtz --help` is fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from helmholtz.cli.options import DatasetArg, Duration, Json, SampleRate, TestSize, TrainSize
from helmholtz.errors import ConfigError

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


def codec_rows() -> list[dict[str, Any]]:
    """`helmholtz codecs --json`: every registry codec as a dict (levels, units, encoder, payload, available here)."""
    from helmholtz.codecs.registry import CODECS

    return [spec.to_dict() for spec in CODECS.values()]


def _bits_note(spec: Any, ds_name: str | None, rows: list[dict]) -> str:
    from helmholtz.cli.codec_tables import FOOTNOTE

    raw = rows[0]["measured"]["raw_bits"] if rows and rows[0]["measured"] else None
    if spec.name == "jpeg":
        return FOOTNOTE.format(raw=f"{raw:g} bits" if raw else "8·C bits")
    per = "second of audio" if spec.modality == "audio" else "pixel"
    return (f"Measured over the training split of {ds_name}, bits per {per} ({raw:g} raw), for the whole file and "
            f"for the payload alone: {spec.payload}. Coding: {spec.coding}.")


def register(app: typer.Typer) -> None:
    """Add `codecs`, `compress` and `bits` to `app`."""

    @app.command("codecs")
    def codecs_cmd(json_out: Json = False) -> None:
        """Every codec: modality, levels and units, default grid, encoder versions, what 'payload' means, and
        whether it runs on this machine."""
        from helmholtz.cli.codec_tables import render_codecs
        from helmholtz.cli.common import print_json

        rows = codec_rows()
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
        from helmholtz.cli.common import parse_int_list, print_json
        from helmholtz.codecs.registry import get_codec

        spec = get_codec(codec)
        if quality is not None and levels is not None:
            raise ConfigError("--quality and --levels both given", where="--quality", fix="use --levels alone")
        if quality is not None and spec.name != "jpeg":
            raise ConfigError(f"--quality is JPEG's; {spec.title} takes --levels", where="--quality",
                              fix=f"use --levels {','.join(map(str, spec.default_levels[:3]))}")
        option = "--quality" if quality is not None else "--levels"
        text = quality or levels
        chosen = None if text is None else parse_int_list(text, option=option)
        ds = None
        if dataset is not None:   # loaded here (not in api.bits) so the JSON can describe it
            if chosen is not None:
                for v in chosen:
                    spec.check(v, where=option)
            ds = api.load_dataset(dataset, train_size=train_size, sample_rate=sample_rate, duration_s=duration)
        elif train_size is not None:
            raise ConfigError("--train-size needs --dataset", where="--train-size", fix="add --dataset DATASET")
        rows = api.bits(chosen, codec=spec.name, dataset=ds, subsampling=subsampling, option=option)
        doc = {
            "codec": spec.name, "title": spec.title, "encoder": spec.encoder(), "payload": spec.payload,
            "dataset": None if ds is None else {"name": ds.name, "source": ds.source,
                                                "content_hash": ds.content_hash, "n_train": len(ds.y_train),
                                                "item_shape": list(ds.item_shape)},
            "rows": rows, "note": _bits_note(spec, None if ds is None else ds.name, rows),
        }
        if json_out:
            print_json(doc)
        else:
            render_bits(doc)
