"""Task ``stable_sigmoid``: the logistic sigmoid from scratch, finite and accurate for any input.

The learner writes ``sigmoid(x)``; it is compared with
:func:`actgrader.reference.formulas.sigmoid` on grids that reach ``±1e4`` (past the point
where ``e^x`` overflows) in float32 and float64, and on the left tail, where the value is tiny
but every digit counts.
"""

from __future__ import annotations

import torch
from torch import Tensor

from actgrader.grading import Task
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.reference.naive import naive_sigmoid_ratio
from actgrader.tasks._stability import (
    OVERFLOW_TEXT,
    Known,
    Tolerance,
    add_elementwise_cases,
    at_x,
    judge,
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


def _known(x: Tensor) -> list[Known]:
    return [
        (
            (
                f"e^x / (1 + e^x) computes inf / inf = NaN once e^x overflows ({OVERFLOW_TEXT}). "
                "Use 1 / (1 + e^-x) for x >= 0 and keep e^x / (1 + e^x) for x < 0: then "
                "only non-positive numbers are exponentiated."
            ),
            naive_sigmoid_ratio(x),
        ),
        (
            "Your function computes sigma(-x) = 1 / (1 + e^x): the sigmoid rises from 0 at -inf to 1 at +inf.",
            ref.sigmoid(-x),
            "sigmoid#sec-sigmoid-definition",
        ),
        (CANCELS, 0.5 * (1 + torch.tanh(x / 2))),
        (CANCELS, 1 - ref.sigmoid(-x)),
    ]


def _judge(answer: Answer, x: Tensor, tolerance: dict[torch.dtype, Tolerance]) -> None:
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


add_elementwise_cases(TASK, _judge, left_tail_title="the left tail keeps its digits (x down to -80 and -700)")
