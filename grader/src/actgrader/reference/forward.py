"""Forward propagation through a stack of layers.

Taught in the chapter "Forward propagation" (``book/forward-propagation.md``).

Conventions used throughout the course: a batch ``x`` has one example per row, shape
``(batch, n_0)``; layer ``k`` has a weight matrix ``W_k`` of shape ``(n_k, n_{k-1})``, as in
``torch.nn.Linear``; so a layer computes ``h_k = f(h_{k-1} @ W_k.T)``. The last layer is
linear (no activation): what goes on top of it is decided by the loss (see the chapter on
output activations).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

Activation = Callable[[Tensor], Tensor]


def forward_pass(x: Tensor, weights: Sequence[Tensor], activation: Activation) -> Tensor:
    """``y = W_K f(... f(W_2 f(W_1 x)))`` for a batch ``x``: the activation follows every layer but the last."""
    h = x
    last = len(weights) - 1
    for k, weight in enumerate(weights):
        h = h @ weight.T
        if k < last:
            h = activation(h)
    return h


def collapse_linear_stack(weights: Sequence[Tensor]) -> Tensor:
    """The one matrix ``W_K ... W_2 W_1`` that a stack of layers without activations amounts to."""
    product = weights[0]
    for weight in weights[1:]:
        product = weight @ product
    return product


def random_weights(
    widths: Sequence[int], generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> list[Tensor]:
    """Weights for layers of the given widths ``(n_0, n_1, ..., n_K)``, scaled by ``1/sqrt(fan_in)``."""
    return [
        torch.randn(n_out, n_in, generator=generator, dtype=dtype) / n_in**0.5
        for n_in, n_out in itertools.pairwise(widths)
    ]


def as_sequential(weights: Sequence[Tensor], activation: nn.Module) -> nn.Sequential:
    """The same network as ``forward_pass(x, weights, activation)``, built from ``nn.Linear`` layers."""
    layers: list[nn.Module] = []
    for k, weight in enumerate(weights):
        linear = nn.Linear(weight.shape[1], weight.shape[0], bias=False, dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight)
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(activation)
    return nn.Sequential(*layers)
