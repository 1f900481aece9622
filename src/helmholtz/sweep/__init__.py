"""The sweep stage: spec, store, lock, engines, runner, export. Calling the package runs `helmholtz.api.sweep`
(through `helmholtz._callable`, at call time).

It may import the shared base and every stage before it (data … capacity); never analysis, adaptive, report,
demos, the API or the CLI: those read the store, the store never reads them."""

from helmholtz._callable import make_callable

make_callable(__name__, "sweep")   # hz.sweep(...) is helmholtz.api.sweep(...); see helmholtz._callable
