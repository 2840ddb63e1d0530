"""Gradients in float16 and bfloat16: how many underflow to zero, with and without loss scaling.

Taught in the chapter "Activations in low precision" (``book/low-precision.md``).

The set-up is a network near the end of training: a tanh MLP whose targets are its own
float32 outputs plus small noise, so the residuals (and with them every gradient) are small,
as they are late in training. The same weights are rounded to a 16-bit format, the forward
and backward passes run in that format, and :func:`gradient_underflow` counts the entries of
the backward signals (the gradient of the loss with respect to each layer's pre-activation)
and of the weight gradients that are exactly zero, where float32 has none. Some zeros no
scale can remove: a unit whose tanh rounds to ±1 in the format has a slope of exactly 0
(``saturated_fraction`` counts them among the backward signals). Loss scaling
multiplies the loss by ``scale`` before ``backward()`` and divides the gradients by it
afterwards, in float32, as the master weights are kept (micikevicius2018mixed).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class LateTrainingProblem:
    """Weights of a tanh MLP (``weights[k]`` is ``(n_out, n_in)``), inputs and near-fit targets."""

    weights: tuple[Tensor, ...]
    x: Tensor
    y: Tensor


def late_training_problem(
    *,
    widths: tuple[int, ...] = (16, 64, 64, 64, 64, 64, 1),
    batch: int = 512,
    residual: float = 1e-3,
    seed: int = 0,
) -> LateTrainingProblem:
    """A tanh MLP at LeCun's scale, and targets its float32 output misses by noise of std ``residual``."""
    generator = torch.Generator().manual_seed(seed)
    weights = tuple(
        torch.randn(n_out, n_in, generator=generator) / n_in**0.5 for n_in, n_out in itertools.pairwise(widths)
    )
    x = torch.randn(batch, widths[0], generator=generator)
    noise = torch.randn(batch, widths[-1], generator=generator)
    with torch.no_grad():
        y = _forward(weights, x)[0] + residual * noise
    return LateTrainingProblem(weights, x, y)


def _forward(weights: tuple[Tensor, ...], x: Tensor) -> tuple[Tensor, list[Tensor]]:
    """The output and every pre-activation ``z_k = h_{k-1} W_k^T`` (tanh between layers, linear output)."""
    pre_activations = []
    h = x
    for k, w in enumerate(weights):
        z = h @ w.T
        pre_activations.append(z)
        h = torch.tanh(z) if k < len(weights) - 1 else z
    return h, pre_activations


@dataclass(frozen=True)
class GradientCount:
    """What one backward pass gave: the fractions of exact zeros, and whether anything overflowed."""

    dtype: torch.dtype
    scale: float
    zero_signal_fraction: float
    zero_weight_gradient_fraction: float
    saturated_fraction: float
    overflowed: bool
    weight_gradients: tuple[Tensor, ...]


def gradient_underflow(problem: LateTrainingProblem, dtype: torch.dtype, scale: float = 1.0) -> GradientCount:
    """Backpropagate the mean squared error of ``problem`` in ``dtype`` with the loss multiplied by ``scale``.

    The loss itself is formed in float32 (as autocast does); the network's forward and backward
    passes run in ``dtype``. Weight gradients are returned divided by ``scale``, in float32.
    """
    weights = [w.detach().to(dtype).clone().requires_grad_(True) for w in problem.weights]
    output, pre_activations = _forward(tuple(weights), problem.x.to(dtype))
    for z in pre_activations:
        z.retain_grad()
    loss = torch.nn.functional.mse_loss(output.float(), problem.y)
    (loss * scale).backward()
    signals = [z.grad for z in pre_activations]
    grads = tuple(w.grad.float() / scale for w in weights)
    saturated = sum(int((torch.tanh(z.detach()).abs() == 1).sum()) for z in pre_activations[:-1])
    overflowed = not all(bool(t.isfinite().all()) for t in (*signals, *grads))
    return GradientCount(
        dtype=dtype,
        scale=scale,
        zero_signal_fraction=_zero_fraction(signals),
        zero_weight_gradient_fraction=_zero_fraction(grads),
        saturated_fraction=saturated / sum(z.numel() for z in pre_activations),
        overflowed=overflowed,
        weight_gradients=grads,
    )


def _zero_fraction(tensors: list[Tensor] | tuple[Tensor, ...]) -> float:
    zeros = sum(int((t == 0).sum()) for t in tensors)
    return zeros / sum(t.numel() for t in tensors)


def running_sum(values: Tensor) -> Tensor:
    """Add ``values`` one at a time in their own format, rounding after every addition (a naive accumulator)."""
    total = torch.zeros((), dtype=values.dtype)
    for v in values:
        total = total + v
    return total
