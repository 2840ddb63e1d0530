"""Plausible wrong answers to `saturated_gradient_factor` fail with the message that names their mistake."""

from __future__ import annotations

import math

import pytest
import torch

from actgrader.reference import outputs as ref
from actgrader.tasks import saturated_sigmoid as task

from .helpers import assert_named, grade_locally, hidden_passes_over_secrets


def right(p, depth):
    return (p * (1 - p)) ** depth


def slope_at_p_as_input(p, depth):
    s = 1 / (1 + math.exp(-p))
    return (s * (1 - s)) ** depth


def peak_slope(p, depth):
    return 0.25**depth


def one_layer_only(p, depth):
    return p * (1 - p)


def added_over_layers(p, depth):
    return depth * p * (1 - p)


def in_float32(p, depth):
    t = torch.tensor(p, dtype=torch.float32)
    return (t * (1 - t)) ** depth


def test_plain_arithmetic_earns_full_marks():
    result = grade_locally("saturated_sigmoid", right)
    assert result.earned == result.max_points


def one_minus_p(p, depth):
    return (1 - p) ** depth


def p_only(p, depth):
    return p**depth


def one_layer_too_many(p, depth):
    return (p * (1 - p)) ** (depth + 1)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (slope_at_p_as_input, task.as_input(0.99)),
        (peak_slope, task.PEAK),
        (one_minus_p, task.ONE_MINUS_P),
        (p_only, task.P_ONLY),
        (one_layer_only, task.one_layer(20)),
        (added_over_layers, task.ADDED),
        (in_float32, task.in_float32(ref.saturated_depth_factor(0.99, 20), 20)),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("saturated_sigmoid", answer, message)


def test_one_factor_too_many_is_named_where_there_are_several_layers():
    result = grade_locally("saturated_sigmoid", one_layer_too_many)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["twenty_layers_at_099"] == task.off_by_one(20)


def in_float32_by_a_loop(p, depth):
    t = torch.tensor(p, dtype=torch.float32)
    out = torch.tensor(1.0)
    for _ in range(depth):
        out = out * t * (1 - t)
    return out


@pytest.mark.parametrize(
    "answer",
    [
        slope_at_p_as_input,
        peak_slope,
        one_layer_only,
        added_over_layers,
        in_float32,
        in_float32_by_a_loop,
        one_minus_p,
        p_only,
        one_layer_too_many,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_hidden_points(answer):
    """Before a draw had to separate it, float32 came within the tolerance on all four draws under
    36 of 100 secrets."""
    assert hidden_passes_over_secrets("saturated_sigmoid", answer, 300) == {"other_outputs_and_depths": []}


def test_the_right_factor_scores_under_every_secret():
    assert hidden_passes_over_secrets("saturated_sigmoid", right, 300) == {"other_outputs_and_depths": list(range(300))}
