"""The textbook formulas of the activations typed as they read, kept to be shown failing.

Taught in the chapters "The sigmoid" (``book/sigmoid.md``), "tanh and its scaled forms"
(``book/tanh.md``), "ReLU, Leaky ReLU and ELU" (``book/relu-family.md``), "GELU and SiLU"
(``book/gelu-silu.md``), "Softmax" (``book/softmax.md``) and "Softsign and softplus"
(``book/softsign-softplus.md``); the stability tasks recognise a learner's answer that is one
of them.

Each ``naive_<name>`` gives ``inf``, ``nan`` or lost digits at large ``|x|`` where the stable
form of :mod:`actgrader.reference.formulas` does not. Never use them.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from actgrader.reference.formulas import softmax

_SQRT_2 = math.sqrt(2.0)


def naive_sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))`` as typed. Its values survive, but its *gradient* is ``nan`` at very negative ``x``."""
    return 1 / (1 + torch.exp(-x))


def naive_sigmoid_ratio(x: Tensor) -> Tensor:
    """``exp(x) / (1 + exp(x))`` as typed: ``inf / inf = nan`` at large positive ``x``."""
    e = torch.exp(x)
    return e / (1 + e)


def naive_tanh(x: Tensor) -> Tensor:
    """``(e^x - e^-x) / (e^x + e^-x)`` as typed: ``nan`` as soon as ``e^|x|`` overflows."""
    a, b = torch.exp(x), torch.exp(-x)
    return (a - b) / (a + b)


def naive_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``exp(x) / sum exp(x)`` without the shift: ``nan`` for logits near 1000 (``e^1000`` is ``inf``)."""
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def naive_log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``log(softmax(x))`` with the *stable* softmax: still ``-inf`` once a probability underflows to 0."""
    return torch.log(softmax(x, dim=dim))


def naive_softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` as typed: ``inf`` at large ``x``, and 0 instead of ``e^x`` for ``x`` below about -37."""
    return torch.log(1 + torch.exp(x))


def naive_elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``where(x > 0, x, alpha (exp(x) - 1))``: right values, ``nan`` gradient at large positive ``x``.

    The unselected branch ``exp(x)`` overflows; autograd multiplies its ``inf`` slope by the
    zero it receives from ``torch.where``, and ``0 * inf`` is ``nan``.
    """
    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


def naive_gelu(x: Tensor) -> Tensor:
    """``x (1 + erf(x / sqrt 2)) / 2``: ``1 + erf`` cancels to 0 in the left tail, losing every digit."""
    return 0.5 * x * (1 + torch.erf(x / _SQRT_2))


def naive_silu(x: Tensor) -> Tensor:
    """``x / (1 + exp(-x))`` as typed: ``nan`` gradient at very negative ``x``."""
    return x / (1 + torch.exp(-x))
