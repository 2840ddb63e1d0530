"""Weight initialization schemes, matched to the activation.

Taught in the chapter "Initialization matched to the activation" (``book/initialization.md``).

Each scheme draws weights with mean 0 and a standard deviation set by the layer's fan-in
and fan-out:

=========  ==========================  =============================
scheme     variance of a weight        meant for
=========  ==========================  =============================
kaiming    2 / fan_in                  ReLU family (He et al., 2015)
xavier     2 / (fan_in + fan_out)      tanh, sigmoid (Glorot & Bengio, 2010)
lecun      1 / fan_in                  tanh, SELU (LeCun et al., 1998)
default    1 / (3 fan_in)              what ``nn.Linear`` does when left alone
=========  ==========================  =============================

``default`` is ``nn.Linear``'s own scheme, ``kaiming_uniform_(a=sqrt(5))``: a uniform law on
``[-b, b]`` with ``b = gain * sqrt(3 / fan_in)`` and ``gain = sqrt(2 / (1 + 5)) = sqrt(1/3)``, so
``b = 1/sqrt(fan_in)`` and the variance is ``b**2 / 3 = 1 / (3 fan_in)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import Literal

import torch
from torch import nn

Scheme = Literal["kaiming", "xavier", "lecun", "default"]
SCHEMES: tuple[Scheme, ...] = ("kaiming", "xavier", "lecun", "default")


def weight_variance(scheme: Scheme, fan_in: int, fan_out: int) -> float:
    """The variance of one weight under ``scheme`` for a layer with the given fans."""
    if scheme == "kaiming":
        return 2.0 / fan_in
    if scheme == "xavier":
        return 2.0 / (fan_in + fan_out)
    if scheme == "lecun":
        return 1.0 / fan_in
    if scheme == "default":
        return 1.0 / (3.0 * fan_in)
    raise ValueError(f"unknown initialization scheme {scheme!r}; choose from {SCHEMES}")


def initialize_(layer: nn.Linear, scheme: Scheme, generator: torch.Generator | None = None) -> nn.Linear:
    """Re-draw ``layer``'s weights from a normal law with the scheme's variance; zero its bias.

    ``default`` leaves the layer as ``nn.Linear`` made it.
    """
    if scheme == "default":
        return layer
    fan_out, fan_in = layer.weight.shape
    std = math.sqrt(weight_variance(scheme, fan_in, fan_out))
    with torch.no_grad():
        layer.weight.normal_(0.0, std, generator=generator)
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


# --- variance propagation (chapter "Initialization matched to the activation") -----------------


def activation_records(model: nn.Module, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(input, output)`` of every activation module on the batch ``x``, input side first.

    The activation modules are the leaf modules other than ``nn.Linear`` and ``nn.Dropout``
    (for ``make_mlp`` networks: one per hidden layer). Recorded with forward hooks, without
    gradients; the hooks are removed afterwards.
    """
    records: list[tuple[torch.Tensor, torch.Tensor]] = []
    leaves = [m for m in model.modules() if not list(m.children()) and not isinstance(m, nn.Linear | nn.Dropout)]
    run_hooked(model, x, leaves, lambda _m, args, out: records.append((args[0], out)))
    return records


def run_hooked(model: nn.Module, x: torch.Tensor, modules: Iterable[nn.Module], hook: Callable[..., None]) -> None:
    """Run ``model(x)`` without gradients with ``hook`` as a forward hook on each of ``modules``.

    The hooks are removed afterwards, even when the forward pass raises.
    """
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()


def spread(h: torch.Tensor) -> float:
    """The standard deviation of all the entries of a layer's values on a batch: ``h.std()``.

    This is what "variance propagation" tracks: for a given layer, how large its values are
    across units and examples. (With the course's zero biases and weights of mean 0, the
    pre-activations have mean about 0, so this is also their root mean square.)
    """
    return float(h.std())


def example_spread(h: torch.Tensor) -> float:
    """How much a layer's values change from one example to the next: ``sqrt(mean_j Var_i h[i, j])``.

    The variance over the batch (rows) of each unit (column), averaged over the units. Unlike
    :func:`spread`, a unit that outputs the same value for every example (a bias, say)
    contributes nothing: this is the part of the layer that still carries the input.
    """
    return float(h.var(dim=0, unbiased=False).mean().sqrt())


def activation_spread(model: nn.Module, x: torch.Tensor) -> list[float]:
    """:func:`spread` of the output of each activation layer of ``model`` on the batch ``x``, input side first."""
    return [spread(out) for _, out in activation_records(model, x)]


def preactivation_spread(model: nn.Module, x: torch.Tensor) -> list[float]:
    """:func:`spread` of the input of each activation layer (the pre-activations ``z_k``), input side first."""
    return [spread(inp) for inp, _ in activation_records(model, x)]


