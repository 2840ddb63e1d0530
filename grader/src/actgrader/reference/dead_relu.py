"""Dead ReLUs: units that output zero on every example, and so never learn again.

Taught in the chapter "Dead ReLUs" (``book/dead-relus.md``).

A ReLU unit whose pre-activation is negative for every input outputs 0 everywhere and has
slope 0 everywhere: no gradient reaches its incoming weights, so nothing moves it back.
:func:`dead_fraction` is the diagnostic (the fraction of such units in each layer, on a
batch); :func:`inactive_fraction` is the same count for activations whose negative side is
not flat (Leaky ReLU, ELU, GELU): their units can sit on the negative side for a whole batch
but still receive a gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.initialization import activation_records
from actgrader.reference.models import make_mlp, mlp_from_weights
from actgrader.reference.training import accuracy, single_thread, train

#: Above this fraction of dead units in a layer, something is probably wrong (a common rule of thumb).
SUSPICIOUS_DEAD_FRACTION = 0.3


def dead_units(model: nn.Module, x: Tensor) -> list[Tensor]:
    """For each activation layer (input side first), a mask of the units that output exactly 0 on all of ``x``."""
    return [(out == 0).all(dim=0) for _, out in activation_records(model, x)]


def dead_fraction(model: nn.Module, x: Tensor) -> list[float]:
    """For each activation layer, the fraction of units that output zero for every example of the batch ``x``.

    The activation layers are found by :func:`~actgrader.reference.initialization.activation_records`
    (for ``make_mlp(..., "relu")``: every ``nn.ReLU``), input side first. A unit counts as dead
    when its output is exactly zero on every row of ``x``.
    """
    return [float(mask.float().mean()) for mask in dead_units(model, x)]


def inactive_fraction(model: nn.Module, x: Tensor) -> list[float]:
    """For each activation layer, the fraction of units whose *input* is ``<= 0`` for every example of ``x``.

    For ReLU this is :func:`dead_fraction`. For Leaky ReLU, ELU or GELU such a unit still
    has a non-zero slope, so it is not dead: it can still learn its way back.
    """
    return [float((pre <= 0).all(dim=0).float().mean()) for pre, _ in activation_records(model, x)]


def zero_gradient_fraction(z: Tensor, activation: Callable[[Tensor], Tensor]) -> float:
    """The fraction of the entries of ``z`` where ``activation``'s slope, by autograd, is exactly 0.

    The per-entry view of a dead unit: a pre-activation there passes no gradient back. For
    ReLU it is the fraction of ``z <= 0`` (PyTorch's slope at the kink is 0), about one half
    for a standard normal ``z``. For Leaky ReLU, ELU, GELU and SiLU it is 0 for any moderate
    ``z``: their slope vanishes only at isolated points (GELU's at its minimum) or where
    rounding makes it 0 (PyTorch's GELU slope is exactly 0 below about -6.15 in float32 and
    -38.6 in float64). Used by the exercise on GELU and ReLU.
    """
    z = z.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(activation(z).sum(), z)
    return float((grad == 0).double().mean())


# --- the learning-rate experiment ---------------------------------------------------------------

WIDTHS: tuple[int, ...] = (2, 64, 64, 64, 2)


def experiment_data(n: int = 400, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The chapter's training set: ``n`` points of :func:`~actgrader.datasets.two_spirals`."""
    return datasets.two_spirals(n, seed=seed)


@dataclass
class DeadRun:
    """One training run: the losses, the final accuracy and the dead/inactive fraction per layer after each epoch."""

    activation: str
    lr: float
    seed: int
    losses: list[float]
    accuracy: float
    dead: list[list[float]] = field(default_factory=list)
    inactive: list[list[float]] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return any(loss != loss for loss in self.losses)  # nan

    @property
    def final_dead(self) -> list[float]:
        return self.dead[-1]

    @property
    def final_inactive(self) -> list[float]:
        return self.inactive[-1]


def run(
    activation: str | Callable[[], nn.Module],
    lr: float,
    seed: int,
    *,
    epochs: int = 30,
    data: tuple[Tensor, Tensor] | None = None,
    widths: Sequence[int] = WIDTHS,
    batch_size: int = 32,
) -> DeadRun:
    """Train ``make_mlp(widths, activation, init="kaiming", seed=seed)`` with SGD (:func:`.training.train`).

    After each epoch, record :func:`dead_fraction` and :func:`inactive_fraction` on the whole
    training set. Deterministic for a given seed: the seed fixes both the initial weights
    and the order of the minibatches.
    """
    x, y = data if data is not None else experiment_data()
    dead: list[list[float]] = []
    inactive: list[list[float]] = []

    def record(_epoch: int, model: nn.Module) -> None:
        dead.append(dead_fraction(model, x))
        inactive.append(inactive_fraction(model, x))

    with single_thread():
        model = make_mlp(widths, activation, init="kaiming", seed=seed)
        record(0, model)
        losses = train(model, (x, y), lr, epochs, seed, batch_size=batch_size, on_epoch=record)
        acc = accuracy(model, x, y)
    name = activation if isinstance(activation, str) else type(activation()).__name__
    return DeadRun(name, lr, seed, losses, acc, dead, inactive)


def runs(activation: str | Callable[[], nn.Module], lr: float, seeds: Sequence[int], **kwargs: object) -> list[DeadRun]:
    """:func:`run` for each seed."""
    return [run(activation, lr, s, **kwargs) for s in seeds]


def first_layer_frozen(
    model: nn.Sequential, x: Tensor, y: Tensor, loss_fn: Callable[[Tensor, Tensor], Tensor]
) -> float:
    """The largest gradient entry reaching the incoming weights of the first layer's dead units.

    The first layer sees the data directly, so a unit dead on all of ``x`` stays dead: its
    weight gradient is exactly 0 (the returned value), on this batch and on every sub-batch.
    Returns 0.0 when the first layer has no dead units.
    """
    mask = dead_units(model, x)[0]
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    model.zero_grad()
    loss_fn(model(x), y).backward()
    assert first.weight.grad is not None
    grads = first.weight.grad[mask]
    if first.bias is not None and first.bias.grad is not None:
        grads = torch.cat([grads.flatten(), first.bias.grad[mask]])
    model.zero_grad()
    return float(grads.abs().max()) if grads.numel() else 0.0


# --- the exercises' form: a network handed over as tensors ---------------------------------------


def passing_fraction(model: nn.Module, x: Tensor) -> list[float]:
    """For each activation layer, the fraction of units whose slope is non-zero on at least one example of ``x``.

    Such a unit still passes a gradient back to its incoming weights, so training can still
    move it. A ReLU unit passes none exactly when it is dead (``1 - dead_fraction``); a Leaky
    ReLU unit always passes some, ``negative_slope`` times the gradient on its negative side.
    The slope is the activation's derivative as autograd computes it (ReLU's is 0 at 0).
    """
    # The same leaf modules, in the same order, as activation_records records.
    modules = [m for m in model.modules() if not list(m.children()) and not isinstance(m, nn.Linear | nn.Dropout)]
    fractions = []
    for module, (pre, _) in zip(modules, activation_records(model, x), strict=True):
        z = pre.detach().clone().requires_grad_(True)
        (slope,) = torch.autograd.grad(module(z).sum(), z)
        fractions.append(float((slope != 0).any(dim=0).float().mean()))
    return fractions


def dead_fraction_from_weights(x: Tensor, weights: Sequence[Tensor], biases: Sequence[Tensor]) -> list[float]:
    """:func:`dead_fraction` of the ReLU network ``mlp_from_weights(weights, biases, "relu")`` on the batch ``x``."""
    return dead_fraction(mlp_from_weights(weights, biases, "relu"), x)


def dead_after_training(
    x: Tensor,
    y: Tensor,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    lr: float,
    epochs: int,
    seed: int,
) -> list[float]:
    """Train the ReLU network given by ``weights`` and ``biases`` on ``(x, y)``, then return its :func:`dead_fraction`.

    Training is :func:`~actgrader.reference.training.train`: minibatch SGD in batches of 32,
    cross-entropy, the order of the examples drawn from ``seed``.
    """
    with single_thread():
        model = mlp_from_weights(weights, biases, "relu")
        if epochs:  # (no optimizer for no training: building torch.optim.SGD first costs seconds of imports)
            train(model, (x, y), lr, epochs, seed)
        return dead_fraction(model, x)


def leaky_relu_run(
    x: Tensor,
    y: Tensor,
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    negative_slope: float,
    lr: float,
    epochs: int,
    seed: int,
) -> dict[str, object]:
    """The same training as :func:`dead_after_training` with ``nn.LeakyReLU(negative_slope)`` units.

    Returns ``{"passing": passing_fraction(model, x), "loss": cross-entropy on all of (x, y)}``
    after training. ``negative_slope = 0`` is ReLU.
    """
    with single_thread():
        model = mlp_from_weights(weights, biases, lambda: nn.LeakyReLU(negative_slope))
        if epochs:
            train(model, (x, y), lr, epochs, seed)
        with torch.no_grad():
            loss = float(nn.functional.cross_entropy(model(x), y))
        return {"passing": passing_fraction(model, x), "loss": loss}
