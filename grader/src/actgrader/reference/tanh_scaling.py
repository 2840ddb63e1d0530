"""``tanh(n x)`` against vanishing gradients: where its slope helps, where it hurts, and why it changes little.

Taught in the chapter "Does tanh(n·x) fix vanishing gradients?" (``book/tanh-scaling.md``).

The slope of ``f(x) = tanh(n x)`` is ``f'(x) = n (1 - tanh^2(n x)) = n / cosh^2(n x)``
(:func:`actgrader.reference.formulas.d_tanh_n`): at most ``n`` (at 0), falling to 0 in
both tails. Every threshold below answers "how far from 0 may
``x`` go before the slope drops below ``c``?", i.e. it solves ``n / cosh^2(n x) = c``:

    |x| = acosh(sqrt(n / c)) / n

* :func:`t1` (``c = 1/n``): inside ``|x| < t1(n)`` one factor ``f'(x) >= 1/n`` and can be paid
  back by one factor at the peak ``n``; ``t1(n) = acosh(n) / n`` (0.658 at ``n = 2``).
* :func:`depth_bound` (``c = n^(1-K)``): beyond it, one factor cancels ``K - 1`` factors at the
  peak ``n``; ``acosh(n^(K/2)) / n`` (about 9.0 for ``K = 50``, ``n = 2``).
* :func:`explode_bound` (``c = 1``): inside it a factor exceeds 1, so a product of many such
  factors grows; ``acosh(sqrt(n)) / n`` (0.441 at ``n = 2``).

The threshold functions accept Python numbers (and return floats) or tensors (and return
tensors, element-wise); they compute ``acosh`` through logarithms so that ``n^(K/2)`` never
overflows.

The rescaling argument: a network whose hidden layers compute ``tanh(n (W h + b))`` is the
plain ``tanh`` network with weights ``n W`` and biases ``n b``. The two compute the same
functions, but plain gradient descent on ``W`` moves ``n W`` by ``n^2`` times the step of the plain
network; :func:`rescaled_learning_rates` gives the rates that make the two trajectories equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from actgrader.reference.models import ScaledTanh, linear_layers


def _as_float64(value: float | Tensor) -> Tensor:
    return torch.as_tensor(value, dtype=torch.float64)


def _acosh_of_exp(log_z: Tensor) -> Tensor:
    """``acosh(exp(log_z))`` for ``log_z >= 0``, without forming ``exp(log_z)``.

    ``acosh(z) = log(z + sqrt(z^2 - 1)) = log z + log(1 + sqrt(1 - z^-2))``.
    """
    return log_z + torch.log1p(torch.sqrt(-torch.expm1(-2 * log_z)))


def _finish(result: Tensor, *inputs: float | Tensor) -> float | Tensor:
    if any(isinstance(v, Tensor) for v in inputs):
        return result
    return float(result)


def slope_threshold(n: float | Tensor, slope: float | Tensor) -> float | Tensor:
    """The ``|x|`` at which the slope of ``tanh(n x)`` equals ``slope`` (needs ``0 < slope <= n``).

    For ``|x|`` below it the slope is larger, above it smaller: ``acosh(sqrt(n / slope)) / n``.
    """
    n_t, c_t = _as_float64(n), _as_float64(slope)
    if bool(((c_t <= 0) | (c_t > n_t)).any()):
        raise ValueError("the slope of tanh(n x) takes every value in (0, n] and no other")
    return _finish(_acosh_of_exp(0.5 * torch.log(n_t / c_t)) / n_t, n, slope)


def t1(n: float | Tensor) -> float | Tensor:
    """Half-width of the interval where the slope of ``tanh(n x)`` is at least ``1/n``: ``acosh(n) / n``.

    Needs ``n >= 1`` (for ``n < 1`` the slope never reaches ``1/n``).
    """
    n_t = _as_float64(n)
    if bool((n_t < 1).any()):
        raise ValueError("t1(n) needs n >= 1: below that the slope of tanh(n x) never reaches 1/n")
    return _finish(_acosh_of_exp(torch.log(n_t)) / n_t, n)


def depth_bound(n: float | Tensor, depth: float | Tensor) -> float | Tensor:
    """Beyond this ``|x|`` one slope of ``tanh(n x)`` is below ``n^(1-K)``, cancelling ``K-1`` peak slopes.

    ``acosh(n^(K/2)) / n`` with ``K = depth``; needs ``n > 1`` and ``K >= 1``.
    """
    n_t, k_t = _as_float64(n), _as_float64(depth)
    if bool((n_t <= 1).any()) or bool((k_t < 1).any()):
        raise ValueError("depth_bound(n, K) needs n > 1 and K >= 1")
    return _finish(_acosh_of_exp(0.5 * k_t * torch.log(n_t)) / n_t, n, depth)


def explode_bound(n: float | Tensor) -> float | Tensor:
    """Half-width of the interval where the slope of ``tanh(n x)`` exceeds 1: ``acosh(sqrt(n)) / n``."""
    n_t = _as_float64(n)
    if bool((n_t < 1).any()):
        raise ValueError("explode_bound(n) needs n >= 1: below that the slope never exceeds 1")
    return _finish(_acosh_of_exp(0.5 * torch.log(n_t)) / n_t, n)


def widest_t1(low: float = 1.0 + 1e-9, high: float = 10.0) -> tuple[float, float]:
    """The ``n`` that maximises ``t1(n)``, and the maximum, found numerically.

    ``t1(n) = acosh(n) / n`` rises from 0 at ``n = 1`` and decays like ``log(2n)/n``: it has one
    maximum, where its derivative ``(n / sqrt(n^2 - 1) - acosh(n)) / n^2`` changes sign (from
    + to -). Bisection on that sign on ``[low, high]`` pins ``n`` down to the last bit; a search
    on ``t1`` itself could not, because ``t1`` is flat at its maximum.
    """

    def rising(n: float) -> bool:
        return n / math.sqrt(n * n - 1) > math.acosh(n)

    if not (rising(low) and not rising(high)):
        raise ValueError("the maximum of t1 is not bracketed by [low, high]")
    a, b = low, high
    while True:
        mid = (a + b) / 2
        if mid in (a, b):
            break
        a, b = (mid, b) if rising(mid) else (a, mid)
    return a, t1(a)


# --- LeCun's scaled tanh ------------------------------------------------------------------------


def lecun_amplitude(b: float = 2.0 / 3.0) -> float:
    """The ``a`` that makes ``a tanh(b x)`` pass through ``(1, 1)`` and ``(-1, -1)``: ``1 / tanh(b)``."""
    return 1.0 / math.tanh(b)


def curvature_peak(b: float = 2.0 / 3.0) -> float:
    """The ``x > 0`` where ``|d^2/dx^2 tanh(b x)|`` is largest: ``atanh(1/sqrt(3)) / b``.

    ``d^2/dx^2 tanh(u) = -2 tanh(u) (1 - tanh^2(u))``, extremal where ``tanh^2(u) = 1/3``.
    """
    return math.atanh(1 / math.sqrt(3)) / b


def scaled_tanh_slope_threshold(a: float, b: float, slope: float = 1.0) -> float:
    """The ``|x|`` at which the slope of ``a tanh(b x)`` equals ``slope``: ``acosh(sqrt(a b / slope)) / b``.

    The slope ``a b / cosh^2(b x)`` peaks at ``a b``; needs ``0 < slope <= a b``.
    """
    if not 0 < slope <= a * b:
        raise ValueError("the slope of a tanh(b x) takes every value in (0, a b] and no other")
    return math.acosh(math.sqrt(a * b / slope)) / b


def gaussian_output_variance(activation: Callable[[Tensor], Tensor], points: int = 4001, span: float = 12.0) -> float:
    """``Var f(z)`` for ``z ~ N(0, 1)``, by the trapezoidal rule on ``[-span, span]`` (float64)."""
    z = torch.linspace(-span, span, points, dtype=torch.float64)
    density = torch.exp(-(z**2) / 2) / math.sqrt(2 * math.pi)
    fz = activation(z)
    mean = torch.trapezoid(fz * density, z)
    return float(torch.trapezoid((fz - mean) ** 2 * density, z))


# --- the rescaling experiment -------------------------------------------------------------------


def tanh_n_copy(model: nn.Sequential, n: float) -> nn.Sequential:
    """The same function as the plain-``tanh`` ``model``, written with ``tanh(n x)`` activations.

    Every ``nn.Tanh`` becomes ``ScaledTanh(1, n)`` and the layer feeding it has its weight and
    bias divided by ``n``, so that ``tanh(n (W/n h + b/n)) = tanh(W h + b)``. The output layer
    is copied unchanged. ``model`` is not modified.
    """
    layers: list[nn.Module] = []
    modules = list(model)
    for i, module in enumerate(modules):
        if isinstance(module, nn.Tanh):
            layers.append(ScaledTanh(1.0, n))
            continue
        copy = _copy_module(module)
        feeds_tanh = i + 1 < len(modules) and isinstance(modules[i + 1], nn.Tanh)
        if feeds_tanh:
            if not isinstance(copy, nn.Linear):
                raise TypeError("tanh_n_copy expects every nn.Tanh to follow an nn.Linear")
            with torch.no_grad():
                copy.weight.div_(n)
                if copy.bias is not None:
                    copy.bias.div_(n)
        layers.append(copy)
    return nn.Sequential(*layers)


def _copy_module(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.Linear):
        copy = nn.Linear(
            module.in_features,
            module.out_features,
            bias=module.bias is not None,
            dtype=module.weight.dtype,
        )
        copy.load_state_dict(module.state_dict())
        return copy
    return type(module)()


def rescaled_learning_rates(model: nn.Sequential, n: float, lr: float) -> list[float]:
    """Per-``Linear`` learning rates under which gradient descent on the ``tanh(n x)`` copy tracks ``model``.

    A layer feeding ``tanh(n x)`` stores ``V = W / n``. The loss is ``L(n V)``, so its gradient
    is ``n grad L(W)`` and a step ``V -= eta_V n grad L(W)`` moves ``W = n V`` by
    ``eta_V n^2 grad L(W)``. Equal steps need ``eta_V = lr / n^2``; the output layer keeps ``lr``.
    Returned in the order of :func:`~actgrader.reference.models.linear_layers`, input side first.
    """
    modules = list(model)
    rates: list[float] = []
    for i, module in enumerate(modules):
        if isinstance(module, nn.Linear):
            feeds_activation = i + 1 < len(modules) and isinstance(modules[i + 1], nn.Tanh | ScaledTanh)
            rates.append(lr / n**2 if feeds_activation else lr)
    return rates


def gradient_descent(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    lrs: float | Sequence[float],
    steps: int,
) -> list[float]:
    """Full-batch plain gradient descent, in place: ``p -= lr * grad`` for ``steps`` steps.

    ``lrs`` is one rate for every parameter or one per ``nn.Linear`` layer (input side first,
    shared by its weight and bias). Returns the loss before each step and after the last
    (``steps + 1`` values). No momentum, no weight decay: the update is exactly the formula.
    """
    layers = linear_layers(model)
    rates = [float(lrs)] * len(layers) if isinstance(lrs, int | float) else [float(r) for r in lrs]
    if len(rates) != len(layers):
        raise ValueError(f"{len(rates)} learning rates for {len(layers)} linear layers")
    losses: list[float] = []
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for layer, rate in zip(layers, rates, strict=True):
                for param in layer.parameters():
                    if param.grad is not None:
                        param -= rate * param.grad
    with torch.no_grad():
        losses.append(float(loss_fn(model(x), y)))
    return losses


def as_plain_tanh(model: nn.Sequential) -> nn.Sequential:
    """The inverse of :func:`tanh_n_copy`: every ``ScaledTanh(1, n)`` back to ``nn.Tanh``, weights times ``n``."""
    layers: list[nn.Module] = []
    modules = list(model)
    for i, module in enumerate(modules):
        if isinstance(module, ScaledTanh):
            if module.a != 1.0:
                raise ValueError("as_plain_tanh only undoes tanh(n x) (amplitude 1)")
            layers.append(nn.Tanh())
            continue
        copy = _copy_module(module)
        following = modules[i + 1] if i + 1 < len(modules) else None
        if isinstance(following, ScaledTanh) and isinstance(copy, nn.Linear):
            with torch.no_grad():
                copy.weight.mul_(following.b)
                if copy.bias is not None:
                    copy.bias.mul_(following.b)
        layers.append(copy)
    return nn.Sequential(*layers)


def max_parameter_gap(a: nn.Module, b: nn.Module) -> float:
    """The largest absolute difference between corresponding parameters of two networks of one shape."""
    gaps = [float((p.detach() - q.detach()).abs().max()) for p, q in zip(a.parameters(), b.parameters(), strict=True)]
    return max(gaps) if gaps else 0.0


def thresholds(n: float, depth: int) -> tuple[float, float, float]:
    """``(t1(n), depth_bound(n, depth), explode_bound(n))`` as Python floats: the chapter's three thresholds at once."""
    return float(t1(float(n))), float(depth_bound(float(n), float(depth))), float(explode_bound(float(n)))
