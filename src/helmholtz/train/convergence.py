"""When did a run converge, and when should it stop? Pure Python (no torch): the analysis imports it too.

- `epochs_to_converge`: the paper's heuristic for the number of training epochs (Fig. 5 and 8).
- `EarlyStopping`: early stopping with patience on the validation split (Goodfellow et al., Algorithm 7.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from helmholtz.errors import ConfigError

#: the paper's window: mean validation accuracy over epochs i..i+9
WINDOW = 10


@dataclass(frozen=True)
class Convergence:
    """The paper's epochs to converge for one history, or why there is none.

    ``epoch`` is the first epoch i (1-based) whose full window i..i+window−1 has a mean validation accuracy above
    ``frac`` × the run's maximum. When no full window qualifies, the run is censored: if it had continued it could
    converge at the earliest at ``censored_at`` (the first epoch whose window is not complete yet), or never.
    """

    epoch: int | None
    censored: bool
    censored_at: int | None


def convergence(val_accs: Sequence[float], *, window: int = WINDOW, frac: float = 0.99) -> Convergence:
    """Epochs to converge by the paper's rule on full windows only (a shorter history is censored, never a number)."""
    if window < 1:
        raise ConfigError(f"window must be ≥ 1 epoch; got {window}", fix="use the paper's window=10")
    if not 0.0 < frac <= 1.0:
        raise ConfigError(f"frac must be in (0, 1]; got {frac}", fix="use the paper's frac=0.99")
    accs = [float(a) for a in val_accs]
    if not accs:
        return Convergence(epoch=None, censored=True, censored_at=1)
    target = frac * max(accs)
    for i in range(len(accs) - window + 1):
        if sum(accs[i:i + window]) / window > target:
            return Convergence(epoch=i + 1, censored=False, censored_at=None)
    return Convergence(epoch=None, censored=True, censored_at=max(1, len(accs) - window + 2))


def epochs_to_converge(val_accs: Sequence[float], *, window: int = WINDOW, frac: float = 0.99) -> int | None:
    """The paper's epochs to converge: the first epoch i (1-based) at which the mean validation accuracy over the
    full window i..i+window−1 exceeds ``frac`` × the run's maximum validation accuracy.

    Only a full window counts: a run that ends before one qualifies is censored and gets None, never a number (an
    earlier version let the window shrink at the end of a run, so a still-rising 5-epoch run read "converged at
    epoch 5"). `convergence` also says where the censoring starts.
    """
    return convergence(val_accs, window=window, frac=frac).epoch


class EarlyStopping:
    """Early stopping with patience (Algorithm 7.1): track the best validation accuracy and the epoch it was
    reached; after ``patience`` epochs in a row without a strictly better value, stop. The caller keeps a copy of
    the weights whenever `update` reports an improvement and restores them at the end.
    """

    def __init__(self, patience: int, *, min_delta: float = 0.0) -> None:
        if patience < 1:
            raise ConfigError(f"patience must be ≥ 1 epoch; got {patience}", where="--patience", fix="e.g. --patience 10")
        self.patience = patience
        self.min_delta = min_delta    # an improvement must beat the best by more than this (accuracy fraction)
        self.best = -math.inf
        self.best_epoch = 0           # 1-based; 0 until the first update
        self.bad_epochs = 0           # epochs since the last improvement (j in Algorithm 7.1)

    def update(self, value: float, epoch: int) -> bool:
        """Record the validation accuracy of ``epoch``; True when it is a new best (save the weights then)."""
        if value > self.best + self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = float(value), epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience
