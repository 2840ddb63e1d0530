"""The activation functions and their derivatives, from scratch and numerically stable.

Taught in the part "The activation functions": the chapters "The sigmoid"
(``book/sigmoid.md``), "tanh and its scaled forms" (``book/tanh.md``), "ReLU, Leaky ReLU and
ELU" (``book/relu-family.md``), "GELU and SiLU" (``book/gelu-silu.md``), "Softmax"
(``book/softmax.md``), "Softsign and softplus" (``book/softsign-softplus.md``) and
"Choosing an activation" (``book/comparison.md``).

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

Fn = Callable[[Tensor], Tensor]

#: LeCun's scaled tanh, ``1.7159 tanh(2x/3)`` (LeCun et al., "Efficient BackProp", 1998).
LECUN_SCALE = 1.7159
LECUN_GAIN = 2.0 / 3.0
#: The constant of the cubic term in the tanh approximation of GELU (Hendrycks & Gimpel, 2016).
GELU_TANH_CUBIC = 0.044715
#: The slope of the sigmoid approximation of GELU, ``x sigmoid(1.702 x)`` (same paper).
GELU_SIGMOID_SLOPE = 1.702

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _halves(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(max(x, 0), min(x, 0))``: each branch of a ``torch.where`` gets its own half-line."""
    return x.clamp(min=0), x.clamp(max=0)


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
    return LECUN_SCALE * LECUN_GAIN * d_tanh(LECUN_GAIN * x)


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
    """``Phi(x)``, the standard normal CDF, as ``erfc(-x/sqrt 2) / 2``: exact digits in the left tail too."""
    return 0.5 * torch.special.erfc(-x / _SQRT_2)


def normal_pdf(x: Tensor) -> Tensor:
    """``phi(x) = e^(-x^2/2) / sqrt(2 pi)``."""
    return torch.exp(-0.5 * x * x) * _INV_SQRT_2PI


def gelu(x: Tensor) -> Tensor:
    """The exact GELU ``x Phi(x)``; its minimum is about -0.17, near ``x = -0.75``."""
    return x * normal_cdf(x)


def d_gelu(x: Tensor) -> Tensor:
    """``Phi(x) + x phi(x)``; largest at ``x = sqrt 2``."""
    return normal_cdf(x) + x * normal_pdf(x)


def _gelu_tanh_inner(x: Tensor) -> Tensor:
    return _SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x**3)


def gelu_tanh(x: Tensor) -> Tensor:
    """GELU's tanh approximation ``x (1 + tanh(u)) / 2``, ``u = sqrt(2/pi) (x + 0.044715 x^3)``.

    Computed as ``x sigmoid(2u)`` (the same number, since ``(1 + tanh u) / 2 = sigmoid(2u)``),
    which avoids the cancellation in ``1 + tanh(u)`` for very negative ``u``.
    """
    return x * sigmoid(2 * _gelu_tanh_inner(x))


def d_gelu_tanh(x: Tensor) -> Tensor:
    """``sigmoid(2u) + 2 x sigmoid'(2u) u'`` with ``u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)``."""
    u = _gelu_tanh_inner(x)
    du = _SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_CUBIC * x * x)
    return sigmoid(2 * u) + 2 * x * d_sigmoid(2 * u) * du


def swish(x: Tensor, beta: float = 1.0) -> Tensor:
    """Swish ``x sigmoid(beta x)``: SiLU at ``beta = 1``, near GELU at ``beta = 1.702``, ReLU as ``beta -> inf``."""
    return x * sigmoid(beta * x)


def d_swish(x: Tensor, beta: float = 1.0) -> Tensor:
    """``sigmoid(beta x) + beta x sigmoid'(beta x)``."""
    return sigmoid(beta * x) + beta * x * d_sigmoid(beta * x)


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
    ``threshold`` switch to the identity: no switch is needed.
    """
    z = beta * x
    pos, neg = _halves(z)
    return torch.where(z >= 0, pos + torch.log1p(torch.exp(-pos)), torch.log1p(torch.exp(neg))) / beta


def d_softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """``softplus'(x) = sigmoid(beta x)``."""
    return sigmoid(beta * x)
