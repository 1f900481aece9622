"""Any model by name: the built-ins (A–F, the residual R8/R20) or a user's factory ``MODULE:FACTORY``.

A factory is called as ``factory(input_shape=(C, H, W), n_classes=K, width=w)`` and must return a
``torch.nn.Module`` that maps a float batch N×C×H×W in [0, 1] (audio: the log-mel) to N×K logits. Each way it can
be wrong gets one line naming the factory (`FactoryError`, exit 2): not importable, not there, not callable, a
signature without those keywords, raising while it builds, returning something that is not a module, a module
without parameters, or logits of the wrong shape (checked by one dry run in eval mode).

Provenance (`provenance`): the factory's import path, the SHA-256 of its module's source file, the member's width
and parameter count. Every result records it; a sweep resumed after the source changed is refused.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from helmholtz.errors import ConfigError
from helmholtz.models.archs import build_model as build_builtin
from helmholtz.models.archs import check_model_args, count_params, get_arch
from helmholtz.models.names import ModelName, parse_model


def _fail(name: str, what: str, fix: str) -> ConfigError:
    return ConfigError(f"model factory {name}: {what}", where="--model", fix=fix)


def import_factories(names) -> None:
    """Import every factory among the model ``names`` now, so a bad one fails before any data is read."""
    from helmholtz.models.names import parse_model

    for name in names:
        m = parse_model(name)
        if m.is_factory:
            import_factory(m.base)


def import_factory(path: str) -> tuple[Any, Any]:
    """'pkg.mod:make' → (the callable, its module). Each failure is one ConfigError line."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as ex:
        missing = ex.name or module_name
        where = "" if missing == module_name else f" (it imports {missing!r}, which is missing)"
        raise _fail(path, f"cannot import module {module_name!r}{where}",
                    f"put the folder holding {module_name.split('.')[0]} on PYTHONPATH, or install it") from None
    except Exception as ex:  # noqa: BLE001 - the user's module may raise anything at import time
        raise _fail(path, f"importing {module_name!r} raised {type(ex).__name__}: {_first_line(ex)}",
                    f"fix the error in {module_name}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise _fail(path, f"module {module_name!r} has no attribute {attr!r}",
                        f"check the name after the colon (e.g. {module_name}:make_model)")
        obj = getattr(obj, part)
    if not callable(obj):
        raise _fail(path, f"{attr!r} is a {type(obj).__name__}, not a callable",
                    "point --model at a function or class that builds the model")
    return obj, module


def _first_line(ex: BaseException) -> str:
    text = str(ex).strip()
    return text.splitlines()[0] if text else type(ex).__name__


def source_hash(module: Any) -> str | None:
    """SHA-256 (16 hex digits) of the module's source file; None when it has none (a built-in module)."""
    file = getattr(module, "__file__", None)
    if not file or not Path(file).is_file():
        return None
    return hashlib.sha256(Path(file).read_bytes()).hexdigest()[:16]


def _check_signature(fn: Any, path: str) -> None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return   # no signature to read (a C callable): the call itself will tell
    try:
        sig.bind(input_shape=(1, 1, 1), n_classes=2, width=1.0)
    except TypeError:
        raise _fail(path, f"its signature {sig} does not take input_shape=, n_classes= and width=",
                    "define it as def make(input_shape, n_classes, width=1.0): ...") from None


def build_factory(path: str, *, input_shape: tuple[int, int, int], n_classes: int, width: float) -> nn.Module:
    """Call the user's factory and check what it returns (a module with parameters, N×K logits)."""
    fn, _ = import_factory(path)
    _check_signature(fn, path)
    try:
        model = fn(input_shape=tuple(input_shape), n_classes=int(n_classes), width=float(width))
    except Exception as ex:  # noqa: BLE001 - the user's code may raise anything
        raise _fail(path, f"raised {type(ex).__name__} while building (input {'×'.join(map(str, input_shape))}, "
                          f"{n_classes} classes, width {width:g}): {_first_line(ex)}",
                    "fix the factory, or pass a width/input it supports") from None
    if not isinstance(model, nn.Module):
        raise _fail(path, f"returned a {type(model).__name__}, not a torch.nn.Module", "return the model (an nn.Module)")
    if count_params(model) == 0:
        raise _fail(path, "the model has no trainable parameters", "return a model with weights to train")
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *input_shape))
    except Exception as ex:  # noqa: BLE001
        raise _fail(path, f"the model raised {type(ex).__name__} on a 2×{'×'.join(map(str, input_shape))} batch: "
                          f"{_first_line(ex)}", "make it accept N×C×H×W float inputs of the dataset's shape") from None
    finally:
        model.train(was)
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
    if shape != (2, int(n_classes)):
        got = "a " + type(out).__name__ if shape is None else "×".join(map(str, shape))
        raise _fail(path, f"a batch of 2 gave {got}, expected logits 2×{n_classes} (N×K)",
                    "end the model with a layer of n_classes outputs and return a tensor")
    return model


def build(name: str | ModelName, *, modality: str, input_shape: tuple[int, int, int], n_classes: int,
          width: float = 1.0) -> nn.Module:
    """The model ``name`` (`models.names`) for inputs C×H×W and ``n_classes``; ``width`` is the run's --width,
    replaced by the name's own ``@WIDTH`` when it has one."""
    m = parse_model(name) if isinstance(name, str) else name
    w = m.effective_width(width)
    shape = check_model_args(input_shape, n_classes, w)
    if m.is_factory:
        return build_factory(m.base, input_shape=shape, n_classes=int(n_classes), width=w)
    return build_builtin(m.base, modality=modality, input_shape=shape, n_classes=int(n_classes), width=w)  # type: ignore[arg-type]


def check_name(name: str, *, modality: str) -> ModelName:
    """Fail fast on a name that cannot build: an unknown built-in, or a factory that does not import."""
    m = parse_model(name)
    if m.is_factory:
        import_factory(m.base)
    else:
        get_arch(m.base, modality=modality)  # type: ignore[arg-type]
    return m


def provenance(name: str, *, n_params: int | None = None, width: float = 1.0) -> dict[str, Any]:
    """What a result records of its model: the name, the width used, the parameter count and, for a factory,
    its import path and the hash of its module's source."""
    m = parse_model(name)
    out: dict[str, Any] = {"name": str(m), "width": m.effective_width(width), "n_params": n_params}
    if m.is_factory:
        _, module = import_factory(m.base)
        out.update(factory=m.base, source_sha256=source_hash(module), source_file=getattr(module, "__file__", None))
    return out


def factory_modules(names: Any) -> list[str]:
    """The modules of the factories among ``names`` (what Ray workers must be able to import)."""
    mods = []
    for n in names:
        m = parse_model(n)
        if m.is_factory:
            mod = m.base.partition(":")[0]
            if mod not in mods:
                mods.append(mod)
    return mods


def importable_here(module: str) -> str | None:
    """None when ``module`` imports in this process, else the reason (for a Ray worker's probe)."""
    try:
        importlib.import_module(module)
    except Exception as ex:  # noqa: BLE001
        return f"{type(ex).__name__}: {_first_line(ex)} (sys.path: {', '.join(sys.path[:4])} …)"
    return None
