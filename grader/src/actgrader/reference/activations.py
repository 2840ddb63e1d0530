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
* ``naive_<name>`` functions are the textbook formulas typed as they read. They are here
  to be shown failing (``inf``, ``nan`` or lost digits at large ``|x|``); never use them.

Stability
---------
Two tricks make the functions safe for any finite input in float32 and float64:

1. Only ever exponentiate a non-positive number, so ``exp`` stays in ``(0, 1]``. For the
   sigmoid, ``1 / (1 + e^-x)`` is used for ``x >= 0`` and ``e^x / (1 + e^x)`` for ``x < 0``.
2. ``torch.where`` picks values but autograd still differentiates *both* branches; a branch
   that overflows where it is not selected turns the gradient into ``0 * inf = nan``. So
   each branch gets an input clamped to its own half-line (``x.clamp(min=0)``,
   ``x.clamp(max=0)``), where it cannot overflow.

Properties
----------
The comparison table (range, slope at 0, largest slope, zero-centred, monotone, smooth,
saturating) is *measured* from the functions, never typed: see :func:`output_range`,
:func:`slope_at`, :func:`max_slope`, :func:`mean_output`, :func:`saturating_sides`,
:func:`saturation_point`, :func:`is_monotone`, :func:`has_continuous_slope`, and the
:class:`ActivationInfo` records of :data:`ACTIVATIONS`, which expose them as properties.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

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
    """
    s = softmax(x, dim=-1, temperature=temperature)
    return (torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)) / temperature


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


# --- naive formulas, kept to be shown failing -----------------------------------------------


def naive_sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))`` as typed. Its values survive, but its *gradient* is ``nan`` at very negative ``x``."""
    return 1 / (1 + torch.exp(-x))


def naive_sigmoid_ratio(x: Tensor) -> Tensor:
    """``exp(x) / (1 + exp(x))`` as typed: ``inf / inf = nan`` at large positive ``x``."""
    e = torch.exp(x)
    return e / (1 + e)


def naive_tanh(x: Tensor) -> Tensor:
    """``(e^x - e^-x) / (e^x + e^-x)`` as typed: ``nan`` as soon as ``e^|x|`` overflows."""
    a, b = torch.exp(x), torch.exp(-x)
    return (a - b) / (a + b)


def naive_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``exp(x) / sum exp(x)`` without the shift: ``nan`` for logits near 1000 (``e^1000`` is ``inf``)."""
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def naive_log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``log(softmax(x))`` with the *stable* softmax: still ``-inf`` once a probability underflows to 0."""
    return torch.log(softmax(x, dim=dim))


