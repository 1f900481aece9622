"""The train stage: training one run. `spec`, `options`, `recipes`, `schedule` and `convergence` are pure Python; `loop` and `run` need
torch. It may import the shared base and the stages before it (data … models); nothing later. Calling the package
runs `helmholtz.api.train` (through `helmholtz._callable`, at call time)."""

from helmholtz._callable import make_callable

make_callable(__name__, "train")   # hz.train(...) is helmholtz.api.train(...); see helmholtz._callable
