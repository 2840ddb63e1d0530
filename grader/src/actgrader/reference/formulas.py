"""The activation functions and their derivatives, from scratch and numerically stable.

Taught in the part "The activation functions": the chapters "The sigmoid"
(``book/sigmoid.md``), "tanh and its scaled forms" (``book/tanh.md``), "ReLU, Leaky ReLU and
ELU" (``book/relu-family.md``), "GELU and SiLU" (``book/gelu-silu.md``), "Softmax"
(``book/softmax.md``), "Softsign and softplus" (``book/softsign-softplus.md``) and
"Choosing an activation" (``book/comparison.md``); PReLU, RReLU, CELU, Mish, ReLU6,
hard-sigmoid and hard-swish in "The rest of the family" (``book/activation-family.md``).

Conventions
-----------
* Every activation takes a tensor and returns a tensor of the same shape and dtype
  (``softmax`` and ``log_softmax`` work along ``dim``). Parameters such as ``alpha`` are
  plain floats with PyTorch's defaults.
* ``d_<name>`` is the closed-form derivative, evaluated element-wise; it never needs
  autograd. The functions themselves are written so that autograd through them is also
  finite everywhere (see "stability" below), so either way of getting a slope works.
* The textbook formulas typed as they read, kept to be shown failing, are in
  :mod:`actgrader.reference.naive`; the measured properties in
  :mod:`actgrader.reference.analysis`; the table of activations in
  :mod:`actgrader.reference.registry`.

Stability
---------
Two tricks make the functions safe for any finite input in float32 and float64:

1. Only ever exponentiate a non-positive number, so ``exp`` stays in ``(0, 1]``. For the
   sigmoid, ``1 / (1 + e^-x)`` is used for ``x >= 0`` and ``e^x / (1 + e^x)`` for ``x < 0``.
2. ``torch.where`` picks values but autograd still differentiates *both* branches; a branch
   that overflows where it is not selected turns the gradient into ``0 * inf = nan``. So
   each branch gets an input clamped to its own half-line (``x.clamp(min=0)``,
   ``x.clamp(max=0)``), where it cannot overflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from actgrader.reference._exact import (
    _bounded,
    _d_sigmoid_pair,
    _exp_minus_half_square,
    _halves,
    _in_tail,
    _scaled,
    _sigmoid_pair,
    _times_constant,
    _times_exp_tail,
    _two_product,
    _two_sum,
)

Fn = Callable[[Tensor], Tensor]

#: LeCun's scaled tanh, ``1.7159 tanh(2x/3)`` (LeCun et al., "Efficient BackProp", 1998).
LECUN_SCALE = 1.7159
LECUN_GAIN = 2.0 / 3.0
#: The constant of the cubic term in the tanh approximation of GELU (Hendrycks & Gimpel, 2016).
GELU_TANH_CUBIC = 0.044715
#: The slope of the sigmoid approximation of GELU, ``x sigmoid(1.702 x)`` (same paper).
GELU_SIGMOID_SLOPE = 1.702

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)


# --- sigmoid --------------------------------------------------------------------------------


def sigmoid(x: Tensor) -> Tensor:
    """The logistic sigmoid ``1 / (1 + e^-x)``, in ``(0, 1)``; never exponentiates a positive number."""
    pos, neg = _halves(x)
    e_neg = torch.exp(neg)
    return torch.where(x >= 0, 1 / (1 + torch.exp(-pos)), e_neg / (1 + e_neg))


def d_sigmoid(x: Tensor) -> Tensor:
    """``sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))``, computed as ``e / (1 + e)^2`` with ``e = e^-|x|``.

    The two are equal; the second keeps full relative precision in the tails, where
    ``1 - sigmoid(x)`` rounds to 0 in float32 from ``x`` of about 17 on.
    """
    e = torch.exp(-x.abs())
    return e / (1 + e) ** 2


# --- tanh and its scaled forms --------------------------------------------------------------


def tanh(x: Tensor) -> Tensor:
    """``tanh(x) = (e^x - e^-x) / (e^x + e^-x)``, in ``(-1, 1)``.

    Written as ``-expm1(-2x) / (2 + expm1(-2x))`` for ``x >= 0`` (and the mirror image for
    ``x < 0``): no overflow, and ``expm1`` keeps the digits of tiny ``x``.
    """
    pos, neg = _halves(x)
    m_pos = torch.expm1(-2 * pos)
    m_neg = torch.expm1(2 * neg)
    return torch.where(x >= 0, -m_pos / (2 + m_pos), m_neg / (2 + m_neg))


def d_tanh(x: Tensor) -> Tensor:
    """``tanh'(x) = 1 - tanh(x)^2``, computed as ``4e / (1 + e)^2`` with ``e = e^-2|x|`` (no cancellation)."""
    e = torch.exp(-2 * x.abs())
    return 4 * e / (1 + e) ** 2


