"""Plausible wrong answers to `collapse_linear_stack` fail with the message that names their mistake.

On square layers a wrong answer runs and is recognised by its value; on the others it raises,
and is recognised by the exception the misconception raises on those shapes.
"""

from __future__ import annotations

import functools

import pytest
import torch

from actgrader.tasks import linear_collapse as task

from .helpers import assert_named, grade_locally, hidden_passes_over_secrets


def right(weights):
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    return product


def test_the_product_earns_full_marks():
    result = grade_locally("linear_collapse", right)
    assert result.earned == result.max_points


def wrong_order(weights):
    return functools.reduce(lambda a, b: a @ b, weights)


def wrong_order_from_the_end(weights):
    product = weights[-1]
    for w in reversed(weights[:-1]):
        product = w @ product
    return product


def wrong_order_multi_dot(weights):
    return torch.linalg.multi_dot(weights)


def transposed(weights):
    return right(weights).T


def elementwise(weights):
    return functools.reduce(lambda a, b: b * a, weights)


def summed(weights):
    return sum(weights[1:], weights[0])


def last_matrix_only(weights):
    return weights[-1]


def first_matrix_only(weights):
    return weights[0]


def complex_matrix(weights):
    return right(weights).to(torch.complex64) + 5j  # .double() would drop the 5j


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (wrong_order, task.WRONG_ORDER),
        (wrong_order_from_the_end, task.WRONG_ORDER),
        (wrong_order_multi_dot, task.WRONG_ORDER),
        (transposed, task.TRANSPOSED),
        (elementwise, task.ELEMENTWISE),
        (summed, task.SUMMED),
        (last_matrix_only, task.LAST_ONLY),
        (first_matrix_only, task.FIRST_ONLY),
        (complex_matrix, "the collapsed matrix holds complex numbers; it should hold real ones."),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("linear_collapse", answer, message)


@pytest.mark.parametrize(
    ("answer", "message", "error"),
    [
        (wrong_order, task.WRONG_ORDER, "mat1 and mat2 shapes cannot be multiplied (5x3 and 4x5)"),
        (wrong_order_from_the_end, task.WRONG_ORDER, "mat1 and mat2 shapes cannot be multiplied (6x4 and 2x6)"),
        (
            wrong_order_multi_dot,
            task.WRONG_ORDER,
            "multi_dot(): tensors 0 and 1 with shapes [5, 3] and [4, 5] cannot be multiplied",
        ),
        (elementwise, task.ENTRYWISE, "The size of tensor a (5) must match the size of tensor b (3)"),
        (summed, task.ENTRYWISE, "The size of tensor a (3) must match the size of tensor b (5)"),
    ],
)
def test_the_exception_on_other_shapes_reaches_the_learner_as_the_misconception(answer, message, error):
    """Issue 15: the wrong order used to reach the learner as a raw `RuntimeError: mat1 and mat2 ...`."""
    result = grade_locally("linear_collapse", answer)
    outcome = next(o for o in result.outcomes if o.name == "matches_the_stack")
    assert outcome.message.startswith(f"{message} (Your code raised RuntimeError: {error}")
    assert outcome.section == task.TASK.section


@pytest.mark.parametrize(
    "answer",
    [
        wrong_order,
        wrong_order_from_the_end,
        wrong_order_multi_dot,
        transposed,
        elementwise,
        summed,
        last_matrix_only,
        first_matrix_only,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_hidden_points(answer):
    """No secret draws a hidden stack on which a known mistake equals the product: a single layer
    (where W_1 alone is right, and W_K alone, the sum and the entrywise product too: 3 of these 1000
    secrets drew three single-layer stacks before the draw excluded them), or a 1x1 product (its own transpose)."""
    assert hidden_passes_over_secrets("linear_collapse", answer, 1000) == {"random_stacks": []}


def test_the_product_scores_under_every_secret():
    assert hidden_passes_over_secrets("linear_collapse", right, 300) == {"random_stacks": list(range(300))}
