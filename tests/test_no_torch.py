"""The analysis and report stages never import torch, directly or through what they import (STYLE.md, practice 1).

Checked in a fresh interpreter: import every module of helmholtz.analysis and helmholtz.report (and the report CLI),
run the analysis on synthetic rows, draw the figures and render the pages, then look at sys.modules.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import importlib, pkgutil, sys, tempfile
    from pathlib import Path
    import helmholtz.analysis, helmholtz.report
    names = []
    for pkg in (helmholtz.analysis, helmholtz.report):
        for m in pkgutil.iter_modules(pkg.__path__):
            names.append(f"{pkg.__name__}.{m.name}")
            importlib.import_module(names[-1])
    import helmholtz.cli.report_cmds, helmholtz.sweep.store
    from helmholtz.analysis import analyze
    from helmholtz.analysis.simulate import Truth, simulate
    from synthetic_store import write_store   # tests/ is the working directory
    from helmholtz.report.build import build_report
    from helmholtz.report.figures import write_figures
    from helmholtz.report.html import render_html
    from helmholtz.report.summary import render_markdown
    obs = simulate(Truth("knee"), levels=(5, 20, 50, None), seeds=3, n_items=300)
    a = analyze(obs, n_boot=50)
    figs = write_figures(a, Path(tempfile.mkdtemp()))
    run = Path(tempfile.mkdtemp()) / "run"
    write_store(run, obs)
    build_report(run, n_boot=50)
    assert "<section" in render_html(a, figs, meta={}) and render_markdown(a)
    import helmholtz as hz                      # `helmholtz plan` is analysis + the planner: no torch either
    assert len(hz.plan(archs="A,F", seeds=3).runs) == 18
    print(len(names), "torch" in sys.modules)
    # control: the same probe sees torch once a torch stage is imported, so the check above can fail
    importlib.import_module("helmholtz.train.loop")
    print("torch" in sys.modules)
""")


def test_analysis_and_report_never_import_torch():
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True,
                         cwd=Path(__file__).parent,
                         timeout=300).stdout.split()
    n_modules, torch_before, torch_after = int(out[0]), out[1], out[2]
    assert n_modules >= 12                 # every module of both stages was imported
    assert torch_before == "False"
    assert torch_after == "True"