def tanh_n(x: Tensor, n: float = 2.0) -> Tensor:
    """``tanh(n x)``: the same S-curve squeezed horizontally by ``n``; its slope peaks at ``n``."""
    return tanh(n * x)


def d_tanh_n(x: Tensor, n: float = 2.0) -> Tensor:
    """``d/dx tanh(n x) = n (1 - tanh(n x)^2)``."""
    return n * d_tanh(n * x)


def lecun_tanh(x: Tensor) -> Tensor:
    """LeCun's scaled tanh ``1.7159 tanh(2x/3)``, in ``(-1.7159, 1.7159)``."""
    return LECUN_SCALE * tanh(LECUN_GAIN * x)


def d_lecun_tanh(x: Tensor) -> Tensor:
    """``1.7159 (2/3) (1 - tanh(2x/3)^2)``."""
    high, low = _scaled(x, LECUN_GAIN)
    sign = torch.where(high >= 0, torch.ones_like(high), -torch.ones_like(high))
    e = torch.exp(-2 * high.abs()) * torch.exp(-2 * sign * low)  # e^(-2|2x/3|), the product exact
    return LECUN_SCALE * LECUN_GAIN * (4 * e / (1 + e) ** 2)


# --- the ReLU family ------------------------------------------------------------------------


def relu(x: Tensor) -> Tensor:
    """``max(0, x)``. Autograd gives slope 0 at ``x = 0``, as ``torch.relu`` does."""
    return torch.where(x > 0, x, torch.zeros_like(x))


def d_relu(x: Tensor) -> Tensor:
    """1 for ``x > 0``, else 0 (PyTorch's convention at the kink: 0)."""
    return (x > 0).to(x.dtype)


