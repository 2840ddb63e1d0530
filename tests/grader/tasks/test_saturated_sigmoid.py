"""Plausible wrong answers to `saturated_gradient_factor` fail with the message that names their mistake."""

from __future__ import annotations

import math

import pytest
import torch

from .helpers import assert_fails_with, grade_locally


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


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (slope_at_p_as_input, "as if 0.99 were the sigmoid's input"),
        (peak_slope, "0.25 is the sigmoid's slope at its centre"),
        (one_layer_only, "That is one layer's factor"),
        (added_over_layers, "The factors of the layers were added"),
        (in_float32, "below float32's smallest normal number"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("saturated_sigmoid", answer, fragment)
