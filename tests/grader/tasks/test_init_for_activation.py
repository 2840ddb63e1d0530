"""Initializations that do not suit the activation fail, with the mismatch named; suitable ones pass."""

from __future__ import annotations

import math

import pytest

from actgrader.tasks import init_for_activation as task

from .helpers import assert_fails_with, first_public_failure, grade_locally


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


def uniform_bound(activation, fan_in, fan_out):
    """The bound of Kaiming's (or LeCun's) uniform form, as nn.init.kaiming_uniform_ draws it."""
    return math.sqrt(3 * (1 if activation == "tanh" else 2) / fan_in)


def divided_by_fan_in(activation, fan_in, fan_out):
    return math.sqrt(1 if activation == "tanh" else 2) / fan_in


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (kaiming_everywhere, task.KAIMING_WITH_TANH),
        (glorot_everywhere, task.GLOROT_WITH_RELU),
        (linear_default, task.linear_default(relu_family=True)),
        (variance_not_std, task.variance_not_std("kaiming")),
        (uniform_bound, task.uniform_bound("kaiming")),
        (divided_by_fan_in, task.divided_by_fan_in("kaiming")),
    ],
)
def test_mismatch_is_named(answer, message):
    """The misconception, then what was measured."""
    _, outcome = first_public_failure("init_for_activation", answer)
    assert outcome.message.startswith(message + " (Measured: ")
    assert outcome.section == task.TASK.section


def tuned_to_one_width(activation, fan_in, fan_out):
    """Ignores the layer: the standard deviations that suit 48-unit layers (Glorot for tanh, Kaiming else)."""
    return math.sqrt(1 / 48) if activation == "tanh" else math.sqrt(2 / 48)


def test_a_constant_tuned_to_one_width_fails_the_other():
    result = assert_fails_with("init_for_activation", tuned_to_one_width, "Measured: the spread")
    assert result.earned == 0, [(o.name, o.passed) for o in result.outcomes]


def kaiming_with_fan_out(activation, fan_in, fan_out):
    return math.sqrt(1 / fan_out) if activation == "tanh" else math.sqrt(2 / fan_out)


def test_fan_out_mode_is_accepted_on_square_layers():
    """PyTorch's mode="fan_out" keeps the backward pass instead; in the square layers checked it is the same."""
    result = grade_locally("init_for_activation", kaiming_with_fan_out)
    assert result.earned == result.max_points