def leaky_relu(x: Tensor, alpha: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, ``alpha x`` otherwise (PyTorch's ``negative_slope``, default 0.01)."""
    return torch.where(x > 0, x, alpha * x)


def d_leaky_relu(x: Tensor, alpha: float = 0.01) -> Tensor:
    """1 for ``x > 0``, ``alpha`` otherwise (so ``alpha`` at the kink, as PyTorch)."""
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, alpha))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, ``alpha (e^x - 1)`` otherwise; in ``(-alpha, inf)``."""
    _, neg = _halves(x)
    return torch.where(x > 0, x, alpha * torch.expm1(neg))


def d_elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """1 for ``x > 0``, ``alpha e^x = elu(x) + alpha`` otherwise (``alpha`` at the kink, as PyTorch)."""
    _, neg = _halves(x)
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(neg))


# --- GELU and SiLU --------------------------------------------------------------------------


def normal_cdf(x: Tensor) -> Tensor:
    """``Phi(x)``, the standard normal CDF, to the last digits in both tails.

    For ``x >= -1`` it is ``erfc(-x/sqrt 2) / 2``. For ``x < -1`` that form loses digits: the
    rounding of ``x/sqrt 2`` is amplified ``x^2`` times by ``erfc`` (some 500 units in the last
    place at ``x = -32``). There it is ``erfcx(-x/sqrt 2) e^(-x^2/2) / 2``: ``erfcx`` is
    insensitive to the rounding of its argument and ``e^(-x^2/2)`` is taken from ``x^2``
    split exactly into two floats (see :func:`normal_pdf`).
    """
    far = x.clamp(max=-1.0)
    left = 0.5 * torch.special.erfcx(-far * _INV_SQRT_2) * _exp_minus_half_square(far)
    return torch.where(x >= -1.0, 0.5 * torch.special.erfc(-x.clamp(min=-1.0) * _INV_SQRT_2), left)


def normal_pdf(x: Tensor) -> Tensor:
    """``phi(x) = e^(-x^2/2) / sqrt(2 pi)``, with ``x^2`` split exactly (no loss in the tails)."""
    return _exp_minus_half_square(x) * _INV_SQRT_2PI


def gelu(x: Tensor) -> Tensor:
    """The exact GELU ``x Phi(x)``; its minimum is about -0.17, near ``x = -0.75``."""
    return x * normal_cdf(x)


def d_gelu(x: Tensor) -> Tensor:
    """``Phi(x) + x phi(x)``; largest at ``x = sqrt 2``."""
    return normal_cdf(x) + x * normal_pdf(x)


def _gelu_tanh_exponent(x: Tensor) -> tuple[Tensor, Tensor]:
    """``2u = 2 sqrt(2/pi) (x + 0.044715 x^3)`` as a ``(high, low)`` pair carried in double length.

    In the left tail ``sigmoid(2u) = e^(2u)`` turns the rounding errors of the cubic into
    relative errors of the result, hundreds of units in the last place; carried as pairs,
    they stay below one.
    """
    limit = 1e100 if x.dtype == torch.float64 else 1e12  # 2u has long saturated the sigmoid
    x = _bounded(x, limit)
    square, square_error = _two_product(x, x)
    cube, cube_error = _two_product(square, x)
    cube_error = cube_error + square_error * x
    term, term_error = _times_constant(cube, cube_error, GELU_TANH_CUBIC)
    inner, inner_error = _two_sum(x, term)
    return _times_constant(inner, inner_error + term_error, 2 * _SQRT_2_OVER_PI)


def gelu_tanh(x: Tensor) -> Tensor:
    """GELU's tanh approximation ``x (1 + tanh(u)) / 2``, ``u = sqrt(2/pi) (x + 0.044715 x^3)``.

    Computed as ``x sigmoid(2u)`` (the same number, since ``(1 + tanh u) / 2 = sigmoid(2u)``),
    which avoids the cancellation in ``1 + tanh(u)`` for very negative ``u``; ``2u`` is
    carried in double length (see :func:`_gelu_tanh_exponent`).
    """
    high, low = _gelu_tanh_exponent(x)
    return torch.where(_in_tail(high), _times_exp_tail(x, high, low), x * _sigmoid_pair(high, low))


def d_gelu_tanh(x: Tensor) -> Tensor:
    """``sigmoid(2u) + 2 x sigmoid'(2u) u'`` with ``u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)``."""
    high, low = _gelu_tanh_exponent(x)
    du = _SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_CUBIC * x * x)
    body = _sigmoid_pair(high, low) + 2 * x * _d_sigmoid_pair(high, low) * du
    return torch.where(_in_tail(high), _times_exp_tail(1 + 2 * x * du, high, low), body)


def swish(x: Tensor, beta: float = 1.0) -> Tensor:
    """Swish ``x sigmoid(beta x)``: SiLU at ``beta = 1``, near GELU at ``beta = 1.702``, ReLU as ``beta -> inf``.

    ``beta x`` is kept exact (as two floats) before the exponential: in the left tail the
    rounding of the product would otherwise cost hundreds of units in the last place. Where
    ``sigmoid(beta x) = e^(beta x)`` (to the last digit) is subnormal, the product with ``x``
    is taken in the exponent.
    """
    high, low = _scaled(x, beta)
    return torch.where(_in_tail(high), _times_exp_tail(x, high, low), x * _sigmoid_pair(high, low))


def d_swish(x: Tensor, beta: float = 1.0) -> Tensor:
    """``sigmoid(beta x) + beta x sigmoid'(beta x)``; in the far left tail ``(1 + beta x) e^(beta x)``."""
    high, low = _scaled(x, beta)
    body = _sigmoid_pair(high, low) + high * _d_sigmoid_pair(high, low)
    return torch.where(_in_tail(high), _times_exp_tail(1 + high, high, low), body)


def silu(x: Tensor) -> Tensor:
    """SiLU (Swish with ``beta = 1``): ``x sigmoid(x)``."""
    return swish(x, 1.0)


def d_silu(x: Tensor) -> Tensor:
    """``sigmoid(x) + x sigmoid(x) (1 - sigmoid(x)) = sigmoid(x) (1 + x (1 - sigmoid(x)))``."""
    return d_swish(x, 1.0)


def gelu_sigmoid(x: Tensor) -> Tensor:
    """The cheaper GELU approximation ``x sigmoid(1.702 x)`` (Swish with ``beta = 1.702``)."""
    return swish(x, GELU_SIGMOID_SLOPE)


def d_gelu_sigmoid(x: Tensor) -> Tensor:
    """The slope of :func:`gelu_sigmoid`."""
    return d_swish(x, GELU_SIGMOID_SLOPE)


