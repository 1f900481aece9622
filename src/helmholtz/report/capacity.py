"""The report's capacity section: the bits each architecture can store (MEC), the bits the data needs at each level
(recorded by the sweep), where that requirement turns beside the trained N_approx, and each cell's generalisation
ratio (TFMeter: correctly classified items, training and test, per bit of MEC). Torch-free; says honestly whether the
training-free estimate agrees with the trained knee."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from helmholtz.analysis.observations import REFERENCE
from helmholtz.analysis.result import Analysis

#: requirement methods shown: the reference algorithm and the geometric (nearest-neighbour) variant
METHODS = ("energy", "nn")
METHOD_NAMES = {"energy": "reference (energy sort)", "nn": "nearest neighbours (geometry)"}


def _mec(a: Analysis) -> dict[str, Any]:
    obs, mi = a.obs, a.obs.model_input
    if not mi:
        return {}
    from helmholtz.capacity.mec import mec_bits
    from helmholtz.models.archs import ARCHS

    width = float(((obs.spec or {}).get("options") or {}).get("width") or 1.0)
    out = {}
    for arch in obs.models:
        if arch in ARCHS.get(mi["modality"], {}):
            m = mec_bits(arch, modality=mi["modality"], input_shape=tuple(mi["input_shape"]),
                         n_classes=int(mi["n_classes"]), width=width)
            out[arch] = {"params": m.params, "mec_bits": m.mec_bits}
    return out


def _turns(a: Analysis) -> list[dict[str, Any]]:
    from helmholtz.capacity.progression import compare_with_knee, turning_point

    obs, out = a.obs, []
    codecs = obs.codecs()
    if not codecs:
        return out
    family = [lv for lv in (obs.level(REFERENCE) if obs.has_level(REFERENCE) else None, *obs.family(codecs[0]))
              if lv is not None and lv.capacity and lv.bits is not None]
    if len(family) < 2:
        return out
    for method in METHODS:
        if not all(method in lv.capacity for lv in family):
            continue
        req = [float(lv.capacity[method]["max_bits"]) for lv in family]
        turn = turning_point([lv.bits for lv in family], req)
        na = a.n_approx
        knee = None
        if na is not None and na.status in ("found", "holds_everywhere"):
            knee = next((i for i, lv in enumerate(family) if lv.key == na.level), None)
        out.append({"method": method, "turn_level": family[turn.index].key, "turn_display": family[turn.index].display,
                    "turn_bits": turn.bits, "found": turn.found,
                    "knee": None if knee is None else family[knee].display,
                    "agreement": compare_with_knee(turn, knee) if na is not None else "no trained knee"})
    return out


def _ratios(a: Analysis, mec: dict[str, Any]) -> list[dict[str, Any]]:
    from helmholtz.capacity.mec import generalization_ratio

    obs, out = a.obs, []
    for c in a.cells:
        cell, lv = obs.cell(c.model, c.level), obs.level(c.level)
        if c.model not in mec or cell is None or not cell.n_test:
            continue
        runs = [r for r in obs.runs if r.model == c.model and r.level == c.level and r.train_acc is not None]
        n_train = lv.n_train or (obs.model_input or {}).get("n_train")
        train_ok = sum(r.train_acc for r in runs) / len(runs) * n_train if runs and n_train else 0.0
        correct = int(round(train_ok + c.acc * cell.n_test))
        out.append({"model": c.model, "level": c.level, "display": c.display, "correct": correct,
                    "ratio": generalization_ratio(correct=correct, mec_bits=mec[c.model]["mec_bits"]),
                    "train_counted": bool(runs)})
    return out


def capacity_section(a: Analysis, runs: Sequence[dict[str, Any]] = ()) -> dict[str, Any] | None:
    """The section's numbers (also written to analysis.json under 'capacity'), or None when the sweep recorded no
    capacity facts (stores written before they were recorded, imported tables)."""
    obs = a.obs
    levels = [lv for lv in obs.levels if lv.capacity]
    if not obs.model_input and not levels:
        return None
    from helmholtz.capacity.mec import CONV_RULE, RULE

    mec = _mec(a)
    requirement = [{"level": lv.key, "display": lv.display, "bits": lv.bits, "method": m,
                    **{k: lv.capacity[m][k] for k in ("changes", "estimated_bits", "max_bits", "n")}}
                   for lv in levels for m in METHODS if m in lv.capacity]
    return {"rule": RULE, "conv_rule": CONV_RULE, "mec": mec, "requirement": requirement, "turns": _turns(a),
            "generalisation": _ratios(a, mec), "scheme": "one-vs-rest over the classes (reference algorithm)"}


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def capacity_html(cap: dict[str, Any]) -> str:
    parts = [f"<p class=note>Memory-equivalent capacity (Friedland, Metere, Krell 2018): {escape(cap['rule'])} "
             f"{escape(cap['conv_rule'])}</p>"]
    if cap["mec"]:
        parts.append(_table(("architecture", "parameters", "MEC (bits)", "bits per parameter"),
                            [[m, f"{v['params']:,}", f"{v['mec_bits']:,}", f"{v['mec_bits'] / v['params']:.3f}"]
                             for m, v in cap["mec"].items()]))
    if cap["requirement"]:
        parts.append("<h3>What the data needs, per level (training split, no training)</h3>"
                     f"<p class=note>{escape(cap['scheme'])}; the nearest-neighbour variant counts label changes "
                     "between neighbours in the input space, on a fixed random subset of the training items.</p>")
        parts.append(_table(("level", "bits", "method", "items", "label changes", "estimated bits", "maximum bits"),
                            [[r["display"], f"{r['bits']:.3g}" if r["bits"] else "—", METHOD_NAMES[r["method"]],
                              r["n"], r["changes"], f"{r['estimated_bits']:,}", f"{r['max_bits']:,}"]
                             for r in cap["requirement"]]))
    for t in cap["turns"]:
        parts.append(f"<p>{escape(METHOD_NAMES[t['method']])}: the requirement turns at {escape(t['turn_display'])}"
                     f"{'' if t['found'] else ' (no rise within the grid: a bound)'}; trained N_approx: "
                     f"{escape(t['knee'] or 'none')} — {escape(t['agreement'])}.</p>")
    if cap["generalisation"]:
        parts.append("<h3>Generalisation ratio (correct items, training + test, per bit of MEC)</h3>")
        parts.append(_table(("model", "level", "correct items", "ratio"),
                            [[g["model"], g["display"], f"{g['correct']:,}", f"{g['ratio']:.2f}"
                              + ("" if g["train_counted"] else " (test items only)")] for g in cap["generalisation"]]))
    return "\n".join(parts)
