"""Task ``attention_logits``: scaled dot-product attention logits, and why they are scaled.

The learner writes ``attention_logits(queries, keys)`` returning ``Q K^T / sqrt(d)``, compared
with :func:`actgrader.reference.attention.attention_logits`. The number of queries, of keys and
the head dimension all differ, so that dividing by the wrong one of them, leaving the scale out
or multiplying by it, and transposing the wrong factor are each recognised. A last case checks
the property the scale is for: logits of unit variance for random unit-variance queries and keys.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import attention as ref

TASK = Task(
    "attention_logits",
    "Scaled attention logits",
    answer="attention_logits",
    reference=ref.attention_logits,
    section="attention-softmax#sec-attn-variance",
)

UNSCALED = (
    "The logits are not scaled: Q K^T has variance d for unit-variance queries and keys, which saturates the "
    "softmax. Divide by sqrt(d), d = queries.shape[-1]."
)
BY_D = "The logits were divided by d; the dot product's standard deviation is sqrt(d), so divide by sqrt(d)."
TIMES = "The logits were multiplied by sqrt(d); divide by it instead."
BY_KEYS = "The scale is the head dimension d = queries.shape[-1], not the number of keys: divide by sqrt(d)."
BY_QUERIES = "The scale is the head dimension d = queries.shape[-1], not the number of queries: divide by sqrt(d)."
TRANSPOSED = (
    "The result is transposed: row i must hold query i's logits against every key, Q K^T, of shape (queries, keys)."
)
TRANSPOSE_MISSING = (
    "Queries (n_q, d) and keys (n_k, d) both keep the head dimension last: multiply Q by the transpose of K, "
    "queries @ keys.transpose(-2, -1)."
)


def _mistakes(queries: Tensor, keys: Tensor) -> list[tuple[str, Tensor]]:
    d = queries.shape[-1]
    raw = queries @ keys.transpose(-2, -1)
    return [
        (UNSCALED, raw),
        (BY_D, raw / d),
        (TIMES, raw * math.sqrt(d)),
        (BY_KEYS, raw / math.sqrt(keys.shape[-2])),
        (BY_QUERIES, raw / math.sqrt(queries.shape[-2])),
        (TRANSPOSED, raw.transpose(-2, -1) / math.sqrt(d)),
    ]


def _judge(answer: Answer, queries: Tensor, keys: Tensor) -> Tensor:
    d = queries.shape[-1]
    known = [
        (expect.failed_matmul((tuple(queries.shape), tuple(keys.shape))), TRANSPOSE_MISSING),
        (expect.failed_matmul((tuple(keys.shape), tuple(queries.shape))), TRANSPOSE_MISSING),
    ]
    with expect.known_errors(known):
        got = answer(queries, keys)
    return expect.close(
        got,
        ref.attention_logits(queries, keys),
        name="the logits",
        rtol=1e-9 if queries.dtype == torch.float64 else 1e-5,
        atol=1e-9 if queries.dtype == torch.float64 else 1e-5,
        mistakes=_mistakes(queries, keys),
        otherwise=f"The logits are not Q K^T / sqrt(d) (here d = {d}).",
    )


@TASK.case(points=2)
def one_head(answer: Answer, ctx: CaseContext) -> None:
    """five queries and seven keys of dimension 16 (float64)"""
    _judge(answer, *ref.random_queries_keys(16, 5, 7, seed=ctx.small_seed()))


@TASK.case(points=1)
def unit_variance(answer: Answer, ctx: CaseContext) -> None:
    """d = 256: the logits of random unit-variance queries and keys have variance about 1"""
    queries, keys = ref.random_queries_keys(256, 64, 64, seed=ctx.small_seed())
    got = _judge(answer, queries, keys)
    variance = float(got.var(unbiased=False))
    expect.true(0.8 < variance < 1.25, f"Your logits have variance {variance:.3g}; scaled, they should be near 1.")


@TASK.case(points=1, hidden=True)
def random_heads(answer: Answer, ctx: CaseContext) -> None:
    """random head dimensions, batches of heads"""
    rng = ctx.rng()
    for _ in range(3):
        d, n_q, n_k = (int(n) for n in rng.integers(2, 40, size=3))
        # a head dimension other than the numbers of queries and keys: dividing by the square root
        # of either would otherwise be right by an accident of the draw
        while d in (n_q, n_k):
            d, n_q, n_k = (int(n) for n in rng.integers(2, 40, size=3))
        queries, keys = ref.random_queries_keys(d, n_q, n_k, seed=int(rng.integers(2**31)))
        heads = int(rng.integers(1, 4))
        _judge(answer, queries.expand(heads, n_q, d).clone(), keys.expand(heads, n_k, d).clone())
