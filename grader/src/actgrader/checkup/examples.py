"""Models built to be healthy or to have one known problem, for the chapter and the tests.

Each function returns a :class:`Case`: a model, a batch and a loss, the same on every run.
The chapter "The model check-up" (``book/model-checkup.md``) runs the check-up on each of
them, and ``tests/checkup`` checks that each problem is found and the healthy model is clean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.models import make_mlp
from actgrader.reference.training import single_thread

WIDTH = 64
CLASSES = 3
BATCH = 256


@dataclass
class Case:
    """A model, a batch ``(x, y)`` and the loss it is trained with; ``title`` says what is wrong (if anything).

    ``losses`` holds the loss before each training step, for the cases that were trained.
    """

    title: str
    model: nn.Module
    x: Tensor
    y: Tensor
    loss_fn: nn.Module
    losses: list[float] = field(default_factory=list)


def batch(seed: int = 0) -> tuple[Tensor, Tensor]:
    """The batch every case is checked on: 256 points of three Gaussian blobs in 2-D."""
    return datasets.gaussian_blobs(BATCH, classes=CLASSES, seed=seed)


def healthy(seed: int = 0) -> Case:
    """Two ReLU hidden layers with Kaiming initialization and logits into cross-entropy."""
    x, y = batch()
    model = make_mlp([2, WIDTH, WIDTH, CLASSES], "relu", init="kaiming", seed=seed)
    return Case("healthy: ReLU, Kaiming, logits into CrossEntropyLoss", model, x, y, nn.CrossEntropyLoss())


def double_softmax(seed: int = 0) -> Case:
    """The healthy network with a ``Softmax`` module at the end, still trained with ``CrossEntropyLoss``."""
    x, y = batch()
    model = make_mlp([2, WIDTH, WIDTH, CLASSES], "relu", init="kaiming", seed=seed, output_activation=nn.Softmax(dim=1))
    return Case("double softmax: Softmax module before CrossEntropyLoss", model, x, y, nn.CrossEntropyLoss())


def dead_relus(seed: int = 0, *, lr: float = 2.0, steps: int = 20) -> Case:
    """A ReLU network after ``steps`` full-batch SGD steps on two spirals at a learning rate far too large.

    With ``lr = 2.0`` the second step overshoots (the loss jumps several-fold) and pushes most
    units of the second hidden layer negative for every input: they are dead, and the loss
    stays near chance. The weights keep an ordinary scale: nothing diverged. At ``lr = 0.1``
    the same network trains normally.
    """
    x, y = datasets.two_spirals(BATCH, seed=0)
    model = make_mlp([2, WIDTH, WIDTH, 2], "relu", init="kaiming", seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    with single_thread():  # the same digits on every machine: the overshoot amplifies any difference
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            losses.append(float(loss.detach()))
            loss.backward()
            optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return Case(f"dead ReLUs: {steps} SGD steps at learning rate {lr:g}", model, x, y, loss_fn, losses)


def tanh_kaiming(seed: int = 0, *, depth: int = 8) -> Case:
    """``depth`` tanh hidden layers initialized with Kaiming's variance, meant for ReLU."""
    x, y = batch()
    model = make_mlp([2, *[WIDTH] * depth, CLASSES], "tanh", init="kaiming", seed=seed)
    return Case(f"tanh with Kaiming initialization, {depth} hidden layers", model, x, y, nn.CrossEntropyLoss())


def deep_sigmoid(seed: int = 0, *, depth: int = 20) -> Case:
    """``depth`` sigmoid hidden layers with Xavier initialization: the classic vanishing-gradient stack."""
    x, y = batch()
    model = make_mlp([2, *[WIDTH] * depth, CLASSES], "sigmoid", init="xavier", seed=seed)
    return Case(f"sigmoid stack, {depth} hidden layers (Xavier)", model, x, y, nn.CrossEntropyLoss())


#: The chapter's cases, in the order it shows them.
CASES: dict[str, Callable[[], Case]] = {
    "healthy": healthy,
    "double softmax": double_softmax,
    "dead ReLUs": dead_relus,
    "tanh + Kaiming": tanh_kaiming,
    "20-deep sigmoid": deep_sigmoid,
}
