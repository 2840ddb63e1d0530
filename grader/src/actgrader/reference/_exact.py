"""Double-length arithmetic for the exponentials in :mod:`actgrader.reference.formulas`.

Not an activation: the exact products and sums that let ``formulas`` keep every digit of
``e^z`` when ``z`` is itself a product (``x * x``, ``beta * x``), and the two halves each
branch of a ``torch.where`` is given. Private to the reference implementations: the
chapters that use the functions built on it are "The sigmoid" (``book/sigmoid.md``), "GELU
and SiLU" (``book/gelu-silu.md``) and "The rest of the family"
(``book/activation-family.md``); the accuracy is measured in ``tests/reference``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _halves(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(max(x, 0), min(x, 0))``: each branch of a ``torch.where`` gets its own half-line."""
    return x.clamp(min=0), x.clamp(max=0)


# --- exact products, for exponentials of products ---------------------------------------
#
# ``e^z`` amplifies an absolute error in ``z`` into the same relative error in the result:
# ``z = x * x`` or ``z = beta * x`` rounded to the nearest float is off by up to half a unit
# of ``z``'s last place, which at ``z = -700`` is some 350 units in the last place of
# ``e^z``. Veltkamp's split and Dekker's product give the rounding error of a product
# exactly, as a second float, so that ``e^z = e^hi * e^lo`` keeps every digit.

_SPLITTERS = {torch.float64: 134217729.0, torch.float32: 4097.0}  # 2^27 + 1, 2^12 + 1
#: Beyond this magnitude the split's intermediate could overflow; the exponentials that use
#: it have long under- or overflowed there, so inputs are clamped to it.
_SPLIT_LIMIT = {torch.float64: 1e150, torch.float32: 1e15}


def _split(a: Tensor) -> tuple[Tensor, Tensor]:
    """``a = high + low`` exactly, each with half of the significand's bits (Veltkamp)."""
    c = _SPLITTERS[a.dtype] * a
    high = c - (c - a)
    return high, a - high


def _two_product(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``a * b = product + error`` exactly, ``product`` the rounded product (Dekker).

    Other dtypes than float32 and float64 get the rounded product and a zero error.
    """
    product = a * b
    if a.dtype not in _SPLITTERS:
        return product, torch.zeros_like(product)
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    return product, error


def _bounded(x: Tensor, limit: float) -> Tensor:
    return x.clamp(-limit, limit)


def _exp_minus_half_square(x: Tensor) -> Tensor:
    """``e^(-x^2/2)`` with ``x^2`` exact as ``high + low``: ``e^(-high/2) e^(-low/2)``."""
    limit = 40.0 if x.dtype == torch.float64 else 20.0  # e^(-limit^2/2) is 0 in the dtype
    x = _bounded(x, limit)
    high, low = _two_product(x, x)
    return torch.exp(-0.5 * high) * torch.exp(-0.5 * low)


def _times_constant(high: Tensor, low: Tensor, constant: float) -> tuple[Tensor, Tensor]:
    """``(high + low) * constant`` as an exact-enough ``(high, low)`` pair.

    ``constant`` is a Python float (float64); in float32 it is split into the float32 nearest
    to it and the float32 nearest to the remainder, so that its digits beyond float32 count.
    """
    c_high = float(torch.tensor(constant, dtype=high.dtype)) if high.dtype in _SPLITTERS else constant
    c_low = constant - c_high
    product, error = _two_product(high, torch.full_like(high, c_high))
    return product, error + low * c_high + high * c_low


def _scaled(x: Tensor, beta: float) -> tuple[Tensor, Tensor]:
    """``beta * x`` as an exact ``(high, low)`` pair (``low = 0`` when ``beta`` is 1)."""
    if beta == 1.0:
        return x, torch.zeros_like(x)
    limit = _SPLIT_LIMIT.get(x.dtype)
    bounded = x if limit is None else _bounded(x, limit / max(1.0, abs(beta)))
    return _times_constant(bounded, torch.zeros_like(x), beta)


#: Below this exponent ``e^z`` is subnormal in the dtype (fewer significant bits): a product
#: ``a e^z`` that is itself normal then has to be computed as ``e^(z + log|a|)``.
_SUBNORMAL_EXPONENT = {torch.float64: -708.0, torch.float32: -87.0}


def _two_sum(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``a + b = total + error`` exactly (Knuth)."""
    total = a + b
    b_virtual = total - a
    return total, (a - (total - b_virtual)) + (b - b_virtual)


def _in_tail(high: Tensor) -> Tensor:
    return high < _SUBNORMAL_EXPONENT.get(high.dtype, -math.inf)


def _times_exp_tail(factor: Tensor, high: Tensor, low: Tensor) -> Tensor:
    """``factor * e^(high + low)`` where ``e^high`` is subnormal, as ``±e^(high + low + log|factor|)``.

    Only used where :func:`_in_tail` holds; elsewhere its inputs are replaced by harmless
    ones, so that neither branch of the caller's ``torch.where`` makes a NaN slope.
    """
    tail = _in_tail(high)
    low = low.clamp(-1, 1)  # larger only where |high| is so large that the result is 0
    safe_factor = torch.where(tail & (factor != 0), factor, torch.ones_like(factor))
    safe_high = torch.where(tail, high, torch.zeros_like(high))
    total, error = _two_sum(safe_high, torch.log(safe_factor.abs()))
    value = torch.exp(total) * torch.exp(error + low)
    return torch.where(safe_factor < 0, -value, value) * (factor != 0).to(factor.dtype)


def _sigmoid_pair(high: Tensor, low: Tensor) -> Tensor:
    """``sigmoid(high + low)`` for a pair from :func:`_two_product` (``|low| <= ulp(high)/2``)."""
    pos, neg = _halves(high)
    low = low.clamp(-1, 1)  # larger only where |high| is so large that sigmoid is 0 or 1
    e_neg = torch.exp(neg) * torch.exp(torch.where(high < 0, low, torch.zeros_like(low)))
    e_pos = torch.exp(-pos) * torch.exp(torch.where(high >= 0, -low, torch.zeros_like(low)))
    return torch.where(high >= 0, 1 / (1 + e_pos), e_neg / (1 + e_neg))


def _d_sigmoid_pair(high: Tensor, low: Tensor) -> Tensor:
    """``sigmoid'(high + low) = e / (1 + e)^2`` with ``e = e^-|high + low|``."""
    sign = torch.where(high >= 0, torch.ones_like(high), -torch.ones_like(high))
    e = torch.exp(-high.abs()) * torch.exp(-sign * low.clamp(-1, 1))
    return e / (1 + e) ** 2
