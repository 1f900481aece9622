"""What to train next: the decision procedure of an adaptive sweep. A pure function of the results and the budget.

After each batch the sweep's results are analysed (`helmholtz.analysis.analyze`, fixed bootstrap seed) and the
answer's open parts get work, in this order of priority:

1. **the boundary of N_approx** (the headline architecture, the sweep's first codec: a multi-codec sweep decides on
   its first codec, and the other codecs keep their grid):
   - *undecided* — the level at the boundary is inconclusive: seeds for it and for its reference (the paired cells),
     as many as the power estimate asks for (at most `MAX_SEEDS_PER_STEP` per step, so the estimate is renewed);
   - *found* with a level at the margin (it loses about δ itself, `analysis.verdicts.at_margin`): nothing, the
     boundary is at that level within the noise, which no bisection narrows;
   - *found* with an open level inside the bracket (inconclusive, but seeds would place it): seeds for it and its
     reference — narrowing, since the bracket already stands;
   - *found* but the two levels around the boundary are not adjacent: a level between them, by bisection in the
     codec's level space (a JPEG quality step ≤ 5, or neighbouring valid bitrates; `CodecSpec.between`), trained
     with the seeds of the reference; the same when already the first level drops (between it and the best quality);
2. **the headline comparison** at the pre-set level, when inconclusive: seeds for both architectures there.

Within a run budget, the parts the budget left can close (by the power estimate) go first, the rest after them.

The sweep stops when N_approx is bracketed between adjacent levels (or holds everywhere) and the headline comparison
is decided — or when the budget in **runs** cannot pay for the next step; then `Decision.open` says what is still open
and what it would cost. The plan depends on the stored results, the spec and the run budget only, never on how fast
the machine is: the same data, spec, seeds and budget give the same runs on a laptop and on a cluster. Time
(`Budget.max_time_s`) is a guard: once the summed training time reaches it, the sweep stops before the next step and
says what finishing would cost; while there is time it never changes which runs are chosen. Work the power estimate cannot bound (a level
that loses about δ) is reported, never chased. Everything here is deterministic: the same stored results, spec and
budget give the same decision, so a killed sweep resumes without re-deciding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helmholtz.analysis import Analysis, Observations, analyze
from helmholtz.analysis.bootstrap import MIN_SEEDS, N_BOOT
from helmholtz.analysis.observations import REFERENCE
from helmholtz.analysis.tolerance import DEFAULT_TOLERANCE_PP
from helmholtz.analysis.verdicts import pp_interval

#: most seeds one step adds to one comparison (the power estimate is renewed after each step)
MAX_SEEDS_PER_STEP = 6
#: bootstrap draws (and their seed) of the decisions: fixed, so a decision is reproducible, and the report's own
#: (`bootstrap.N_BOOT`, seed 0), so the sweep's last decision and the report's headline never disagree on a
#: borderline verdict (at 1000 draws a 48-run demo's last decision had q 25 holding and its report had it open)
DECISION_BOOT, DECISION_SEED = N_BOOT, 0
#: JPEG-like quality levels are adjacent when they differ by at most this
QUALITY_STEP = 5


@dataclass(frozen=True)
class Budget:
    """What an adaptive sweep may spend in all (its grid included)."""

    max_runs: int | None = None       # what steers the plan: the same on every machine
    max_time_s: float | None = None   # a guard on the summed training time of the stored runs (their wall_s): it
    #                                   stops the sweep between steps, never chooses its runs


@dataclass(frozen=True)
class Run:
    """One run to add: an architecture at a level (None = the original) of a codec with a seed. ``codec`` None is
    the sweep's first codec (plan steps written before multi-codec sweeps have no codec)."""

    arch: str
    level: int | None
    seed: int
    codec: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"arch": self.arch, "level": self.level, "seed": self.seed}
        return d if self.codec is None or self.level is None else {**d, "codec": self.codec}


