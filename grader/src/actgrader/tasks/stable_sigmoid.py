"""Task ``stable_sigmoid``: the logistic sigmoid from scratch, finite and accurate for any input.

The learner writes ``sigmoid(x)``; it is compared with
:func:`actgrader.reference.activations.sigmoid` on grids that reach ``±1e4`` (past the point
where ``e^x`` overflows) in float32 and float64, and on the left tail, where the value is tiny
but every digit counts.
"""

from __future__ import annotations

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task
from actgrader.grading.answer import Answer
from actgrader.reference import activations as ref
from actgrader.tasks._stability import (
    LEFT_TAIL,
    LOOSE,
    OVERFLOW_TEXT,
    RELATIVE,
    Known,
    Tolerance,
    at_x,
    grid,
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
            ref.naive_sigmoid_ratio(x),
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


@TASK.case(points=1)
def float32_grid(answer: Answer, ctx: CaseContext) -> None:
    """float32 inputs from -1e4 to 1e4"""
    _judge(answer, grid(torch.float32), LOOSE)


@TASK.case(points=1)
def float64_grid_and_batch(answer: Answer, ctx: CaseContext) -> None:
    """float64 inputs from -1e4 to 1e4, and a 2-D batch"""
    _judge(answer, grid(torch.float64), LOOSE)
    gen = torch.Generator().manual_seed(ctx.small_seed())
    _judge(answer, 30 * torch.randn(4, 5, generator=gen), LOOSE)


@TASK.case(points=1)
def left_tail(answer: Answer, ctx: CaseContext) -> None:
    """the left tail keeps its digits (x down to -80 and -700)"""
    for dtype, points in LEFT_TAIL.items():
        _judge(answer, torch.tensor(points, dtype=dtype), RELATIVE)


@TASK.case(points=1, hidden=True)
def random_tensors(answer: Answer, ctx: CaseContext) -> None:
    """tensors of random shape, scale and dtype"""
    rng = ctx.rng()
    for _ in range(3):
        shape = tuple(int(n) for n in rng.integers(1, 7, size=int(rng.integers(1, 4))))
        dtype = (torch.float32, torch.float64)[int(rng.integers(2))]
        scale = float(10 ** rng.uniform(-1, 4))
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        _judge(answer, scale * torch.randn(shape, generator=gen, dtype=dtype), LOOSE)


@TASK.case(points=1, hidden=True)
def random_tails(answer: Answer, ctx: CaseContext) -> None:
    """random points in the left tail"""
    rng = ctx.rng()
    for dtype, points in LEFT_TAIL.items():
        low = min(points)
        x = torch.tensor(rng.uniform(low, -10.0, size=8), dtype=dtype)
        _judge(answer, x, RELATIVE)