def naive_softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` as typed: ``inf`` at large ``x``, and 0 instead of ``e^x`` for ``x`` below about -37."""
    return torch.log(1 + torch.exp(x))


def naive_elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``where(x > 0, x, alpha (exp(x) - 1))``: right values, ``nan`` gradient at large positive ``x``.

    The unselected branch ``exp(x)`` overflows; autograd multiplies its ``inf`` slope by the
    zero it receives from ``torch.where``, and ``0 * inf`` is ``nan``.
    """
    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


def naive_gelu(x: Tensor) -> Tensor:
    """``x (1 + erf(x / sqrt 2)) / 2``: ``1 + erf`` cancels to 0 in the left tail, losing every digit."""
    return 0.5 * x * (1 + torch.erf(x / _SQRT_2))


def naive_silu(x: Tensor) -> Tensor:
    """``x / (1 + exp(-x))`` as typed: ``nan`` gradient at very negative ``x``."""
    return x / (1 + torch.exp(-x))


# --- slopes by autograd, and where things go wrong ---------------------------------------


def autograd_slope(fn: Fn, x: Tensor) -> Tensor:
    """``f'(x)`` element-wise by autograd (``fn`` must act element by element); ``x`` is not modified."""
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad


def values_and_slopes(fn: Fn, points: Sequence[float], dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """``fn`` at ``points`` in ``dtype`` and its autograd slope there: what a training step would see."""
    x = torch.tensor(list(points), dtype=dtype)
    return fn(x).detach(), autograd_slope(fn, x)


def root(fn: Callable[[float], float], lo: float, hi: float, iterations: int = 200) -> float:
    """A zero of ``fn`` between ``lo`` and ``hi`` (where ``fn`` changes sign), by bisection."""
    f_lo, f_hi = fn(lo), fn(hi)
    if f_lo == 0:
        return lo
    if f_hi == 0:
        return hi
    if (f_lo > 0) == (f_hi > 0):
        raise ValueError(f"fn does not change sign between {lo} and {hi}")
    for _ in range(iterations):
        mid = (lo + hi) / 2
        f_mid = fn(mid)
        if f_mid == 0 or hi - lo < 1e-15 * max(1.0, abs(mid)):
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- measured properties --------------------------------------------------------------------

#: Where the measurements look: a fine grid on ``[-GRID_HALF_WIDTH, GRID_HALF_WIDTH]`` and the
#: two points ``±FAR`` standing in for the limits at infinity. Everything runs in float64.
GRID_HALF_WIDTH = 10.0
GRID_STEP = 1e-3
FAR = 1e12
#: ``|f(±FAR)|`` above this means ``f`` is unbounded on that side.
UNBOUNDED = 1e6
#: ``|f'(±FAR)|`` below this means ``f`` saturates on that side.
FLAT = 1e-9

Side = Literal["left", "right"]


def _grid() -> Tensor:
    n = round(2 * GRID_HALF_WIDTH / GRID_STEP) + 1
    return torch.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, n, dtype=torch.float64)


def _at(fn: Fn, x: float) -> float:
    return float(fn(torch.tensor([x], dtype=torch.float64))[0])


def _golden(fn: Callable[[float], float], a: float, b: float, *, maximise: bool, tol: float = 1e-12) -> float:
    """The argmax (or argmin) of a unimodal ``fn`` on ``[a, b]`` by golden-section search."""
    sign = -1.0 if maximise else 1.0
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = sign * fn(c), sign * fn(d)
    while b - a > tol:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = sign * fn(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = sign * fn(d)
    return (a + b) / 2


def slope_at(derivative: Fn, x: float = 0.0) -> float:
    """``f'(x)`` from a closed-form derivative, in float64."""
    return _at(derivative, x)


@dataclass(frozen=True)
class Extremum:
    """Where a function reaches its largest (or smallest) value: ``x`` may be ``±inf`` (a limit, not reached)."""

    value: float
    x: float

    @property
    def attained(self) -> bool:
        return math.isfinite(self.x)


def _extremum(fn: Fn, *, maximise: bool) -> Extremum:
    x = _grid()
    y = fn(x)
    i = int(torch.argmax(y) if maximise else torch.argmin(y))
    best = float(y[i])
    far = {-math.inf: _at(fn, -FAR), math.inf: _at(fn, FAR)}
    better = (lambda a, b: a > b) if maximise else (lambda a, b: a < b)
    for limit_x, limit_y in far.items():
        if better(limit_y, best):
            return Extremum(limit_y, limit_x)
    if 0 < i < len(x) - 1:
        x_best = _golden(lambda t: _at(fn, t), float(x[i - 1]), float(x[i + 1]), maximise=maximise, tol=1e-10)
        y_best = _at(fn, x_best)
        if not better(best, y_best):
            return Extremum(y_best, x_best)
    return Extremum(best, float(x[i]))


def minimum(fn: Fn) -> Extremum:
    """The smallest value of ``f`` and where it is reached (``x = -inf`` or ``inf`` for a limit, not reached)."""
    return _extremum(fn, maximise=False)


def max_slope(derivative: Fn) -> Extremum:
    """The largest ``f'(x)`` over the real line and where it is reached (``x = inf`` for a supremum at infinity)."""
    return _extremum(derivative, maximise=True)


def min_slope(derivative: Fn) -> Extremum:
    """The smallest ``f'(x)`` (negative for the non-monotone GELU and SiLU)."""
    return _extremum(derivative, maximise=False)


@dataclass(frozen=True)
class OutputRange:
    """The set of values of ``f``: from ``low`` to ``high``, each end included only if some finite ``x`` reaches it."""

    low: float
    high: float
    low_attained: bool
    high_attained: bool

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def format(self, spec: str = ".3g") -> str:
        """Interval notation, e.g. ``(0, 1)`` or ``[-0.17, ∞)``."""

        def end(v: float) -> str:
            if math.isinf(v):
                return "∞" if v > 0 else "−∞"
            text = format(v + 0.0, spec)  # + 0.0 turns -0.0 into 0.0
            return text.replace("-", "−")

        left = "[" if self.low_attained else "("
        right = "]" if self.high_attained else ")"
        return f"{left}{end(self.low)}, {end(self.high)}{right}"

    def __str__(self) -> str:
        return self.format()


def _range_end(fn: Fn, *, upper: bool) -> tuple[float, bool]:
    extremum = _extremum(fn, maximise=upper)
    if abs(extremum.value) > UNBOUNDED and not extremum.attained:
        return (math.inf if upper else -math.inf), False
    if extremum.attained:
        return extremum.value, True
    # A limit at infinity: it is part of the range only if some point of the grid already
    # reaches it exactly (ReLU's 0), not merely approaches it (the sigmoid's 0).
    x = _grid()
    y = fn(x)
    reached = bool((y == extremum.value).any())
    return extremum.value, reached


def output_range(fn: Fn) -> OutputRange:
    """The range of ``f``, measured in float64 on a fine grid of ``[-10, 10]`` and at ``±1e12``.

    An end is infinite when ``|f(±1e12)|`` exceeds ``1e6``. Whether a finite end is attained is
    decided on the grid: an interior extremum (GELU's minimum) is; a limit approached in the
    tails (the sigmoid's 0 and 1) is not, unless the grid reaches it exactly (ReLU's 0). This
    is reliable for functions that do not round to their limits within ``|x| <= 10``, which
    is true of every function in :data:`ACTIVATIONS`.
    """
    low, low_attained = _range_end(fn, upper=False)
    high, high_attained = _range_end(fn, upper=True)
    return OutputRange(low, high, low_attained, high_attained)


def mean_output(fn: Fn, half_width: float = 12.0, points: int = 24_001) -> float:
    """``E[f(z)]`` for ``z ~ N(0, 1)``, by the trapezoidal rule on a symmetric float64 grid.

    For an odd function (tanh, softsign) it is 0 up to rounding; for ReLU it is ``1/sqrt(2 pi)``.
    """
    z = torch.linspace(-half_width, half_width, points, dtype=torch.float64)
    return float(torch.trapezoid(fn(z) * normal_pdf(z), z))


def is_zero_centred(fn: Fn, tol: float = 1e-9) -> bool:
    """Whether ``f`` maps a standard normal input to outputs of mean zero (``|E f(z)| < tol``)."""
    return abs(mean_output(fn)) < tol


def is_monotone(derivative: Fn, tol: float = 1e-12) -> bool:
    """Whether ``f`` never decreases: ``f'(x) >= 0`` everywhere on the grid."""
    return min_slope(derivative).value >= -tol


def has_continuous_slope(derivative: Fn, delta: float = 1e-7, max_jump: float = 1e-4) -> bool:
    """Whether ``f'`` is continuous (``f`` is C¹), judged at every point of the grid (0 among them).

    At each grid point ``x`` it compares ``f'(x - delta)`` with ``f'(x + delta)``: a smooth slope
    moves by about ``2 delta |f''(x)|``, far below ``max_jump``, while a kink (ReLU's,
    Leaky ReLU's, ELU's with ``alpha != 1``) jumps by a fixed amount. The course's kinks all
    sit at 0, which is a grid point.
    """
    x = _grid()
    jumps = (derivative(x + delta) - derivative(x - delta)).abs()
    return float(jumps.max()) < max_jump


def saturating_sides(derivative: Fn) -> tuple[bool, bool]:
    """``(left, right)``: whether ``f'(x) -> 0`` as ``x -> -inf`` and as ``x -> +inf``."""
    return abs(_at(derivative, -FAR)) < FLAT, abs(_at(derivative, FAR)) < FLAT


def saturation_point(derivative: Fn, side: Side = "right", threshold: float = 0.01) -> float:
    """The distance from 0 beyond which ``|f'|`` stays below ``threshold`` on one side.

    0 if ``|f'|`` is below ``threshold`` on that whole side (ReLU's left), ``inf`` if it never
    falls below it for ``|x| <= 1e4``. Found on a grid and refined by bisection.
    """
    sign = -1.0 if side == "left" else 1.0
    t = torch.cat(
        [
            torch.linspace(0, GRID_HALF_WIDTH, round(GRID_HALF_WIDTH / GRID_STEP) + 1, dtype=torch.float64),
            torch.logspace(math.log10(GRID_HALF_WIDTH), 4, 3001, dtype=torch.float64)[1:],
        ]
    )
    above = derivative(sign * t).abs() >= threshold
    if not bool(above.any()):
        return 0.0
    k = int(torch.nonzero(above)[-1])
    if k == len(t) - 1:
        return math.inf
    lo, hi = float(t[k]), float(t[k + 1])
    for _ in range(80):
        mid = (lo + hi) / 2
        if abs(_at(derivative, sign * mid)) >= threshold:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- the registry ---------------------------------------------------------------------------


def resolve(dotted: str) -> Any:
    """The object named by a dotted path such as ``"torch.nn.functional.gelu"``."""
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


@dataclass(frozen=True)
class ActivationInfo:
    """One activation: its from-scratch function and derivative, PyTorch's names, and its measured properties.

    ``fn`` and ``derivative`` are scalar (element-wise) functions. ``torch_reference`` computes
    the same values with PyTorch's own implementation, and ``torch_module(**torch_kwargs)``
    / ``torch_functional(x, **torch_kwargs)`` are how a model would use it. The properties
    (``output_range``, ``slope_at_zero``, ``max_slope``, ``zero_centred``, ...) are measured
    from ``fn`` and ``derivative`` the first time they are read.
    """

    name: str
    label: str
    fn: Fn
    derivative: Fn
    formula: str
    derivative_formula: str
    torch_module: str
    torch_functional: str
    torch_reference: Fn
    page: str
    torch_kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    def module(self) -> torch.nn.Module:
        """A fresh instance of PyTorch's module for this activation."""
        return resolve(self.torch_module)(**self.torch_kwargs)

    @cached_property
    def output_range(self) -> OutputRange:
        return output_range(self.fn)

    @property
    def bounded(self) -> bool:
        return self.output_range.bounded

    @cached_property
    def slope_at_zero(self) -> float:
        return slope_at(self.derivative, 0.0)

    @cached_property
    def max_slope(self) -> Extremum:
        return max_slope(self.derivative)

    @cached_property
    def mean_output(self) -> float:
        return mean_output(self.fn)

    @property
    def zero_centred(self) -> bool:
        return abs(self.mean_output) < 1e-9

    @cached_property
    def monotone(self) -> bool:
        return is_monotone(self.derivative)

    @cached_property
    def smooth(self) -> bool:
        """Continuously differentiable (C¹): no kink. ELU with ``alpha = 1`` is, though its ``f''`` jumps."""
        return has_continuous_slope(self.derivative)

    @cached_property
    def saturates(self) -> tuple[bool, bool]:
        """``(left, right)``: whether the slope vanishes as ``x -> -inf`` / ``x -> +inf``."""
        return saturating_sides(self.derivative)

    @property
    def saturating(self) -> bool:
        return any(self.saturates)

    def saturation_point(self, side: Side = "right", threshold: float = 0.01) -> float:
        return saturation_point(self.derivative, side, threshold)


def _softmax_reference(x: Tensor, classes: int) -> Tensor:
    logits = torch.cat([x.unsqueeze(-1), x.new_zeros((*x.shape, classes - 1))], dim=-1)
    return torch.softmax(logits, dim=-1)[..., 0]


#: The number of classes of the softmax slice in the comparison table.
TABLE_CLASSES = 10

_F = torch.nn.functional

ACTIVATIONS: dict[str, ActivationInfo] = {
    info.name: info
    for info in [
        ActivationInfo(
            "sigmoid",
            "sigmoid",
            sigmoid,
            d_sigmoid,
            r"\sigma(x) = \frac{1}{1 + e^{-x}}",
            r"\sigma(x)\,(1 - \sigma(x))",
            "torch.nn.Sigmoid",
            "torch.sigmoid",
            torch.sigmoid,
            "sigmoid",
        ),
        ActivationInfo(
            "tanh",
            "tanh",
            tanh,
            d_tanh,
            r"\tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
            r"1 - \tanh^2 x",
            "torch.nn.Tanh",
            "torch.tanh",
            torch.tanh,
            "tanh",
        ),
        ActivationInfo(
            "lecun_tanh",
            "LeCun tanh",
            lecun_tanh,
            d_lecun_tanh,
            r"1.7159 \tanh(2x/3)",
            r"1.7159 \cdot \tfrac{2}{3} \left(1 - \tanh^2(2x/3)\right)",
            "actgrader.reference.models.ScaledTanh",
            "actgrader.reference.activations.lecun_tanh",
            lambda x: LECUN_SCALE * torch.tanh(LECUN_GAIN * x),
            "tanh",
            note="PyTorch has no module for it; the course's ScaledTanh is one.",
        ),
        ActivationInfo(
            "relu",
            "ReLU",
            relu,
            d_relu,
            r"\max(0, x)",
            r"[x > 0]",
            "torch.nn.ReLU",
            "torch.relu",
            torch.relu,
            "relu-family",
        ),
        ActivationInfo(
            "leaky_relu",
            "Leaky ReLU",
            leaky_relu,
            d_leaky_relu,
            r"x \text{ if } x > 0 \text{ else } \alpha x",
            r"1 \text{ if } x > 0 \text{ else } \alpha",
            "torch.nn.LeakyReLU",
            "torch.nn.functional.leaky_relu",
            lambda x: _F.leaky_relu(x, 0.01),
            "relu-family",
            {"negative_slope": 0.01},
            note="α = 0.01",
        ),
        ActivationInfo(
            "elu",
            "ELU",
            elu,
            d_elu,
            r"x \text{ if } x > 0 \text{ else } \alpha (e^{x} - 1)",
            r"1 \text{ if } x > 0 \text{ else } f(x) + \alpha",
            "torch.nn.ELU",
            "torch.nn.functional.elu",
            lambda x: _F.elu(x, 1.0),
            "relu-family",
            {"alpha": 1.0},
            note="α = 1",
        ),
        ActivationInfo(
            "gelu",
            "GELU",
            gelu,
            d_gelu,
            r"x\,\Phi(x)",
            r"\Phi(x) + x\,\varphi(x)",
            "torch.nn.GELU",
            "torch.nn.functional.gelu",
            _F.gelu,
            "gelu-silu",
        ),
        ActivationInfo(
            "gelu_tanh",
            "GELU (tanh approx.)",
            gelu_tanh,
            d_gelu_tanh,
            r"\tfrac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715 x^3)\right)\right)",
            r"\text{(see the GELU chapter)}",
            "torch.nn.GELU",
            "torch.nn.functional.gelu",
            lambda x: _F.gelu(x, approximate="tanh"),
            "gelu-silu",
            {"approximate": "tanh"},
        ),
        ActivationInfo(
            "silu",
            "SiLU / Swish",
            silu,
            d_silu,
            r"x\,\sigma(x)",
            r"f(x) + \sigma(x)\,(1 - f(x))",
            "torch.nn.SiLU",
            "torch.nn.functional.silu",
            _F.silu,
            "gelu-silu",
        ),
        ActivationInfo(
            "softmax",
            "softmax",
            softmax_one_logit,
            d_softmax_one_logit,
            r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
            r"s_i\,(1 - s_i) \text{ on the diagonal}",
            "torch.nn.Softmax",
            "torch.softmax",
            lambda x: _softmax_reference(x, TABLE_CLASSES),
            "softmax",
            {"dim": -1},
            note=f"one output against its own logit, the other {TABLE_CLASSES - 1} logits at 0",
        ),
        ActivationInfo(
            "softsign",
            "softsign",
            softsign,
            d_softsign,
            r"\frac{x}{1 + |x|}",
            r"(1 - |f(x)|)^2",
            "torch.nn.Softsign",
            "torch.nn.functional.softsign",
            _F.softsign,
            "softsign-softplus",
        ),
        ActivationInfo(
            "softplus",
            "softplus",
            softplus,
            d_softplus,
            r"\log(1 + e^{x})",
            r"\sigma(x) = 1 - e^{-f(x)}",
            "torch.nn.Softplus",
            "torch.nn.functional.softplus",
            _F.softplus,
            "softsign-softplus",
        ),
    ]
}

#: The functions of the core-set table, in its order.
CORE_SET: tuple[str, ...] = ("relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax", "silu")


def comparison_rows(names: tuple[str, ...] | None = None, threshold: float = 0.01) -> list[dict[str, Any]]:
    """One dict of measured properties per activation (all of :data:`ACTIVATIONS` by default).

    Keys: ``name``, ``label``, ``range`` (an :class:`OutputRange`), ``slope_at_zero``,
    ``max_slope`` (an :class:`Extremum`), ``mean_output``, ``zero_centred``, ``monotone``,
    ``smooth``, ``saturates`` (``(left, right)``) and ``saturation`` (``(left, right)``
    distances from 0 beyond which ``|f'| < threshold``).
    """
    rows = []
    for name in names if names is not None else tuple(ACTIVATIONS):
        info = ACTIVATIONS[name]
        rows.append(
            {
                "name": info.name,
                "label": info.label,
                "range": info.output_range,
                "slope_at_zero": info.slope_at_zero,
                "max_slope": info.max_slope,
                "mean_output": info.mean_output,
                "zero_centred": info.zero_centred,
                "monotone": info.monotone,
                "smooth": info.smooth,
                "saturates": info.saturates,
                "saturation": (
                    info.saturation_point("left", threshold),
                    info.saturation_point("right", threshold),
                ),
            }
        )
    return rows


def derivative(name: str, x: Tensor) -> Tensor:
    """``f'(x)`` for the activation called ``name`` in :data:`ACTIVATIONS`, with PyTorch's default parameters.

    An adapter with the signature of the exercise on derivatives: ``derivative("elu", x)`` is
    ``d_elu(x)`` with ``alpha = 1``, ``derivative("leaky_relu", x)`` uses ``alpha = 0.01``.
    """
    return ACTIVATIONS[name].derivative(x)
