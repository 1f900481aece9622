"""The theoretical curve of the paper (Fig. 3, Sec. 4.1), scaled to the data: accuracy = a + c·log(100 − Q%).

The paper writes Accuracy = c·log(100 − Q) with Q the quantization in percent: log(100 − Q) stands for the information
left in a compressed item, and by Fano's inequality the best accuracy is linear in it. "The theory only predicts the
slope and the axis scaling is arbitrarily chosen", so we fit an offset a as well as the scale c, by ordinary least
squares on the compressed levels (the original has no Q). The log is natural; another base only rescales c.

At Q = 100 % the log is −∞. Images never reach it (q = 1 is Q = 99 %), but the lowest bitrate of an audio grid is
Q = 1.0 by definition, so Q% is capped at 99 (the image axis's own end point) before taking the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from helmholtz.errors import ConfigError

#: the largest Q (in percent) the log is taken at; see the module docstring
Q_PERCENT_CAP = 99.0


def information_term(Q: Sequence[float] | np.ndarray) -> np.ndarray:
    """log(100 − Q%) for Q on the 0..1 axis, with Q% capped at 99 — the paper's information content."""
    q_pct = np.minimum(np.asarray(Q, dtype=float) * 100.0, Q_PERCENT_CAP)
    return np.log(100.0 - q_pct)


@dataclass(frozen=True)
class LogFit:
    """Least-squares fit of accuracy = a + c·log(100 − Q%): the 'shadow curve' of the paper's Fig. 4 and 7."""

    a: float                          # offset (accuracy, fraction)
    c: float                          # scale (accuracy per unit of log information)
    r2: float | None                  # coefficient of determination; None when the data have no variance
    Q: tuple[float, ...]              # the points fitted
    acc: tuple[float, ...]
    residuals: tuple[float, ...]      # acc − fitted, per point
    rmse: float

    @property
    def n(self) -> int:
        return len(self.Q)

    def predict(self, Q: Sequence[float] | np.ndarray) -> np.ndarray:
        """Accuracy of the fitted curve at Q (0..1)."""
        return self.a + self.c * information_term(Q)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "n": self.n}


def fit_log_curve(Q: Sequence[float], acc: Sequence[float]) -> LogFit:
    """Fit accuracy = a + c·log(100 − Q%) to mean accuracies at the compressed levels.

    Needs at least two distinct values of the information term; raises ConfigError otherwise.
    """
    q = np.asarray(Q, dtype=float)
    y = np.asarray(acc, dtype=float)
    if q.shape != y.shape or q.ndim != 1:
        raise ConfigError(f"Q and accuracy must be 1-D of equal length; got {q.shape} and {y.shape}",
                          where="fit_log_curve", fix="pass one mean accuracy per compressed level")
    x = information_term(q)
    if np.unique(x).size < 2:
        raise ConfigError(f"the fit needs at least two distinct compressed levels; got {np.unique(x).size}",
                          where="fit_log_curve", fix="sweep more compression levels (e.g. --levels 5,10,20,50)")
    design = np.column_stack([np.ones_like(x), x])
    (a, c), *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = a + c * x
    resid = y - fitted
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = None if np.ptp(y) == 0.0 else 1.0 - float((resid**2).sum()) / ss_tot
    return LogFit(a=float(a), c=float(c), r2=r2, Q=tuple(map(float, q)), acc=tuple(map(float, y)),
                  residuals=tuple(map(float, resid)), rmse=float(np.sqrt((resid**2).mean())))