@dataclass(frozen=True)
class Item:
    """One open part of the answer and the runs that would close it."""

    what: str                          # 'boundary seeds', 'bisection', 'comparison seeds'
    reason: str                        # prose: 'A at q 10 against the original: inconclusive, 3 more seeds'
    runs: tuple[Run, ...]              # this step's share of the work
    closable: bool = True              # False: no affordable work is known to decide it
    total_runs: int = 0                # runs the power estimate says would close it in all

    @property
    def work(self) -> int:
        """Runs that would close it: the power estimate's total, or at least this step's share."""
        return max(self.total_runs, len(self.runs))


@dataclass(frozen=True)
class Decision:
    """The next step of an adaptive sweep, or why it stops."""

    runs: tuple[Run, ...]              # empty: stop
    kind: str                          # 'seeds', 'level', 'seeds+level', or 'stop'
    reason: str                        # what this step adds, and for what
    state: str                         # the state of the answer, for progress lines
    decided: bool                      # the answer is decided (N_approx bracketed, comparison decided)
    open: tuple[str, ...] = field(default=())    # what is still open (undecided, or not yet narrowed), with its cost
    why: tuple[str, ...] = field(default=())     # per run of ``runs``: the open part of the answer it serves

    @property
    def stop(self) -> bool:
        return not self.runs


def _run(obs: Observations, model: str, key: str, seed: int) -> Run:
    """The run of ``model`` at level ``key`` with ``seed``, naming the level's codec."""
    if key == REFERENCE:
        return Run(model, None, seed)
    lv = obs.level(key)
    return Run(model, lv.level, seed, lv.codec)


def _seeds_for_pair(obs: Observations, a: tuple[str, str], b: tuple[str, str], k: int) -> list[Run]:
    """Runs that give cells a and b k more seeds in common: first the seeds one cell has and the other lacks,
    then fresh seeds above every seed of the sweep."""
    ca, cb = obs.cell(*a), obs.cell(*b)
    sa, sb = set(ca.seeds if ca else ()), set(cb.seeds if cb else ())
    fresh = max(obs.seeds, default=-1) + 1
    out: list[Run] = []
    for s in sorted((sa | sb) - (sa & sb)):
        if k == 0:
            break
        cell = b if s in sa else a
        out.append(_run(obs, cell[0], cell[1], s))
        k -= 1
    while k > 0:
        out += [_run(obs, a[0], a[1], fresh), _run(obs, b[0], b[1], fresh)]
        fresh += 1
        k -= 1
    return out


def _between(codec: str, lo: int, hi: int) -> int | None:
    """A level between lo and hi for bisection, or None when they are adjacent (quality step ≤ 5 / neighbours)."""
    from helmholtz.codecs.registry import get_codec

    spec = get_codec(codec)
    if spec.level_kind == "quality" and not spec.allowed and abs(hi - lo) <= QUALITY_STEP:
        return None
    return spec.between(lo, hi)


def _best_level(codec: str) -> int:
    from helmholtz.codecs.registry import get_codec

    spec = get_codec(codec)
    valid = spec.valid_levels()
    return valid[-1] if spec.higher_is_better else valid[0]


def _interval(v: Any) -> str:
    """' (−1.4 pp [−7.3, +4.5])' for a verdict with an interval, else ''."""
    return f" ({pp_interval(v.diff, v.ci)})" if v.diff is not None and v.ci is not None else ""


