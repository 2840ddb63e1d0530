"""Floating-point formats, where activations break in them, and a softmax and a loss safe in float16.

Taught in the chapter "Activations in low precision" (``book/low-precision.md``).

Formats
-------
:func:`format_limits` reads a format's largest value, machine epsilon, smallest normal and
smallest subnormal number from ``torch.finfo`` (the smallest subnormal is
``smallest_normal * eps``: the mantissa's last bit at the lowest exponent).

Thresholds
----------
Each threshold is the representable number of a format at which a function computed *in that
format* first overflows, underflows to zero, rounds to its limit (1 for the sigmoid and tanh)
or returns a slope of exactly zero. :func:`boundary` finds it by bisection over the format's
representable numbers (exact: it stops between two neighbours) and :func:`threshold` tries
every number of a 16-bit format at once (the exact answer even where a kernel is not
monotone); :func:`activation_thresholds` runs it for exp, sigmoid, tanh, GELU and SiLU.
:func:`analytic_thresholds` gives the real
numbers where the same events happen, from the format's limits and round-to-nearest (a value
rounds to 0 below half the smallest subnormal, to 1 within a quarter of epsilon of 1, to
infinity at the largest value plus half a last-place unit). Where PyTorch's kernel rounds as
the format does, the search result is the first representable number past its analytic
value; where it does not (it computes the 16-bit functions in float32), the difference is the
kernel's. PyTorch's vectorised kernels (used for longer tensors) can differ from the scalar
ones in the last place (GELU's do): the scan uses the vectorised ones, as a network does.

Safe in float16
---------------
:func:`half_safe_softmax`, :func:`half_safe_log_softmax` and :func:`half_safe_cross_entropy`
do what autocast does on a GPU: the exponentials, the sum and the logarithm run in float32
(after subtracting the largest logit), and only the result is rounded to the input's format
(the loss stays in float32).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

HALF_FORMATS: tuple[torch.dtype, ...] = (torch.float16, torch.bfloat16)
FORMAT_NAMES: dict[torch.dtype, str] = {
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float32: "float32",
    torch.float64: "float64",
}


@dataclass(frozen=True)
class FormatLimits:
    """The numbers that bound a floating-point format (all as Python floats)."""

    name: str
    bits: int
    mantissa_bits: int
    max: float
    eps: float
    smallest_normal: float
    smallest_subnormal: float

    @property
    def overflow_boundary(self) -> float:
        """Where round-to-nearest starts giving ``inf``: the largest value plus half its last-place unit."""
        return self.max + self.max * self.eps / (2 * (2 - self.eps))


def format_limits(dtype: torch.dtype) -> FormatLimits:
    """The limits of a floating-point ``dtype``, from ``torch.finfo``."""
    info = torch.finfo(dtype)
    return FormatLimits(
        name=FORMAT_NAMES.get(dtype, str(dtype)),
        bits=info.bits,
        mantissa_bits=round(-math.log2(info.eps)),
        max=float(info.max),
        eps=float(info.eps),
        smallest_normal=float(info.smallest_normal),
        smallest_subnormal=float(info.smallest_normal) * float(info.eps),
    )


def boundary(predicate: Callable[[Tensor], bool], start: float, stop: float, dtype: torch.dtype) -> float:
    """The representable number of ``dtype`` nearest to ``start`` at which ``predicate`` holds.

    ``predicate`` takes a 0-d tensor of ``dtype``; it must be false at ``start``, true at
    ``stop`` (either may be the larger) and change only once in between. Bisection over the
    representable numbers: it ends with two neighbours, the last false and the first true.
    """
    outside = torch.tensor(start, dtype=dtype)
    inside = torch.tensor(stop, dtype=dtype)
    if predicate(outside) or not predicate(inside):
        raise ValueError(f"the predicate must be false at {start} and true at {stop} in {dtype}")
    while True:
        neighbour = torch.nextafter(outside, inside)
        if neighbour == inside:
            return float(inside)
        middle = ((outside.double() + inside.double()) / 2).to(dtype)
        if middle == outside or middle == inside:
            middle = neighbour
        if predicate(middle):
            inside = middle
        else:
            outside = middle


def first_representable_past(value: float, dtype: torch.dtype) -> float:
    """The representable number of ``dtype`` nearest ``value`` on its far side from 0 (``value`` if representable).

    A search of :func:`threshold` ends on this number when the kernel rounds as the format
    does: it is the first representable number at which the event has happened.
    """
    x = torch.tensor(value, dtype=torch.float64).to(dtype)
    if abs(float(x)) < abs(value):
        x = torch.nextafter(x, torch.tensor(math.copysign(math.inf, value), dtype=dtype))
    return float(x)


def _slope(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The derivative autograd returns for ``fn`` at ``x``, computed in ``x``'s format."""
    x = x.detach().clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(fn(x), x)
    return slope


