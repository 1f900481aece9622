"""MEC of any model by name: the built-ins by shape arithmetic (`capacity.mec`), a user's ``torch.nn.Module`` by
tracing it (torch.fx with shape propagation) and applying the same `RULE` to the layer types it knows.

Counted: Linear and Conv (rule 2, capped by rule 4), BatchNorm (parameters shown, 0 bits), pooling and a residual
add (an activation: their C·H·W outputs enter rule 4's cap), activations, dropout and pure shape operations (no
bits). Anything else is named in ``MEC.uncounted`` (with its parameters, which stay in the parameter count): the
bound is then a bound on the counted layers only, and the output says so. A module that cannot be traced is walked
by forward hooks in execution order (functional adds are then not seen, which the output says too).
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import nn

from helmholtz.capacity.mec import MEC, RULE, LayerMEC, mec_bits
from helmholtz.models.names import parse_model

_POOL = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d,
         nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_FREE = (nn.ReLU, nn.ReLU6, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.Softmax, nn.LogSoftmax,
         nn.Hardswish, nn.Hardsigmoid, nn.Mish, nn.PReLU, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
         nn.Flatten, nn.Unflatten, nn.Identity)
_ADD = {operator.add, operator.iadd, torch.add}
_FREE_FUNCS = {"relu", "relu_", "gelu", "silu", "sigmoid", "tanh", "elu", "leaky_relu", "softmax", "log_softmax",
               "dropout", "flatten", "reshape", "view", "permute", "transpose", "contiguous", "size", "getitem",
               "getattr", "float", "to", "squeeze", "unsqueeze", "clone", "hardswish", "mish"}
_POOL_FUNCS = {"mean", "adaptive_avg_pool2d", "avg_pool2d", "max_pool2d", "adaptive_max_pool2d", "amax"}


def model_mec(name: str, *, modality: str, input_shape: tuple[int, int, int], n_classes: int,
              width: float = 1.0) -> MEC:
    """MEC of the model ``name`` (`models.names`): a built-in by arithmetic, a factory by tracing its module."""
    m = parse_model(name)
    w = m.effective_width(width)
    if not m.is_factory:
        return mec_bits(m.base, modality=modality, input_shape=input_shape, n_classes=n_classes, width=w)  # type: ignore[arg-type]
    from helmholtz.models.factory import build

    model = build(m, modality=modality, input_shape=input_shape, n_classes=n_classes, width=width)
    return module_mec(model, input_shape=tuple(input_shape), n_classes=n_classes, name=str(m), modality=modality,
                      width=w)


def _units(t: Any) -> int | None:
    return int(t[0].numel()) if isinstance(t, torch.Tensor) and t.dim() >= 1 else None


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape[1:]) if isinstance(t, torch.Tensor) else ()


class _LayerTracer(torch.fx.Tracer):
    """torch.fx's tracer, keeping subclasses of the layer types counted here (a strided 1×1 conv written as a Conv2d
    subclass, for example) as one layer instead of tracing into their forward."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, _WEIGHTED + _BN + _POOL) or super().is_leaf_module(m, qualname)


def _trace(model: nn.Module, x: torch.Tensor) -> list[tuple[str, str, nn.Module | None, Any]] | None:
    """(kind, label, module or None, output tensor) in execution order through torch.fx; None when untraceable."""
    try:
        from torch.fx.passes.shape_prop import ShapeProp

        gm = torch.fx.GraphModule(model, _LayerTracer().trace(model))
        interp_nodes = list(gm.graph.nodes)
        ShapeProp(gm).propagate(x)
    except Exception:  # noqa: BLE001 - any model the tracer cannot follow falls back to hooks
        return None
    mods = dict(gm.named_modules())
    steps = []
    for node in interp_nodes:
        meta = node.meta.get("tensor_meta")
        out = torch.empty((1, *meta.shape[1:])) if meta is not None and hasattr(meta, "shape") else None
        if node.op == "call_module":
            steps.append(("module", node.target, mods[node.target], out))
        elif node.op in ("call_function", "call_method"):
            fn = node.target
            fname = fn if isinstance(fn, str) else getattr(fn, "__name__", str(fn))
            kind = "add" if (fn in _ADD or fname in ("add", "add_", "iadd")) else "function"
            steps.append((kind, str(fname), None, out))
    return steps


def _hooked(model: nn.Module, x: torch.Tensor) -> list[tuple[str, str, nn.Module | None, Any]]:
    steps: list[tuple[str, str, nn.Module | None, Any]] = []
    handles = []
    for path, mod in model.named_modules():
        if not list(mod.children()):
            handles.append(mod.register_forward_hook(
                lambda m, _i, o, path=path: steps.append(("module", path, m, o if isinstance(o, torch.Tensor) else None))))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return steps


def module_mec(model: nn.Module, *, input_shape: tuple[int, ...], n_classes: int, name: str = "model",
               modality: str = "image", width: float = 1.0) -> MEC:
    """`RULE` applied to a module's traced layers; the layer types it does not know are listed in ``uncounted``."""
    was = model.training
    model.eval()
    x = torch.zeros(1, *input_shape)
    try:
        steps = _trace(model, x)
        traced = steps is not None
        if steps is None:
            steps = _hooked(model, x)
    finally:
        model.train(was)
    narrowest = int(x.numel())
    first = True
    rows: list[LayerMEC] = []
    uncounted: list[str] = []
    for i, (kind, label, mod, out) in enumerate(steps, start=1):
        units = _units(out)
        params = sum(p.numel() for p in mod.parameters(recurse=False) if p.requires_grad) if mod is not None else 0
        bits, cap, row_kind = 0, None, None
        if mod is not None and isinstance(mod, _WEIGHTED):
            row_kind = "dense" if isinstance(mod, nn.Linear) else "conv"
            if first:
                bits, first = params, False
            else:
                cap, bits = narrowest, min(params, narrowest)
        elif mod is not None and isinstance(mod, _BN):
            row_kind = "batchnorm"
        elif mod is not None and isinstance(mod, _POOL):
            row_kind = "pool"
        elif kind == "add":
            row_kind = "add"
        elif mod is not None and isinstance(mod, _FREE):
            row_kind = None
        elif kind == "function" and label in _POOL_FUNCS:
            row_kind = "pool"
        elif kind == "function" and label in _FREE_FUNCS:
            row_kind = None
        else:
            what = f"{label} ({type(mod).__name__}, {params:,} parameters)" if mod is not None else f"{label} (function)"
            uncounted.append(what)
        if row_kind is not None:
            rows.append(LayerMEC(index=i, kind=row_kind, params=params, shape_out=_shape(out),
                                 units_out=units or 0, cap_bits=cap, bits=bits))
            if units:
                narrowest = min(narrowest, units)
    note = [] if traced else ["the model could not be traced with torch.fx: layers were read by forward hooks, so "
                              "functional operations (a residual add written as x + y) are not seen"]
    return MEC(arch=name, modality=modality, input_shape=tuple(input_shape), n_classes=int(n_classes),  # type: ignore[arg-type]
               width=float(width), params=sum(p.numel() for p in model.parameters() if p.requires_grad), mec_bits=sum(r.bits for r in rows), rule=RULE,
               layers=tuple(rows), uncounted=tuple(uncounted), notes=tuple(note))