def _boundary_items(a: Analysis) -> list[Item]:
    na, obs = a.n_approx, a.obs
    if na is None:
        return []
    m, ref = na.model, na.reference
    if na.status == "found" and na.open_levels:
        # the bracket stands; seeds place an open level inside it (narrowing, after the check a budget owes). One
        # item per open level, nearest the reference first: `decide` takes one the budget can finish before one
        # it cannot (the audio demo's 112 kbps needed 120 more seeds, its 40 kbps 4)
        items = []
        for v in (v for level in na.open_levels for v in na.verdicts if v.level == level):
            where = f"{na.model} at {v.display} against {obs.level(ref).display}"
            if v.more_seeds is None:
                items.append(Item("narrowing seeds", f"{where}: open inside the bracket{_interval(v)}; no affordable "
                                                     "number of seeds places it", (), closable=False))
            else:
                items.append(_seeds_item(obs, "narrowing seeds", f"{where}: open inside the bracket", (m, v.level),
                                         (m, ref), v.more_seeds))
        return items
    if na.status == "undecided" and na.open_level is not None:
        v = next(v for v in na.verdicts if v.level == na.open_level)
        where = f"{na.model} at {v.display} against {obs.level(ref).display}"
        if v.more_seeds is None:
            return [Item("boundary seeds", f"{where}: {v.verdict}, {v.reason or 'it loses about δ'}; no affordable "
                                           "number of seeds decides it", (), closable=False)]
        return [_seeds_item(obs, "boundary seeds", f"{where}: inconclusive", (m, v.level), (m, ref), v.more_seeds)]
    if na.status == "found" and na.boundary is not None and not na.margin_levels:
        hold, drop = na.boundary
        drop_level = obs.level(drop).level
        hold_level = _best_level(na.codec) if hold == REFERENCE else obs.level(hold).level
        if hold == REFERENCE and drop_level == hold_level:
            return []
        new = _between(na.codec, hold_level, drop_level)
        if new is None:
            return []
        seeds = obs.cell(m, ref).seeds
        from helmholtz.codecs.registry import get_codec

        name = get_codec(na.codec).display(new)
        runs = tuple(Run(m, new, s, na.codec) for s in seeds)
        return [Item("bisection", f"boundary between {obs.level(hold).display} and {obs.level(drop).display}: "
                                  f"adding {name}", runs, total_runs=len(runs))]
    return []


def _comparison_items(a: Analysis) -> list[Item]:
    c = a.headline_comparison
    if c is None or c.verdict != "inconclusive":
        return []
    where = f"{c.a} vs {c.b} at {c.display}"
    if c.seeds_to_decide is None:
        return [Item("comparison seeds", f"{where}: inconclusive, {c.reason or 'the difference sits at the margin'}",
                     (), closable=False)]
    return [_seeds_item(a.obs, "comparison seeds", f"{where}: inconclusive", (c.a, c.level), (c.b, c.level),
                        c.seeds_to_decide)]


def _seeds_item(obs: Observations, what: str, where: str, a: tuple[str, str], b: tuple[str, str],
                more: int) -> Item:
    """The work of giving cells a and b ``more`` seeds in common: this step's share (at most `MAX_SEEDS_PER_STEP`,
    so the power estimate is renewed) and the total it would take."""
    k = max(1, min(more, MAX_SEEDS_PER_STEP))
    return Item(what, f"{where}, {_seeds(more)}", tuple(_seeds_for_pair(obs, a, b, k)),
                total_runs=len(_seeds_for_pair(obs, a, b, max(1, more))))


def _seeds(n: int) -> str:
    return f"{n} more seed{'s' if n != 1 else ''}"


def state_text(a: Analysis) -> str:
    """The decision's state in one line, e.g. 'boundary between q 10 and q 20 · A vs F at q 25: equivalent'."""
    parts = []
    na = a.n_approx
    if na is not None and na.boundary is not None:
        hold, drop = (a.obs.level(k).display for k in na.boundary)
        parts.append(f"{na.model}: boundary between {hold} and {drop} ({na.status})")
    elif na is not None:
        parts.append(f"{na.model}: {na.status} at {na.display}")
    c = a.headline_comparison
    if c is not None:
        parts.append(f"{c.a} vs {c.b} at {c.display}: {c.verdict}")
    return " · ".join(parts) or "no answer yet"


