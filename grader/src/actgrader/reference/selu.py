"""SELU and self-normalizing networks: the fixed point, its two constants, and the statistics through depth.

Taught in the chapter "SELU and self-normalizing networks" (``book/selu.md``).

``selu(z) = scale * z`` for ``z > 0`` and ``scale * alpha * (exp(z) - 1)`` otherwise
(Klambauer et al., 2017). If a layer's inputs have mean ``mu`` and variance ``nu``, and its
weights sum to ``omega`` with squares summing to ``tau`` (per unit), the pre-activation is about
``N(mu omega, nu tau)`` and the layer's outputs have a new mean and variance:
:func:`moment_map`. With ``omega = 0`` and ``tau = 1`` (weights of mean 0 and variance
``1 / fan_in``: LeCun's normal initialization) the two constants are chosen so that
``(mu, nu) = (0, 1)`` is a fixed point of that map: ``E[selu(z)] = 0`` and ``E[selu(z)^2] = 1``
for ``z ~ N(0, 1)``. :func:`selu_constants` solves those two equations numerically (mpmath's
``findroot``, the expectations as Gaussian integrals in closed form, checked against numerical
quadrature), and nothing in the course types the constants.
:func:`moments_through_depth` measures mean and variance layer by layer in a real network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import mpmath
import torch
from torch import Tensor, nn

from actgrader.reference.training import single_thread

Regularizer = Literal["none", "dropout", "alpha_dropout"]
Wiring = Literal["plain", "residual", "batchnorm"]


def _selu_moments(
    mean: mpmath.mpf, std: mpmath.mpf, alpha: mpmath.mpf, scale: mpmath.mpf
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``E[selu(z)]`` and ``E[selu(z)^2]`` for ``z ~ N(mean, std^2)``, from the Gaussian integrals in closed form.

    With ``Phi`` the standard normal CDF, ``phi`` its density and ``r = mean / std``:
    ``E[z; z > 0] = mean Phi(r) + std phi(r)``,
    ``E[z^2; z > 0] = (mean^2 + std^2) Phi(r) + mean std phi(r)``,
    ``E[exp(k z); z <= 0] = exp(k mean + k^2 std^2 / 2) Phi(-(mean + k std^2) / std)`` and
    ``P(z <= 0) = Phi(-r)``. The chapter derives them; :func:`_selu_moments_by_quadrature`
    integrates the same expectations numerically and the tests compare the two.
    """
    r = mean / std
    cdf, pdf = mpmath.ncdf(r), mpmath.npdf(r)
    pos1 = mean * cdf + std * pdf
    pos2 = (mean**2 + std**2) * cdf + mean * std * pdf

    def exp_neg(k: int) -> mpmath.mpf:
        return mpmath.exp(k * mean + k**2 * std**2 / 2) * mpmath.ncdf(-(mean + k * std**2) / std)

    p_neg = mpmath.ncdf(-r)
    first = scale * (pos1 + alpha * (exp_neg(1) - p_neg))
    second = scale**2 * (pos2 + alpha**2 * (exp_neg(2) - 2 * exp_neg(1) + p_neg))
    return first, second


