"""The measured properties of an activation: slopes, extrema, output range, centring, monotony, saturation.

Taught in the chapters "The sigmoid" (``book/sigmoid.md``), "tanh and its scaled forms"
(``book/tanh.md``), "ReLU, Leaky ReLU and ELU" (``book/relu-family.md``), "GELU and SiLU"
(``book/gelu-silu.md``), "Softsign and softplus" (``book/softsign-softplus.md``) and
"Choosing an activation" (``book/comparison.md``).

The comparison table (range, slope at 0, largest slope, zero-centred, monotone, smooth,
saturating) is *measured* from the functions, never typed: see :func:`output_range`,
:func:`slope_at`, :func:`max_slope`, :func:`mean_output`, :func:`saturating_sides`,
:func:`saturation_point`, :func:`is_monotone` and :func:`has_continuous_slope`; the
:class:`~actgrader.reference.registry.ActivationInfo` records expose them as properties.
Each takes the function (or its closed-form derivative) as an element-wise callable and
evaluates it in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from actgrader.reference.formulas import Fn, normal_pdf

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
    is true of every function in :data:`~actgrader.reference.registry.ACTIVATIONS`.
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
