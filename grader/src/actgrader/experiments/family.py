"""Experiments on the rest of the family: what PReLU and Swish-beta learn, Mish against the others, int8.

Taught in the chapter "The rest of the family" (``book/activation-family.md``).

Every experiment is deterministic for its seeds: the data are made in code
(:mod:`actgrader.datasets`), the initial weights come from the seed, and training runs on one
thread, so the figures the book quotes are reproducible on the pinned CPU build of PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.models import Swish, make_mlp
from actgrader.reference.training import single_thread

Factory = Callable[[], nn.Module]


@dataclass(frozen=True)
class Run:
    """One training run on the two spirals: the learned parameters of each activation layer, per step."""

    #: ``history[k][layer]``: the activation parameter of each hidden layer after ``steps[k]`` steps
    #: (PReLU's slope ``a``, Swish's ``beta``; empty lists for activations without parameters).
    history: list[list[float]]
    steps: list[int]
    train_accuracy: float
    test_accuracy: float
    final_loss: float


def _activation_parameters(model: nn.Module) -> list[float]:
    values = []
    for module in model.modules():
        if isinstance(module, nn.PReLU):
            values.append(float(module.weight.detach().mean()))
        elif isinstance(module, Swish):
            values.append(float(module.beta.detach()))
    return values


def train_spirals(
    activation: str | Factory,
    *,
    seed: int = 0,
    hidden: Sequence[int] = (32, 32, 32),
    steps: int = 400,
    lr: float = 0.01,
    points: int = 400,
    record_every: int = 20,
) -> Run:
    """Train ``make_mlp([2, *hidden, 2], activation, seed=seed)`` on the two spirals with full-batch Adam.

    The training set is :func:`~actgrader.datasets.two_spirals` with ``seed=0`` (the same for
    every run); the test set another draw of the same spirals (``seed=1``). ``seed`` sets the
    initial weights. The activation layers' parameters (if any) are recorded every
    ``record_every`` steps.
    """
    x, y = datasets.two_spirals(points, seed=0)
    x_test, y_test = datasets.two_spirals(points, seed=1)
    with single_thread():
        model = make_mlp([2, *hidden, 2], activation, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        history, recorded = [_activation_parameters(model)], [0]
        loss = torch.tensor(float("nan"))
        for step in range(1, steps + 1):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            if step % record_every == 0 or step == steps:
                history.append(_activation_parameters(model))
                recorded.append(step)
        with torch.no_grad():
            train_acc = float((model(x).argmax(1) == y).float().mean())
            test_acc = float((model(x_test).argmax(1) == y_test).float().mean())
    return Run(history, recorded, train_acc, test_acc, float(loss.detach()))


def fit_one_unit(target: Callable[[Tensor], Tensor], *, steps: int = 300, lr: float = 0.05, seed: int = 0) -> float:
    """Fit ``y = c * PReLU(x)`` (one unit, one slope ``a``, one scale ``c``) to ``target`` on [-2, 2]; return ``a``.

    With ``target = |x|`` the best fit is ``a = -1``: a learned slope is a free parameter,
    not a "leak" bounded to (0, 1).
    """
    gen = torch.Generator().manual_seed(seed)
    x = 4 * torch.rand(64, 1, generator=gen, dtype=torch.float64) - 2
    y = target(x)
    with single_thread():
        unit = nn.PReLU(dtype=torch.float64)
        scale = nn.Parameter(torch.ones(1, dtype=torch.float64))
        optimizer = torch.optim.Adam([*unit.parameters(), scale], lr=lr)
        for _ in range(steps):
            optimizer.zero_grad()
            nn.functional.mse_loss(scale * unit(x), y).backward()
            optimizer.step()
    return float(unit.weight.detach())


def accuracy_race(
    activations: dict[str, str | Factory], seeds: Sequence[int], **kwargs: object
) -> dict[str, list[float]]:
    """The test accuracy of :func:`train_spirals` for every activation and seed (same seeds: same data and weights)."""
    return {
        name: [train_spirals(factory, seed=seed, **kwargs).test_accuracy for seed in seeds]  # type: ignore[arg-type]
        for name, factory in activations.items()
    }


def swish_factory(beta: float = 1.0) -> Factory:
    """A factory of :class:`~actgrader.reference.models.Swish` modules with a trained ``beta`` starting at ``beta``."""
    return lambda: Swish(beta)


# --- int8 -----------------------------------------------------------------------------------


def quantize(x: Tensor, low: float, high: float, bits: int = 8) -> Tensor:
    """``x`` rounded to the ``2^bits`` evenly spaced levels of ``[low, high]`` (values outside clamped).

    This is the affine (asymmetric) quantization of integer-only inference (Jacob et al., 2018):
    a real value is ``scale * (q - zero_point)`` with ``q`` an integer; the step ``scale`` is
    ``(high - low) / (2^bits - 1)``.
    """
    levels = 2**bits - 1
    scale = (high - low) / levels
    q = torch.round((x.clamp(low, high) - low) / scale)
    return low + q * scale


def quantization_error(outputs: Tensor, low: float, high: float, bits: int = 8) -> float:
    """The root-mean-square error of :func:`quantize` on ``outputs``."""
    return float((quantize(outputs, low, high, bits) - outputs).pow(2).mean().sqrt())


def heavy_tailed_preactivations(n: int = 100_000, *, seed: int = 0, outlier_scale: float = 40.0) -> Tensor:
    """Standard normal pre-activations with one in a thousand multiplied by ``outlier_scale``.

    Trained networks' activations have such rare large values; a min-max quantizer must
    stretch its step to cover them.
    """
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, generator=gen, dtype=torch.float64)
    rare = torch.rand(n, generator=gen) < 1e-3
    return torch.where(rare, outlier_scale * z.abs(), z)
