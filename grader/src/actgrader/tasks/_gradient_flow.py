"""What the gradient-flow tasks share: networks handed over as tensors, the data, reading lists of numbers.

The tasks of the ``gradient-flow`` notebook give the learner a network as two lists of
tensors (``weights[k]`` of shape ``(n_{k+1}, n_k)``, ``biases[k]`` of shape ``(n_{k+1},)``)
and the two-spirals data of the chapters, so that "the same seed" means "the same tensors".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from actgrader import datasets
from actgrader.grading import Mistake
from actgrader.reference.initialization import Scheme
from actgrader.reference.models import linear_layers, make_mlp

Network = tuple[list[Tensor], list[Tensor]]

#: The dead-ReLU scenario of the tasks: the chapter's experiment made small enough for a check
#: that runs in well under a second (three hidden layers of 32 units, 128 points, 5 epochs).
SCENARIO_WIDTHS: tuple[int, ...] = (2, 32, 32, 32, 2)
SCENARIO_POINTS = 128
SCENARIO_EPOCHS = 5
SMALL_LR = 0.1
LARGE_LR = 2.0
#: After training, a learner's per-layer fractions may differ from the reference's by at most one
#: unit of a layer. Measured: the solution's loop (h @ W.T + b, autograd, p -= lr * g) and one in
#: float64 give exactly the reference's fractions in 1,200 and 200 runs of the scenario (both
#: rates, many seeds and data), and the final loss within 2e-7 (float32) and 7e-5 (float64).
UNIT_TOLERANCE = 1 / min(SCENARIO_WIDTHS[1:-1]) + 1e-9
LOSS_RTOL = 1e-3
TRAINING_LOOP = (
    "Check the loop against the task: one generator seeded with `seed` once, before the first epoch; "
    "torch.randperm(len(x), generator=gen) at the start of every epoch; minibatches of 32 in that order; "
    "the mean cross-entropy of the logits; every weight and bias p moves to p - lr * (its gradient); "
    "then measure on all of x."
)


def within_one_unit(got: Tensor, want: Tensor) -> bool:
    """Whether per-layer fractions of the scenario agree to within one unit of a layer (``UNIT_TOLERANCE``)."""
    return bool(((got - want).abs() <= UNIT_TOLERANCE).all())


def network(widths: Sequence[int], seed: int, *, init: Scheme = "kaiming", bias_std: float = 0.0) -> Network:
    """The weights and biases of ``make_mlp(widths, init=init, seed=seed)``, biases redrawn with ``bias_std``.

    ``bias_std = 0`` keeps the zero biases of the course's schemes; otherwise each bias is
    normal with that standard deviation, from a generator seeded with ``seed + 1``.
    """
    model = make_mlp(list(widths), "relu", init=init, seed=seed)
    weights = [layer.weight.detach().clone() for layer in linear_layers(model)]
    biases = [layer.bias.detach().clone() for layer in linear_layers(model)]
    if bias_std:
        gen = torch.Generator().manual_seed(seed + 1)
        biases = [torch.randn(b.shape, generator=gen) * bias_std for b in biases]
    return weights, biases


def spirals(n: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` points of the two-spirals data (inputs of shape ``(n, 2)``, labels 0 or 1), for odd ``n`` too."""
    x, y = datasets.two_spirals(n + n % 2, seed=seed)
    return x[:n], y[:n]


def numbers(value: Any, *, name: str, length: int, what: str) -> Tensor:
    """``value`` (a list, tuple, 1-D tensor or array of numbers) as a float64 vector of ``length`` entries.

    ``what`` says what one entry is ("one norm per layer"), for the message when the length
    is wrong.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, Tensor):
        if value.dim() != 1:
            raise Mistake(f"{name} should be a list of numbers ({what}); it is a tensor of shape {tuple(value.shape)}.")
        entries = list(value.detach())
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        raise Mistake(f"{name} should be a list of numbers ({what}), but it is a {type(value).__name__}.")
    if len(entries) != length:
        raise Mistake(f"{name} has {len(entries)} entries; it should have {length}: {what}.")
    out = []
    for entry in entries:
        if (isinstance(entry, Tensor) and entry.numel() == 1) or (
            isinstance(entry, np.ndarray | np.generic) and entry.size == 1
        ):
            entry = entry.item()
        if isinstance(entry, bool) or not isinstance(entry, int | float):
            raise Mistake(f"{name} should hold plain numbers ({what}); one entry is a {type(entry).__name__}.")
        out.append(float(entry))
    return torch.tensor(out, dtype=torch.float64)
