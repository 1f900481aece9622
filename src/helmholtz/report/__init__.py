"""The report stage: figures, report.html, summary.md. Calling the package runs `helmholtz.api.report`."""

from helmholtz._callable import make_callable

make_callable(__name__, "report")   # hz.report(...) is helmholtz.api.report(...); see helmholtz._callable
