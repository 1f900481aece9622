"""Training one run. `spec` and `convergence` are pure Python; `loop` needs torch."""
