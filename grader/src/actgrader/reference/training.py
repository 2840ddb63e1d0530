"""Plain training loops and reproducibility helpers shared by the gradient-flow chapters.

Used by the chapters "Dead ReLUs" (``book/dead-relus.md``), "Exploding gradients"
(``book/exploding-gradients.md``) and the other experiments of the "Gradient flow" part, and
(:func:`train_mlp`) by the exercise that trains one MLP with several hidden activations.

Every experiment in the course is deterministic for a given seed on a given build: the data,
the initial weights and the order of the minibatches come from seeded generators, and
:func:`single_thread` runs the arithmetic on one thread so that a parallel reduction cannot
change the last bits of a sum. Figures quoted in the book were computed by the CPU build of
torch pinned in ``requirements.txt``; another build (or a GPU) may differ in the last digits.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from actgrader.reference.forward import Activation, forward_pass

LossFn = Callable[[Tensor, Tensor], Tensor]


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run the block with one intra-op thread (restored afterwards): same sums, same last bits."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_loss(y: Tensor) -> LossFn:
    """Cross-entropy for integer class labels, mean squared error for real targets."""
    if y.dtype in (torch.int64, torch.int32):
        return nn.functional.cross_entropy
    return nn.functional.mse_loss


def train(
    model: nn.Module,
    data: tuple[Tensor, Tensor],
    lr: float,
    epochs: int,
    seed: int,
    *,
    batch_size: int = 32,
    loss_fn: LossFn | None = None,
    max_grad_norm: float | None = None,
    on_epoch: Callable[[int, nn.Module], None] | None = None,
    on_step: Callable[[float, float], None] | None = None,
) -> list[float]:
    """Minibatch SGD (no momentum) on ``data = (x, y)``, in place; the loss on all of ``data`` after each epoch.

    Each epoch visits the examples in the order ``torch.randperm(len(x), generator=g)`` with
    ``g = torch.Generator().manual_seed(seed)`` made once before the first epoch, in batches of
    ``batch_size`` (the last one may be smaller). ``loss_fn`` defaults to :func:`default_loss`.
    With ``max_grad_norm``, gradients are clipped to that total norm before each step
    (``torch.nn.utils.clip_grad_norm_``). Once the loss is not finite, training stops and the
    remaining epochs are reported as ``nan``. ``on_epoch(epoch, model)`` is called after each
    epoch (``epoch`` counts from 1), e.g. to record a diagnostic; ``on_step(loss, grad_norm)``
    after each minibatch's backward pass, with the batch's loss and the total gradient norm
    before any clipping.
    """
    x, y = data
    loss_fn = loss_fn or default_loss(y)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses: list[float] = []
    with single_thread():
        for _ in range(epochs):
            if losses and not math.isfinite(losses[-1]):
                losses.append(math.nan)
                continue
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), batch_size):
                batch = order[start : start + batch_size]
                optimizer.zero_grad()
                batch_loss = loss_fn(model(x[batch]), y[batch])
                batch_loss.backward()
                if max_grad_norm is not None:
                    norm = float(nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm))
                elif on_step is not None:
                    norm = total_gradient_norm(model)
                if on_step is not None:
                    on_step(batch_loss.item(), norm)
                optimizer.step()
            with torch.no_grad():
                loss = float(loss_fn(model(x), y))
            losses.append(loss if math.isfinite(loss) else math.nan)
            if on_epoch is not None:
                on_epoch(len(losses), model)
    return losses


def total_gradient_norm(model: nn.Module) -> float:
    """The norm of all the model's gradients stacked into one vector (what gradient clipping measures)."""
    squares = [p.grad.detach().pow(2).sum() for p in model.parameters() if p.grad is not None]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """The fraction of examples whose largest output is the label."""
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def train_mlp(
    x: Tensor, y: Tensor, weights: list[Tensor], activation: Activation, lr: float, epochs: int
) -> list[float]:
    """Full-batch gradient descent on a bias-free MLP; the loss *before* each of the ``epochs`` updates.

    The network is :func:`~actgrader.reference.forward.forward_pass` (``activation`` after every
    layer but the last), the loss the mean squared error over every entry,
    ``((forward_pass(x, W, activation) - y) ** 2).mean()``. Each epoch computes the loss of the
    current weights, records it (a Python float), then moves every weight against its gradient,
    ``W <- W - lr * dL/dW``, all weights from the same gradient. The caller's ``weights`` are
    not modified. A loss that overflows is recorded as it is (``inf`` or ``nan``).
    """
    params = [w.detach().clone().requires_grad_(True) for w in weights]
    losses: list[float] = []
    for _ in range(epochs):
        loss = ((forward_pass(x, params, activation) - y) ** 2).mean()
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for param, grad in zip(params, grads, strict=True):
                param -= lr * grad
    return losses
