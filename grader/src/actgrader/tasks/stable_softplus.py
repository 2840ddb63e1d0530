"""Task ``stable_softplus``: softplus ``log(1 + e^x)`` from scratch, finite and accurate for any input.

The learner writes ``softplus(x)``; it is compared with
:func:`actgrader.reference.formulas.softplus` on grids that reach ``±1e4`` in float32 and
float64, and on the left tail, where softplus is about ``e^x``: tiny, but not 0.
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
    judge,
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


def _known(x: Tensor) -> list[Known]:
    return [
        (
            (
                f"log(1 + e^x) overflows to inf once e^x does ({OVERFLOW_TEXT}), "
                "although softplus(x) is then simply about x. Write it as max(x, 0) + log1p(e^-|x|)."
            ),
            torch.log1p(torch.exp(x)),
        ),
        (
            (
                "x + log1p(e^-x) is the form for x >= 0; for very negative x, e^-x overflows. "
                "Use max(x, 0) + log1p(e^-|x|), which works on both sides."
            ),
            x + torch.log1p(torch.exp(-x)),
        ),
        (
            "log1p(e^-|x|) alone is softplus only for x <= 0: for positive x add max(x, 0).",
            torch.log1p(torch.exp(-x.abs())),
        ),
        (
            (
                "log(1 + e^x) rounds 1 + e^x to 1 for very negative x and returns 0 instead of about e^x "
                f"(x = -40 gives 0 instead of {_AT_MINUS_40:.2e}). Use log1p(u), which computes log(1 + u) without "
                "forming 1 + u."
            ),
            ref.relu(x) + torch.log(1 + torch.exp(-x.abs())),
        ),
    ]


def _judge(answer: Answer, x: Tensor, tolerance: dict[torch.dtype, Tolerance]) -> None:
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


add_elementwise_cases(TASK, _judge, left_tail_title="the left tail is about e^x, not 0 (x down to -80 and -700)")