# --- softmax --------------------------------------------------------------------------------


def softmax(x: Tensor, dim: int = -1, temperature: float = 1.0) -> Tensor:
    """``e^(x_i/T) / sum_j e^(x_j/T)`` along ``dim``: positive entries that sum to 1.

    The largest logit is subtracted first (softmax does not change when a constant is added
    to every logit), so the largest exponent is ``e^0 = 1`` and nothing overflows. The shift
    is detached: the result does not depend on it, so neither does the gradient.
    """
    z = x / temperature
    z = z - z.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x: Tensor, dim: int = -1, temperature: float = 1.0) -> Tensor:
    """``log softmax(x)`` without ever forming the probabilities: ``z - max z - log sum e^(z - max z)``."""
    z = x / temperature
    z = z - z.amax(dim=dim, keepdim=True).detach()
    return z - torch.log(torch.exp(z).sum(dim=dim, keepdim=True))


def softmax_jacobian(x: Tensor, temperature: float = 1.0) -> Tensor:
    """``d softmax(x)_i / d x_j = (s_i [i = j] - s_i s_j) / T`` over the last dimension.

    For ``x`` of shape ``(..., n)`` the result has shape ``(..., n, n)``.

    The diagonal ``s_i (1 - s_i)`` is formed as ``s_i`` times the sum of the *other*
    probabilities, not as ``s_i - s_i^2``: for a near one-hot row ``s_i`` rounds towards 1
    and ``1 - s_i`` would cancel to a few digits or to 0, while the others' sum keeps every digit.
    """
    s = softmax(x, dim=-1, temperature=temperature)
    n = s.shape[-1]
    off_diagonal = 1 - torch.eye(n, dtype=s.dtype, device=s.device)
    others = (s.unsqueeze(-2) * off_diagonal).sum(dim=-1)
    jacobian = -s.unsqueeze(-1) * s.unsqueeze(-2) * off_diagonal + torch.diag_embed(s * others)
    return jacobian / temperature


def softmax_one_logit(x: Tensor, classes: int = 10) -> Tensor:
    """One softmax output seen as a function of its own logit ``x``, the other ``classes - 1`` logits at 0.

    That is ``e^x / (e^x + classes - 1)``, computed here by the vector :func:`softmax`; it
    is the scalar "slice" of softmax that the comparison table describes. (It equals
    ``sigmoid(x - log(classes - 1))``, which the softmax chapter shows.)
    """
    if classes < 2:
        raise ValueError("softmax needs at least two classes")
    others = x.new_zeros((*x.shape, classes - 1))
    return softmax(torch.cat([x.unsqueeze(-1), others], dim=-1), dim=-1)[..., 0]


def d_softmax_one_logit(x: Tensor, classes: int = 10) -> Tensor:
    """The diagonal Jacobian entry ``s (1 - s)`` of :func:`softmax_one_logit`."""
    s = softmax_one_logit(x, classes)
    return s * (1 - s)


# --- softsign and softplus ------------------------------------------------------------------


def softsign(x: Tensor) -> Tensor:
    """``x / (1 + |x|)``, in ``(-1, 1)``; it approaches its bounds like ``1/x``, not exponentially."""
    return x / (1 + x.abs())


def d_softsign(x: Tensor) -> Tensor:
    """``1 / (1 + |x|)^2 = (1 - |softsign(x)|)^2``."""
    return 1 / (1 + x.abs()) ** 2


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """``log(1 + e^(beta x)) / beta``, in ``(0, inf)``; never overflows.

    For ``z = beta x >= 0`` it is ``z + log1p(e^-z)``, for ``z < 0`` ``log1p(e^z)``: the
    exponent is never positive. Unlike ``torch.nn.functional.softplus`` there is no
    ``threshold`` switch to the identity: no switch is needed. ``beta x`` is kept exact
    (two floats), since the left tail ``e^z`` would amplify its rounding.
    """
    high, low = _scaled(x, beta)
    pos, neg = _halves(high)
    low_neg = torch.where(high < 0, low, torch.zeros_like(low))
    low_pos = torch.where(high >= 0, low, torch.zeros_like(low))
    right = pos + (low_pos + torch.log1p(torch.exp(-pos) * torch.exp(-low_pos)))
    left = torch.log1p(torch.exp(neg) * torch.exp(low_neg))
    return torch.where(high >= 0, right, left) / beta


def d_softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """``softplus'(x) = sigmoid(beta x)``."""
    return _sigmoid_pair(*_scaled(x, beta))


