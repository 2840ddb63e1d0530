"""The softmax in attention: scaled logits, their variance, entropy, soft-capping and the online softmax.

Taught in the chapter "The softmax in attention" (``book/attention-softmax.md``).

* :func:`random_queries_keys` draws queries and keys with independent standard-normal
  entries (seeded), the set-up of the variance argument: a dot product of two such vectors
  of length ``d`` has mean 0 and variance ``d``, so dividing by ``sqrt(d)`` brings it to 1.
  :func:`attention_logits` forms ``Q K^T`` with or without that division and
  :func:`logit_variance` measures it.
* :func:`softmax_entropy` (in nats) says how spread the attention weights are: ``log n`` for
  uniform weights over ``n`` keys, 0 for a one-hot row.
* :func:`softcap` is the logit soft-capping of Gemma 2: ``cap * tanh(logits / cap)``.
* :func:`online_softmax` and :func:`online_attention` read the logits block by block with a
  running maximum and a running sum, rescaling what was summed so far whenever the maximum
  grows (Milakov and Gimelshein, 2018): the single pass that fused attention kernels make.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def random_queries_keys(
    d: int, n_queries: int, n_keys: int, *, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[Tensor, Tensor]:
    """Queries ``(n_queries, d)`` and keys ``(n_keys, d)`` with independent N(0, 1) entries, from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    queries = torch.randn(n_queries, d, generator=generator, dtype=dtype)
    keys = torch.randn(n_keys, d, generator=generator, dtype=dtype)
    return queries, keys


def attention_logits(queries: Tensor, keys: Tensor, *, scaled: bool = True) -> Tensor:
    """``Q K^T``, divided by ``sqrt(d)`` (the head dimension, ``queries.shape[-1]``) when ``scaled``."""
    logits = queries @ keys.transpose(-2, -1)
    return logits / math.sqrt(queries.shape[-1]) if scaled else logits


def logit_variance(d: int, *, scaled: bool, n_queries: int = 64, n_keys: int = 64, seed: int = 0) -> float:
    """The variance of the attention logits of random unit-variance queries and keys of dimension ``d``.

    Every logit is one sample (``n_queries * n_keys`` of them, population variance). In
    expectation it is ``d`` unscaled and 1 scaled.
    """
    queries, keys = random_queries_keys(d, n_queries, n_keys, seed=seed)
    return float(attention_logits(queries, keys, scaled=scaled).var(unbiased=False))


def softmax_entropy(probabilities: Tensor, dim: int = -1) -> Tensor:
    """``-sum p log p`` along ``dim`` in nats, with ``0 log 0 = 0``."""
    return -torch.special.xlogy(probabilities, probabilities).sum(dim=dim)


def softcap(logits: Tensor, cap: float) -> Tensor:
    """``cap * tanh(logits / cap)``: near the identity for ``|logits|`` well below ``cap``, never beyond ``±cap``."""
    if cap <= 0:
        raise ValueError("the cap must be positive")
    return cap * torch.tanh(logits / cap)


def online_softmax(logits: Tensor, block: int = 4) -> Tensor:
    """Softmax along the last dimension, reading ``block`` logits at a time.

    One pass keeps, per row, the largest logit seen so far ``m`` and the
    sum ``ell`` of ``exp(logit - m)`` over the logits seen. When a block
    raises the maximum to ``m'``, the old sum is rescaled by
    ``exp(m - m')``. A second pass forms ``exp(logit - m) / ell``.
    """
    if block < 1:
        raise ValueError("block must be at least 1")
    rows = logits.shape[:-1]
    m = torch.full(rows, -math.inf, dtype=logits.dtype)
    ell = torch.zeros(rows, dtype=logits.dtype)
    for start in range(0, logits.shape[-1], block):
        chunk = logits[..., start : start + block]
        m_new = torch.maximum(m, chunk.amax(dim=-1))
        chunk_sum = torch.exp(chunk - m_new.unsqueeze(-1)).sum(dim=-1)
        ell = ell * torch.exp(m - m_new) + chunk_sum
        m = m_new
    return torch.exp(logits - m.unsqueeze(-1)) / ell.unsqueeze(-1)


def online_attention(
    queries: Tensor, keys: Tensor, values: Tensor, *, block: int = 4, scale: float | None = None
) -> Tensor:
    """``softmax(Q K^T * scale) V`` in one pass over blocks of keys, never holding a full row of weights.

    ``scale`` defaults to ``1 / sqrt(d)``. Per query the pass keeps the running maximum ``m``,
    the running sum ``l`` and the running weighted sum of values ``o``; a block that raises
    the maximum rescales ``l`` and ``o`` by ``exp(m - m')``. The output is ``o / l``.
    """
    if block < 1:
        raise ValueError("block must be at least 1")
    scale = 1 / math.sqrt(queries.shape[-1]) if scale is None else scale
    rows = queries.shape[:-1]
    running_max = torch.full(rows, -math.inf, dtype=queries.dtype)
    running_sum = torch.zeros(rows, dtype=queries.dtype)
    output = torch.zeros((*rows, values.shape[-1]), dtype=queries.dtype)
    for start in range(0, keys.shape[-2], block):
        scores = queries @ keys[..., start : start + block, :].transpose(-2, -1) * scale
        new_max = torch.maximum(running_max, scores.amax(dim=-1))
        rescale = torch.exp(running_max - new_max)
        weights = torch.exp(scores - new_max.unsqueeze(-1))
        running_sum = running_sum * rescale + weights.sum(dim=-1)
        output = output * rescale.unsqueeze(-1) + weights @ values[..., start : start + block, :]
        running_max = new_max
    return output / running_sum.unsqueeze(-1)
