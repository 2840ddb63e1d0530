"""``actgrader.tasks._draws``: redrawing a hidden case's inputs until every known mistake is wrong on them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from actgrader.grading.cases import CheckFault
from actgrader.tasks._draws import LIMIT, each_mistake_caught, redraw_until


def test_redraw_until_returns_the_first_accepted_draw():
    numbers = itertools.count()
    assert redraw_until(lambda: next(numbers), lambda n: n % 7 == 3, case="t.c") == 3
    assert next(numbers) == 4  # no draw after the accepted one


def test_redrawing_goes_on_along_the_same_generator():
    rng = np.random.default_rng(5)
    got = redraw_until(lambda: int(rng.integers(100)), lambda n: n > 90, case="t.c")
    same = np.random.default_rng(5)
    want = next(n for n in iter(lambda: int(same.integers(100)), None) if n > 90)
    assert got == want
    assert rng.integers(2**31) == same.integers(2**31)  # both generators have read as many numbers


def test_redraw_until_fails_loudly_after_the_limit_naming_the_case():
    calls = itertools.count()
    with pytest.raises(CheckFault, match=r"^matched_width\.random_widths: none of 50 draws was accepted"):
        redraw_until(lambda: next(calls), lambda n: False, case="matched_width.random_widths", limit=50)
    assert next(calls) == 50  # exactly `limit` draws, then the error


def test_the_default_limit_ends_a_case_no_draw_satisfies():
    calls = itertools.count()
    with pytest.raises(CheckFault, match=f"none of {LIMIT} draws"):
        redraw_until(lambda: next(calls), lambda n: False, case="t.c")
    assert next(calls) == LIMIT


def test_each_mistake_caught_needs_every_mistake_wrong_on_one_draw():
    def separates(mistake, draw):
        return draw % mistake == 0

    assert each_mistake_caught([2, 3], [4, 9], separates)
    assert not each_mistake_caught([2, 5], [4, 9], separates)  # 5 divides no draw
    assert each_mistake_caught([2, 3], iter([4, 9]), separates)  # draws read more than once, even from an iterator
    assert each_mistake_caught([], [], separates)
