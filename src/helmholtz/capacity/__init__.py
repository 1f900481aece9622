"""Capacity in bits: what a network can store (MEC), what a dataset needs, and what training delivers.

Torch-free, importable by the report stage: `mec` (memory-equivalent capacity of A–F by shape arithmetic),
`requirement` (the reference capacity-requirement algorithm and two geometric variants), `progression` (growth
with n, the turning point across compression levels, the comparison with the trained knee) and `levels` (all of
it per compression level of a dataset; only audio features import torch there). `memorise` and `measure` (the
measured effective capacity) train models and import torch; import them explicitly.

It may import the shared base and the stages before it (data … train); the sweep and later stages import it.
"""

from helmholtz.capacity.mec import (
    CONV_RULE,
    MEC,
    RULE,
    LayerMEC,
    dense_mec_bits,
    generalization_ratio,
    mec_bits,
    mec_table,
)
from helmholtz.capacity.progression import (
    FRACTIONS,
    Progression,
    TurningPoint,
    compare_with_knee,
    growth_exponent,
    requirement_progression,
    turning_point,
)
from helmholtz.capacity.requirement import METHODS, Requirement, bits_from_changes, capacity_requirement

__all__ = [
    "CONV_RULE", "FRACTIONS", "MEC", "METHODS", "RULE", "LayerMEC", "Progression", "Requirement", "TurningPoint",
    "bits_from_changes", "capacity_requirement", "compare_with_knee", "dense_mec_bits", "generalization_ratio",
    "growth_exponent", "mec_bits", "mec_table", "requirement_progression", "turning_point",
]
