"""The sweep stage: spec, store, lock, engines, runner, export. Calling the package runs `helmholtz.api.sweep`."""

from helmholtz._callable import make_callable

make_callable(__name__, "sweep")   # hz.sweep(...) is helmholtz.api.sweep(...); see helmholtz._callable
