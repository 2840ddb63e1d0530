"""Task ``online_softmax``: the running-max softmax that fused attention kernels compute.

The learner writes ``online_softmax(logits, block)``: one pass over blocks of ``block`` logits
keeping a running maximum and a running sum, rescaling the sum whenever the maximum grows
(Milakov and Gimelshein, 2018), then the probabilities; compared with
:func:`actgrader.reference.attention.online_softmax` and with ``torch.softmax``. The logits are
ordered so that the maximum grows from block to block: forgetting the rescaling, keeping only
the last block's maximum, or leaving the maximum out altogether (which overflows at logits near
1000) each gives its own wrong answer, named.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import attention as ref
from actgrader.tasks._draws import each_mistake_caught, redraw_until

TASK = Task(
    "online_softmax",
    "The online (running-max) softmax",
    answer="online_softmax",
    reference=ref.online_softmax,
    section="attention-softmax#sec-attn-online",
)

NO_RESCALE = (
    "When a block raises the running maximum from m to m', the sum of the earlier exponentials was taken "
    "relative to m: multiply it by exp(m - m') before adding the new block's terms."
)
NO_MAX = (
    "Without subtracting a running maximum, exp overflows for logits near 1000 (float32 holds exp(x) only up "
    "to x = 88). Keep the largest logit seen so far and exponentiate logit - max."
)
LAST_BLOCK_MAX = (
    "The final probabilities must use the maximum over the whole row (the running maximum after the last "
    "block), the same one the running sum is relative to."
)
OTHERWISE = "The probabilities differ from torch.softmax(logits, dim=-1)."


def _without_rescaling(logits: Tensor, block: int) -> Tensor:
    rows = logits.shape[:-1]
    m = torch.full(rows, -math.inf, dtype=logits.dtype)
    ell = torch.zeros(rows, dtype=logits.dtype)
    for start in range(0, logits.shape[-1], block):
        chunk = logits[..., start : start + block]
        m = torch.maximum(m, chunk.amax(dim=-1))
        ell = ell + torch.exp(chunk - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(logits - m.unsqueeze(-1)) / ell.unsqueeze(-1)


def _last_block_max(logits: Tensor, block: int) -> Tensor:
    """The right running sum, but the probabilities formed with the last block's own maximum."""
    last = logits[..., (logits.shape[-1] - 1) // block * block :].amax(dim=-1)
    m = logits.amax(dim=-1)
    ell = torch.exp(logits - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(logits - last.unsqueeze(-1)) / ell.unsqueeze(-1)


def _judge(answer: Answer, logits: Tensor, block: int) -> None:
    got = answer(logits, block)
    got_t = expect.tensor(got, name="the probabilities", shape=tuple(logits.shape))
    if not bool(torch.isfinite(got_t).all()) and bool(torch.isfinite(ref.online_softmax(logits, block)).all()):
        raise Mistake(NO_MAX)
    expect.close(
        got_t,
        ref.online_softmax(logits, block),
        name="the probabilities",
        rtol=1e-5 if logits.dtype == torch.float32 else 1e-10,
        atol=1e-7 if logits.dtype == torch.float32 else 1e-12,
        mistakes=[
            (NO_RESCALE, _without_rescaling(logits, block)),
            (LAST_BLOCK_MAX, _last_block_max(logits, block)),
            (NO_MAX, torch.exp(logits) / torch.exp(logits).sum(dim=-1, keepdim=True)),
        ],
        otherwise=OTHERWISE,
    )


def _rising(seed: int, rows: int, n: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """Logits whose maximum grows along the row (a trend plus noise), so every block raises it."""
    generator = torch.Generator().manual_seed(seed)
    trend = torch.linspace(-3, 3, n, dtype=dtype)
    return trend + torch.randn(rows, n, generator=generator, dtype=dtype)


@TASK.case(points=2)
def rising_maximum(answer: Answer, ctx: CaseContext) -> None:
    """three rows of 10 logits whose maximum grows block after block, blocks of 4 (float64)"""
    _judge(answer, _rising(ctx.small_seed(), 3, 10), 4)


@TASK.case(points=1)
def large_logits(answer: Answer, ctx: CaseContext) -> None:
    """float32 logits near 1000, blocks of 3"""
    _judge(answer, 1000 + _rising(ctx.small_seed(), 2, 9, torch.float32), 3)


@TASK.case(points=1)
def one_block(answer: Answer, ctx: CaseContext) -> None:
    """a block as long as the row, and blocks of 1"""
    logits = _rising(ctx.small_seed(), 2, 6)
    _judge(answer, logits, 6)
    _judge(answer, logits, 1)


@TASK.case(points=1, hidden=True)
def random_rows(answer: Answer, ctx: CaseContext) -> None:
    """random rows, lengths and block sizes"""
    rng = ctx.rng()
    # Redrawn from the same generator until forgetting the rescaling and the last block's maximum
    # are each wrong on one row at least: a block as long as the row, or a row whose maximum falls
    # in its last block, makes them right.
    draws = redraw_until(
        lambda: [_random_row(rng) for _ in range(3)],
        lambda drawn: each_mistake_caught((_without_rescaling, _last_block_max), drawn, _separates),
        case=ctx.label,
    )
    for logits, block in draws:
        _judge(answer, logits, block)


def _random_row(rng: np.random.Generator) -> tuple[Tensor, int]:
    """Rising rows of logits of random number, length and scale, and a block size up to the length."""
    n = int(rng.integers(2, 50))
    logits = _rising(int(rng.integers(2**31)), int(rng.integers(1, 5)), n) * float(rng.uniform(0.5, 20))
    return logits, int(rng.integers(1, n + 1))


def _separates(wrong: Callable[[Tensor, int], Tensor], draw: tuple[Tensor, int]) -> bool:
    """``wrong`` is off by ten times the tolerance of `_judge` (float64) somewhere on the logits and
    block of ``draw``."""
    logits, block = draw
    return not torch.allclose(wrong(logits, block), ref.online_softmax(logits, block), rtol=1e-9, atol=1e-11)
