"""The margin δ, parsed once: `Tolerance`. Pure (no numpy, no torch).

δ is how much accuracy a compressed level may lose against the original and still *hold* (`verdicts.py`), and the
half-width of the equivalence band of a model comparison (two models are equivalent within ±δ, `compare.py`). It
enters at the boundary in **percentage points of accuracy** (`helmholtz report --tolerance 1`, the API's and the
JSON's ``tolerance_pp``), is checked there once (`Tolerance.of`), and travels inward as this object: the statistics
read `.fraction` (accuracies and their differences are fractions, 0.01 = 1 pp), the texts read `.text` and `.pp`.
"""

from __future__ import annotations

from dataclasses import dataclass

from helmholtz.errors import ConfigError

#: the largest margin δ accepted, in percentage points
MAX_TOLERANCE_PP = 50.0
#: the default margin δ, in percentage points (`helmholtz report --tolerance`'s)
DEFAULT_TOLERANCE_PP = 1.0


@dataclass(frozen=True)
class Tolerance:
    """The margin δ in percentage points of accuracy (``pp``: 1.0 means one percentage point, an accuracy
    difference of 0.01). Build it with `Tolerance.of`, which checks the range; inner layers trust it."""

    pp: float

    @classmethod
    def of(cls, pp: object, *, where: str = "--tolerance") -> Tolerance:
        """δ from percentage points, in (0, MAX_TOLERANCE_PP]; ConfigError naming ``where`` otherwise (a bool is
        refused: it is not a margin)."""
        if isinstance(pp, bool) or not (isinstance(pp, (int, float)) and 0 < pp <= MAX_TOLERANCE_PP):
            raise ConfigError(f"{where} must be a margin in (0, {MAX_TOLERANCE_PP:g}] percentage points; got {pp}",
                              fix=f"e.g. {where} 1.0")
        return cls(float(pp))

    @property
    def fraction(self) -> float:
        """δ as an accuracy difference (a fraction: 1 pp is 0.01), the unit of the statistics."""
        return self.pp / 100

    @property
    def text(self) -> str:
        """δ as the reports print it: '1 pp', '0.5 pp'."""
        return f"{self.pp:g} pp"


def check_tolerance(tolerance_pp: object) -> float:
    """The margin δ in percentage points, checked by `Tolerance.of` (the one check); returns it as a float."""
    return Tolerance.of(tolerance_pp).pp


__all__ = ["DEFAULT_TOLERANCE_PP", "MAX_TOLERANCE_PP", "Tolerance", "check_tolerance"]
