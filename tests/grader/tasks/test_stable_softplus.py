"""Plausible answers to `softplus`: stable rewritings earn full marks, wrong ones fail naming their mistake."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from .helpers import assert_fails_with, grade_locally


def relu_plus_log1p(x):
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def logaddexp(x):
    return torch.logaddexp(x, torch.zeros_like(x))


def thresholded(x):
    return torch.where(x > 20, x, torch.log1p(torch.exp(x.clamp(max=20))))


@pytest.mark.parametrize("answer", [relu_plus_log1p, logaddexp, thresholded, F.softplus])
def test_stable_answers_earn_full_marks(answer):
    result = grade_locally("stable_softplus", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def naive(x):
    return torch.log(1 + torch.exp(x))


def log1p_only(x):
    return torch.log1p(torch.exp(x))


def positive_form_everywhere(x):
    return x + torch.log1p(torch.exp(-x))


def log_not_log1p(x):
    return x.clamp(min=0) + torch.log(1 + torch.exp(-x.abs()))


def forgot_the_max(x):
    return torch.log1p(torch.exp(-x.abs()))


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (naive, "overflows to inf once e^x does"),
        (log1p_only, "overflows to inf once e^x does"),
        (positive_form_everywhere, "is the form for x >= 0"),
        (log_not_log1p, "Use log1p(u)"),
        (forgot_the_max, "for positive x add max(x, 0)"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("stable_softplus", answer, fragment)
