"""`helmholtz capacity model|data|measure`: a network's MEC, the bits a dataset needs, the bits training delivers."""

from __future__ import annotations

from typing import Annotated

import typer

from helmholtz.cli import options as o
from helmholtz.cli.common import console, err_console, print_json

capacity_app = typer.Typer(
    name="capacity", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Capacity in bits (Friedland et al. 2018): MEC of A–F, the data's requirement per level, measured memorisation.",
)


@capacity_app.command("model")
def model_cmd(
    modality: Annotated[str, typer.Option("--modality", help="image | audio")] = "image",
    arch: Annotated[str, typer.Option("--arch", help="A..F, a comma list, or all.")] = "all",
    input_shape: Annotated[str | None, typer.Option("--input-shape", help="C×H×W [default: 3x32x32 image, 1x96x173 audio].")] = None,
    classes: Annotated[int | None, typer.Option("--classes", help="Number of classes [default: 10 image, 12 audio].")] = None,
    width: o.Width = 1.0,
    model: o.ModelOpt = None,
    layers: Annotated[bool, typer.Option("--layers", help="Show each layer's parameters, cap and bits.")] = False,
    json_out: o.Json = False,
) -> None:
    """Memory-equivalent capacity in bits, beside the parameter count: A–F and R8/R20 by shape arithmetic, your
    --model by tracing its module (the layer types the rule does not know are named). No training."""
    from helmholtz import api

    mec = api.capacity_model(modality=modality, arch=arch, input_shape=input_shape, classes=classes, width=width,
                             model=model)
    rows = mec.rows
    if json_out:
        print_json([r.to_dict(layers=layers) for r in rows])
        return
    from rich.table import Table

    r0 = rows[0]
    table = Table(title=f"MEC of {modality} architectures on {'×'.join(map(str, r0.input_shape))}, "
                        f"{r0.n_classes} classes, width {width:g}")
    for col in ("arch", "params", "MEC bits", "bits/param"):
        table.add_column(col, justify="left" if col == "arch" else "right")
    for r in rows:
        table.add_row(r.arch, f"{r.params:,}", f"{r.mec_bits:,}", f"{r.mec_bits / r.params:.4f}")
    console.print(table)
    if layers:
        for r in rows:
            lt = Table(title=f"{r.arch}: per layer")
            for col in ("#", "layer", "output", "params", "cap (bits in)", "bits"):
                lt.add_column(col, justify="right")
            for lay in r.layers:
                if lay.params or lay.kind in ("maxpool", "gap", "flatten", "pool", "add"):
                    lt.add_row(str(lay.index), lay.kind, "×".join(map(str, lay.shape_out)), f"{lay.params:,}",
                               "–" if lay.cap_bits is None else f"{lay.cap_bits:,}", f"{lay.bits:,}")
            console.print(lt)
    for r in rows:
        if r.uncounted:
            console.print(f"{r.arch}: not counted (layer types the rule does not know; their parameters are in the "
                          f"count, not in the bits): {'; '.join(r.uncounted)}")
        for note in r.notes:
            console.print(f"{r.arch}: {note}")
    console.print(f"rule: {mec.rule}")


