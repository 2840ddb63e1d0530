"""Plausible wrong answers to `tanh_n_thresholds` fail with the message that names their mistake."""

from __future__ import annotations

import math

import pytest

from actgrader.tasks import tanh_n_thresholds as task

from .helpers import assert_named, grade_locally


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


def test_the_artanh_form_of_the_depth_bound_is_named_in_the_public_cases():
    """Exact for small K; at K = 100 (and much of the hidden range) float64 cannot resolve 1 - n^-K."""
    result = grade_locally("tanh_n_thresholds", artanh_forms)
    failed = {o.name: o for o in result.outcomes if not o.passed}
    assert failed["depth_bound_values"].message == task.artanh_form(100)
    assert failed["depth_bound_values"].section == task.SECTIONS[1]
    assert {"t1_values", "explode_bound_values"}.isdisjoint(failed)


@pytest.mark.parametrize(
    ("answer", "message", "section"),
    [
        (swapped_roots, task.SWAPPED, task.SECTIONS[0]),
        (no_one_over_n, task.NO_ONE_OVER_N, task.SECTIONS[0]),
        (k_minus_one, task.k_against_k_minus_one(50), task.SECTIONS[1]),
        (no_square_root, task.NO_SQUARE_ROOT, task.SECTIONS[1]),
        (as_dict, "tanh_n_thresholds(2, 50) returned a dict; return a tuple (t1, depth_bound, explode_bound).", None),
    ],
)
def test_wrong_answer_is_named(answer, message, section):
    assert_named("tanh_n_thresholds", answer, message, section=section)
