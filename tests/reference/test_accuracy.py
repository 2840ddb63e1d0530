"""Every function of actgrader.reference.formulas against mpmath, in units in the last place.

The checks compare against these functions, so they must be as accurate as the number
format allows (issue 16, "Accurate to the last digits"). Each function and derivative is
evaluated in float32 and float64 on a grid that reaches the tails (to ±1e4, and the
subnormal range of the results), and compared with the same function evaluated by mpmath
at 60 significant digits on the very same (exactly representable) inputs. The error is
counted in units in the last place (ulps) of the exact value.

Where a derivative crosses zero inside the real line (GELU's, SiLU's, Mish's...), it is a
sum of terms of opposite signs, and no formula in the format keeps its relative digits next
to the root: the terms' own roundings are larger than their difference. For those the error
is counted in ulps of the sum of the terms' magnitudes (``Case.magnitude``), the accuracy a
sum can have; away from the root that is the value itself, within a small factor.

``python tests/reference/test_accuracy.py`` prints the table of maximum errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import pytest
import torch

from actgrader.reference import formulas as act

mp = mpmath.mp
DIGITS = 60
#: The accuracy every function must reach: a few ulps.
MAX_ULPS = 4.0
#: Where a few more are unavoidable with these formulas, and why.
ALLOWANCE = {
    # erfcx and exp, each within about 2 ulps, then two products
    "normal_cdf": 6.0,
    "gelu": 6.0,
    # the vector softmax rounds a sum of ten exponentials term by term
    "softmax_one_logit": 8.0,
}

Exact = Callable[[mpmath.mpf], mpmath.mpf]


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _d_sigmoid(x):
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


def _phi(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def _cdf(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


def _sech2(x):
    return 1 / mp.cosh(x) ** 2


def _softplus(x):
    return mp.log1p(mp.exp(x)) if x < 0 else x + mp.log1p(mp.exp(-x))


def _piecewise(left: Exact, middle: Exact, right: Exact, lo: float, hi: float, *, closed: str) -> Exact:
    """``left`` below ``lo``, ``right`` above ``hi``; ``closed`` says which side owns each kink."""

    def f(x):
        if x < lo or (x == lo and "lo" in closed):
            return left(x)
        if x > hi or (x == hi and "hi" in closed):
            return right(x)
        return middle(x)

    return f


def _gelu_tanh_u(x):
    return mp.mpf(math.sqrt(2 / math.pi)) * (x + mp.mpf(act.GELU_TANH_CUBIC) * x**3)


def _d_gelu_tanh(x):
    u = _gelu_tanh_u(x)
    du = mp.mpf(math.sqrt(2 / math.pi)) * (1 + 3 * mp.mpf(act.GELU_TANH_CUBIC) * x * x)
    return _sigmoid(2 * u) + 2 * x * _d_sigmoid(2 * u) * du


def _d_gelu_tanh_magnitude(x):
    u = _gelu_tanh_u(x)
    du = mp.mpf(math.sqrt(2 / math.pi)) * (1 + 3 * mp.mpf(act.GELU_TANH_CUBIC) * x * x)
    return _sigmoid(2 * u) + abs(2 * x * _d_sigmoid(2 * u) * du)


def _d_swish_magnitude(beta):
    b = mp.mpf(beta)
    return lambda x: _sigmoid(b * x) + abs(b * x) * _d_sigmoid(b * x)


def _swish(beta):
    b = mp.mpf(beta)
    return lambda x: x * _sigmoid(b * x)


def _d_swish(beta):
    b = mp.mpf(beta)
    return lambda x: _sigmoid(b * x) + b * x * _d_sigmoid(b * x)


def _tanh_sp(x):
    return mp.tanh(_softplus(x))


@dataclass(frozen=True)
class Case:
    computed: Callable[[torch.Tensor], torch.Tensor]
    exact: Exact
    #: For a sum whose terms cancel at an interior zero: the sum of the terms' magnitudes.
    magnitude: Exact | None = field(default=None)


# Constants the code holds as floats (the LeCun scale, the GELU approximations' constants,
# beta) are taken as the float64 numbers the code uses: the function computed is that one.
# The exact values are the mathematical functions, with PyTorch's convention at each kink.
CASES: dict[str, Case] = {
    "sigmoid": Case(act.sigmoid, _sigmoid),
    "d_sigmoid": Case(act.d_sigmoid, _d_sigmoid),
    "tanh": Case(act.tanh, mp.tanh),
    "d_tanh": Case(act.d_tanh, lambda x: _sech2(x)),
    "tanh_n(2)": Case(act.tanh_n, lambda x: mp.tanh(2 * x)),
    "d_tanh_n(2)": Case(act.d_tanh_n, lambda x: 2 * _sech2(2 * x)),
    "lecun_tanh": Case(act.lecun_tanh, lambda x: mp.mpf(act.LECUN_SCALE) * mp.tanh(mp.mpf(act.LECUN_GAIN) * x)),
    "d_lecun_tanh": Case(
        act.d_lecun_tanh,
        lambda x: mp.mpf(act.LECUN_SCALE) * mp.mpf(act.LECUN_GAIN) * _sech2(mp.mpf(act.LECUN_GAIN) * x),
    ),
    "relu": Case(act.relu, lambda x: max(x, mp.mpf(0))),
    "d_relu": Case(act.d_relu, lambda x: mp.mpf(1 if x > 0 else 0)),
    "leaky_relu": Case(act.leaky_relu, lambda x: x if x > 0 else mp.mpf(0.01) * x),
    "d_leaky_relu": Case(act.d_leaky_relu, lambda x: mp.mpf(1) if x > 0 else mp.mpf(0.01)),
    "elu": Case(act.elu, lambda x: x if x > 0 else mp.expm1(x)),
    "d_elu": Case(act.d_elu, lambda x: mp.mpf(1) if x > 0 else mp.exp(x)),
    "normal_cdf": Case(act.normal_cdf, _cdf),
    "normal_pdf": Case(act.normal_pdf, _phi),
    "gelu": Case(act.gelu, lambda x: x * _cdf(x)),
    "d_gelu": Case(act.d_gelu, lambda x: _cdf(x) + x * _phi(x), magnitude=lambda x: _cdf(x) + abs(x) * _phi(x)),
    "gelu_tanh": Case(act.gelu_tanh, lambda x: x * _sigmoid(2 * _gelu_tanh_u(x))),
    "d_gelu_tanh": Case(act.d_gelu_tanh, _d_gelu_tanh, magnitude=lambda x: _d_gelu_tanh_magnitude(x)),
    "silu": Case(act.silu, _swish(1.0)),
    "d_silu": Case(act.d_silu, _d_swish(1.0), magnitude=_d_swish_magnitude(1.0)),
    "gelu_sigmoid": Case(act.gelu_sigmoid, _swish(act.GELU_SIGMOID_SLOPE)),
    "d_gelu_sigmoid": Case(
        act.d_gelu_sigmoid, _d_swish(act.GELU_SIGMOID_SLOPE), magnitude=_d_swish_magnitude(act.GELU_SIGMOID_SLOPE)
    ),
    "swish(0.3)": Case(lambda x: act.swish(x, 0.3), _swish(0.3)),
    "d_swish(0.3)": Case(lambda x: act.d_swish(x, 0.3), _d_swish(0.3), magnitude=_d_swish_magnitude(0.3)),
    "softmax_one_logit": Case(act.softmax_one_logit, lambda x: _sigmoid(x - mp.log(9))),
    "softsign": Case(act.softsign, lambda x: x / (1 + abs(x))),
    "d_softsign": Case(act.d_softsign, lambda x: 1 / (1 + abs(x)) ** 2),
    "softplus": Case(act.softplus, _softplus),
    "d_softplus": Case(act.d_softplus, _sigmoid),
    "softplus(beta=3)": Case(lambda x: act.softplus(x, 3.0), lambda x: _softplus(3 * x) / 3),
    "d_softplus(beta=3)": Case(lambda x: act.d_softplus(x, 3.0), lambda x: _sigmoid(3 * x)),
    # the rest of the family
    "prelu": Case(act.prelu, lambda x: x if x > 0 else mp.mpf(0.25) * x),
    "d_prelu": Case(act.d_prelu, lambda x: mp.mpf(1) if x > 0 else mp.mpf(0.25)),
    "rrelu (eval)": Case(act.rrelu, lambda x: x if x > 0 else mp.mpf(act.rrelu_eval_slope()) * x),
    "d_rrelu (eval)": Case(act.d_rrelu, lambda x: mp.mpf(1) if x > 0 else mp.mpf(act.rrelu_eval_slope())),
    "celu": Case(act.celu, lambda x: x if x > 0 else mp.expm1(x)),
    "d_celu": Case(act.d_celu, lambda x: mp.mpf(1) if x > 0 else mp.exp(x)),
    "celu(2)": Case(lambda x: act.celu(x, 2.0), lambda x: x if x > 0 else 2 * mp.expm1(x / 2)),
    "d_celu(2)": Case(lambda x: act.d_celu(x, 2.0), lambda x: mp.mpf(1) if x > 0 else mp.exp(x / 2)),
    "mish": Case(act.mish, lambda x: x * _tanh_sp(x)),
    "d_mish": Case(
        act.d_mish,
        lambda x: _tanh_sp(x) + x * _sech2(_softplus(x)) * _sigmoid(x),
        magnitude=lambda x: _tanh_sp(x) + abs(x) * _sech2(_softplus(x)) * _sigmoid(x),
    ),
    "relu6": Case(act.relu6, lambda x: min(max(x, mp.mpf(0)), mp.mpf(6))),
    "d_relu6": Case(act.d_relu6, lambda x: mp.mpf(1 if 0 < x < 6 else 0)),
    "hard_sigmoid": Case(act.hard_sigmoid, lambda x: min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6),
    "d_hard_sigmoid": Case(act.d_hard_sigmoid, lambda x: mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0)),
    "hard_swish": Case(act.hard_swish, lambda x: x * min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6),
    "d_hard_swish": Case(
        act.d_hard_swish,
        _piecewise(lambda x: mp.mpf(0), lambda x: (2 * x + 3) / 6, lambda x: mp.mpf(1), -3, 3, closed="lo hi"),
    ),
}


def grid(dtype: torch.dtype) -> torch.Tensor:
    """A dense stretch around 0, both tails out to ±1e4 on a log scale, tiny magnitudes, the kinks."""
    dense = torch.linspace(-12, 12, 961, dtype=torch.float64)
    tail = torch.logspace(-30, 4, 273, dtype=torch.float64)
    kinks = torch.tensor([0.0, 3.0, -3.0, 6.0, -1.5, 2.5e-8, 1 / 3, 2 / 3], dtype=torch.float64)
    x = torch.cat([dense, tail, -tail, kinks]).to(dtype)
    return torch.unique(x)


def _ulp(value: float, dtype: torch.dtype) -> float:
    if dtype == torch.float64:
        return math.ulp(abs(value))
    return float(np.spacing(np.float32(abs(value))))


def ulp_errors(name: str, dtype: torch.dtype) -> tuple[np.ndarray, np.ndarray]:
    """``(x, error in ulps)`` of ``CASES[name]`` on :func:`grid` in ``dtype``."""
    case = CASES[name]
    x = grid(dtype)
    computed = case.computed(x).double().tolist()
    errors = []
    with mp.workdps(DIGITS):
        for xi, ci in zip(x.double().tolist(), computed, strict=True):
            exact = case.exact(mp.mpf(xi))
            size = exact if case.magnitude is None else case.magnitude(mp.mpf(xi))
            scale = abs(float(torch.tensor(float(size), dtype=dtype)))
            if not math.isfinite(ci):
                errors.append(math.inf)
            elif exact == 0 or scale == 0:
                errors.append(0.0 if ci == 0 else math.inf)
            else:
                errors.append(float(abs(mp.mpf(ci) - exact)) / _ulp(scale, dtype))
    return x.double().numpy(), np.array(errors)


DTYPES = {"float32": torch.float32, "float64": torch.float64}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CASES)
def test_within_a_few_ulps_of_mpmath(name: str, dtype: str):
    x, errors = ulp_errors(name, DTYPES[dtype])
    worst = int(np.argmax(errors))
    bound = ALLOWANCE.get(name, MAX_ULPS)
    assert errors[worst] <= bound, f"{name} in {dtype}: {errors[worst]:.1f} ulps at x = {x[worst]!r}"


def test_every_function_of_formulas_is_measured():
    public = {
        name
        for name, obj in vars(act).items()
        if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", "") == act.__name__
    }
    # Vector functions (softmax and friends) are compared with PyTorch in test_activations;
    # the training-mode slopes of RReLU are random, tested there too.
    vector_or_random = {"softmax", "log_softmax", "softmax_jacobian", "d_softmax_one_logit", "rrelu_slopes"}
    not_elementwise = {"rrelu_eval_slope", "d_prelu_da"}
    measured = {name.split("(")[0].strip() for name in CASES}
    assert public - vector_or_random - not_elementwise <= measured


def test_the_ulp_measure_catches_the_textbook_forms():
    """The measure can fail: GELU through erfc of a rounded argument is hundreds of ulps off in its left tail."""
    x = torch.tensor([-30.0, -20.0], dtype=torch.float64)
    textbook = (0.5 * x * torch.special.erfc(-x / math.sqrt(2))).tolist()
    with mp.workdps(DIGITS):
        errs = [
            float(abs(mp.mpf(c) - xi * _cdf(mp.mpf(xi)))) / math.ulp(abs(float(xi * _cdf(mp.mpf(xi)))))
            for xi, c in zip(x.tolist(), textbook, strict=True)
        ]
    assert max(errs) > 50


if __name__ == "__main__":
    for name in CASES:
        worst = {d: float(np.max(ulp_errors(name, t)[1])) for d, t in DTYPES.items()}
        print(f"{name:22s} float32 {worst['float32']:8.2f}   float64 {worst['float64']:8.2f}")
