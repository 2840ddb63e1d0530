"""Task ``stable_sigmoid``: the logistic sigmoid from scratch, finite and accurate for any input.

The learner writes ``sigmoid(x)``; it is compared with
:func:`actgrader.reference.formulas.sigmoid` on grids that reach ``±1e4`` (past the point
where ``e^x`` overflows) in float32 and float64, and on the left tail, where the value is tiny
but every digit counts. As the chapter says, stable means the slope too: on every input, the
slope autograd sends back through the learner's function is compared with
:func:`~actgrader.reference.formulas.d_sigmoid`, so that ``1 / (1 + e^-x)`` (right values,
NaN slopes at very negative x) and a ``torch.where`` whose unselected branch overflows are named.
"""

from __future__ import annotations

import torch
from torch import Tensor

from actgrader.grading import Task
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.reference import naive
from actgrader.tasks._stability import (
    OVERFLOW_TEXT,
    Known,
    Tolerance,
    add_elementwise_cases,
    at_x,
    elementwise_slope,
    judge,
    judge_elementwise_slopes,
)

TASK = Task(
    "stable_sigmoid",
    "The sigmoid, stable for any input",
    answer="sigmoid",
    reference=ref.sigmoid,
    section="sigmoid#sec-sigmoid-stability",
)

_AT_MINUS_20 = ref.sigmoid(torch.tensor(-20.0, dtype=torch.float64)).item()

CANCELS = (
    "(1 + tanh(x/2)) / 2 and 1 - sigma(-x) are the sigmoid on paper, but in the left tail they add to or "
    "subtract from numbers within rounding of 1 and cancel to 0 (x = -20 gives 0 instead of "
    f"{_AT_MINUS_20:.2e}). Compute e^x / (1 + e^x) for x < 0."
)
NOT_FINITE = (
    "Never exponentiate a large positive number: use 1 / (1 + e^-x) where x >= 0 and "
    "e^x / (1 + e^x) where x < 0, so the exponent is never positive."
)


RATIO_NAN = (
    f"e^x / (1 + e^x) computes inf / inf = NaN once e^x overflows ({OVERFLOW_TEXT}). "
    "Use 1 / (1 + e^-x) for x >= 0 and keep e^x / (1 + e^x) for x < 0: then "
    "only non-positive numbers are exponentiated."
)
MIRRORED = "Your function computes sigma(-x) = 1 / (1 + e^x): the sigmoid rises from 0 at -inf to 1 at +inf."


def _known(x: Tensor) -> list[Known]:
    return [
        (RATIO_NAN, naive.naive_sigmoid_ratio(x)),
        (MIRRORED, ref.sigmoid(-x), "sigmoid#sec-sigmoid-definition"),
        (CANCELS, 0.5 * (1 + torch.tanh(x / 2))),
        (CANCELS, 1 - ref.sigmoid(-x)),
    ]


NAIVE_SLOPE = (
    "1 / (1 + e^-x) gives the right values but not the right slope, which is what training uses: at very "
    "negative x, e^-x is inf, and the backward pass multiplies the slope of 1/u at u = inf (0) by the slope "
    "of e^-x (inf), and 0 * inf is NaN (a little less far out, (1 + e^-x)^2 overflows and the slope comes "
    "back 0). One such unit poisons every gradient upstream of it. Use e^x / (1 + e^x) for x < 0, so that "
    "no exponent is positive."
)
UNSELECTED_BRANCH = (
    "Your torch.where picks the right formula for each x, but autograd differentiates both branches "
    "everywhere: where the branch that is not selected exponentiates a large positive number, its slope is "
    "inf or NaN, and 0 * inf = NaN comes back through torch.where. Give each branch an input clamped to its "
    "own half of the line (x.clamp(max=0) in the x < 0 branch, x.clamp(min=0) in the other), or compute "
    "through e^-|x|."
)
SLOPE_NOT_FINITE = (
    "A slope that is NaN or inf poisons every gradient upstream of the unit. Either a formula exponentiates a "
    "large positive number (1 / (1 + e^-x) at very negative x), or a torch.where's unselected branch does: "
    "never exponentiate a positive number, in either branch."
)
SLOPE_OTHERWISE = (
    "The slope of the sigmoid is sigma(x) (1 - sigma(x)); in the left tail it is about e^x, tiny but not 0. "
    "Compute through e^x / (1 + e^x) for x < 0, where autograd keeps its digits."
)


def _unclamped_where(x: Tensor) -> Tensor:
    return torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))


def _judge(answer: Answer, x: Tensor, tolerance: dict[torch.dtype, Tolerance]) -> None:
    """Values, then the slopes autograd sends back, on ``x``."""
    _judge_values(answer, x, tolerance)
    judge_elementwise_slopes(
        answer,
        x,
        ref.d_sigmoid(x),
        call="sigmoid(x)",
        tolerance=tolerance,
        known=[
            (NAIVE_SLOPE, elementwise_slope(naive.naive_sigmoid, x)),
            (UNSELECTED_BRANCH, elementwise_slope(_unclamped_where, x)),
        ],
        not_finite=SLOPE_NOT_FINITE,
        otherwise=SLOPE_OTHERWISE,
    )


def _judge_values(answer: Answer, x: Tensor, tolerance: dict[torch.dtype, Tolerance]) -> None:
    judge(
        answer(x),
        ref.sigmoid(x),
        name="sigmoid(x)",
        tolerance=tolerance,
        describe=at_x(x),
        known=_known(x),
        not_finite=NOT_FINITE,
        otherwise=(
            "Check the formula 1 / (1 + e^-x) on each side of 0; in the left tail, avoid adding to or "
            "subtracting from numbers close to 1."
        ),
    )


add_elementwise_cases(
    TASK, _judge, left_tail_title="the left tail keeps its digits, in values and slopes (x down to -80 and -700)"
)