@capacity_app.command("data")
def data_cmd(
    dataset: o.DatasetArg,
    codec: Annotated[str, typer.Option("--codec", help="jpeg | mp3 | none")] = "jpeg",
    levels: Annotated[str | None, typer.Option("--levels", help="Comma-separated levels, 'none' = original [default: jpeg 5,10,20,50,90,none; mp3 16,32,64,128,none].")] = None,
    train_size: o.TrainSize = None,
    split_seed: o.SplitSeed = 0,
    methods: Annotated[str, typer.Option("--methods", help="energy (the reference), projection (random directions), nn (nearest neighbour).")] = "energy,projection,nn",
    fractions: Annotated[str, typer.Option("--fractions", help="Shares of the training items for the progression.")] = "0.05,0.1,0.2,0.4,0.8,1",
    progression: Annotated[bool, typer.Option("--progression/--no-progression", help="Compute the progression over --fractions.")] = True,
    projections: Annotated[int, typer.Option("--projections", help="projection: number of random directions.")] = 16,
    nn_dims: Annotated[int, typer.Option("--nn-dims", help="nn: principal components the distances use (0 = all features).")] = 64,
    sigdigits: Annotated[int | None, typer.Option("--sigdigits", help="energy: truncate energies to this many decimals (the reference's option).")] = None,
    rise: Annotated[float, typer.Option("--rise", help="Turning point: the relative rise above the lowest requirement that counts as turning (0.02 = 2 %).")] = 0.02,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the subsets, directions and PCA.")] = 0,
    sample_rate: o.SampleRate = 44100,
    duration: o.Duration = 2.0,
    json_out: o.Json = False,
) -> None:
    """The capacity the data requires at each compression level, without training (Friedland et al.'s algorithm)."""
    from helmholtz import api

    def on_level(lv) -> None:
        if not json_out:
            err_console.print(f"level {lv.label}: done")

    result = api.capacity_data(dataset, codec=codec, levels=levels, train_size=train_size, split_seed=split_seed,
                               methods=methods, fractions=fractions if progression else None,
                               projections=projections, nn_dims=nn_dims, sigdigits=sigdigits, rise=rise, seed=seed,
                               sample_rate=sample_rate, duration_s=duration, on_level=on_level)
    if json_out:
        print_json(result.to_dict())
        return
    _print_data(result)


def _print_data(result) -> None:
    from rich.table import Table

    lv0 = result.levels[0]
    r0 = next(iter(lv0.requirements.values()))
    unit = "bits/pixel" if lv0.unit == "pixel" else "bits/s"
    table = Table(title=f"capacity requirement of {result.dataset} ({r0.n} training items, d = {r0.d}, "
                        f"{r0.classes} classes, {r0.scheme})")
    for col in ("level", unit, "method", "changes", "rate", "estimated bits", "max bits", "growth b"):
        table.add_column(col, justify="right")
    for lv in result.levels:
        for m, r in lv.requirements.items():
            p = lv.progressions.get(m)
            spread = r.spread["changes"] if r.spread else None
            changes = f"{r.changes:,}" + (f" ({spread['min']:,.0f}–{spread['max']:,.0f})" if spread else "")
            table.add_row(lv.label, f"{lv.bits:.3f}", m, changes, f"{r.change_rate:.3f}", f"{r.estimated_bits:,}",
                          f"{r.max_bits:,}", "–" if p is None or p.exponent is None else f"{p.exponent:.2f}")
    console.print(table)
    console.print(f"features: {result.features}; rate = changes per item; growth b: changes ∝ n^b over the progression "
                  "(≈1: the labels look random along this view, ≈0: learnable structure)")
    if r0.scheme == "one-vs-rest":
        console.print("more than two classes: one-vs-rest, K binary problems whose bits add "
                      "(the reference algorithm is for balanced two-class problems)")
    for m, t in result.turning_points.items():
        lv = result.levels[t.index]
        what = f"turns at {lv.label} ({t.bits:.3f} {unit})" if t.found else f"does not turn on this grid (bound: {lv.label})"
        console.print(f"{m}: the requirement {what}; rule: {t.rule}, tolerance {t.tolerance:.0%}")
        p = lv.progressions.get(m)
        if p is not None:
            console.print(f"  growth at {lv.label}: {p.verdict}")