ACTIVATION_FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "exp": torch.exp,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "GELU": F.gelu,
    "SiLU": F.silu,
}

# (function, event, start, stop, predicate on the function's value or slope)
_SEARCH_RANGE = 1.0e4
THRESHOLD_EVENTS: tuple[tuple[str, str], ...] = (
    ("exp", "overflows to inf"),
    ("exp", "underflows to 0"),
    ("sigmoid", "rounds to 1"),
    ("sigmoid", "underflows to 0"),
    ("tanh", "rounds to 1"),
    ("GELU", "underflows to 0"),
    ("GELU", "slope is 0"),
    ("SiLU", "underflows to 0"),
    ("SiLU", "slope is 0"),
)


def _event_search(function: str, event: str) -> tuple[float, float, Callable[[Tensor], bool]]:
    fn = ACTIVATION_FUNCTIONS[function]
    if event == "overflows to inf":
        return 0.0, _SEARCH_RANGE * 1e30, lambda x: bool(fn(x).isinf())
    if event == "underflows to 0":
        return -1.0, -_SEARCH_RANGE, lambda x: bool(fn(x) == 0)
    if event == "rounds to 1":
        return 0.0, _SEARCH_RANGE, lambda x: bool(fn(x) == 1)
    if event == "slope is 0":
        return -1.0, -_SEARCH_RANGE, lambda x: bool(_slope(fn, x) == 0)
    raise ValueError(f"unknown event {event!r}")


def every_finite_value(dtype: torch.dtype) -> Tensor:
    """All finite numbers of a 16-bit format (float16 or bfloat16), sorted: fewer than 65,536."""
    if torch.finfo(dtype).bits != 16:
        raise ValueError(f"{dtype} is not a 16-bit format: it has too many numbers to list")
    bits = torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16)
    values = bits.view(dtype)
    return values[values.isfinite()].unique().sort().values


def _scan(function: str, event: str, dtype: torch.dtype) -> float:
    """The exhaustive version of :func:`threshold` for a 16-bit format: every number is tried, as one tensor."""
    fn = ACTIVATION_FUNCTIONS[function]
    values = every_finite_value(dtype)
    start, stop, _ = _event_search(function, event)
    side = values[values >= start] if stop > start else values[values <= start].flip(0)
    if event == "slope is 0":
        x = side.clone().requires_grad_(True)
        fn(x).sum().backward()
        hit = x.grad == 0
    elif event == "overflows to inf":
        hit = fn(side).isinf()
    else:
        hit = fn(side) == (1 if event == "rounds to 1" else 0)
    # from the far end inwards: the event holds all the way out from the threshold
    outward = hit.flip(0).int().cumprod(0).bool().flip(0)
    if not outward.any():
        raise ValueError(f"{function} never {event} in {dtype}")
    return float(side[outward][0])


def threshold(function: str, event: str, dtype: torch.dtype) -> float:
    """The representable ``x`` nearest 0 from which ``function`` computed in ``dtype`` shows ``event`` all the way out.

    ``function`` is a key of :data:`ACTIVATION_FUNCTIONS` and ``event`` one of "overflows to
    inf", "rounds to 1" (both for x > 0), "underflows to 0" or "slope is 0" (for x < 0). The
    slope is the one autograd returns in ``dtype``. For the 16-bit formats every number is
    tried, in one tensor (the vectorised kernels a network uses), so the answer is exact even
    where a kernel is not monotone (GELU's slope is not). For wider formats :func:`boundary`
    bisects, which assumes the event, once it happens, holds farther out (true of exp, the
    sigmoid and tanh). For the sigmoid and tanh, whose autograd slope is computed from the
    output (``s (1 - s)``, ``1 - t^2``), the slope is exactly 0 from where the value rounds to 1.
    """
    if torch.finfo(dtype).bits == 16:
        return _scan(function, event, dtype)
    start, stop, predicate = _event_search(function, event)
    if event == "overflows to inf":
        stop = min(stop, format_limits(dtype).max)
    return boundary(predicate, start, stop, dtype)


