"""`helmholtz bits` and `helmholtz compress`: numbers equal the library's, bad input is one line and exit 2, and the
folder format round-trips through the image-folder reader to exactly the decoded pixels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import requires_fashion_mnist, run_cli
from helmholtz.codecs import quant
from helmholtz.codecs.cache import compress_dataset, level_stats
from helmholtz.codecs.jpeg import jpeg_encoder, jpeg_roundtrip
from helmholtz.data import load_dataset

CLASSES = ("T-shirt/top", "Trouser", ".hidden")  # a '/' and a leading dot: both must become safe folder names


def _npz_dataset(tmp_path: Path, *, channels: int = 3) -> Path:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:24, 0:20]

    def imgs(n):
        base = np.sin(xx[None] / (2 + rng.random((n, 1, 1)) * 4)) * 80 + yy[None] * 4 + 80 + rng.normal(0, 6, (n, 24, 20))
        x = np.clip(base, 0, 255).astype(np.uint8)[..., None]
        return np.ascontiguousarray(np.concatenate([x, 255 - x, x // 2][:channels], axis=-1))

    path = tmp_path / "small.npz"
    np.savez(path, x_train=imgs(60), y_train=np.arange(60) % 3, x_test=imgs(15), y_test=np.arange(15) % 3,
             class_names=np.array(CLASSES))
    return path


def _assert_one_line_error(code, err, *, match):
    assert code == 2
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert match in lines[0]


def test_bits_json_equals_library(capsys):
    code, out, _ = run_cli(["bits", "--quality", "5,19,50,80", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["encoder"] == jpeg_encoder() and doc["dataset"] is None
    assert [r["quality"] for r in doc["rows"]] == [5, 19, 50, 80]
    for row in doc["rows"]:
        q = row["quality"]
        assert row["scale_factor"] == quant.scale_factor(q)
        assert row["paper_bits_lost"] == quant.paper_bits_lost(q)
        assert row["paper_bits_left"] == quant.paper_bits_left(q)
        assert row["table_bits_lost"] == quant.table_bits_lost(q)
        assert row["table_bits_left"] == quant.table_bits_left(q)
        assert row["measured"] is None
    assert "4:2:0" in doc["note"]


def test_bits_default_qualities_and_table(capsys):
    code, out, _ = run_cli(["bits"], capsys)
    assert code == 0
    for q in ("5", "10", "20", "25", "50", "75", "95"):
        assert f"│ {q:>2} │" in out
    assert "4:2:0" in out and "16 bits" in out


def test_bits_with_dataset_equals_library(tmp_path, capsys):
    path = _npz_dataset(tmp_path)
    code, out, _ = run_cli(["bits", "--quality", "10,90", "--dataset", str(path), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    ds = load_dataset(path)
    assert doc["dataset"]["content_hash"] == ds.content_hash
    for row in doc["rows"]:
        res = jpeg_roundtrip(ds.x_train, quality=row["quality"])
        want = level_stats(ds.x_train, res, codec="jpeg", level=row["quality"], encoder=jpeg_encoder(),
                           modality="image").to_dict()
        assert row["measured"] == pytest.approx(want)
        assert row["measured"]["raw_bits"] == 24
    assert doc["rows"][0]["measured"]["bits_total"] < doc["rows"][1]["measured"]["bits_total"]


@pytest.mark.parametrize("argv,match", [
    (["bits", "--quality", "0"], "1..100"),
    (["bits", "--quality", "5,abc"], "--quality"),
    (["bits", "--quality", "5", "--subsampling", "4:1:1"], "--subsampling"),
    (["bits", "--dataset", "/nonexistent/where"], "/nonexistent/where"),
    (["bits", "--train-size", "100"], "--dataset"),
])
def test_bits_bad_input_is_one_line(argv, match, capsys):
    code, _, err = run_cli(argv, capsys)
    _assert_one_line_error(code, err, match=match)


def test_bits_quality_0_through_the_real_entry_point():
    exe = Path(sys.executable).parent / "helmholtz"  # the console script installed with the package
    proc = subprocess.run([str(exe), "bits", "--quality", "0"], capture_output=True, text=True, timeout=60)
    _assert_one_line_error(proc.returncode, proc.stderr, match="1..100")


@pytest.mark.parametrize("argv,match", [
    (["--level", "101"], "1..100"),
    (["--level", "0"], "1..100"),
    (["--codec", "png", "--level", "5"], "unknown codec"),
    (["--codec", "mp3", "--level", "32", "--format", "folder"], "--format"),
    (["--level", "20", "--format", "tar"], "--format"),
])
def test_compress_bad_options_are_one_line(tmp_path, argv, match, capsys):
    path = _npz_dataset(tmp_path)
    code, _, err = run_cli(["compress", str(path), "--out", str(tmp_path / "o.npz"), *argv], capsys)
    _assert_one_line_error(code, err, match=match)
    assert not (tmp_path / "o.npz").exists()


def test_compress_npz_holds_the_round_trip(tmp_path, capsys):
    path = _npz_dataset(tmp_path)
    out = tmp_path / "out" / "q20.data"  # no .npz suffix: the file must land exactly here
    out.parent.mkdir()                     # --out never creates missing folders (issue 21, item 7)
    code, stdout, _ = run_cli(["compress", str(path), "--level", "20", "--out", str(out)], capsys)
    assert code == 0 and "written" in stdout
    ds = load_dataset(path)
    want, stats = compress_dataset(ds, codec="jpeg", level=20)
    with np.load(out) as z:
        for split in ("train", "val", "test"):
            np.testing.assert_array_equal(z[f"x_{split}"], getattr(want, f"x_{split}"))
            np.testing.assert_array_equal(z[f"y_{split}"], getattr(ds, f"y_{split}"))
            res = jpeg_roundtrip(getattr(ds, f"x_{split}"), quality=20)
            np.testing.assert_array_equal(z[f"total_bytes_{split}"], res.total_bytes)
            np.testing.assert_array_equal(z[f"payload_bytes_{split}"], res.payload_bytes)
        assert tuple(z["class_names"].tolist()) == CLASSES
        meta = json.loads(str(z["stats"]))
    assert meta["bits_total"] == pytest.approx(stats.bits_total) and meta["content_hash"] == ds.content_hash
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp file left
    # the npz reader reads our file back (train and test; it ignores val)
    from helmholtz.data.image_readers import read_npz

    back = read_npz(out)
    assert back.class_names == CLASSES
    np.testing.assert_array_equal(back.x_test, want.x_test)


def test_compress_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = _npz_dataset(tmp_path)
    out = tmp_path / "o.npz"
    out.write_bytes(b"something precious")
    code, _, err = run_cli(["compress", str(path), "--level", "20", "--out", str(out)], capsys)
    _assert_one_line_error(code, err, match="--force")
    assert out.read_bytes() == b"something precious"
    code, _, _ = run_cli(["compress", str(path), "--level", "20", "--out", str(out), "--force"], capsys)
    assert code == 0
    with np.load(out) as z:
        assert "x_train" in z.files
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    code, _, err = run_cli(["compress", str(path), "--level", "20", "--out", str(folder), "--format", "folder"], capsys)
    _assert_one_line_error(code, err, match="--force")


@pytest.mark.parametrize("channels", [1, 3])
def test_compress_folder_reads_back_to_the_decoded_pixels(tmp_path, channels, capsys):
    from helmholtz.data.image_readers import read_image_folder

    path = _npz_dataset(tmp_path, channels=channels)
    out = tmp_path / "jpgs"
    code, stdout, _ = run_cli(["compress", str(path), "--level", "30", "--out", str(out), "--format", "folder",
                            "--json"], capsys)
    assert code == 0
    summary = json.loads(stdout)
    ds = load_dataset(path)
    assert summary["splits"]["train"]["items"] == len(ds.y_train)
    want, _ = compress_dataset(ds, codec="jpeg", level=30)
    files = sorted(out.rglob("*.jpg"))
    assert len(files) == sum(ds.split_sizes().values())
    assert summary["splits"]["train"]["bytes_total_sum"] == sum(f.stat().st_size for f in (out / "train").rglob("*.jpg"))
    raw = read_image_folder(out)
    folder_names = ("T-shirt_top", "Trouser", "hidden")
    assert set(raw.class_names) == set(folder_names)

    def grouped(x, y, names):
        return {names[c]: sorted(img.tobytes() for img in x[y == c]) for c in range(len(names))}

    # train/ and val/ are merged by the reader; test/ stays test
    x_tv = np.concatenate([want.x_train, want.x_val])
    y_tv = np.concatenate([want.y_train, want.y_val])
    assert grouped(raw.x_train, raw.y_train, raw.class_names) == grouped(x_tv, y_tv, folder_names)
    assert grouped(raw.x_test, raw.y_test, raw.class_names) == grouped(want.x_test, want.y_test, folder_names)
    assert raw.x_train.shape[1:] == ds.item_shape
    # and the bytes on disk are the bytes we counted
    res = jpeg_roundtrip(ds.x_test, quality=30, keep_encoded=True)
    first = sorted((out / "test" / "T-shirt_top").iterdir())[0]
    assert first.read_bytes() == res.encoded[int(first.stem)]


def test_help_lists_the_commands(capsys):
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0 and "compress" in out and "bits" in out


@requires_fashion_mnist
def test_bits_on_real_fashion_mnist(capsys):
    code, out, _ = run_cli(["bits", "--quality", "5,50,95", "--dataset", "fashion-mnist", "--train-size", "1000",
                         "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["rows"]
    bpp = [r["measured"]["bits_total"] for r in rows]
    scan = [r["measured"]["bits_payload"] for r in rows]
    assert bpp[0] < bpp[1] < bpp[2] and scan[0] < scan[1] < scan[2]
    assert all(s < b for s, b in zip(scan, bpp, strict=True))
    assert all(r["measured"]["raw_bits"] == 8 for r in rows)


# ── every registry codec through the CLI ─────────────────────────────────────────────────────────────────────────

def test_codecs_lists_every_registry_codec(capsys):
    from helmholtz.codecs.registry import CODECS

    code, out, _ = run_cli(["codecs", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["codecs"]
    assert [r["name"] for r in rows] == list(CODECS)
    for r in rows:
        spec = CODECS[r["name"]]
        assert r["available"] == spec.available()[0] and r["payload"] == spec.payload
        assert r["default_levels"] == list(spec.default_levels) and r["modality"] == spec.modality
        assert (r["encoder"] == spec.encoder()) if r["available"] else r["unavailable_reason"]
    code, out, _ = run_cli(["codecs"], capsys)
    assert code == 0 and all(name in out for name in CODECS) and "payload" in out


def test_bits_for_another_codec_equals_library(tmp_path, capsys):
    from helmholtz.codecs.registry import get_codec
    from helmholtz.codecs.stats import level_stats as stats_of

    path = _npz_dataset(tmp_path)
    code, out, _ = run_cli(["bits", "--codec", "webp", "--levels", "10,50,90", "--dataset", str(path), "--json"],
                           capsys)
    assert code == 0
    doc = json.loads(out)
    spec = get_codec("webp")
    ds = load_dataset(path)
    assert doc["codec"] == "webp" and doc["encoder"] == spec.encoder() and doc["payload"] == spec.payload
    assert [r["display"] for r in doc["rows"]] == ["WebP q 10", "WebP q 50", "WebP q 90"]
    for row in doc["rows"]:
        assert "paper_bits_lost" not in row  # the paper's arithmetic is JPEG's alone
        want = stats_of(ds.x_train, spec.roundtrip(ds.x_train, level=row["level"]), codec="webp",
                        level=row["level"], encoder=spec.encoder(), modality="image").to_dict()
        assert row["measured"] == pytest.approx(want)
    code, out, _ = run_cli(["bits", "--codec", "webp", "--levels", "10,90", "--dataset", str(path)], capsys)
    assert code == 0 and "WebP q 10" in out and "PSNR" in out and "VP8" in out


@pytest.mark.parametrize("argv,match", [
    (["bits", "--codec", "webp"], "--dataset"),
    (["bits", "--codec", "webp", "--quality", "10"], "--quality is JPEG's"),
    (["bits", "--codec", "mp3", "--levels", "32,100"], "100 kbps is not an MP3"),
    (["bits", "--codec", "webp", "--levels", "101"], "WebP quality must be 0..100"),
    (["bits", "--codec", "webp", "--levels", "50", "--subsampling", "4:4:4"], "--subsampling"),
    (["bits", "--codec", "flif"], "unknown codec 'flif'"),
])
def test_bits_bad_codec_input_is_one_line(argv, match, capsys):
    code, _, err = run_cli(argv, capsys)
    _assert_one_line_error(code, err, match=match)


def test_bits_refuses_a_codec_of_the_other_modality(tmp_path, capsys):
    code, _, err = run_cli(["bits", "--codec", "opus", "--levels", "32", "--dataset", str(_npz_dataset(tmp_path))],
                           capsys)
    _assert_one_line_error(code, err, match="Opus compresses audio")


def test_compress_folder_writes_the_codecs_own_files(tmp_path, capsys):
    from helmholtz.codecs.registry import get_codec

    path = _npz_dataset(tmp_path)
    out = tmp_path / "webps"
    code, stdout, _ = run_cli(["compress", str(path), "--codec", "webp", "--level", "40", "--out", str(out),
                               "--format", "folder", "--json"], capsys)
    assert code == 0
    summary = json.loads(stdout)
    ds = load_dataset(path)
    files = sorted(out.rglob("*.webp"))
    assert len(files) == sum(ds.split_sizes().values()) and summary["level_display"] == "WebP q 40"
    res = get_codec("webp").roundtrip(ds.x_test, level=40, keep_encoded=True)
    first = sorted((out / "test" / "T-shirt_top").iterdir())[0]
    assert first.read_bytes() == res.encoded[int(first.stem)]
    code, _, err = run_cli(["compress", str(path), "--codec", "webp", "--level", "40", "--subsampling", "4:4:4",
                            "--out", str(tmp_path / "x.npz")], capsys)
    _assert_one_line_error(code, err, match="--subsampling")


def test_compress_and_bits_on_audio_with_opus(tmp_path, capsys):
    import soundfile as sf

    sr = 16000
    t = np.arange(8000) / sr
    for cls, f in (("low", 300.0), ("high", 900.0)):
        (tmp_path / "wav" / cls).mkdir(parents=True)
        for i in range(4):
            wave = 0.3 * np.sin(2 * np.pi * f * (1 + 0.01 * i) * t)
            sf.write(str(tmp_path / "wav" / cls / f"{i}.wav"), (wave * 32767).astype(np.int16), sr)
    data = str(tmp_path / "wav")
    opts = ["--sample-rate", str(sr), "--duration", "0.5"]
    code, out, _ = run_cli(["bits", "--codec", "opus", "--levels", "16,64", "--dataset", data, *opts, "--json"],
                           capsys)
    assert code == 0
    rows = json.loads(out)["rows"]
    assert [r["display"] for r in rows] == ["Opus 16 kbps", "Opus 64 kbps"]
    assert rows[0]["measured"]["unit"] == "second" and rows[0]["measured"]["raw_bits"] == 16 * sr
    assert rows[0]["measured"]["bits_payload"] < rows[1]["measured"]["bits_payload"]
    code, out, _ = run_cli(["compress", data, "--codec", "opus", "--level", "24", *opts, "--out",
                            str(tmp_path / "o.npz"), "--json"], capsys)
    assert code == 0 and json.loads(out)["stats"]["codec"] == "opus"
    with np.load(tmp_path / "o.npz") as z:
        assert z["x_train"].dtype == np.float32 and "Ogg packets" in json.loads(str(z["stats"]))["payload"]


@requires_fashion_mnist
def test_bits_on_real_fashion_mnist_for_webp(capsys):
    code, out, _ = run_cli(["bits", "--codec", "webp", "--levels", "10,50,90", "--dataset", "fashion-mnist",
                            "--train-size", "1000", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)["rows"]
    for field in ("bits_total", "bits_payload", "fidelity_db"):
        values = [r["measured"][field] for r in rows]
        assert values[0] < values[1] < values[2]