@capacity_app.command("measure")
def measure_cmd(
    dataset: o.DatasetArg,
    arch: Annotated[str, typer.Option("--arch", help="A..F, R8, R20 or a comma list.")] = "A",
    width: Annotated[float, typer.Option("--width", help="Width multiplier of the model.")] = 0.25,
    model: o.ModelOpt = None,
    recipe: Annotated[str, typer.Option("--recipe", help="paper (SGD Nesterov, lr 0.01) | fast (AdamW one-cycle), or a comma list (then --json prints a list).")] = "paper",
    budget: Annotated[int, typer.Option("--budget", help="Epochs per trial.")] = 100,
    min_steps: Annotated[int, typer.Option("--min-steps", help="At least this many optimizer steps per trial.")] = 1000,
    budget_seconds: Annotated[float | None, typer.Option("--budget-seconds", help="Wall-clock limit per trial (s).")] = None,
    downsample: Annotated[int, typer.Option("--downsample", help="Average-pool inputs by this factor (2: 28×28 → 14×14).")] = 2,
    max_items: Annotated[int, typer.Option("--max-items", help="Largest n tried.")] = 16384,
    n_start: Annotated[int, typer.Option("--n-start", help="First n tried (then doubled, then bisected).")] = 256,
    threshold: Annotated[float, typer.Option("--threshold", help="Training accuracy that counts as memorised.")] = 0.99,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the items, the random labels and the init.")] = 0,
    dropout: Annotated[bool, typer.Option("--dropout/--no-dropout", help="Keep the architecture's dropout while training (off when accuracy is measured).")] = True,
    train_size: o.TrainSize = None,
    sample_rate: o.SampleRate = 44100,
    duration: o.Duration = 2.0,
    json_out: o.Json = False,
) -> None:
    """Train the model to memorise random labels; the largest n that fits ≥ threshold gives n·log2(K) bits, beside the MEC.

    One arch and one recipe: --json prints one object {arch, mec_bits, effective_bits, n_memorised, classes, ratio, …};
    several: a list of them, arch by arch, recipe by recipe."""
    from helmholtz import api

    def on_trial(a: str, recipe_name: str, t) -> None:
        if not json_out:
            err_console.print(f"{a} {recipe_name}: n = {t.n:>6} {'fits' if t.fits else 'fails'} "
                              f"(train acc {t.train_acc:.3f} after {t.epochs} epochs, {t.seconds:.1f} s)")

    results = api.capacity_measure(dataset, arch=arch, width=width, model=model, recipe=recipe, budget=budget,
                                   min_steps=min_steps, budget_seconds=budget_seconds, downsample=downsample,
                                   max_items=max_items, n_start=n_start, threshold=threshold, seed=seed,
                                   dropout=dropout, train_size=train_size, sample_rate=sample_rate,
                                   duration_s=duration, on_trial=on_trial)
    if json_out:
        out = [r.to_dict() for r in results]
        print_json(out[0] if len(out) == 1 else out)
        return
    _print_measure(results)


def _print_measure(results) -> None:
    from rich.table import Table

    table = Table(title="effective capacity: random labels memorised (≥ threshold train accuracy)")
    for col in ("arch", "recipe", "n memorised", "effective bits", "MEC bits", "realised", "params", "bits/param", "time"):
        table.add_column(col, justify="right")
    for r in results:
        n = {"bracketed": f"{r.n_memorised:,}", "at least": f"≥ {r.n_memorised:,}", "below": f"< {r.n_failed:,}"}[r.bound]
        table.add_row(r.arch, r.recipe, n, f"{r.effective_bits:,.0f}", f"{r.mec_bits:,.0f}",
                      "–" if r.ratio is None else f"{r.ratio:.0%}", f"{r.params:,}", f"{r.bits_per_param:.3f}",
                      f"{r.seconds:.0f} s")
    console.print(table)
    r0 = results[0]
    console.print(f"input: {r0.notes.get('input')}; dropout {r0.notes.get('dropout')}; budget: {r0.budget.text()}; "
                  f"{r0.notes.get('threshold')}")
    for name, text in {r.recipe: r.recipe_text for r in results}.items():
        console.print(f"{name}: {text}")
    for r in results:
        if r.ratio is not None:
            console.print(f"training realises {r.ratio:.0%} of {r.arch}'s MEC with the {r.recipe} recipe")
    console.print("note: a perfectly trained perceptron reads as about 200 % here (Cover: 2(d+1) random points vs "
                  "MEC d+1), so 100 % is not the ceiling of this ratio; for conv nets without dropout we measured "
                  "several times the MEC (the input-width cap of the rule does not bound memorisation), so read "
                  "bits/param beside it")


def register(app: typer.Typer) -> None:
    """Add the `capacity` command group to `app`."""
    app.add_typer(capacity_app, name="capacity")