def input_dependence(model: nn.Module, x: torch.Tensor) -> list[float]:
    """:func:`example_spread` of the output of each activation layer, input side first."""
    return [example_spread(out) for _, out in activation_records(model, x)]


def saturated_fraction(model: nn.Module, x: torch.Tensor, level: float = 0.99) -> list[float]:
    """For each activation layer, the fraction of outputs with ``|h| > level`` (for tanh: stuck near ±1)."""
    return [float((out.abs() > level).float().mean()) for _, out in activation_records(model, x)]


def relu_variance_gain(scheme: Scheme, fan_in: int, fan_out: int) -> float:
    """The factor by which a ReLU layer multiplies the variance of the pre-activations: ``fan_in * Var(w) / 2``.

    For ``z_k = W_k relu(z_{k-1})`` with independent zero-mean weights and ``z_{k-1}``
    symmetric about 0, ``Var z_k = fan_in Var(w) E[relu(z)^2] = fan_in Var(w) Var(z_{k-1}) / 2``.
    Kaiming's ``Var(w) = 2 / fan_in`` makes the factor exactly 1.
    """
    return fan_in * weight_variance(scheme, fan_in, fan_out) / 2


def predicted_relu_preactivation_variances(
    scheme: Scheme, widths: list[int] | tuple[int, ...], input_second_moment: float
) -> list[float]:
    """``Var z_k`` for each hidden layer of a bias-free ReLU MLP, from the recursion of :func:`relu_variance_gain`.

    ``Var z_1 = n_0 Var(w) E[x^2]`` (the input is not rectified), then each layer multiplies by
    :func:`relu_variance_gain`. ``widths`` as in ``make_mlp``; one value per hidden layer.
    """
    q = widths[0] * weight_variance(scheme, widths[0], widths[1]) * input_second_moment
    out = [q]
    for n_in, n_out in itertools.pairwise(widths[1:-1]):
        q = q * relu_variance_gain(scheme, n_in, n_out)
        out.append(q)
    return out


def relu_fixed_point_variance(scheme: Scheme, fan_in: int, fan_out: int, bias_variance: float) -> float:
    """The pre-activation variance a deep ReLU MLP settles at when each layer also adds a random bias.

    ``q = gain q + Var(b)`` with ``gain = relu_variance_gain(...) < 1`` has the fixed point
    ``Var(b) / (1 - gain)``: what is left once the input's share has shrunk away.
    """
    gain = relu_variance_gain(scheme, fan_in, fan_out)
    if gain >= 1:
        raise ValueError("with a gain of 1 or more the variance has no finite fixed point")
    return bias_variance / (1 - gain)


def linear_default_statistics(fan_in: int, fan_out: int, seed: int = 0) -> dict[str, float]:
    """Measure what ``nn.Linear(fan_in, fan_out)`` draws when left alone.

    Returns the empirical variance of the weights and of the bias, and the largest absolute
    weight and bias, of a layer built after ``torch.manual_seed(seed)`` (the global generator
    is restored afterwards). Compare with ``weight_variance("default", ...)``
    ``= 1 / (3 fan_in)`` and the bound ``1 / sqrt(fan_in)``.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = nn.Linear(fan_in, fan_out)
    w, b = layer.weight.detach(), layer.bias.detach()
    return {
        "weight_variance": float(w.var()),
        "bias_variance": float(b.var()),
        "weight_max": float(w.abs().max()),
        "bias_max": float(b.abs().max()),
    }


def default_weight_bound(fan_in: int) -> float:
    """The half-width of ``nn.Linear``'s uniform law, derived from ``kaiming_uniform_(a=sqrt(5))``.

    ``gain = sqrt(2 / (1 + a^2)) = sqrt(1/3)``, ``std = gain / sqrt(fan_in)``, and a uniform law
    with that std has half-width ``sqrt(3) std = 1 / sqrt(fan_in)``.
    """
    a = math.sqrt(5.0)
    gain = math.sqrt(2.0 / (1 + a**2))
    return math.sqrt(3.0) * gain / math.sqrt(fan_in)


#: The scheme the chapter's table ("The schemes") matches to each activation. LeCun's
#: ``1/fan_in`` suits tanh as well; it equals Glorot's on square layers.
MATCHED_SCHEME: dict[str, Scheme] = {"relu": "kaiming", "leaky_relu": "kaiming", "tanh": "xavier", "sigmoid": "xavier"}


def matched_std(activation: str, fan_in: int, fan_out: int) -> float:
    """The standard deviation of a layer's weights under :data:`MATCHED_SCHEME` for the ``activation`` after it."""
    try:
        scheme = MATCHED_SCHEME[activation]
    except KeyError:
        raise ValueError(f"no matched scheme for {activation!r}; choose from {sorted(MATCHED_SCHEME)}") from None
    return math.sqrt(weight_variance(scheme, fan_in, fan_out))
