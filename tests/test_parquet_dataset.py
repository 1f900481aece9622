"""Image datasets kept in Parquet (issue 18): the layout Hugging Face `datasets` exports (an image struct with
`bytes` and `path`, an integer label, one file per split under data/), a single file with a `split` column and
string labels, and each bad table. Round trip: the decoded pixels equal the arrays the test encoded (PNG is
lossless), so the reader decodes once and exactly."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from conftest import run_cli
from helmholtz.errors import DataError


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _images(n: int, seed: int, size: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), np.arange(n) % 3


def _hf_table(x: np.ndarray, y: np.ndarray) -> pa.Table:
    # what `datasets.Dataset.to_parquet` writes for an Image feature: struct<bytes: binary, path: string>
    image = pa.array([{"bytes": _png(a), "path": None} for a in x],
                     type=pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    return pa.table({"image": image, "label": pa.array(y, type=pa.int64())})


def test_a_datasets_export_with_one_file_per_split_reads_exactly(tmp_path):
    from helmholtz.data import read_source

    xtr, ytr = _images(30, 0)
    xte, yte = _images(12, 1)
    (tmp_path / "hf" / "data").mkdir(parents=True)
    pq.write_table(_hf_table(xtr, ytr), tmp_path / "hf" / "data" / "train-00000-of-00001.parquet")
    pq.write_table(_hf_table(xte, yte), tmp_path / "hf" / "data" / "test-00000-of-00001.parquet")
    raw = read_source(tmp_path / "hf")
    assert raw.format == "parquet" and raw.x_train.shape == (30, 12, 12, 1) and raw.x_train.dtype == np.uint8
    assert (raw.x_train[..., 0] == xtr).all() and (raw.y_train == ytr).all()
    assert (raw.x_test[..., 0] == xte).all() and (raw.y_test == yte).all()
    assert raw.class_names == ("0", "1", "2")


def test_one_file_with_a_split_column_string_labels_and_raw_bytes(tmp_path, capsys):
    import helmholtz as hz

    x, _ = _images(40, 2)
    names = np.array(["cat", "dog"])[np.arange(40) % 2]
    split = ["test" if i % 4 == 0 else "train" for i in range(40)]
    path = tmp_path / "pets.parquet"
    pq.write_table(pa.table({"png": pa.array([_png(a) for a in x], type=pa.binary()),
                             "animal": names.tolist(), "split": split}), path)
    ds = hz.load_dataset(path, val_fraction=0.1)
    assert ds.class_names == ("cat", "dog") and ds.n_classes == 2
    assert len(ds.x_test) == 10 and len(ds.x_train) + len(ds.x_val) == 30
    # the content hash is over the decoded pixels: the same pixels as JPEG-free PNG at another compression level
    again = tmp_path / "again.parquet"
    buf = [io.BytesIO() for _ in x]
    for b, a in zip(buf, x, strict=True):
        Image.fromarray(a).save(b, format="PNG", compress_level=9)
    pq.write_table(pa.table({"png": pa.array([b.getvalue() for b in buf], type=pa.binary()),
                             "animal": names.tolist(), "split": split}), again)
    assert hz.load_dataset(again, val_fraction=0.1).content_hash == ds.content_hash
    code, out, _ = run_cli(["inspect", str(path)], capsys)
    assert code == 0 and "cat" in out


def _bad(tmp_path, table: pa.Table) -> str:
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    return str(path)


@pytest.mark.parametrize("case, message", [
    ("no label", "no label column"),
    ("no image", "no image column"),
    ("undecodable", "row 2"),
    ("mixed sizes", "image is 8x8 but the first image is 12x12"),
    ("mixed labels", "labels of mixed type"),
])
def test_bad_tables_get_one_line(tmp_path, capsys, case, message):
    x, y = _images(4, 3)
    cells = [_png(a) for a in x]
    labels: list = y.tolist()
    if case == "undecodable":
        cells[2] = b"not a png"
    if case == "mixed sizes":
        cells[3] = _png(np.zeros((8, 8), np.uint8))
    columns = {"img": pa.array(cells, type=pa.binary()), "label": labels, "note": ["a", "b", "c", "d"],
               "other": ["e", "f", "g", "h"]}
    if case == "no label":
        columns.pop("label")
    if case == "no image":
        columns.pop("img")
    if case == "mixed labels":
        # a label column holding ints and strings cannot be written by pyarrow, so read the reader directly
        from helmholtz.data.parquet_reader import read_parquet

        path = tmp_path / "mixed"
        path.mkdir()
        pq.write_table(pa.table({"img": columns["img"], "label": pa.array([0, 1, 2, 0])}), path / "train.parquet")
        pq.write_table(pa.table({"img": columns["img"], "label": pa.array(["a", "b", "c", "a"])}),
                       path / "test.parquet")
        with pytest.raises(DataError, match=message):
            read_parquet(path)
        return
    code, _, err = run_cli(["inspect", _bad(tmp_path, pa.table(columns))], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_image_and_label_columns_override_the_detection_through_cli_and_sweep(tmp_path, capsys):
    """Two image columns and two label columns: detection takes 'image' and 'label'; --image-column/--label-column
    take the others, and a sweep records them in its spec (so a resume reads the same columns)."""
    import json

    x, y = _images(48, 3, size=8)
    x2 = 255 - x
    split = ["test" if i % 4 == 0 else "train" for i in range(48)]
    path = tmp_path / "two.parquet"
    pq.write_table(pa.table({"image": pa.array([_png(a) for a in x], type=pa.binary()),
                             "thumb": pa.array([_png(a) for a in x2], type=pa.binary()),
                             "label": pa.array(y, type=pa.int64()), "coarse": pa.array(y % 2, type=pa.int64()),
                             "split": split}), path)
    code, out, err = run_cli(["inspect", str(path), "--json"], capsys)
    default = json.loads(out)
    code2, out2, err2 = run_cli(["inspect", str(path), "--image-column", "thumb", "--label-column", "coarse",
                                 "--json"], capsys)
    assert code == code2 == 0, err + err2
    chosen = json.loads(out2)
    assert default["n_classes"] == 3 and chosen["n_classes"] == 2
    assert default["content_hash"] != chosen["content_hash"]
    import helmholtz as hz

    ds = hz.load_dataset(path, image_column="thumb", label_column="coarse")
    assert ds.content_hash == chosen["content_hash"]
    assert (ds.x_test.astype(int) + hz.load_dataset(path).x_test == 255).all()   # the inverted column (same rows)
    code, _, err = run_cli(["sweep", str(path), "--out", str(tmp_path / "s"), "--image-column", "thumb",
                            "--label-column", "coarse", "--archs", "A", "--width", "0.125", "--levels", "none",
                            "--seeds", "1", "--epochs", "1", "--recipe", "fast", "--precision", "fp32",
                            "--keep-weights", "no", "--quiet"], capsys)
    assert code == 0, err
    from helmholtz.sweep.store import Store

    with Store(tmp_path / "s") as store:
        data = store.spec()["data"]
        assert (data["image_column"], data["label_column"]) == ("thumb", "coarse")
        assert data["data_hash"] == chosen["content_hash"] and not (tmp_path / "s" / "weights").exists()
    code, _, err = run_cli(["inspect", str(path), "--image-column", "nope"], capsys)
    assert code == 2 and "no column 'nope'" in err
    npz = tmp_path / "d.npz"
    np.savez(npz, x_train=x[:, :, :, None], y_train=y, x_test=x[:8, :, :, None], y_test=y[:8])
    code, _, err = run_cli(["inspect", str(npz), "--label-column", "coarse"], capsys)
    assert code == 2 and "--label-column applies to Parquet tables" in err
