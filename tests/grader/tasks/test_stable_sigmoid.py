"""Plausible answers to `sigmoid`: stable rewritings earn full marks, wrong ones fail naming their mistake.

Stable means what the chapter means: right values and a finite, right slope autograd sends back.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actgrader.tasks import _stability
from actgrader.tasks import stable_sigmoid as task

from .helpers import assert_named, first_public_failure, grade_locally, hidden_passes_over_secrets


def two_branches(x):
    pos = torch.exp(-x.clamp(min=0))
    neg = torch.exp(x.clamp(max=0))
    return torch.where(x >= 0, 1 / (1 + pos), neg / (1 + neg))


def through_abs(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def masked_assignment(x):
    out = torch.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + torch.exp(-x[pos]))
    e = torch.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out


@pytest.mark.parametrize("answer", [two_branches, through_abs, masked_assignment, torch.sigmoid])
def test_stable_answers_earn_full_marks(answer):
    result = grade_locally("stable_sigmoid", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def plain(x):
    """Right values; its slope is NaN at very negative x (0 * inf): the false 5/5 of issue 15."""
    return 1 / (1 + torch.exp(-x))


def unclamped_where(x):
    """Right values; the branch torch.where does not select overflows, and its NaN slope comes back."""
    return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))


def ratio(x):
    e = torch.exp(x)
    return e / (1 + e)


def mirrored(x):
    return 1 / (1 + torch.exp(x))


def through_tanh(x):
    return 0.5 * (1 + torch.tanh(x / 2))


def one_minus(x):
    return 1 - 1 / (1 + torch.exp(x))


def through_numpy(x):
    a = x.numpy()
    return torch.from_numpy(
        np.where(a >= 0, 1 / (1 + np.exp(-np.abs(a))), np.exp(-np.abs(a)) / (1 + np.exp(-np.abs(a))))
    )


def detached(x):
    return through_abs(x).detach()


def in_place(x):
    e = torch.exp(-x.abs())
    out = e / (1 + e)
    e += 0  # overwrites a value the backward pass of e / (1 + e) needs
    return torch.where(x >= 0, 1 - out, out)


def in_float64(x):
    return two_branches(x.double())


def as_list(x):
    return two_branches(x).tolist()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (plain, task.NAIVE_SLOPE),
        (unclamped_where, task.UNSELECTED_BRANCH),
        (ratio, task.RATIO_NAN),
        (through_tanh, task.CANCELS),
        (detached, _stability.NO_GRAPH.format(call="sigmoid(x)")),
        (in_float64, "sigmoid(x) has dtype torch.float64; keep the dtype of the input (torch.float32)."),
        (as_list, "sigmoid(x) should be a torch tensor, but it is a list."),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("stable_sigmoid", answer, message)


def test_one_minus_the_mirror_is_named_in_the_tail_and_its_nan_slope_where_it_overflows():
    result, outcome = first_public_failure("stable_sigmoid", one_minus)
    assert outcome.message.startswith("the slope autograd sends back through sigmoid(x) is NaN at x = ")
    assert outcome.message.endswith(task.SLOPE_NOT_FINITE)
    assert {o.name: o.message for o in result.outcomes}["left_tail"] == task.CANCELS


def test_the_mirrored_sigmoid_links_the_definition():
    assert_named("stable_sigmoid", mirrored, task.MIRRORED, section="sigmoid#sec-sigmoid-definition")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (through_numpy, _stability.THROUGH_NUMPY.format(call="sigmoid(x)")),
        (in_place, _stability.IN_PLACE.format(call="sigmoid(x)")),
    ],
)
def test_code_autograd_cannot_differentiate_is_named_before_pytorchs_words(answer, message):
    _, outcome = first_public_failure("stable_sigmoid", answer)
    assert outcome.message.startswith(message + " (Your code raised RuntimeError: ")


def test_right_values_with_broken_slopes_earn_nothing():
    """Every case judges the slopes too: the values alone are not what the chapter calls stable."""
    assert grade_locally("stable_sigmoid", plain).earned == 0


def test_an_overflowing_unselected_branch_loses_every_case_that_reaches_it():
    """Its slopes are right in the left tail (there the unselected branch's slope underflows to 0)."""
    result = grade_locally("stable_sigmoid", unclamped_where)
    assert {o.name for o in result.outcomes if not o.passed} == {
        "float32_grid",
        "float64_grid_and_batch",
        "random_tensors",
    }


def test_the_overflow_message_quotes_computed_limits():
    for dtype in (torch.float32, torch.float64):
        assert f"{torch.log(torch.tensor(torch.finfo(dtype).max, dtype=torch.float64)).item():.1f}" in task.RATIO_NAN


@pytest.mark.parametrize(
    "answer",
    [
        plain,
        unclamped_where,
        ratio,
        in_float64,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_the_random_tensors(answer):
    """Each dtype gets a tensor reaching past the overflow of e^|x| on both sides. Before, small scales
    let these pass the case under these numbers of 100 secrets:
    plain 22, ratio 22, unclamped_where 19, in_float64 16."""
    assert hidden_passes_over_secrets("stable_sigmoid", answer, 200)["random_tensors"] == []
