"""Plausible answers to `softmax`: stable rewritings earn full marks, wrong ones fail naming their mistake."""

from __future__ import annotations

import pytest
import torch

from .helpers import assert_fails_with, grade_locally


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


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (naive, "softmax gives NaN for logits near 1000: subtract the maximum first"),
        (minus_the_minimum, "Subtracting the minimum does not stop e^x from overflowing"),
        (minus_the_global_maximum, "You subtracted the largest entry of the whole tensor"),
        (always_last_dim, "Softmax was taken over the wrong dimension (dim=1, asked for dim=0)"),
        (whole_tensor, "The whole tensor sums to 1"),
        (without_keepdim, "Without keepdim=True"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("stable_softmax", answer, fragment)
