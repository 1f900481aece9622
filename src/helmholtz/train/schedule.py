"""The learning rate of every training step: the paper's Keras decay, or a warm-up then an anneal to zero.

Pure Python (no torch), so it can be tested and plotted without a model.

- ``keras_decay`` (the paper's): lr0 / (1 + decay·step), Keras' time-based decay; the step count has no end.
- ``onecycle``: a linear warm-up from 0 to lr0, then a linear anneal to 0 at the last step of the epoch cap
  (the triangular one-cycle of Smith 2018 as airbench uses it).
- ``cosine``: the same warm-up, then half a cosine from lr0 to 0 at the last step of the epoch cap.

The annealing schedules are defined over the epoch cap (``epochs × steps_per_epoch`` steps), not over the epochs a
run happens to last: early stopping on validation may end a run before the anneal does, and the schedule of the
epochs it did run is the same as in a run that went to the cap. ``warmup_epochs`` applies to every schedule.
"""

from __future__ import annotations

import math
from typing import get_args

from helmholtz.train.spec import Schedule

SCHEDULES: tuple[str, ...] = get_args(Schedule)


def keras_lr(lr0: float, decay: float, step: int) -> float:
    """Keras' time-based decay: the learning rate of update number ``step`` (0-based) is lr0 / (1 + decay·step)."""
    return lr0 / (1.0 + decay * step)


class LrSchedule:
    """The learning rate of update number ``step`` (0-based) of a run with ``total_steps`` updates at the cap."""

    def __init__(self, schedule: Schedule, *, lr0: float, total_steps: int, warmup_steps: int = 0, decay: float = 0.0) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
        assert total_steps >= 1 and warmup_steps >= 0, (total_steps, warmup_steps)
        self.schedule, self.lr0, self.decay = schedule, float(lr0), float(decay)
        self.total_steps = int(total_steps)
        self.warmup_steps = min(int(warmup_steps), self.total_steps)

    def __call__(self, step: int) -> float:
        # (step + 1) / warmup: the first update is already non-zero, the last warm-up update reaches lr0
        warm = (step + 1) / self.warmup_steps if step < self.warmup_steps else 1.0
        if self.schedule == "keras_decay":
            return warm * keras_lr(self.lr0, self.decay, step)
        if step < self.warmup_steps:
            return warm * self.lr0
        span = self.total_steps - self.warmup_steps
        # progress through the anneal: 0 at the first update after the warm-up, 1 one step past the cap (lr 0)
        t = min(1.0, (step - self.warmup_steps) / span) if span > 0 else 1.0
        if self.schedule == "onecycle":
            return self.lr0 * (1.0 - t)
        return self.lr0 * 0.5 * (1.0 + math.cos(math.pi * t))


def make_schedule(schedule: Schedule, *, lr0: float, decay: float, epochs: int, steps_per_epoch: int,
                  warmup_epochs: float = 0.0) -> LrSchedule:
    """The schedule of a run capped at ``epochs`` epochs of ``steps_per_epoch`` updates each."""
    return LrSchedule(schedule, lr0=lr0, decay=decay, total_steps=max(1, epochs * steps_per_epoch),
                      warmup_steps=int(round(warmup_epochs * steps_per_epoch)))
