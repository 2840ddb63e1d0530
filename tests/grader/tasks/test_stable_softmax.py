"""Plausible answers to `softmax`: stable rewritings earn full marks, wrong ones fail naming their mistake."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from actgrader.tasks import _stability
from actgrader.tasks import stable_softmax as task

from .helpers import assert_named, grade_locally, hidden_passes_over_secrets


def shifted(x, dim=-1):
    e = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def through_logsumexp(x, dim=-1):
    return torch.exp(x - torch.logsumexp(x, dim=dim, keepdim=True))


def builtin(x, dim=-1):
    return torch.softmax(x, dim=dim)


@pytest.mark.parametrize("answer", [shifted, through_logsumexp, builtin])
def test_stable_answers_earn_full_marks(answer):
    result = grade_locally("stable_softmax", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def naive(x, dim=-1):
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def minus_the_minimum(x, dim=-1):
    return naive(x - x.amin(dim=dim, keepdim=True), dim)


def minus_the_global_maximum(x, dim=-1):
    return naive(x - x.max(), dim)


def always_last_dim(x, dim=-1):
    return shifted(x, -1)


def whole_tensor(x, dim=-1):
    e = torch.exp(x - x.max())
    return e / e.sum()


def without_keepdim(x, dim=-1):
    e = torch.exp(x - x.amax(dim=dim))
    return e / e.sum(dim=dim)


def max_pair(x, dim=-1):
    e = torch.exp(x - torch.max(x, dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def fixed_dim_one(x, dim=-1):
    e = torch.exp(x - x.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)


def detached(x, dim=-1):
    return shifted(x, dim).detach()


def through_numpy(x, dim=-1):
    a = x.numpy()
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return torch.from_numpy(e / e.sum(axis=dim, keepdims=True))


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (naive, task.NAIVE),
        (minus_the_minimum, task.MINUS_MINIMUM),
        (minus_the_global_maximum, task.GLOBAL_MAXIMUM),
        (without_keepdim, task.NO_KEEPDIM),
        (detached, _stability.NO_GRAPH.format(call="softmax(x, dim=-1)")),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("stable_softmax", answer, message)


@pytest.mark.parametrize(
    ("answer", "message"),
    [(always_last_dim, task.wrong_dim(1, 0)), (whole_tensor, task.WHOLE_TENSOR)],
)
def test_the_wrong_dimension_is_named_and_links_the_definition(answer, message):
    assert_named("stable_softmax", answer, message, section=task.WRONG_DIM_SECTION)


@pytest.mark.parametrize(
    ("answer", "case", "message", "section"),
    [
        (max_pair, "logits_near_1000", task.MAX_PAIR, None),
        (fixed_dim_one, "float64_mixed_scales", task.wrong_dim(1, -1), task.WRONG_DIM_SECTION),
        (through_numpy, "logits_near_1000", _stability.THROUGH_NUMPY.format(call="softmax(x, dim=-1)"), None),
    ],
)
def test_exceptions_with_a_known_cause_are_named_before_pytorchs_words(answer, case, message, section):
    """(A dimension fixed in the code shows as an exception on the 1-D vector, which has no dim 1.)"""
    result = grade_locally("stable_softmax", answer)
    outcome = next(o for o in result.outcomes if o.name == case)
    assert outcome.message.startswith(message + " (Your code raised ")
    assert outcome.section == (section or "softmax#sec-softmax-stability")


@pytest.mark.parametrize(
    "answer",
    [
        naive,
        minus_the_minimum,
        minus_the_global_maximum,
        always_last_dim,
        whole_tensor,
        without_keepdim,
        fixed_dim_one,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_hidden_points(answer):
    """Before the four tensors had to separate every known mistake, they let one pass under these
    fractions of 100 secrets: minus_the_global_maximum 52, minus_the_minimum 32, without_keepdim 18,
    always_last_dim 15, whole_tensor 4, fixed_dim_one 1."""
    assert hidden_passes_over_secrets("stable_softmax", answer, 200) == {"random_logits": []}


@pytest.mark.parametrize("answer", [shifted, through_logsumexp, builtin])
def test_right_answers_score_under_every_secret(answer):
    assert hidden_passes_over_secrets("stable_softmax", answer, 100) == {"random_logits": list(range(100))}