def activation_thresholds(dtype: torch.dtype) -> dict[tuple[str, str], float]:
    """Every threshold of :data:`THRESHOLD_EVENTS` in a 16-bit ``dtype``, found by :func:`threshold`."""
    return {(function, event): threshold(function, event, dtype) for function, event in THRESHOLD_EVENTS}


def _solve(fn: Callable[[float], float], lo: float, hi: float) -> float:
    """The root of a function that changes sign once on ``[lo, hi]``, by float64 bisection."""
    f_lo = fn(lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        if (fn(mid) > 0) == (f_lo > 0):
            lo, f_lo = mid, fn(mid)
        else:
            hi = mid
    return (lo + hi) / 2


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _normal_pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def analytic_thresholds(dtype: torch.dtype) -> dict[tuple[str, str], float]:
    """The real numbers at which the events of :func:`activation_thresholds` happen under round-to-nearest.

    With ``m`` the overflow boundary, ``s`` the smallest subnormal and ``eps`` the machine
    epsilon: ``exp`` overflows at ``log m`` and underflows at ``log(s/2)``; the sigmoid
    rounds to 1 when ``1 - sigma(x) <= eps/4`` (``x = log(4/eps - 1)``) and to 0 when
    ``sigma(x) <= s/2``; tanh rounds to 1 when ``1 - tanh(x) <= eps/4``
    (``x = log(8/eps - 1) / 2``). GELU and SiLU, and their slopes, underflow where their
    magnitude falls to ``s/2`` (solved numerically in float64).
    """
    limits = format_limits(dtype)
    half_sub = limits.smallest_subnormal / 2
    quarter_eps = limits.eps / 4

    def gelu_slope(x: float) -> float:
        return _normal_cdf(x) + x * _normal_pdf(x)

    def silu_slope(x: float) -> float:
        s = 1 / (1 + math.exp(-x))
        return s * (1 + x * (1 - s))

    return {
        ("exp", "overflows to inf"): math.log(limits.overflow_boundary),
        ("exp", "underflows to 0"): math.log(half_sub),
        ("sigmoid", "rounds to 1"): math.log(1 / quarter_eps - 1),
        ("sigmoid", "underflows to 0"): -math.log(1 / half_sub - 1),
        ("tanh", "rounds to 1"): math.log(2 / quarter_eps - 1) / 2,
        ("GELU", "underflows to 0"): _solve(lambda x: -x * _normal_cdf(x) - half_sub, -1.0, -40.0),
        ("GELU", "slope is 0"): _solve(lambda x: abs(gelu_slope(x)) - half_sub, -1.5, -40.0),
        ("SiLU", "underflows to 0"): _solve(lambda x: -x / (1 + math.exp(-x)) - half_sub, -1.0, -200.0),
        ("SiLU", "slope is 0"): _solve(lambda x: abs(silu_slope(x)) - half_sub, -2.0, -200.0),
    }


def half_safe_softmax(logits: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim``, right in float16 and bfloat16.

    The largest logit is subtracted (no exponential exceeds 1), and the
    exponentials and their sum are formed in float32 (at least), so none
    overflows and no small term is lost. Returned in the logits' format.
    """
    wide = logits.to(torch.promote_types(logits.dtype, torch.float32))
    shifted = wide - wide.amax(dim=dim, keepdim=True).detach()
    exps = torch.exp(shifted)
    return (exps / exps.sum(dim=dim, keepdim=True)).to(logits.dtype)


def half_safe_log_softmax(logits: Tensor, dim: int = -1) -> Tensor:
    """``log softmax`` along ``dim`` in float32 (at least), never forming a probability that could underflow.

    Returned in float32 (or wider): a log-probability of a confident model is a large negative
    number whose digits float16 would round away.
    """
    wide = logits.to(torch.promote_types(logits.dtype, torch.float32))
    shifted = wide - wide.amax(dim=dim, keepdim=True).detach()
    return shifted - torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))


def half_safe_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Mean cross-entropy of ``(batch, classes)`` logits against class indices, in float32 (at least).

    The loss autocast computes: ``log_softmax`` in float32, the correct class's
    log-probability picked, the mean over the batch taken in float32.
    """
    log_p = half_safe_log_softmax(logits, dim=-1)
    return -log_p.gather(-1, target.long().unsqueeze(-1)).squeeze(-1).mean()
