"""How right is a quoted figure? Judging the numbers of the source texts against computed ones.

Taught in the chapters "The sigmoid" (``book/sigmoid.md``), "Vanishing gradients"
(``book/vanishing-gradients.md``) and "Initialization matched to the activation"
(``book/initialization.md``), whose myth checks use it: a claim such as "sigmoid'(6) is about
0.002" is compared with the computed value, and the verdict says to how many significant
figures it holds, or by how many orders of magnitude it misses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def round_significant(value: float, figures: int) -> float:
    """``value`` rounded to ``figures`` significant figures (``round_significant(0.002466, 2) == 0.0025``)."""
    if value == 0 or not math.isfinite(value):
        return value
    exponent = math.floor(math.log10(abs(value)))
    return round(value, figures - 1 - exponent)


def agreeing_figures(true: float, claimed: float, most: int = 15) -> int:
    """The largest ``k`` such that ``true`` rounded to ``k`` significant figures is ``claimed`` (0 if none).

    ``claimed`` is read as written, so the trailing zeros it does not show do not count:
    0.045 agrees with 0.045177 to 2 figures, 0.002 with 0.002466 to 1, 1e-13 with 9.1e-13
    to none.
    """
    best = 0
    for k in range(1, most + 1):
        if math.isclose(round_significant(true, k), claimed, rel_tol=1e-9, abs_tol=0.0):
            best = k
    return best


def orders_of_magnitude_off(true: float, claimed: float) -> float:
    """``log10(claimed / true)``: 0 when exact, -1 when the claim is ten times too small."""
    return math.log10(claimed / true)


@dataclass(frozen=True)
class ClaimCheck:
    """A quoted number next to the computed one."""

    claim: str
    claimed: float
    true: float

    @property
    def figures(self) -> int:
        return agreeing_figures(self.true, self.claimed)

    @property
    def relative_error(self) -> float:
        return (self.claimed - self.true) / self.true

    @property
    def holds(self) -> bool:
        """Whether the claim is the computed value correctly rounded (to at least one figure)."""
        return self.figures >= 1

    def verdict(self) -> str:
        """One sentence, e.g. "right to 2 significant figures (relative error -0.4%)"."""
        error = f"relative error {self.relative_error:+.1%}"
        if self.holds:
            plural = "s" if self.figures > 1 else ""
            return f"right to {self.figures} significant figure{plural} ({error})"
        ratio = self.claimed / self.true
        direction = f"too large by a factor {ratio:.2g}" if ratio > 1 else f"too small by a factor {1 / ratio:.2g}"
        return f"wrong: the value is {self.true:.2g}, so the claim is {direction} ({error})"
