"""Initializations that do not suit the activation fail, with the mismatch named; suitable ones pass."""

from __future__ import annotations

import math

import pytest

from .helpers import assert_fails_with, grade_locally


def kaiming_everywhere(activation, fan_in, fan_out):
    return math.sqrt(2 / fan_in)


def glorot_everywhere(activation, fan_in, fan_out):
    return math.sqrt(2 / (fan_in + fan_out))


def linear_default(activation, fan_in, fan_out):
    return math.sqrt(1 / (3 * fan_in))


def variance_not_std(activation, fan_in, fan_out):
    return 2 / fan_in if activation != "tanh" else 1 / fan_in


def lecun_for_tanh(activation, fan_in, fan_out):
    if activation == "tanh":
        return math.sqrt(1 / fan_in)
    return math.sqrt(2 / (1 + 0.01**2) / fan_in)  # Kaiming with the leaky slope's correction


def test_lecun_for_tanh_and_kaiming_for_the_relu_family_earn_full_marks():
    result = grade_locally("init_for_activation", lecun_for_tanh)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (kaiming_everywhere, "Kaiming with tanh over-amplifies"),
        (glorot_everywhere, "with ReLU shrinks the signal"),
        (linear_default, "nn.Linear's default, variance 1/(3 fan_in), shrinks the signal"),
        (variance_not_std, "returns a variance"),
    ],
)
def test_mismatch_is_named(answer, fragment):
    assert_fails_with("init_for_activation", answer, fragment)
