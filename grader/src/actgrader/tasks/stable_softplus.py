"""Task ``stable_softplus``: softplus ``log(1 + e^x)`` from scratch, finite and accurate for any input.

The learner writes ``softplus(x)``; it is compared with
:func:`actgrader.reference.formulas.softplus` on grids that reach ``±1e4`` in float32 and
float64, and on the left tail, where softplus is about ``e^x``: tiny, but not 0. Stable means
the slope too: on every input, the slope autograd sends back through the learner's function is
compared with :func:`~actgrader.reference.formulas.d_softplus` (the sigmoid), so that a
``torch.where`` whose unselected branch overflows (right values, NaN slopes) is named.
"""

from __future__ import annotations

import torch
from torch import Tensor

from actgrader.grading import Task
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.tasks._stability import (
    OVERFLOW_TEXT,
    Known,
    Tolerance,
    add_elementwise_cases,
    at_x,
    elementwise_slope,
    judge,
    judge_elementwise_slopes,
    softplus_slope_tolerance,
)

TASK = Task(
    "stable_softplus",
    "Softplus, stable for any input",
    answer="softplus",
    reference=ref.softplus,
    section="softsign-softplus#sec-softplus-stability",
)

_AT_MINUS_40 = ref.softplus(torch.tensor(-40.0, dtype=torch.float64)).item()

NOT_FINITE = (
    "Never exponentiate a large positive number: softplus(x) = max(x, 0) + log1p(e^-|x|), "
    "whose exponent is never positive."
)


OVERFLOWS = (
    f"log(1 + e^x) overflows to inf once e^x does ({OVERFLOW_TEXT}), "
    "although softplus(x) is then simply about x. Write it as max(x, 0) + log1p(e^-|x|)."
)
POSITIVE_FORM = (
    "x + log1p(e^-x) is the form for x >= 0; for very negative x, e^-x overflows. "
    "Use max(x, 0) + log1p(e^-|x|), which works on both sides."
)
MISSING_MAX = "log1p(e^-|x|) alone is softplus only for x <= 0: for positive x add max(x, 0)."
LOG_NOT_LOG1P = (
    "log(1 + e^x) rounds 1 + e^x to 1 for very negative x and returns 0 instead of about e^x "
    f"(x = -40 gives 0 instead of {_AT_MINUS_40:.2e}). Use log1p(u), which computes log(1 + u) without "
    "forming 1 + u."
)


def _known(x: Tensor) -> list[Known]:
    return [
        (OVERFLOWS, torch.log1p(torch.exp(x))),
        (POSITIVE_FORM, x + torch.log1p(torch.exp(-x))),
        (MISSING_MAX, torch.log1p(torch.exp(-x.abs()))),
        (LOG_NOT_LOG1P, ref.relu(x) + torch.log(1 + torch.exp(-x.abs()))),
    ]


UNSELECTED_BRANCH = (
    "Your torch.where picks the right formula for each x, but autograd differentiates both branches "
    "everywhere: where the branch that is not selected computes e^x for a large x, its slope is inf / inf = "
    "NaN, and NaN comes back through torch.where (0 * NaN is NaN). Give each branch an input clamped to its own "
    "half of the line (x.clamp(max=0) in the x < 0 branch, x.clamp(min=0) in the other), or write "
    "max(x, 0) + log1p(e^-|x|), whose exponent is never positive."
)
SLOPE_NOT_FINITE = (
    "A slope that is NaN or inf poisons every gradient upstream of the unit. Never exponentiate a large "
    "positive number, in either branch of a torch.where: max(x, 0) + log1p(e^-|x|) has slope sigma(x) everywhere."
)
SLOPE_OTHERWISE = (
    "The slope of softplus is the sigmoid, sigma(x); in the left tail it is about e^x, tiny but not 0. "
    "max(x, 0) + log1p(e^-|x|) gives autograd that slope on both sides."
)


def _threshold_form(x: Tensor) -> Tensor:
    """PyTorch's shortcut (x itself above 20) typed with a torch.where whose other branch is log(1 + e^x)."""
    return torch.where(x > 20, x, torch.log1p(torch.exp(x)))


def _unclamped_where(x: Tensor) -> Tensor:
    return torch.where(x > 0, x + torch.log1p(torch.exp(-x)), torch.log1p(torch.exp(x)))


def _judge(answer: Answer, x: Tensor, tolerance: dict[torch.dtype, Tolerance]) -> None:
    """Values, then the slopes autograd sends back, on ``x``."""
    _judge_values(answer, x, tolerance)
    judge_elementwise_slopes(
        answer,
        x,
        ref.d_softplus(x),
        call="softplus(x)",
        tolerance=softplus_slope_tolerance(tolerance),
        known=[
            (UNSELECTED_BRANCH, elementwise_slope(_unclamped_where, x)),
            (UNSELECTED_BRANCH, elementwise_slope(_threshold_form, x)),
        ],
        not_finite=SLOPE_NOT_FINITE,
        otherwise=SLOPE_OTHERWISE,
    )


def _judge_values(answer: Answer, x: Tensor, tolerance: dict[torch.dtype, Tolerance]) -> None:
    judge(
        answer(x),
        ref.softplus(x),
        name="softplus(x)",
        tolerance=tolerance,
        describe=at_x(x),
        known=_known(x),
        not_finite=NOT_FINITE,
        otherwise="Check the formula log(1 + e^x) = max(x, 0) + log1p(e^-|x|) on each side of 0.",
    )


add_elementwise_cases(
    TASK, _judge, left_tail_title="the left tail is about e^x, not 0, and so is its slope (x down to -80 and -700)"
)
