"""Exploding gradients: per-layer gains above 1, how they show in training, and clipping.

Taught in the chapter "Exploding gradients" (``book/exploding-gradients.md``).

Backpropagation sends ``delta_{k-1} = W_k^T (f'(z_k) * delta_k)`` down the network: each
layer multiplies the gradient by a matrix and by the activation's slopes. When that layer's
typical gain is above 1 the product grows geometrically towards the input. Weights drawn
too large for the activation are the usual cause (:func:`scaled_mlp` draws them at a chosen
multiple of LeCun's scale); a ReLU network shows it in its purest form, because ReLU is
positively homogeneous: scaling every weight by ``c`` scales the output of a bias-free
network of ``K`` layers by exactly ``c^K`` (:func:`homogeneity_ratio`).

Clipping by the total norm (:func:`clip_by_total_norm_`) rescales the whole gradient when its
norm exceeds a threshold: the direction is kept, the step length capped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.models import linear_layers, make_mlp
from actgrader.reference.training import accuracy, single_thread, train


def scaled_mlp(
    activation: str,
    weight_scale: float,
    *,
    depth: int = 20,
    width: int = 64,
    n_in: int = 2,
    n_out: int = 2,
    bias: bool = True,
    seed: int = 0,
) -> nn.Sequential:
    """A ``depth``-layer MLP whose hidden layers' weights have standard deviation ``weight_scale / sqrt(fan_in)``.

    Built as ``make_mlp(..., init="lecun", seed=seed)`` (biases zero) with every weight
    matrix but the output layer's multiplied by ``weight_scale``: 1 is LeCun's scale,
    ``sqrt(2)`` Kaiming's.
    """
    model = make_mlp([n_in, *[width] * (depth - 1), n_out], activation, init="lecun", bias=bias, seed=seed)
    with torch.no_grad():
        for layer in linear_layers(model)[:-1]:
            layer.weight.mul_(weight_scale)
    return model


def scale_weights_(model: nn.Module, factor: float) -> nn.Module:
    """Multiply every weight matrix (all ``nn.Linear`` layers) by ``factor``, in place."""
    with torch.no_grad():
        for layer in linear_layers(model):
            layer.weight.mul_(factor)
    return model


def homogeneity_ratio(model: nn.Module, x: Tensor, factor: float) -> Tensor:
    """``f(x; factor * W) / f(x; W)``, element-wise, for a copy of ``model`` with every weight scaled.

    For a bias-free ReLU (or Leaky ReLU, or linear) network of ``K`` layers every entry is
    ``factor ** K``; for tanh or sigmoid it is not.
    """
    import copy

    scaled = scale_weights_(copy.deepcopy(model), factor)
    with torch.no_grad():
        return scaled(x) / model(x)


def total_norm(tensors: Iterable[Tensor]) -> Tensor:
    """The Euclidean norm of all the tensors' entries taken together."""
    return torch.sqrt(sum((t.detach().double() ** 2).sum() for t in tensors))


def clip_by_total_norm_(parameters: Iterable[nn.Parameter], max_norm: float) -> float:
    """Scale every gradient by ``min(1, max_norm / total_norm)``, in place; return the norm before clipping.

    The same rule as ``torch.nn.utils.clip_grad_norm_`` (which adds ``1e-6`` to the norm in the
    denominator): the gradient keeps its direction and its length is capped at ``max_norm``.
    """
    params = [p for p in parameters if p.grad is not None]
    norm = float(total_norm(p.grad for p in params))
    scale = max_norm / (norm + 1e-6)
    if scale < 1:
        with torch.no_grad():
            for p in params:
                p.grad.mul_(scale)
    return norm


# --- the training experiment --------------------------------------------------------------------


def experiment_data(n: int = 300, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The chapter's training set: ``n`` points of :func:`~actgrader.datasets.two_spirals`."""
    return datasets.two_spirals(n, seed=seed)


@dataclass
class Trace:
    """One training run, step by step: the minibatch losses and gradient norms (before clipping)."""

    losses: list[float]
    grad_norms: list[float]
    epoch_losses: list[float]
    accuracy: float

    @property
    def diverged(self) -> bool:
        return any(loss != loss for loss in self.epoch_losses)


def training_trace(
    activation: str,
    weight_scale: float,
    lr: float,
    seed: int,
    *,
    max_norm: float | None = None,
    depth: int = 10,
    epochs: int = 15,
    data: tuple[Tensor, Tensor] | None = None,
) -> Trace:
    """Train :func:`scaled_mlp` (width 64) with plain minibatch SGD, clipping at ``max_norm`` if given.

    Uses :func:`~actgrader.reference.training.train` (batches of 32, order seeded by ``seed``;
    the weights are seeded by ``seed`` too) and records every step.
    """
    x, y = data if data is not None else experiment_data()
    losses: list[float] = []
    norms: list[float] = []

    def record(loss: float, norm: float) -> None:
        losses.append(loss)
        norms.append(norm)

    with single_thread():
        model = scaled_mlp(activation, weight_scale, depth=depth, n_in=x.shape[1], n_out=int(y.max()) + 1, seed=seed)
        epoch_losses = train(model, (x, y), lr, epochs, seed, max_grad_norm=max_norm, on_step=record)
        acc = accuracy(model, x, y)
    return Trace(losses, norms, epoch_losses, acc)


def traces(activation: str, weight_scale: float, lr: float, seeds: Sequence[int], **kwargs: object) -> list[Trace]:
    """:func:`training_trace` for each seed."""
    return [training_trace(activation, weight_scale, lr, s, **kwargs) for s in seeds]
