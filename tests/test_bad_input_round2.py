"""Bad input, round two (issue 21): each defect answered with one line (what, where, how to fix) and exit status 2,
or, where the input is good, read as it is; nothing already stored is damaged."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import requires_fashion_mnist, run_cli
from helmholtz.analysis.byo import read_table
from helmholtz.errors import DataError
from test_bad_input import _one_line
from test_sweep_resume import HELMHOLTZ


def _rows(*, n_items: int = 40, models=("A", "F"), levels=("none", "5", "20"), seeds=(0, 1, 2), seed: int = 0,
          per_item: bool = True) -> list[dict]:
    """A small runs table (model, level, seed, bits, correct or accuracy + n_test), each cell a little worse."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in models:
        for j, lv in enumerate(levels):
            for s in seeds:
                correct = rng.random(n_items) < 0.9 - 0.1 * j
                row = {"model": m, "level": lv, "seed": s, "bits": {"none": 8.0, "5": 0.5, "20": 1.0}.get(lv, 2.0)}
                if per_item:
                    row["correct"] = "".join("1" if c else "0" for c in correct)
                else:
                    row["accuracy"], row["n_test"] = int(correct.sum()) / n_items, n_items
                rows.append(row)
    return rows


def _csv(path: Path, rows: list[dict], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


# ---------------------------------------------------------------- 1: train's progress uses the recipe's epoch cap


@pytest.mark.realdata
@requires_fashion_mnist
@pytest.mark.usefixtures("one_torch_thread")
def test_train_without_epochs_or_json_shows_progress_over_the_recipes_cap(capsys):
    code, out, err = run_cli(["train", "fashion-mnist", "--codec", "jpeg", "--level", "20", "--arch", "A", "--width",
                              "0.25", "--train-size", "600", "--test-size", "300", "--patience", "1"], capsys)
    assert code == 0 and "Traceback" not in err, err
    assert "/24" in err   # the fast recipe's cap of 24 epochs, not --epochs (None: not given)
    assert "test accuracy" in out


# ---------------------------------------------------------------- 2: long 'correct' strings


def test_a_correct_string_longer_than_the_csv_field_limit_is_read(tmp_path):
    rows = _rows(n_items=200_000, levels=("none", "5"), seeds=(0, 1))
    obs = read_table(_csv(tmp_path / "big.csv", rows))
    assert obs.cells[("A", "5")].correct.shape == (2, 200_000)
    assert csv.field_size_limit() == 131072   # put back after the read


# ---------------------------------------------------------------- 3: FIFOs and devices are refused, not read


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("case", ["analyze", "report", "results", "repair", "npz", "image-folder", "compress"])
def test_a_fifo_is_refused_with_one_line_instead_of_hanging(tmp_path, case):
    if case == "analyze":
        argv, fifo = ["analyze", str(_fifo(tmp_path / "fifo.csv"))], tmp_path / "fifo.csv"
    elif case in ("report", "results", "repair"):
        fifo = _fifo(tmp_path / "run" / "results.sqlite")
        argv = [case, str(tmp_path / "run")]
    elif case == "npz":
        fifo = _fifo(tmp_path / "d.npz")
        argv = ["inspect", str(fifo)]
    elif case == "compress":
        fifo = _fifo(tmp_path / "d.npz")
        argv = ["compress", str(fifo), "--codec", "jpeg", "--level", "20", "--out", str(tmp_path / "o.npz")]
    else:
        for cls in ("a", "b"):
            (tmp_path / "imgs" / "train" / cls).mkdir(parents=True)
        fifo = _fifo(tmp_path / "imgs" / "train" / "a" / "x.png")
        argv = ["inspect", str(tmp_path / "imgs")]
    try:
        proc = subprocess.run([*HELMHOLTZ, *argv], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} hung reading a FIFO")
    line = _one_line(proc.returncode, proc.stderr)
    assert "FIFO" in line and str(fifo) in line and "fix:" in line


def test_the_shared_check_names_what_the_path_is(tmp_path):
    from helmholtz.checks import check_regular_file

    with pytest.raises(DataError, match="is a device, not a regular file"):
        check_regular_file("/dev/null", fix="x")
    with pytest.raises(DataError, match="is a folder, not a regular file"):
        check_regular_file(tmp_path, fix="x")
    assert check_regular_file(tmp_path, fix="x", allow_dir=True) == tmp_path
    with pytest.raises(DataError, match="no such file"):
        check_regular_file(tmp_path / "nope", fix="x")


# ---------------------------------------------------------------- 4: a UTF-8 byte-order mark


def test_a_csv_with_a_utf8_bom_is_read(tmp_path):
    path = _csv(tmp_path / "bom.csv", _rows(), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    obs = read_table(path)
    assert obs.models == ("A", "F") and len(obs.cells) == 6


# ---------------------------------------------------------------- 6. empty items in comma lists

@pytest.mark.parametrize("argv", [
    ["sweep", "fashion-mnist", "--levels", "5,,20"],
    ["sweep", "fashion-mnist", "--levels", "webp=10,,20"],
    ["sweep", "fashion-mnist", "--codec", "jpeg,,webp"],
    ["sweep", "fashion-mnist", "--archs", "A,,F"],
    ["sweep", "fashion-mnist", "--seeds", "0,,2"],
    ["bits", "--quality", "5,,20"],
    ["bits", "--levels", "5,,20"],
])
def test_an_empty_item_in_a_list_is_refused_with_its_position(argv, tmp_path, capsys):
    code, _, err = run_cli([*argv, *(["--out", str(tmp_path / "o")] if argv[0] == "sweep" else [])], capsys)
    line = _one_line(code, err)
    assert "is empty" in line and "item 2 of 3" in line
    assert not (tmp_path / "o").exists()


def test_the_one_list_splitter():
    from helmholtz.checks import split_list
    from helmholtz.errors import ConfigError
    from helmholtz.sweep.spec import parse_seeds

    assert split_list(" 5, 10 ,20", option="--x", example="1") == ["5", "10", "20"]
    for bad in ("5,", ",5", "5,,6", ""):
        with pytest.raises(ConfigError, match="empty"):
            split_list(bad, option="--x", example="1")
    assert parse_seeds("4,") == (4,)          # a trailing comma names one seed, as documented


# ---------------------------------------------------------------- 7. --out never creates a missing folder

def test_compress_out_does_not_create_a_missing_folder(tmp_path, capsys):
    from test_codec_cli import _npz_dataset

    path = _npz_dataset(tmp_path)
    for fmt in ("npz", "folder"):
        target = tmp_path / "missing" / ("x.npz" if fmt == "npz" else "x")
        code, _, err = run_cli(["compress", str(path), "--level", "20", "--format", fmt, "--out", str(target)],
                               capsys)
        assert "does not exist" in _one_line(code, err)
        assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("text", ["1e99", "inf", "1e9h", "nan", "-5m"])
def test_max_time_is_bounded(text):
    from helmholtz.adaptive.loop import parse_duration
    from helmholtz.errors import ConfigError

    with pytest.raises(ConfigError, match="--max-time"):
        parse_duration(text)
    assert parse_duration("720h") == 30 * 86400.0          # 30 days is still accepted


# ---------------------------------------------------------------- 5. seeds in analyze tables, exactly


@pytest.mark.parametrize("seeds,message", [
    ((2**70 + 1, 2**70 + 2), "outside 0..4294967295"),   # through float these were one seed: "duplicate run"
    ((-1, 0), "seed -1 is outside"),
    ((0, 1.5), "must be a whole number"),
])
def test_seeds_in_a_table_are_read_exactly_and_bounded(tmp_path, seeds, message):
    path = _csv(tmp_path / "s.csv", _rows(seeds=seeds, levels=("none", "5")))
    with pytest.raises(DataError) as ex:
        read_table(path)
    assert message in str(ex.value) and "duplicate" not in str(ex.value)
    assert "row 2" in str(ex.value) or "row 3" in str(ex.value)


def test_a_uint64_seed_in_parquet_gets_the_range_message(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _rows(seeds=(0, 1), levels=("none", "5"))
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("seed"), "seed",
                             pa.array([2**63 + 1 if r["seed"] else 0 for r in rows], type=pa.uint64()))
    pq.write_table(table, tmp_path / "u.parquet")
    with pytest.raises(DataError, match=r"seed 9223372036854775809 is outside 0\.\.4294967295"):
        read_table(tmp_path / "u.parquet")


def test_integral_seeds_written_as_floats_and_numpy_ints_still_read(tmp_path):
    rows = _rows(seeds=(0, 1), levels=("none", "5"))
    for r in rows:
        r["seed"] = f"{float(r['seed'])}"   # "0.0", "1.0": what pandas writes after a NaN once touched the column
    assert read_table(_csv(tmp_path / "f.csv", rows)).cells[("A", "5")].seeds == (0, 1)
    for r in rows:
        r["seed"] = np.uint32(round(float(r["seed"]))) + np.uint32(4294967294)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "n.parquet")
    assert read_table(tmp_path / "n.parquet").cells[("A", "5")].seeds == (4294967294, 4294967295)


# ---------------------------------------------------------------- 8. impossible tables


@pytest.mark.parametrize("n_classes", [0, 1])
def test_a_task_with_fewer_than_two_classes_is_refused(tmp_path, n_classes):
    rows = _rows(levels=("none", "5"))
    for r in rows:
        r["n_classes"] = n_classes
    with pytest.raises(DataError, match="'n_classes' must be ≥ 2"):
        read_table(_csv(tmp_path / "c.csv", rows))


def test_an_accuracy_column_that_contradicts_correct_is_refused(tmp_path):
    rows = _rows(levels=("none", "5"))
    for r in rows:
        r["accuracy"] = r["correct"].count("1") / len(r["correct"])
    read_table(_csv(tmp_path / "ok.csv", rows))   # agreeing columns are fine
    rows[3]["accuracy"] = 0.2
    with pytest.raises(DataError, match=r"row 5.*'accuracy' 0\.2 contradicts 'correct'"):
        read_table(_csv(tmp_path / "bad.csv", rows))


def test_runs_scored_on_different_test_set_sizes_are_refused(tmp_path):
    rows = _rows(levels=("none", "5"), per_item=False)
    rows[4]["n_test"], rows[4]["accuracy"] = 50, 0.9
    with pytest.raises(DataError, match=r"row 6.*'n_test' is 50 here and 40 in the first row"):
        read_table(_csv(tmp_path / "n.csv", rows))


def test_an_accuracy_that_is_no_count_of_n_test_is_warned_about_in_the_analysis(tmp_path):
    from helmholtz.analysis.analyze import analyze

    rows = _rows(levels=("none", "5"), per_item=False, n_items=10)
    clean = read_table(_csv(tmp_path / "clean.csv", rows))
    assert not any("not a count" in n for n in clean.notes)
    rows[2]["accuracy"] = 0.33333
    obs = read_table(_csv(tmp_path / "odd.csv", rows))
    assert any("row 4: accuracy 0.33333 is not a count out of n_test 10" in n for n in obs.notes)
    assert any("not a count" in w for w in analyze(obs).warnings)


# ---------------------------------------------------------------- smaller: export suffix, input shape, summary.md, report --out


def test_export_refuses_a_file_suffix_it_cannot_name(tmp_path):
    import helmholtz as hz
    from helmholtz.errors import ConfigError
    from helmholtz.sweep.store import Store

    (tmp_path / "run").mkdir()
    with Store(tmp_path / "run", create=True):
        pass
    with pytest.raises(ConfigError, match=r"cannot tell the format of .*x\.xyz.*suffix \.xyz"):
        hz.export(tmp_path / "run", tmp_path / "x.xyz")
    assert not (tmp_path / "x.xyz").exists()
    assert hz.export(tmp_path / "run", tmp_path / "x.xyz", fmt="csv")[1] == tmp_path / "x.xyz"   # explicit: fine


@pytest.mark.parametrize("shape", ["1x100000x100000", "100000x32x32"])
def test_capacity_model_bounds_the_input_shape(shape, capsys):
    code, _, err = run_cli(["capacity", "model", "--input-shape", shape], capsys)
    assert "beyond the bounds" in _one_line(code, err)


def test_summary_md_shows_labels_as_text_never_as_html(tmp_path):
    from helmholtz.analysis.analyze import analyze
    from helmholtz.report.summary import render_markdown

    rows = _rows(levels=("none", "5"), models=("<img src=x onerror=alert(1)>", "a|b"))
    md = render_markdown(analyze(read_table(_csv(tmp_path / "t.csv", rows)), n_boot=200))
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "a\\|b" in md and "a|b" not in md.replace("a\\|b", "")
    rows_with_b = [line for line in md.splitlines() if line.startswith("| ") and "a\\|b" in line]
    assert rows_with_b
    for line in rows_with_b:   # the escaped bar adds no column: as many bare bars as the table's header has
        lines = md.splitlines()
        header = lines[max(i for i in range(lines.index(line)) if lines[i].startswith("|---")) - 1]
        assert line.replace("\\|", "").count("|") == header.count("|")


def test_report_out_does_not_create_a_missing_folder(tmp_path, capsys):
    table = _csv(tmp_path / "t.csv", _rows(levels=("none", "5")))
    code, _, err = run_cli(["report", str(table), "--out", str(tmp_path / "missing" / "rep")], capsys)
    assert "does not exist" in _one_line(code, err)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("argv", [["capacity", "model", "--arch", "A,,F"]])
def test_the_remaining_list_options_refuse_an_empty_item(argv, capsys):
    code, _, err = run_cli(argv, capsys)
    assert "item 2 of 3 is empty" in _one_line(code, err)


def test_compare_and_drop_refuse_an_empty_item():
    from helmholtz.api import analysis_options
    from helmholtz.errors import ConfigError

    with pytest.raises(ConfigError, match="item 2 of 3 is empty"):
        analysis_options(tolerance_pp=1.0, bootstrap=100, seed=0, model=None, compare="A,,F", compare_at=None)


def test_md_escaping_keeps_intervals_readable_and_kills_links():
    from helmholtz.report.summary import md

    assert md("collapse at 1.4 bits/pixel [1.3, 1.5]; N_approx") == "collapse at 1.4 bits/pixel [1.3, 1.5]; N_approx"
    assert "](" not in md("[click](javascript:alert(1)) ![i](http://x/t.png)")
    assert md("*a* `b` _c_") == "\\*a\\* \\`b\\` \\_c\\_"
