"""Small experiments that test claims about choosing an activation.

Taught in the part "The activation functions": "The sigmoid" (``book/sigmoid.md``: same-sign
weight gradients), "tanh and its scaled forms" (``book/tanh.md``: a sigmoid network is a tanh
network in disguise; is tanh "always preferred"?) and "ReLU, Leaky ReLU and ELU"
(``book/relu-family.md``: does ReLU "accelerate convergence"?).

Every experiment is deterministic for its seeds: data, initial weights and the arithmetic
(run on one thread) are fixed, so the figures the book quotes are reproducible on the pinned
CPU build of PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.initialization import Scheme
from actgrader.reference.models import make_mlp
from actgrader.reference.training import single_thread


def steps_to_accuracy(
    activation: str,
    *,
    hidden: Sequence[int] = (32, 32, 32),
    target: float = 0.95,
    max_steps: int = 600,
    lr: float = 0.01,
    seed: int = 0,
    init: Scheme = "default",
    points: int = 400,
    data_seed: int = 0,
) -> int | None:
    """Full-batch Adam steps until an MLP classifies ``target`` of the two-spirals points correctly.

    Adam is PyTorch's fused implementation (one kernel per step, the fastest on a CPU).

    The network is ``make_mlp([2, *hidden, 2], activation, init=init, seed=seed)`` trained with
    cross-entropy on :func:`~actgrader.datasets.two_spirals` (``points`` points). The accuracy
    is read on the forward pass of each step, before the update. Returns the 1-based step at
    which the accuracy first reaches ``target``, or ``None`` if it never does within
    ``max_steps``.
    """
    x, y = datasets.two_spirals(points, seed=data_seed)
    with single_thread():
        model = make_mlp([2, *hidden, 2], activation, init=init, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # one kernel per step: faster on CPU
        for step in range(1, max_steps + 1):
            optimizer.zero_grad()
            logits = model(x)
            if (logits.argmax(dim=1) == y).float().mean().item() >= target:
                return step
            nn.functional.cross_entropy(logits, y).backward()
            optimizer.step()
    return None


def convergence_race(activations: Sequence[str], seeds: Sequence[int], **kwargs: object) -> dict[str, list[int | None]]:
    """:func:`steps_to_accuracy` for every activation and seed (same seeds, so same data and widths)."""
    return {name: [steps_to_accuracy(name, seed=seed, **kwargs) for seed in seeds] for name in activations}  # type: ignore[arg-type]


def wins(race: dict[str, list[int | None]], a: str, b: str) -> int:
    """In how many seeds ``a`` reached the target in strictly fewer steps than ``b`` (never reaching counts as last)."""

    def key(steps: int | None) -> float:
        return float("inf") if steps is None else float(steps)

    return sum(key(sa) < key(sb) for sa, sb in zip(race[a], race[b], strict=True))


def sigmoid_net_as_tanh(model: nn.Sequential) -> nn.Sequential:
    """The same function as a sigmoid MLP, computed with ``tanh`` units.

    Uses ``sigmoid(z) = (1 + tanh(z / 2)) / 2``: every ``Linear`` feeding a sigmoid has its
    weight and bias halved, the sigmoid becomes ``nn.Tanh``, and the next ``Linear``, which
    now receives ``2 h - 1`` instead of ``h``, absorbs the change: ``W' = W / 2`` and
    ``b' = b + W.sum(dim=1) / 2``. Only ``nn.Linear`` and ``nn.Sigmoid`` layers are allowed;
    ``model`` is not modified.
    """
    layers = [_copy_linear(m) if isinstance(m, nn.Linear) else m for m in model]
    for module in layers:
        if not isinstance(module, nn.Linear | nn.Sigmoid):
            raise TypeError(f"sigmoid_net_as_tanh handles Linear and Sigmoid layers, not {type(module).__name__}")
    result: list[nn.Module] = []
    for i, module in enumerate(layers):
        if isinstance(module, nn.Sigmoid):
            before, after = layers[i - 1], layers[i + 1] if i + 1 < len(layers) else None
            if not isinstance(before, nn.Linear) or not isinstance(after, nn.Linear):
                raise TypeError("every sigmoid must sit between two Linear layers")
            with torch.no_grad():
                before.weight.mul_(0.5)
                if before.bias is not None:
                    before.bias.mul_(0.5)
                if after.bias is None:
                    raise ValueError("the layer after a sigmoid needs a bias to absorb the shift")
                after.bias.add_(after.weight.sum(dim=1) / 2)
                after.weight.mul_(0.5)
            result.append(nn.Tanh())
        else:
            result.append(module)
    return nn.Sequential(*result)


def _copy_linear(layer: nn.Linear) -> nn.Linear:
    copy = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, dtype=layer.weight.dtype)
    copy.load_state_dict(layer.state_dict())
    return copy


def same_sign_rows(grad: Tensor) -> float:
    """The fraction of rows of a weight gradient whose nonzero entries all share one sign."""
    positive = (grad > 0) | (grad == 0)
    negative = (grad < 0) | (grad == 0)
    return float((positive.all(dim=1) | negative.all(dim=1)).float().mean())


def weight_gradient_same_sign(
    activation: Callable[[Tensor], Tensor],
    *,
    batch: int,
    fan_in: int = 16,
    fan_out: int = 64,
    seed: int = 0,
) -> float:
    """How often a layer fed by ``activation`` gets a weight gradient with one sign per row.

    The layer computes ``W h`` on inputs ``h = activation(z)``, ``z`` standard normal; the
    gradient arriving at its outputs is standard normal too (what the rest of a network
    would send back). ``dL/dW = delta^T h`` summed over the batch: with one example and
    all-positive ``h`` every row has the sign of its ``delta``; a batch mixes signs.
    """
    gen = torch.Generator().manual_seed(seed)
    h = activation(torch.randn(batch, fan_in, generator=gen, dtype=torch.float64))
    delta = torch.randn(batch, fan_out, generator=gen, dtype=torch.float64)
    return same_sign_rows(delta.T @ h)
