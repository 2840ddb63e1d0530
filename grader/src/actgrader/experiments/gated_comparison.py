"""A small race between feed-forward blocks at equal parameter budgets: ReLU, GELU and the gated units.

Used by the chapter "Gated linear units" (``book/gated-units.md``).

Each model is ``head(h + block(norm(h)))`` with ``h = embed(x)``: one residual feed-forward
block of width ``d`` between a linear embedding and a linear head, the block built by
:func:`actgrader.reference.gated.feed_forward_block` (hidden width ``4 d`` for ReLU and GELU,
two thirds of it for the gated variants, so every block holds about the same number of
weights). The task is a regression made in code (:func:`make_task`): a sum of sines of
random projections of the input. Data, weights and minibatches come from three independent
generators, so a weight seed gives every kind the same data and the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from actgrader.reference.gated import feed_forward_block
from actgrader.reference.training import single_thread

KINDS = ("relu", "gelu", "glu", "reglu", "geglu", "swiglu")
EVAL_EVERY = 25  # steps between two measurements of the test error


def make_task(n: int, *, n_in: int = 8, terms: int = 6, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``n`` inputs ``x ~ N(0, I)`` of dimension ``n_in`` and targets ``y`` of shape ``(n, 1)``.

    ``y = sum_j sin(2 a_j . x)`` over ``terms`` random unit directions ``a_j``, standardized to
    mean 0 and variance 1 (so a mean squared error of 1 is what predicting the mean scores).
    """
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(n_in, terms, generator=gen)
    a = a / a.norm(dim=0)
    x = torch.randn(n, n_in, generator=gen)
    y = torch.sin(2 * (x @ a)).sum(dim=1, keepdim=True)
    return x, (y - y.mean()) / y.std()


class OneBlockModel(nn.Module):
    """``head(h + block(LayerNorm(h)))`` with ``h = embed(x)``: one pre-norm residual feed-forward block."""

    def __init__(self, block_kind: str, n_in: int, d: int, n_out: int, generator: torch.Generator) -> None:
        super().__init__()
        self.embed = nn.Linear(n_in, d)
        self.norm = nn.LayerNorm(d)
        self.block = feed_forward_block(block_kind, d, generator=generator)
        self.head = nn.Linear(d, n_out)
        with torch.no_grad():
            for layer in (self.embed, self.head):
                bound = 1.0 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        h = self.embed(x)
        return self.head(h + self.block(self.norm(h)))


def block_parameters(block_kind: str, d: int) -> int:
    """The number of weights in the feed-forward block of ``block_kind`` at width ``d``."""
    return sum(p.numel() for p in feed_forward_block(block_kind, d).parameters())


@dataclass(frozen=True)
class RaceResult:
    """Test error (mean squared error on unit-variance targets) after training, and the curve of it."""

    kind: str
    seed: int
    test_error: float
    curve: tuple[float, ...]


def train_one(
    kind: str,
    seed: int,
    *,
    d: int = 32,
    steps: int = 200,
    lr: float = 5e-3,
    batch_size: int = 256,
    n_train: int = 2048,
    n_test: int = 1024,
    data_seed: int = 1234,
    eval_every: int = EVAL_EVERY,
) -> RaceResult:
    """Train one model with Adam; ``seed`` draws the weights (and, offset, the minibatch order), ``data_seed`` the data.

    Returns the test error every ``eval_every`` steps and at the end.
    """
    x, y = make_task(n_train + n_test, seed=data_seed)
    x_train, y_train, x_test, y_test = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    weights_gen = torch.Generator().manual_seed(seed)
    batches_gen = torch.Generator().manual_seed(10_000 + seed)
    with single_thread():
        model = OneBlockModel(kind, x.shape[1], d, 1, weights_gen)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        curve: list[float] = []
        for step in range(steps + 1):
            if step % eval_every == 0:
                with torch.no_grad():
                    curve.append(float(nn.functional.mse_loss(model(x_test), y_test)))
            if step == steps:
                break
            idx = torch.randint(0, n_train, (batch_size,), generator=batches_gen)
            loss = nn.functional.mse_loss(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return RaceResult(kind, seed, curve[-1], tuple(curve))


def race(kinds: Sequence[str] = KINDS, seeds: Sequence[int] = range(3), **kwargs: object) -> list[RaceResult]:
    """:func:`train_one` for every kind and seed."""
    return [train_one(k, s, **kwargs) for k in kinds for s in seeds]
