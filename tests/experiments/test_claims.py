"""Judging quoted figures: rounding to significant figures and the verdict sentence."""

from __future__ import annotations

import pytest

from actgrader.experiments.claims import ClaimCheck, agreeing_figures, orders_of_magnitude_off, round_significant


def test_round_significant():
    assert round_significant(0.0024665, 2) == 0.0025
    assert round_significant(0.0024665, 1) == 0.002
    assert round_significant(9.0949e-13, 1) == 9e-13
    assert round_significant(-123.45, 2) == -120
    assert round_significant(0.0, 3) == 0.0


@pytest.mark.parametrize(
    ("true", "claimed", "figures"),
    [(0.045177, 0.045, 2), (0.0024665, 0.002, 1), (0.0024665, 0.0025, 2), (9.095e-13, 1e-13, 0), (9.537e-27, 1e-26, 1)],
)
def test_agreeing_figures(true, claimed, figures):
    assert agreeing_figures(true, claimed) == figures


def test_verdicts():
    good = ClaimCheck("x", 0.045, 0.045177)
    assert good.holds and good.verdict().startswith("right to 2 significant figures")
    bad = ClaimCheck("y", 1e-13, 9.095e-13)
    assert not bad.holds
    assert "too small by a factor 9.1" in bad.verdict()
    assert "too large" in ClaimCheck("z", 5.0, 1.0).verdict()
    assert orders_of_magnitude_off(1.0, 10.0) == pytest.approx(1.0)
