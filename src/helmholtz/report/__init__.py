"""The report stage: figures, report.html, summary.md. Calling the package runs `helmholtz.api.report`
(through `helmholtz._callable`, at call time).

It may import the analysis, adaptive and the torch-free parts of the stages before them (the store, the capacity
arithmetic); never torch, never demos, the API or the CLI."""

from helmholtz._callable import make_callable

make_callable(__name__, "report")   # hz.report(...) is helmholtz.api.report(...); see helmholtz._callable
