"""Plausible answers to `sigmoid`: stable rewritings earn full marks, wrong ones fail naming their mistake."""

from __future__ import annotations

import pytest
import torch

from .helpers import assert_fails_with, grade_locally


def two_branches(x):
    pos = torch.exp(-x.clamp(min=0))
    neg = torch.exp(x.clamp(max=0))
    return torch.where(x >= 0, 1 / (1 + pos), neg / (1 + neg))


def plain(x):
    return 1 / (1 + torch.exp(-x))  # right values (only its gradient fails at very negative x)


def through_abs(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("answer", [two_branches, plain, through_abs, torch.sigmoid])
def test_stable_answers_earn_full_marks(answer):
    result = grade_locally("stable_sigmoid", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def ratio(x):
    e = torch.exp(x)
    return e / (1 + e)


def mirrored(x):
    return 1 / (1 + torch.exp(x))


def through_tanh(x):
    return 0.5 * (1 + torch.tanh(x / 2))


def one_minus(x):
    return 1 - 1 / (1 + torch.exp(x))


def in_float64(x):
    return two_branches(x.double())


def as_list(x):
    return two_branches(x).tolist()


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (ratio, "computes inf / inf = NaN once e^x overflows"),
        (mirrored, "computes sigma(-x)"),
        (through_tanh, "cancel to 0"),
        (one_minus, "cancel to 0"),
        (in_float64, "keep the dtype of the input (torch.float32)"),
        (as_list, "should be a torch tensor, but it is a list"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("stable_sigmoid", answer, fragment)


def test_the_overflow_message_quotes_computed_limits():
    result = grade_locally("stable_sigmoid", ratio)
    message = next(o.message for o in result.outcomes if not o.passed)
    for dtype in (torch.float32, torch.float64):
        assert f"{torch.log(torch.tensor(torch.finfo(dtype).max, dtype=torch.float64)).item():.1f}" in message