def decide(obs: Observations, *, budget: Budget, planned_runs: int, mean_run_s: float | None, spent_s: float,
           tolerance_pp: float = DEFAULT_TOLERANCE_PP, compare_level: str | None = None,
           headline: str | None = None, reserve_runs: int = 0) -> Decision:
    """The next step, from the stored results (`obs`), the runs already planned and the run budget (``mean_run_s``
    and ``spent_s`` only price what is left, and ``spent_s`` meets the time guard). ``headline`` fixes the
    architecture whose N_approx is decided (default: the most accurate on the original). ``reserve_runs``: runs of
    the budget kept for work after the sweep (the training-budget check a decided answer owes): narrowing a
    decided answer gets only what is left beyond them."""
    model = headline if headline is not None and headline in obs.models else None
    a = analyze(obs, tolerance_pp=tolerance_pp, n_boot=DECISION_BOOT, seed=DECISION_SEED, compare_level=compare_level,
                codec_intervals=False, model=model)
    state = state_text(a)
    if a.headline_model is None:
        return Decision((), "stop", "", state, False, ("nothing learned: every architecture is at chance on the "
                                                       "original; train longer or change the recipe, not the grid",))
    items = _boundary_items(a) + _comparison_items(a)
    decided = answer_decided(a)
    if budget.max_time_s is not None and spent_s >= budget.max_time_s and any(it.runs for it in items):
        return Decision((), "stop", "", state, decided, _time_guard(items, planned_runs, budget, mean_run_s))
    room_runs = None if budget.max_runs is None else budget.max_runs - planned_runs
    if decided and room_runs is not None:
        room_runs -= reserve_runs          # what is open now only narrows a decided answer: the check comes first
    taken: list[Run] = []
    why: list[str] = []
    reasons, kinds, left = [], set(), []
    for item in _closable_first(items, room_runs):
        if not item.closable:
            left.append(item.reason)
            continue
        runs = [r for r in item.runs if r not in taken]
        fits = len(runs)
        if room_runs is not None:
            fits = min(fits, room_runs - len(taken))
        if item.what == "bisection" and fits < len(runs):
            fits = 0                      # a new level is worth only as many seeds as its reference has
        if decided and room_runs is not None and item.work > room_runs - len(taken):
            fits = 0                      # a decided answer is narrowed only by work the budget can finish: the
            #                               audio demo spent 12 runs on a level that needed 120 more seeds
        fits = max(0, fits)
        if fits > 0:
            taken += runs[:fits]
            why += [item.reason] * fits
            reasons.append(item.reason)
            kinds.add("level" if item.what == "bisection" else "seeds")
        if fits < len(runs):
            rest = max(item.total_runs - fits, len(runs) - fits)
            kept = (f" left after the {reserve_runs} kept for the training-budget check" if decided and reserve_runs
                    else "")
            left.append(f"{item.reason} — {_cost(rest, mean_run_s)} beyond the budget{kept}")
    if taken:
        return Decision(tuple(taken), "+".join(sorted(kinds)), " · ".join(reasons), state, decided, tuple(left),
                        tuple(why))
    return Decision((), "stop", "", state, decided, tuple(left))


def _closable_first(items: list[Item], room_runs: int | None) -> list[Item]:
    """The items in their order of priority, except that those the power estimate says the budget left can close
    (``total_runs`` within ``room_runs``) come before those it cannot: a budget that cannot pay for the boundary
    should still decide the comparison, instead of going to seeds that leave both open."""
    if room_runs is None:
        return items
    fits = [it for it in items if it.closable and it.work <= room_runs]
    return fits + [it for it in items if it not in fits]


def _cost(runs: int, mean_run_s: float | None) -> str:
    """'13 more runs (≈ 3 min on this machine)': the time is this machine's estimate, for the user only."""
    text = f"{runs} more run{'s' if runs != 1 else ''}"
    return text + (f" (≈ {runs * mean_run_s / 60:.0f} min on this machine)" if mean_run_s else "")


def _time_guard(items: list[Item], planned_runs: int, budget: Budget, mean_run_s: float | None) -> tuple[str, ...]:
    """What is open when --max-time stopped the sweep, and what finishing would cost."""
    spent = f"stopped by --max-time ({budget.max_time_s / 60:.0f} min of training) after {planned_runs} runs"
    if budget.max_runs is not None:
        spent += f" of the {budget.max_runs}-run budget"
    left = [f"{it.reason} — {_cost(it.work, mean_run_s)} to finish" if it.closable
            else it.reason for it in items]
    return (spent, *left)


def answer_decided(a: Analysis) -> bool:
    """N_approx is bracketed (found) or bounded (holds everywhere), and the headline comparison, if the sweep has
    one, is not inconclusive. A bracket that is still wider than adjacent levels is decided, only not narrowed."""
    na, c = a.n_approx, a.headline_comparison
    if na is None or na.status not in ("found", "holds_everywhere"):
        return False
    return c is None or c.verdict != "inconclusive"


__all__ = ["MIN_SEEDS", "Budget", "Decision", "Run", "decide", "state_text"]
