"""Small networks built the same way everywhere in the course.

Used by the gradient-flow chapters (``book/vanishing-gradients.md`` and the ones after it),
the output-activation chapter, the model check-up and the exercises, so that "a 20-layer
sigmoid MLP" means the same network in all of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from actgrader.reference.initialization import Scheme, initialize_


class ScaledTanh(nn.Module):
    """``a * tanh(b * x)``: ``tanh(n x)`` with ``a = 1, b = n``; LeCun's with ``a = 1.7159, b = 2/3``."""

    def __init__(self, a: float = 1.7159, b: float = 2.0 / 3.0) -> None:
        super().__init__()
        self.a = a
        self.b = b

    def forward(self, x: Tensor) -> Tensor:
        return self.a * torch.tanh(self.b * x)

    def extra_repr(self) -> str:
        return f"a={self.a:g}, b={self.b:g}"


class Swish(nn.Module):
    """Swish ``x sigmoid(beta x)`` with ``beta`` a trained parameter (Ramachandran et al., 2017).

    PyTorch has no module for it (``nn.SiLU`` is ``beta = 1``, fixed). With
    ``trainable=False`` ``beta`` is a fixed number. Taught in the chapter "The rest of the
    family" (``book/activation-family.md``).
    """

    def __init__(self, beta: float = 1.0, *, trainable: bool = True) -> None:
        super().__init__()
        value = torch.tensor(float(beta))
        if trainable:
            self.beta = nn.Parameter(value)
        else:
            self.register_buffer("beta", value)

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(self.beta * x)

    def extra_repr(self) -> str:
        return f"beta={float(self.beta):g}, trainable={isinstance(self.beta, nn.Parameter)}"


ACTIVATION_MODULES: dict[str, type[nn.Module] | None] = {
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "lecun_tanh": ScaledTanh,
    "prelu": nn.PReLU,
    "rrelu": nn.RReLU,
    "celu": nn.CELU,
    "mish": nn.Mish,
    "relu6": nn.ReLU6,
    "hard_sigmoid": nn.Hardsigmoid,
    "hard_swish": nn.Hardswish,
    "swish": Swish,
}


def activation_module(name: str) -> nn.Module:
    """A fresh module for the activation called ``name`` (see ``ACTIVATION_MODULES``)."""
    try:
        cls = ACTIVATION_MODULES[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATION_MODULES)}") from None
    assert cls is not None
    return cls()


def make_mlp(
    widths: Sequence[int],
    activation: str | Callable[[], nn.Module] = "relu",
    *,
    init: Scheme = "default",
    bias: bool = True,
    seed: int | None = None,
    output_activation: nn.Module | None = None,
) -> nn.Sequential:
    """An MLP with layers ``widths[0] -> widths[1] -> ... -> widths[-1]``.

    The activation follows every layer but the last (the output is linear unless
    ``output_activation`` is given). ``activation`` is a name from ``ACTIVATION_MODULES`` or a
    factory such as ``lambda: nn.LeakyReLU(0.1)``: every layer gets its own module, so hooks
    can tell the layers apart. Weights follow ``init`` (see
    :mod:`actgrader.reference.initialization`); with ``seed`` the network is the same on every
    run and every machine.
    """
    if len(widths) < 2:
        raise ValueError("an MLP needs at least an input and an output width")
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    layers: list[nn.Module] = []
    last = len(widths) - 2
    for k, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
        if generator is not None:
            with torch.random.fork_rng(devices=[]):
                torch.default_generator.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
                linear = nn.Linear(n_in, n_out, bias=bias)
        else:
            linear = nn.Linear(n_in, n_out, bias=bias)
        layers.append(initialize_(linear, init, generator))
        if k < last:
            layers.append(activation_module(activation) if isinstance(activation, str) else activation())
        elif output_activation is not None:
            layers.append(output_activation)
    return nn.Sequential(*layers)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The ``nn.Linear`` layers of ``model`` in order (input side first)."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


class Elementwise(nn.Module):
    """An activation given as a plain function (``torch.sigmoid``, ``torch.relu``...) wrapped as a module.

    The exercises hand a network over as tensors and its activation as a function; wrapped
    like this, the function is a leaf module that forward hooks (and so
    :func:`~actgrader.reference.initialization.activation_records`) see as an activation layer.
    """

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


def mlp_from_weights(
    weights: Sequence[Tensor],
    biases: Sequence[Tensor],
    activation: str | Callable[[], nn.Module],
) -> nn.Sequential:
    """The MLP whose ``k``-th ``nn.Linear`` holds copies of ``weights[k]`` and ``biases[k]``.

    The form in which the exercises hand a network over: ``weights[k]`` has shape
    ``(n_{k+1}, n_k)`` as in ``nn.Linear``, ``biases[k]`` shape ``(n_{k+1},)``. As in
    :func:`make_mlp`, the activation (a name from ``ACTIVATION_MODULES`` or a module factory)
    follows every layer but the last. The tensors passed in are copied, never modified, and
    the global random state is left alone (``nn.Linear`` draws weights before they are
    overwritten).
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError("give one bias per weight matrix, and at least one layer")
    layers: list[nn.Module] = []
    last = len(weights) - 1
    for k, (weight, bias) in enumerate(zip(weights, biases, strict=True)):
        n_out, n_in = weight.shape
        with torch.random.fork_rng(devices=[]):
            linear = nn.Linear(n_in, n_out, dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
        layers.append(linear)
        if k < last:
            layers.append(activation_module(activation) if isinstance(activation, str) else activation())
    return nn.Sequential(*layers)
