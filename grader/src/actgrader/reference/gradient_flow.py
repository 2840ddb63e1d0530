"""Vanishing gradients: the chain-rule product through a deep network, measured layer by layer.

Taught in the chapter "Vanishing gradients" (``book/vanishing-gradients.md``).

Backpropagation multiplies, layer after layer, a weight matrix by the activation's slope at
each unit. A slope below 1 in every layer shrinks the product geometrically: with the sigmoid,
whose slope never exceeds ``d_sigmoid(0) = 0.25`` (:mod:`actgrader.reference.formulas`),
twenty layers scale a gradient by at most ``0.25**20`` before the weights have any say.
:func:`layer_gradient_norms` measures the result in a real network: the gradient norm of
each layer's weight matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.initialization import Scheme
from actgrader.reference.models import Elementwise, linear_layers, make_mlp, mlp_from_weights
from actgrader.reference.training import LossFn, single_thread


def scalar_chain(
    x: float, weights: Sequence[float], activation: Callable[[Tensor], Tensor]
) -> tuple[list[float], float]:
    """A network one unit wide: ``z_k = w_k h_{k-1}``, ``h_k = f(z_k)``, ``h_0 = x``, for each weight in turn.

    Returns the pre-activations ``[z_1, ..., z_K]`` and ``d h_K / d x`` computed by autograd
    (float64). The chain rule says the latter is ``prod_k w_k f'(z_k)``.
    """
    x_t = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    h = x_t
    zs: list[float] = []
    for w in weights:
        z = w * h
        zs.append(float(z.detach()))
        h = activation(z)
    (grad,) = torch.autograd.grad(h, x_t)
    return zs, float(grad)


def chain_rule_product(
    weights: Sequence[float], pre_activations: Sequence[float], derivative: Callable[[Tensor], Tensor]
) -> float:
    """``prod_k w_k f'(z_k)``: the derivative of a one-unit-wide network's output with respect to its input."""
    z = torch.tensor(list(pre_activations), dtype=torch.float64)
    w = torch.tensor(list(weights), dtype=torch.float64)
    return float(torch.prod(w * derivative(z)))


def layer_gradient_norms(model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn) -> list[float]:
    """The norm of ``d loss / d W_k`` for the weight ``W_k`` of each ``nn.Linear``, input side first.

    The norm is the Frobenius norm (the square root of the sum of squared entries); biases are
    left out. The model's existing gradients are not touched: the gradients are computed with
    :func:`torch.autograd.grad`.
    """
    weights = [layer.weight for layer in linear_layers(model)]
    loss = loss_fn(model(x), y)
    grads = torch.autograd.grad(loss, weights)
    return [float(g.norm()) for g in grads]


def probe_batch(n: int = 256, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The batch the chapter measures gradients on: ``n`` points of :func:`~actgrader.datasets.two_spirals`."""
    return datasets.two_spirals(n, seed=seed)


def gradient_profile(
    activation: str | Callable[[], nn.Module],
    *,
    depth: int = 20,
    width: int = 64,
    init: Scheme = "default",
    seed: int = 0,
    batch: tuple[Tensor, Tensor] | None = None,
) -> list[float]:
    """:func:`layer_gradient_norms` of a fresh ``depth``-layer MLP on a classification batch.

    The network is ``make_mlp([2] + [width] * (depth - 1) + [2], activation, init=init,
    seed=seed)``: ``depth`` linear layers, the activation after all but the last, the loss
    cross-entropy on ``batch`` (default :func:`probe_batch`). One seed gives the same weights
    whatever the activation, so profiles of different activations compare like with like.
    """
    x, y = batch if batch is not None else probe_batch()
    with single_thread():
        model = make_mlp([x.shape[1], *[width] * (depth - 1), int(y.max()) + 1], activation, init=init, seed=seed)
        return layer_gradient_norms(model, x, y, nn.functional.cross_entropy)


def gradient_profiles(activation: str | Callable[[], nn.Module], seeds: Sequence[int], **kwargs: object) -> Tensor:
    """:func:`gradient_profile` for each seed: a tensor of shape ``(len(seeds), depth)``."""
    kwargs.setdefault("batch", probe_batch())
    return torch.tensor([gradient_profile(activation, seed=s, **kwargs) for s in seeds], dtype=torch.float64)


def decay_per_layer(profile: Sequence[float]) -> float:
    """The geometric-mean factor by which the gradient norm shrinks per layer going back towards the input.

    ``(norm at the layer before the output / norm at the first layer) ** (1 / (depth - 2))``,
    leaving out the output layer, whose gradient does not pass through any activation slope.
    Above 1: gradients vanish towards the input; below 1: they grow.
    """
    if len(profile) < 3:
        raise ValueError("need at least three layers")
    return float((profile[-2] / profile[0]) ** (1 / (len(profile) - 2)))


def weight_gradient_norms(
    x: Tensor,
    y: Tensor,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    activation: Callable[[Tensor], Tensor],
) -> list[float]:
    """:func:`layer_gradient_norms` for a network handed over as tensors, the form the exercises use.

    The network is :func:`~actgrader.reference.models.mlp_from_weights` (``activation``, a
    function such as ``torch.sigmoid``, after every layer but the last), the loss
    cross-entropy of its outputs against the class labels ``y``. One norm per weight matrix,
    input side first.
    """
    with single_thread():
        model = mlp_from_weights(weights, biases, lambda: Elementwise(activation))
        return layer_gradient_norms(model, x, y, nn.functional.cross_entropy)
