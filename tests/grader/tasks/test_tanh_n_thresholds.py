"""Plausible wrong answers to `tanh_n_thresholds` fail with the message that names their mistake."""

from __future__ import annotations

import math

import pytest

from .helpers import assert_fails_with, grade_locally


def right(n, depth):
    return math.acosh(n) / n, math.acosh(n ** (depth / 2)) / n, math.acosh(math.sqrt(n)) / n


def artanh_forms(n, depth):
    """The source text's forms: right for t1 and the exploding bound, loses digits for large K."""
    s = math.sqrt(1 - n ** (-depth))
    deep = math.atanh(s) / n if s < 1 else math.inf
    return math.atanh(math.sqrt(1 - 1 / n**2)) / n, deep, math.atanh(math.sqrt(1 - 1 / n)) / n


def swapped_roots(n, depth):
    t1, deep, explode = right(n, depth)
    return explode, deep, t1


def no_one_over_n(n, depth):
    return math.acosh(n), math.acosh(n ** (depth / 2)), math.acosh(math.sqrt(n))


def k_minus_one(n, depth):
    t1, _, explode = right(n, depth)
    return t1, math.acosh(n ** ((depth - 1) / 2)) / n, explode


def no_square_root(n, depth):
    t1, _, explode = right(n, depth)
    return t1, math.acosh(n**depth) / n, explode


def as_dict(n, depth):
    t1, deep, explode = right(n, depth)
    return {"t1": t1, "depth_bound": deep, "explode_bound": explode}


def test_the_closed_forms_earn_full_marks():
    result = grade_locally("tanh_n_thresholds", right)
    assert result.earned == result.max_points


def test_the_artanh_forms_pass_the_public_cases_and_the_chapter_explains_the_rest():
    """They are exact for small K; for the K of the hidden cases float64 cannot resolve 1 - n^-K."""
    result = grade_locally("tanh_n_thresholds", artanh_forms)
    assert all(o.passed for o in result.outcomes if not o.hidden)
    failed = [o for o in result.outcomes if not o.passed]
    assert failed and all("float64 rounds" in o.message for o in failed)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (swapped_roots, "t1 and the exploding bound are swapped"),
        (no_one_over_n, "The factor 1/n is missing"),
        (k_minus_one, "K against K - 1"),
        (no_square_root, "The square root is missing"),
        (as_dict, "return a tuple (t1, depth_bound, explode_bound)"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("tanh_n_thresholds", answer, fragment)
