"""Attention's softmax as the head dimension grows: entropy, slope, and keys that share the query's direction.

Taught in the chapter "The softmax in attention" (``book/attention-softmax.md``).

:func:`softmax_statistics` measures, for random unit-variance queries and keys, the mean
entropy of the attention rows and the mean Frobenius norm of each row's softmax Jacobian
(how much a change of the logits moves the weights), with and without the division by
``sqrt(d)``. :func:`correlated_queries_keys` draws keys that each carry a random multiple of
their query (``k = c q + sqrt(1 - rho^2) noise``, ``c ~ N(0, rho^2)``): then a scaled logit is
about ``c sqrt(d)``, and its variance grows like ``1 + rho^2 d`` in spite of the scaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from actgrader.reference.attention import attention_logits, random_queries_keys, softmax_entropy
from actgrader.reference.formulas import softmax, softmax_jacobian


@dataclass(frozen=True)
class SoftmaxStatistics:
    """Averages over the rows of one attention matrix."""

    d: int
    scaled: bool
    logit_std: float
    entropy: float
    largest_weight: float
    jacobian_norm: float
    median_jacobian_norm: float


def row_statistics(logits: Tensor, d: int, scaled: bool) -> SoftmaxStatistics:
    """Entropy (nats), largest weight and Jacobian norm of ``softmax(logits)``, averaged over rows.

    The Jacobian norm is reported as a mean and a median over rows: a few rows whose two
    largest logits nearly tie keep a large slope and hold the mean up.
    """
    weights = softmax(logits, dim=-1)
    norms = torch.linalg.matrix_norm(softmax_jacobian(logits))
    return SoftmaxStatistics(
        d=d,
        scaled=scaled,
        logit_std=float(logits.std()),
        entropy=float(softmax_entropy(weights).mean()),
        largest_weight=float(weights.amax(dim=-1).mean()),
        jacobian_norm=float(norms.mean()),
        median_jacobian_norm=float(norms.median()),
    )


def softmax_statistics(
    d: int, *, scaled: bool, n_queries: int = 64, n_keys: int = 64, seed: int = 0
) -> SoftmaxStatistics:
    """:func:`row_statistics` of the attention logits of independent N(0, 1) queries and keys."""
    queries, keys = random_queries_keys(d, n_queries, n_keys, seed=seed)
    return row_statistics(attention_logits(queries, keys, scaled=scaled), d, scaled)


def correlated_queries_keys(
    d: int, rho: float, *, n_queries: int = 64, n_keys: int = 64, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Queries ``(n_queries, d)`` and, per query, keys ``(n_queries, n_keys, d)`` that carry ``c`` times it.

    ``c ~ N(0, rho^2)`` for each key, plus independent noise of variance ``1 - rho^2``, so a
    key's entries still have variance about 1.
    """
    generator = torch.Generator().manual_seed(seed)
    queries = torch.randn(n_queries, d, generator=generator, dtype=torch.float64)
    shares = rho * torch.randn(n_queries, n_keys, 1, generator=generator, dtype=torch.float64)
    noise = torch.randn(n_queries, n_keys, d, generator=generator, dtype=torch.float64)
    keys = shares * queries.unsqueeze(1) + math.sqrt(1 - rho**2) * noise
    return queries, keys


def correlated_logits(queries: Tensor, keys: Tensor) -> Tensor:
    """Scaled logits ``q . k / sqrt(d)`` of each query against its own keys, ``(n_queries, n_keys)``."""
    return torch.einsum("qd,qkd->qk", queries, keys) / math.sqrt(queries.shape[-1])
