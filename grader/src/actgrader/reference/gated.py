"""Gated linear units and the gated feed-forward block of today's transformers.

Taught in the chapter "Gated linear units" (``book/gated-units.md``).

A gated linear unit multiplies two linear projections of the same input, one of them passed
through an activation (the *gate*): ``f(x W_gate^T) * (x W_value^T)``. The family is named
after the gate's activation (Dauphin et al., 2017; Shazeer, 2020):

=========  ======================  =================================
variant    gate activation ``f``   used in
=========  ======================  =================================
GLU        sigmoid                 gated convolutional language model
bilinear   identity                (no activation at all)
ReGLU      ReLU
GeGLU      GELU                    Gemma
SwiGLU     SiLU (Swish-1)          PaLM, LLaMA
=========  ======================  =================================

In a transformer's feed-forward block the unit replaces the first layer's activation: the
block ``W_out f(W_in x)`` (two matrices, hidden width ``4 d``) becomes
``W_out (f(W_gate x) * W_value x)`` (three matrices). Keeping the parameter count means a
hidden width of two thirds of ``4 d``: :func:`matched_hidden_width`.

Weights follow ``nn.Linear``'s convention: ``w_gate`` and ``w_value`` have shape
``(hidden, d)``, ``w_out`` shape ``(d, hidden)``; the blocks have no biases (as in PaLM and
LLaMA).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GATES: dict[str, Callable[[Tensor], Tensor]] = {
    "glu": torch.sigmoid,
    "bilinear": lambda z: z,
    "reglu": torch.relu,
    "geglu": F.gelu,
    "swiglu": F.silu,
}
"""The gate's activation for each variant of the gated linear unit."""

UNGATED: dict[str, Callable[[Tensor], Tensor]] = {"relu": torch.relu, "gelu": F.gelu}
"""The activations of the two-matrix (ungated) feed-forward blocks the variants are compared with."""


def gated_unit(gate_input: Tensor, value: Tensor, variant: str = "swiglu") -> Tensor:
    """``f(gate_input) * value`` with the gate activation ``f`` of ``variant`` (see :data:`GATES`)."""
    try:
        gate = GATES[variant]
    except KeyError:
        raise ValueError(f"unknown gated variant {variant!r}; choose from {sorted(GATES)}") from None
    return gate(gate_input) * value


def swiglu_feed_forward(
    x: Tensor,
    w_gate: Tensor,
    w_value: Tensor,
    w_out: Tensor,
) -> Tensor:
    """The SwiGLU block: ``(silu(x W_gate^T) * (x W_value^T)) W_out^T``.

    ``x`` has shape ``(..., d)``, ``w_gate`` and ``w_value`` shape
    ``(hidden, d)``, ``w_out`` shape ``(d, hidden)``, as in ``nn.Linear``.
    """
    return (F.silu(x @ w_gate.T) * (x @ w_value.T)) @ w_out.T


def matched_hidden_width(
    d: int,
    expansion: int = 4,
    multiple_of: int = 1,
) -> int:
    """A gated block's hidden width with the weights of an ungated one.

    The ungated block has two ``d x (expansion d)`` matrices; a gated block
    of width ``h`` has three ``d x h``. Equal counts give
    ``h = 2 expansion d / 3``: rounded down, then up to a multiple of
    ``multiple_of`` (as in LLaMA's code; 1 keeps the rounded-down value).
    """
    if d < 1 or expansion < 1 or multiple_of < 1:
        raise ValueError("d, expansion, multiple_of: positive integers")
    hidden = int(2 * expansion * d / 3)
    return multiple_of * math.ceil(hidden / multiple_of)


def feed_forward_parameters(d: int, hidden: int, *, gated: bool) -> int:
    """The weights of a bias-free feed-forward block: ``3 d hidden`` if gated, else ``2 d hidden``."""
    return (3 if gated else 2) * d * hidden


def _linear(n_in: int, n_out: int, generator: torch.Generator | None) -> nn.Linear:
    """A bias-free ``nn.Linear`` with ``nn.Linear``'s own default law, drawn from ``generator`` if given."""
    layer = nn.Linear(n_in, n_out, bias=False)
    if generator is not None:
        bound = 1.0 / math.sqrt(n_in)
        with torch.no_grad():
            layer.weight.uniform_(-bound, bound, generator=generator)
    return layer


class GatedFeedForward(nn.Module):
    """``W_out (f(W_gate x) * W_value x)``: a gated feed-forward block (SwiGLU by default), no biases.

    With a ``generator`` the three matrices are drawn from it (gate, value, output, in that
    order) from ``nn.Linear``'s default law, so a seed fixes the block.
    """

    def __init__(
        self, d: int, hidden: int, variant: str = "swiglu", *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if variant not in GATES:
            raise ValueError(f"unknown gated variant {variant!r}; choose from {sorted(GATES)}")
        self.variant = variant
        self.w_gate = _linear(d, hidden, generator)
        self.w_value = _linear(d, hidden, generator)
        self.w_out = _linear(hidden, d, generator)

    def forward(self, x: Tensor) -> Tensor:
        return self.w_out(gated_unit(self.w_gate(x), self.w_value(x), self.variant))

    def extra_repr(self) -> str:
        return f"variant={self.variant}"


class FeedForward(nn.Module):
    """``W_out f(W_in x)``: the ungated two-matrix feed-forward block (``f`` from :data:`UNGATED`), no biases."""

    def __init__(
        self, d: int, hidden: int, activation: str = "relu", *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if activation not in UNGATED:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(UNGATED)}")
        self.activation = activation
        self.w_in = _linear(d, hidden, generator)
        self.w_out = _linear(hidden, d, generator)

    def forward(self, x: Tensor) -> Tensor:
        return self.w_out(UNGATED[self.activation](self.w_in(x)))

    def extra_repr(self) -> str:
        return f"activation={self.activation}"


def feed_forward_block(kind: str, d: int, expansion: int = 4, *, generator: torch.Generator | None = None) -> nn.Module:
    """A feed-forward block of ``kind`` with the weights of an ungated block of hidden width ``expansion d``.

    ``kind`` is a gated variant of :data:`GATES` or an activation of :data:`UNGATED`.

    Ungated blocks get hidden width ``expansion * d``; gated ones :func:`matched_hidden_width`,
    so every kind holds (nearly) the same number of weights.
    """
    if kind in UNGATED:
        return FeedForward(d, expansion * d, kind, generator=generator)
    return GatedFeedForward(d, matched_hidden_width(d, expansion), kind, generator=generator)


def gated_unit_slopes(gate_input: Tensor, value: Tensor, variant: str = "swiglu") -> tuple[Tensor, Tensor]:
    """The two partial derivatives of ``f(a) * b``: ``(f'(a) b, f(a))``, by autograd (float64 in, float64 out).

    The gradient reaching the value path is the gate ``f(a)`` itself; the gradient reaching the
    gate path is the value times the gate's slope. Neither passes through a saturating slope
    alone.
    """
    a = gate_input.detach().clone().requires_grad_(True)
    b = value.detach().clone().requires_grad_(True)
    out = gated_unit(a, b, variant)
    grad_a, grad_b = torch.autograd.grad(out.sum(), (a, b))
    return grad_a, grad_b
