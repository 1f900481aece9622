"""The models a command names, resolved and listed: `helmholtz archs` and the --arch/--model options of
`helmholtz capacity`.

`arch_table` builds every built-in architecture of a modality on an input shape to count its parameters (torch);
`model_names` resolves --arch (a comma list or all) or --model (factories and built-ins, not both), importing a
factory now so a bad one fails before any data is read.
"""

from __future__ import annotations

from typing import Any

from helmholtz.errors import ConfigError


def check_modality(modality: str) -> None:
    from helmholtz.models.archs import ARCHS

    if modality not in ARCHS:
        raise ConfigError(f"--modality got {modality!r}; expected image or audio", where="--modality",
                          fix="e.g. --modality audio")


def input_of(modality: str, input_shape: str | None, classes: int | None) -> tuple[tuple[int, int, int], int]:
    """The input shape (C×H×W text, default the paper's) and class count (default the paper's) of a modality."""
    from helmholtz.checks import parse_shape
    from helmholtz.models.archs import PAPER_INPUT

    paper_shape, paper_classes = PAPER_INPUT[modality]
    shape = parse_shape(input_shape) if input_shape is not None else paper_shape
    return shape, paper_classes if classes is None else classes


def arch_table(*, modality: str = "image", input_shape: str | None = None, classes: int | None = None,
               width: float = 1.0) -> dict[str, Any]:
    """`helmholtz archs`: one row per built-in architecture (our parameter count beside the paper's) on the given
    input, and the paper's input for the comparison."""
    from helmholtz.models.archs import PAPER_INPUT, build_model, builtin_archs, count_params

    check_modality(modality)
    shape, n_classes = input_of(modality, input_shape, classes)
    if n_classes < 2:
        raise ConfigError(f"--classes must be ≥ 2; got {n_classes}", fix="e.g. --classes 10")
    rows = []
    for name, spec in builtin_archs(modality).items():
        model = build_model(name, modality=modality, input_shape=shape, n_classes=n_classes, width=width)
        rows.append({
            "name": name, "modality": modality, "description": spec.description, "params": count_params(model),
            "paper_params": spec.paper_params or None, "note": spec.note, "input_shape": list(shape),
            "n_classes": n_classes, "width": width,
        })
    paper_shape, paper_classes = PAPER_INPUT[modality]
    return {"rows": rows, "modality": modality, "input_shape": list(shape), "n_classes": n_classes, "width": width,
            "paper_shape": list(paper_shape), "paper_classes": paper_classes}


def model_names(arch: str, modality: str, model: str | None = None) -> list[str]:
    """--arch (A..F, R8, R20, a comma list, or all) or --model (factories, built-ins) → model names."""
    from helmholtz.checks import split_list
    from helmholtz.models.archs import builtin_archs
    from helmholtz.models.names import canonical, parse_model

    check_modality(modality)
    if model is not None:
        names = [canonical(m) for m in split_list(model, option="--model", example="A,F")]
    elif arch.strip().lower() == "all":
        return list(builtin_archs(modality))
    else:
        names = [canonical(a) for a in split_list(arch, option="--arch", example="A,F")]
    for a in names:
        m = parse_model(a)
        if not m.is_factory and m.base not in builtin_archs(modality):
            raise ConfigError(f"--arch got {a!r}; expected A..F, R8, R20 or all", where="--arch", fix="e.g. --arch A,F")
    from helmholtz.models.factory import import_factories

    import_factories(names)
    return names