def _selu_moments_by_quadrature(
    mean: mpmath.mpf, std: mpmath.mpf, alpha: mpmath.mpf, scale: mpmath.mpf
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """:func:`_selu_moments` by numerical integration against the normal density (split at the kink)."""

    def selu(z: mpmath.mpf) -> mpmath.mpf:
        return scale * z if z > 0 else scale * alpha * (mpmath.exp(z) - 1)

    def expect(fn: Callable[[mpmath.mpf], mpmath.mpf]) -> mpmath.mpf:
        return mpmath.quad(lambda z: fn(z) * mpmath.npdf(z, mean, std), [-mpmath.inf, 0, mpmath.inf])

    return expect(selu), expect(lambda z: selu(z) ** 2)


def moment_map(
    mean: float, variance: float, alpha: float, scale: float, *, omega: float = 0.0, tau: float = 1.0, dps: int = 30
) -> tuple[float, float]:
    """The mean and variance of ``selu(z)`` for ``z ~ N(mean * omega, variance * tau)``.

    This is Klambauer et al.'s map from one layer's statistics to the next: ``omega`` is the
    sum of a unit's incoming weights, ``tau`` the sum of their squares (``n Var(w)`` for a
    layer of fan-in ``n`` and weights of mean 0: 1 for LeCun's initialization, 2 for Kaiming's).
    """
    with mpmath.workdps(dps):
        m = mpmath.mpf(mean) * omega
        sd = mpmath.sqrt(mpmath.mpf(variance) * tau)
        first, second = _selu_moments(m, sd, mpmath.mpf(alpha), mpmath.mpf(scale))
        return float(first), float(second - first**2)


def fixed_point_equations(alpha: float, scale: float, dps: int = 30) -> tuple[float, float]:
    """The two residuals that vanish at SELU's constants.

    ``E[selu(z)]`` and ``E[selu(z)^2] - 1`` for ``z ~ N(0, 1)``.
    """
    with mpmath.workdps(dps):
        first, second = _selu_moments(mpmath.mpf(0), mpmath.mpf(1), mpmath.mpf(alpha), mpmath.mpf(scale))
        return float(first), float(second - 1)


def selu_constants(dps: int = 30) -> tuple[float, float]:
    """SELU's ``(alpha, scale)``: ``selu(z)`` of mean 0, variance 1.

    The fixed-point equations ``E[selu(z)] = 0`` and ``E[selu(z)^2] = 1``
    for ``z ~ N(0, 1)``, solved by mpmath's ``findroot`` at ``dps`` digits
    from ``(1, 1)`` (a plain ELU). Returned as float64.
    """
    with mpmath.workdps(dps):
        zero, one = mpmath.mpf(0), mpmath.mpf(1)

        def residuals(alpha, scale):
            first, second = _selu_moments(zero, one, alpha, scale)
            return [first, second - 1]

        alpha, scale = mpmath.findroot(residuals, (one, one))
        return float(alpha), float(scale)


def torch_selu_constants() -> tuple[float, float]:
    """``(alpha, scale)`` as PyTorch's ``F.selu`` uses them, read off the function itself (float64).

    ``selu(1) = scale`` and ``selu(z) -> -scale * alpha`` as ``z -> -inf`` (``exp(-800)`` is 0
    in float64).
    """
    z = torch.tensor([1.0, -800.0], dtype=torch.float64)
    at_one, floor = torch.nn.functional.selu(z).tolist()
    return -floor / at_one, at_one


def map_jacobian(alpha: float, scale: float, *, omega: float = 0.0, tau: float = 1.0, step: float = 1e-6) -> Tensor:
    """The 2x2 Jacobian of :func:`moment_map` at ``(mean, variance) = (0, 1)``, by central differences (float64)."""
    rows = []
    for d_mean, d_var in ((step, 0.0), (0.0, step)):
        plus = moment_map(d_mean, 1.0 + d_var, alpha, scale, omega=omega, tau=tau)
        minus = moment_map(-d_mean, 1.0 - d_var, alpha, scale, omega=omega, tau=tau)
        rows.append([(p - m) / (2 * step) for p, m in zip(plus, minus, strict=True)])
    return torch.tensor(rows, dtype=torch.float64).T


def iterate_moment_map(
    mean: float, variance: float, steps: int, alpha: float, scale: float, *, omega: float = 0.0, tau: float = 1.0
) -> list[tuple[float, float]]:
    """``(mean, variance)`` after each of ``steps`` applications of :func:`moment_map`, the start first."""
    path = [(mean, variance)]
    for _ in range(steps):
        mean, variance = moment_map(mean, variance, alpha, scale, omega=omega, tau=tau)
        path.append((mean, variance))
    return path


def selu_network(
    depth: int,
    width: int,
    *,
    init: Literal["lecun", "kaiming"] = "lecun",
    regularizer: Regularizer = "none",
    p: float = 0.1,
    wiring: Wiring = "plain",
    seed: int = 0,
) -> nn.ModuleList:
    """``depth`` SELU layers of ``width`` units: bias-free ``nn.Linear``, normal weights of variance ``gain / width``.

    The gain is 1 for ``lecun``, 2 for ``kaiming``.

    Each layer is ``Linear -> [BatchNorm1d] -> SELU -> [Dropout(p) | AlphaDropout(p)]``, kept as a
    ``ModuleList`` of ``nn.Sequential`` layers; :func:`moments_through_depth` adds the skip
    connection when ``wiring == "residual"``. ``seed`` draws the weights only.
    """
    gain = {"lecun": 1.0, "kaiming": 2.0}[init]
    gen = torch.Generator().manual_seed(seed)
    layers = nn.ModuleList()
    for _ in range(depth):
        linear = nn.Linear(width, width, bias=False)
        with torch.no_grad():
            linear.weight.normal_(0.0, math.sqrt(gain / width), generator=gen)
        parts: list[nn.Module] = [linear]
        if wiring == "batchnorm":
            parts.append(nn.BatchNorm1d(width))
        parts.append(nn.SELU())
        if regularizer == "dropout":
            parts.append(nn.Dropout(p))
        elif regularizer == "alpha_dropout":
            parts.append(nn.AlphaDropout(p))
        layers.append(nn.Sequential(*parts))
    return layers


def moments_through_depth(
    depth: int = 50,
    width: int = 256,
    n: int = 1024,
    *,
    init: Literal["lecun", "kaiming"] = "lecun",
    regularizer: Regularizer = "none",
    p: float = 0.1,
    wiring: Wiring = "plain",
    weight_seed: int = 0,
    data_seed: int = 1,
    dropout_seed: int = 2,
) -> tuple[Tensor, Tensor]:
    """Mean and variance of each layer's outputs (all units and examples) in a SELU network, input side first.

    The input is ``n`` standard normal vectors (from ``data_seed``); the network is
    :func:`selu_network` (weights from ``weight_seed``) in training mode, so dropout is active
    (masks from ``dropout_seed``) and batch norm uses the batch's statistics. With
    ``wiring == "residual"`` each layer adds its input: ``h <- h + layer(h)``. Returns two
    float64 tensors of shape ``(depth,)``.
    """
    layers = selu_network(depth, width, init=init, regularizer=regularizer, p=p, wiring=wiring, seed=weight_seed)
    h = torch.randn(n, width, generator=torch.Generator().manual_seed(data_seed))
    means, variances = [], []
    with single_thread(), torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(dropout_seed)  # dropout masks come from the global generator
        layers.train()
        for layer in layers:
            h = h + layer(h) if wiring == "residual" else layer(h)
            means.append(float(h.mean()))
            variances.append(float(h.var()))
    return torch.tensor(means, dtype=torch.float64), torch.tensor(variances, dtype=torch.float64)
