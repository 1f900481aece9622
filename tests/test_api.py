"""`import helmholtz as hz` mirrors the CLI: the same operations, the same validation, the same errors (raised, not
printed), and importing it never imports torch. The CLI's own output is the oracle for the API's results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import helmholtz as hz
from conftest import run_cli
from helmholtz.errors import ConfigError, DataError
from synthetic_store import write_synthetic_store
from test_sweep_resume import write_npz

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = dict(epochs=1, width=0.125, optimizer="adam", lr=3e-3, batch_size=32, precision="fp32", augment=False)


def test_import_is_cheap_and_the_api_names_are_callable():
    script = (
        "import sys, helmholtz as hz\n"
        "names = ['load_dataset', 'compress', 'bits', 'train', 'sweep', 'results', 'export', 'analyze', 'report']\n"
        "assert all(callable(getattr(hz, n)) for n in names)\n"
        "import helmholtz.sweep.store, helmholtz.train.spec, helmholtz.report.build\n"
        "assert callable(hz.sweep) and callable(hz.train) and callable(hz.report)   # still, after the subpackages\n"
        "assert hz.sweep.store.Store is helmholtz.sweep.store.Store\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("call", "argv"), [
    (lambda d, o: hz.train(d, seed=-1), ["train", "DATA", "--seed", "-1"]),
    (lambda d, o: hz.compress(d, out=o / "x.npz"), ["compress", "DATA", "--out", "OUT/x.npz"]),
    (lambda d, o: hz.sweep(d, out=o / "s", seeds=0), ["sweep", "DATA", "--seeds", "0", "--out", "OUT/s"]),
    (lambda d, o: hz.load_dataset(d, val_fraction=2.0), ["inspect", "DATA", "--val-fraction", "2.0"]),
    (lambda d, o: hz.report(o / "nowhere"), ["report", "OUT/nowhere"]),
])
def test_the_api_raises_what_the_cli_prints(tmp_path, capsys, call, argv):
    data = write_npz(tmp_path / "d.npz", n_train=40, n_test=20)
    with pytest.raises(hz.errors.HelmholtzError) as info:
        call(data, tmp_path)
    assert capsys.readouterr() == ("", "")                       # raised, never printed
    argv = [a.replace("DATA", str(data)).replace("OUT", str(tmp_path)) for a in argv]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and err.strip() == f"error: {info.value}"


def test_load_compress_bits_and_train(tmp_path, capsys):
    path = write_npz(tmp_path / "d.npz")
    ds = hz.load_dataset(path)
    assert ds.split_sizes() == {"train": 216, "val": 24, "test": 80}
    done = hz.compress(ds, codec="jpeg", level=20, out=tmp_path / "q20.npz")
    assert done.out.is_file() and done.stats.bits_total > 0 and done.dataset.content_hash != ds.content_hash
    rows = hz.bits([5, 50], dataset=ds)
    assert [r["quality"] for r in rows] == [5, 50] and rows[0]["measured"]["bits_total"] < rows[1]["measured"]["bits_total"]
    with pytest.raises(DataError, match="no such file"):
        hz.load_dataset(tmp_path / "missing.npz")
    with pytest.raises(ConfigError, match="unknown training option 'epoch'"):
        hz.train(ds, epoch=3)
    outcome = hz.train(path, codec="jpeg", level=20, **TINY)
    code, out, err = run_cli(["train", str(path), "--codec", "jpeg", "--level", "20", "--epochs", "1", "--width",
                              "0.125", "--optimizer", "adam", "--lr", "0.003", "--batch-size", "32", "--precision",
                              "fp32", "--no-augment", "--json"], capsys)
    assert code == 0, err
    cli = json.loads(out)
    assert cli["result"]["run_id"] == outcome.result.run_id           # the same run ...
    assert cli["result"]["test_acc"] == outcome.result.test_acc       # ... with the same result
    assert cli["level_stats"] == outcome.level_stats.to_dict() and cli["recipe"] == outcome.recipe


def test_sweep_returns_a_handle_and_results_analyze_report_read_it(tmp_path):
    path = write_npz(tmp_path / "d.npz")
    sw = hz.sweep(path, out=tmp_path / "out", codec="jpeg", levels=[10, "none"], archs="A", seeds=[0],
                  threads_per_run=1, **TINY)
    assert sw.summary.n_done_now == 2 and sw.failed == [] and sw.counts() == {"done": 2}
    again = hz.sweep(path, out=tmp_path / "out", codec="jpeg", levels="10,none", archs=["A"], seeds="0,",
                     threads_per_run=1, **TINY)
    assert again.summary.n_skipped == 2 and again.summary.n_done_now == 0   # the same sweep, typed another way
    df = hz.results(tmp_path / "out")
    import pandas as pd

    assert isinstance(df, pd.DataFrame) and len(df) == 2 and set(df["level_label"]) == {"10", "none"}
    epochs = sw.results("epochs")
    assert len(epochs) == 2 and {"arch", "level", "seed"} <= set(epochs.columns)


def test_results_without_pandas_are_dicts(tmp_path, monkeypatch):
    run = write_synthetic_store(tmp_path / "run")
    monkeypatch.setitem(sys.modules, "pandas", None)   # as if pandas were not installed
    rows = hz.results(run)
    assert isinstance(rows, list) and len(rows) == 28 and rows[0]["status"] == "done"


def test_analyze_and_report_return_the_analysis(tmp_path):
    run = write_synthetic_store(tmp_path / "run")
    analysis = hz.analyze(run, n_boot=50)
    assert not (run / "report").exists()                 # analyze writes nothing
    files = hz.report(run, n_boot=50)
    assert files.html.is_file() and files.analysis.to_json() == analysis.to_json()
    assert files.headline and files.out_dir == run / "report"
    assert hz.open_sweep(run).report(out=tmp_path / "r2", n_boot=50).html.parent == tmp_path / "r2"
    with pytest.raises(ConfigError, match="--bootstrap must be ≥ 1 draw"):
        hz.analyze(run, n_boot=0)