# --- the rest of the family -----------------------------------------------------------------
# Taught in the chapter "The rest of the family" (book/activation-family.md).

#: PyTorch's defaults: ``nn.PReLU``'s initial slope, ``nn.RReLU``'s sampling interval.
PRELU_INIT = 0.25
RRELU_LOWER = 1.0 / 8.0
RRELU_UPPER = 1.0 / 3.0


def prelu(x: Tensor, a: float | Tensor = PRELU_INIT) -> Tensor:
    """PReLU: ``x`` for ``x > 0``, ``a x`` otherwise, with ``a`` learned (He et al., 2015).

    The function is Leaky ReLU's; what differs is that ``a`` is a parameter the network
    trains (one per layer, or one per channel). ``a`` may be a float or a tensor that
    broadcasts against ``x`` (``nn.PReLU(num_parameters=C)`` holds one per channel of
    dimension 1; pass it shaped for broadcasting).
    """
    return torch.where(x > 0, x, a * x)


def d_prelu(x: Tensor, a: float | Tensor = PRELU_INIT) -> Tensor:
    """``df/dx``: 1 for ``x > 0``, ``a`` otherwise (``a`` at the kink, as PyTorch)."""
    return torch.where(x > 0, torch.ones_like(x), a * torch.ones_like(x))


def d_prelu_da(x: Tensor) -> Tensor:
    """``df/da``: the slope with respect to the learned parameter, ``min(x, 0)`` element-wise.

    The gradient that trains ``a`` is the sum of ``upstream * min(x, 0)`` over everything
    that shares it: only the negative inputs move it.
    """
    return x.clamp(max=0)


def rrelu_eval_slope(lower: float = RRELU_LOWER, upper: float = RRELU_UPPER) -> float:
    """The fixed negative slope of RReLU at evaluation time: the mean ``(lower + upper) / 2``."""
    return (lower + upper) / 2


