"""`zero_gradient_fraction`: right answers earn full marks, wrong ones fail naming their mistake."""

from __future__ import annotations

import pytest
import torch

from actgrader.tasks import gelu_vs_relu as task

from .helpers import assert_named, grade_locally, hidden_passes_over_secrets


def _gradient(z, activation):
    z = z.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(activation(z).sum(), z)
    return grad


def by_autograd(z, activation):
    return (_gradient(z, activation) == 0).float().mean().item()


def by_backward(z, activation):
    z = z.clone().requires_grad_(True)
    activation(z).sum().backward()
    return float((z.grad == 0).sum()) / z.numel()


@pytest.mark.parametrize("answer", [by_autograd, by_backward])
def test_right_answers_earn_full_marks(answer):
    result = grade_locally("gelu_vs_relu", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def negative_inputs(z, activation):
    return (z < 0).double().mean().item()


def non_positive_inputs(z, activation):
    return (z <= 0).double().mean().item()


def zero_outputs(z, activation):
    return (activation(z) == 0).double().mean().item()


def passing_fraction(z, activation):
    return 1 - by_autograd(z, activation)


def percentage(z, activation):
    return 100 * by_autograd(z, activation)


def count(z, activation):
    return int((_gradient(z, activation) == 0).sum())


def small_gradients(z, activation):
    return (_gradient(z, activation).abs() < 1e-2).double().mean().item()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (negative_inputs, task.negative_counted("GELU")),
        (zero_outputs, task.zero_outputs_counted("GELU")),
        (passing_fraction, task.NOT_ZERO_COUNTED),
        (percentage, task.PERCENTAGE),
        (count, task.entries_not_fraction(64 * 50)),
        (small_gradients, task.SMALL_COUNTED),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("gelu_vs_relu", answer, message)


def test_non_positive_inputs_are_named_for_the_smooth_activations():
    """Right for ReLU; for GELU, z <= 0 is not where the slope is 0."""
    assert_named("gelu_vs_relu", non_positive_inputs, task.negative_counted("GELU"))


def test_counting_only_strictly_negative_inputs_misses_relus_kink():
    result = grade_locally("gelu_vs_relu", negative_inputs)
    messages = {o.name: o.message for o in result.outcomes if not o.passed}
    assert messages["exact_zeros"] == task.RELU_KINK


def relu_only(z, activation):
    """The lazy answer: ReLU's zeros, and none for every other activation."""
    return non_positive_inputs(z, activation) if activation is torch.relu else 0.0


def test_assuming_smooth_activations_never_block_fails_in_their_far_tail():
    result = grade_locally("gelu_vs_relu", relu_only)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["other_activations"].startswith("Your fraction is 0, but on this batch GELU's slope is exactly 0 at ")
    assert "random_layers" in failed


@pytest.mark.parametrize(
    "answer",
    [
        negative_inputs,
        non_positive_inputs,
        zero_outputs,
        passing_fraction,
        percentage,
        count,
        small_gradients,
        relu_only,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_hidden_points(answer):
    """Before the batches had to separate every known mistake, they let one pass under these fractions
    of 100 secrets: zero_outputs 8 (no exact zeros drawn in the GELU and SiLU batches), percentage,
    count and small_gradients 1. 50 secrets here (a secret grades six batches)."""
    assert hidden_passes_over_secrets("gelu_vs_relu", answer, 50) == {"random_layers": []}


@pytest.mark.parametrize("answer", [by_autograd, by_backward])
def test_right_answers_score_under_every_secret(answer):
    assert hidden_passes_over_secrets("gelu_vs_relu", answer, 30) == {"random_layers": list(range(30))}
