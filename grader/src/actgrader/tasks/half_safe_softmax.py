"""Task ``half_safe_softmax``: a softmax that is right in float16.

The learner writes ``softmax_half(logits, dim)`` for float16 logits, compared with
:func:`actgrader.reference.precision.half_safe_softmax`. The public cases are where the naive
forms fail in float16: logits above about 11 (``exp`` overflows past 65504), and long rows
whose sum, added up term by term in float16, stops growing at 2048 (float16 then counts in
steps of 2). Values are compared to float16's precision (a few units in the last place: the
same softmax computed in float16 with PyTorch's sum, which accumulates in float32, passes). The result
must come back in float16, the dtype autocast would hand on to the next layer.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import precision as ref
from actgrader.tasks._draws import each_mistake_caught, redraw_until

TASK = Task(
    "half_safe_softmax",
    "A softmax that is right in float16",
    answer="softmax_half",
    reference=ref.half_safe_softmax,
    section="low-precision#sec-lp-softmax",
)

NAIVE = (
    "exp(logits) in float16 overflows to inf once a logit passes about 11 (float16's largest value is 65504), "
    "and inf / inf is NaN. Subtract each row's largest logit first, so that no exponential exceeds 1."
)
SUMMED_IN_HALF = (
    "The exponentials were added up one by one in float16. Above 2048 float16 counts in steps of 2, so a long "
    "row's running sum stops growing and every probability comes out too large. Form the exponentials and "
    "their sum in float32 (torch.sum does it in one call), then return the probabilities in float16."
)
WRONG_DTYPE = (
    "Return the probabilities in the logits' dtype (float16), as autocast would: compute in float32, "
    "then .to(logits.dtype)."
)
WRONG_DIM = "The softmax ran along the wrong dimension: use the `dim` argument for the maximum and the sum."


def _sequential_half_sum(logits: Tensor, dim: int) -> Tensor:
    """The row's sum accumulated term by term in float16 (as a Python loop over a row does)."""
    exps = torch.exp(logits - logits.amax(dim=dim, keepdim=True))
    total = torch.zeros_like(exps.select(dim, 0))
    for i in range(exps.shape[dim]):
        total = total + exps.select(dim, i)
    return exps / total.unsqueeze(dim)


def _judge(answer: Answer, logits: Tensor, dim: int) -> None:
    got = answer(logits, dim)
    want = ref.half_safe_softmax(logits, dim)
    mistakes = _mistakes(logits, dim)
    got_t = expect.tensor(got, name="the probabilities", shape=tuple(logits.shape))
    if bool(torch.isnan(got_t).any()) or bool(torch.isinf(got_t).any()):
        raise Mistake(NAIVE)
    expect.close(
        got_t.float(),
        want.float(),
        name="the probabilities",
        rtol=4e-3,
        atol=1e-5,
        mistakes=[(message, wrong.float()) for message, wrong in mistakes],
        otherwise="The probabilities differ from the softmax of the logits (each row: exp(x - max) / sum).",
    )
    if got_t.dtype != logits.dtype:
        raise Mistake(WRONG_DTYPE)


def _logits(seed: int, shape: tuple[int, ...], spread: float, offset: float) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (offset + spread * torch.randn(*shape, generator=generator)).to(torch.float16)


@TASK.case(points=2)
def large_logits(answer: Answer, ctx: CaseContext) -> None:
    """float16 logits around 20 (exp overflows in float16), 4 rows of 10"""
    _judge(answer, _logits(ctx.small_seed(), (4, 10), 3.0, 20.0), -1)


@TASK.case(points=1)
def long_rows(answer: Answer, ctx: CaseContext) -> None:
    """two rows of 8192 nearly equal float16 logits (the sum passes 2048)"""
    _judge(answer, _logits(ctx.small_seed(), (2, 8192), 0.01, 0.0), -1)


@TASK.case(points=1)
def along_dim(answer: Answer, ctx: CaseContext) -> None:
    """the `dim` argument: columns of a (6, 5) batch of logits around 15"""
    _judge(answer, _logits(ctx.small_seed(), (6, 5), 2.0, 15.0), 0)


@TASK.case(points=1, hidden=True)
def random_rows(answer: Answer, ctx: CaseContext) -> None:
    """random shapes, scales and offsets"""
    rng = ctx.rng()
    # Redrawn from the same generator until each known mistake is wrong on one draw at least:
    # short rows or small sums let a sum accumulated in float16 pass, one row or equal rows the
    # wrong dimension (or a dimension fixed in the code), low offsets the naive exponentials.
    draws = redraw_until(
        lambda: [_random_logits(rng) for _ in range(3)],
        lambda drawn: each_mistake_caught(range(5), drawn, _separates),
        case=ctx.label,
    )
    for logits, dim in draws:
        _judge(answer, logits, dim)


def _random_logits(rng: np.random.Generator) -> tuple[Tensor, int]:
    """A batch of logits of random shape, spread and offset, and the dim (0 or -1) to take the softmax along."""
    shape = (int(rng.integers(1, 6)), int(rng.integers(2, 3000)))
    dim = int(rng.choice([0, -1]))
    spread, offset = float(rng.uniform(0.01, 4)), float(rng.uniform(-30, 30))
    return _logits(int(rng.integers(2**31)), shape, spread, offset), dim


def _mistakes(logits: Tensor, dim: int) -> list[tuple[str, Tensor]]:
    other_dim = 0 if dim in (-1, logits.dim() - 1) else -1
    return [
        (NAIVE, torch.exp(logits) / torch.exp(logits).sum(dim=dim, keepdim=True)),
        (SUMMED_IN_HALF, _sequential_half_sum(logits, dim)),
        (WRONG_DIM, ref.half_safe_softmax(logits, other_dim)),
    ]


def _separates(k: int, draw: tuple[Tensor, int]) -> bool:
    """The ``k``-th known mistake (then a softmax along dim 0 or -1 whatever `dim` is asked for) is off by
    twice the tolerance of `_judge` somewhere (or not finite) on the logits and dim of ``draw``."""
    logits, dim = draw
    fixed = [ref.half_safe_softmax(logits, 0), ref.half_safe_softmax(logits, -1)]
    wrong = [m for _, m in _mistakes(logits, dim)] + fixed
    wrong = wrong[k].float()
    return not torch.allclose(wrong, ref.half_safe_softmax(logits, dim).float(), rtol=8e-3, atol=2e-5)