def rrelu(
    x: Tensor,
    lower: float = RRELU_LOWER,
    upper: float = RRELU_UPPER,
    *,
    training: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """RReLU (Xu et al., 2015): Leaky ReLU whose negative slope is random while training.

    In training mode every negative element gets its own slope drawn uniformly from
    ``[lower, upper]`` (a fresh draw at every call, like dropout's mask); at evaluation time
    the slope is the mean of that interval, :func:`rrelu_eval_slope` (11/48 with PyTorch's
    defaults), and the function is Leaky ReLU with that slope.
    """
    return torch.where(x > 0, x, rrelu_slopes(x, lower, upper, training=training, generator=generator) * x)


def rrelu_slopes(
    x: Tensor,
    lower: float = RRELU_LOWER,
    upper: float = RRELU_UPPER,
    *,
    training: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The slope RReLU applies to each element of ``x`` where ``x <= 0`` (1 where ``x > 0``)."""
    if not training:
        slopes = torch.full_like(x, rrelu_eval_slope(lower, upper))
    else:
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        slopes = lower + (upper - lower) * u
    return torch.where(x > 0, torch.ones_like(x), slopes)


def d_rrelu(x: Tensor, lower: float = RRELU_LOWER, upper: float = RRELU_UPPER) -> Tensor:
    """The evaluation-mode slope: 1 for ``x > 0``, ``(lower + upper) / 2`` otherwise.

    In training mode the slope of each element is the one drawn for it in the forward pass
    (:func:`rrelu_slopes`); it has no closed form of ``x`` alone.
    """
    return d_leaky_relu(x, rrelu_eval_slope(lower, upper))


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """CELU (Barron, 2017): ``x`` for ``x > 0``, ``alpha (e^(x/alpha) - 1)`` otherwise.

    ELU with the exponent divided by ``alpha``: the slope at ``0^-`` is then 1 for every
    ``alpha``, so the function is continuously differentiable whatever ``alpha`` (ELU is only
    for ``alpha = 1``, where the two coincide).
    """
    if alpha == 0:
        raise ValueError("CELU needs a non-zero alpha")
    _, neg = _halves(x)
    return torch.where(x > 0, x, alpha * torch.expm1(neg / alpha))


def d_celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """1 for ``x > 0``, ``e^(x/alpha) = celu(x)/alpha + 1`` otherwise (1 at the kink)."""
    _, neg = _halves(x)
    return torch.where(x > 0, torch.ones_like(x), torch.exp(neg / alpha))


def _tanh_softplus(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(tanh(softplus(x)), 1 - tanh(softplus(x)))`` without cancellation or overflow.

    With ``e = e^x``, ``tanh(log(1 + e)) = (e^2 + 2e) / (e^2 + 2e + 2)``. For ``x <= 0`` it is
    computed as written (``n = e (e + 2)``, result ``n / (n + 2)``, complement ``2 / (n + 2)``);
    for ``x > 0`` with ``u = e^-x``: ``(1 + 2u) / (1 + 2u + 2u^2)``, complement
    ``2u^2 / (1 + 2u + 2u^2)``. No exponential of a positive number, no ``1 - t``.
    """
    pos, neg = _halves(x)
    e = torch.exp(neg)
    n = e * (e + 2)
    u = torch.exp(-pos)
    d = 1 + 2 * u + 2 * u * u
    value = torch.where(x > 0, (1 + 2 * u) / d, n / (n + 2))
    complement = torch.where(x > 0, 2 * u * u / d, 2 / (n + 2))
    return value, complement


def mish(x: Tensor) -> Tensor:
    """Mish (Misra, 2019): ``x tanh(softplus(x))``; its minimum is about -0.31, near ``x = -1.19``.

    In the far left tail ``tanh(softplus(x)) = e^x`` to the last digit, and the product with
    ``x`` is taken in the exponent where ``e^x`` is subnormal (as in :func:`swish`).
    """
    zero = torch.zeros_like(x)
    return torch.where(_in_tail(x), _times_exp_tail(x, x, zero), x * _tanh_softplus(x)[0])


def d_mish(x: Tensor) -> Tensor:
    """``tanh(sp(x)) + x sech^2(sp(x)) sigmoid(x)``, ``sp`` the softplus and ``sech^2 = (1 - t)(1 + t)``."""
    t, one_minus_t = _tanh_softplus(x)
    body = t + x * sigmoid(x) * one_minus_t * (1 + t)
    return torch.where(_in_tail(x), _times_exp_tail(1 + x, x, torch.zeros_like(x)), body)


def relu6(x: Tensor) -> Tensor:
    """``min(max(0, x), 6)``: ReLU capped at 6 (MobileNetV2's activation, Sandler et al., 2018)."""
    return _capped(x, 0.0, 6.0)


def _capped(x: Tensor, low: float, high: float) -> Tensor:
    """``min(max(x, low), high)`` whose autograd slope is 0 at both ends (``clamp``'s is 1 there), as PyTorch's."""
    return torch.where(x <= low, torch.full_like(x, low), torch.where(x >= high, torch.full_like(x, high), x))


def d_relu6(x: Tensor) -> Tensor:
    """1 for ``0 < x < 6``, else 0 (PyTorch's convention: 0 at both kinks)."""
    return ((x > 0) & (x < 6)).to(x.dtype)


def hard_sigmoid(x: Tensor) -> Tensor:
    """``relu6(x + 3) / 6``: 0 up to -3, a line of slope 1/6 through (0, 1/2), 1 from 3 on.

    PyTorch's ``hardsigmoid`` (MobileNetV3's, Howard et al., 2019). Computed as
    ``(x + 3) / 6``, not ``x / 6 + 1/2``: near ``x = -3`` the second form cancels.
    """
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    return torch.where(x <= -3, zero, torch.where(x >= 3, one, (x + 3) / 6))


def d_hard_sigmoid(x: Tensor) -> Tensor:
    """1/6 for ``-3 < x < 3``, else 0 (0 at both kinks, as PyTorch)."""
    return ((x > -3) & (x < 3)).to(x.dtype) / 6


def hard_swish(x: Tensor) -> Tensor:
    """``x relu6(x + 3) / 6`` (Howard et al., 2019): Swish with the sigmoid made piecewise linear."""
    middle = x * (x + 3) / 6
    return torch.where(x <= -3, torch.zeros_like(x), torch.where(x >= 3, x, middle))


def d_hard_swish(x: Tensor) -> Tensor:
    """0 for ``x <= -3``, ``(2x + 3) / 6`` for ``-3 < x < 3``, 1 for ``x >= 3`` (as PyTorch).

    ``(2x + 3) / 6`` rather than ``x/3 + 1/2``, which cancels near its zero at ``x = -1.5``.
    """
    middle = (2 * x + 3) / 6
    return torch.where(x <= -3, torch.zeros_like(x), torch.where(x >= 3, torch.ones_like(x), middle))
