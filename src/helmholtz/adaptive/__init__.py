"""Adaptive sweeps: train until the answer is decided. Sits after the analysis stage: it reads the sweep's store
through the analysis and adds runs to the sweep (`plan.decide` is the pure decision, `loop.run_until_decided` the
driver). Never imports torch itself; training happens in the sweep's engines.

It may import the analysis, the sweep and the stages before them; never report, demos, the API or the CLI."""
