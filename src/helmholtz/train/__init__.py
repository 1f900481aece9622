"""Training one run. `spec` and `convergence` are pure Python; `loop` needs torch."""

from helmholtz._callable import make_callable

make_callable(__name__, "train")   # hz.train(...) is helmholtz.api.train(...); see helmholtz._callable
