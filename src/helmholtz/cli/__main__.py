"""`python -m helmholtz.cli` runs the same command as the `helmholtz` script."""

from helmholtz.cli import main

main()
