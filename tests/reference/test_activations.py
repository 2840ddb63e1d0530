"""The from-scratch activations against PyTorch's, their derivatives, stability and measured properties."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from actgrader.reference import analysis, registry
from actgrader.reference import formulas as act
from actgrader.reference import naive as unstable
from actgrader.reference.registry import ACTIVATIONS, CORE_SET

DTYPES = (torch.float32, torch.float64)


def _grid(dtype: torch.dtype) -> torch.Tensor:
    """A dense grid near 0, the kink itself, tiny and huge magnitudes (±1e4 included)."""
    dense = torch.linspace(-30, 30, 6001, dtype=torch.float64)
    special = torch.tensor(
        [
            0.0,
            1e-30,
            -1e-30,
            1e-8,
            -1e-8,
            1e-3,
            -1e-3,
            50,
            -50,
            88.5,
            -88.5,
            100,
            -100,
            710,
            -710,
            1e3,
            -1e3,
            1e4,
            -1e4,
        ],
        dtype=torch.float64,
    )
    return torch.cat([dense, special]).to(dtype)


# Each scalar activation, its closed-form derivative, and PyTorch's own function.
PAIRS = {
    "sigmoid": (act.sigmoid, act.d_sigmoid, torch.sigmoid),
    "tanh": (act.tanh, act.d_tanh, torch.tanh),
    "tanh_n(3)": (lambda x: act.tanh_n(x, 3.0), lambda x: act.d_tanh_n(x, 3.0), lambda x: torch.tanh(3.0 * x)),
    "lecun_tanh": (act.lecun_tanh, act.d_lecun_tanh, lambda x: 1.7159 * torch.tanh(2 * x / 3)),
    "relu": (act.relu, act.d_relu, torch.relu),
    "leaky_relu": (act.leaky_relu, act.d_leaky_relu, F.leaky_relu),
    "leaky_relu(0.2)": (
        lambda x: act.leaky_relu(x, 0.2),
        lambda x: act.d_leaky_relu(x, 0.2),
        lambda x: F.leaky_relu(x, 0.2),
    ),
    "elu": (act.elu, act.d_elu, F.elu),
    "elu(0.5)": (lambda x: act.elu(x, 0.5), lambda x: act.d_elu(x, 0.5), lambda x: F.elu(x, 0.5)),
    "elu(2)": (lambda x: act.elu(x, 2.0), lambda x: act.d_elu(x, 2.0), lambda x: F.elu(x, 2.0)),
    "gelu": (act.gelu, act.d_gelu, F.gelu),
    "gelu_tanh": (act.gelu_tanh, act.d_gelu_tanh, lambda x: F.gelu(x, approximate="tanh")),
    "silu": (act.silu, act.d_silu, F.silu),
    "swish(1.702)": (
        act.gelu_sigmoid,
        act.d_gelu_sigmoid,
        lambda x: x * torch.sigmoid(1.702 * x),
    ),
    "softsign": (act.softsign, act.d_softsign, F.softsign),
    "softplus": (act.softplus, act.d_softplus, F.softplus),
    "softplus(beta=3)": (
        lambda x: act.softplus(x, 3.0),
        lambda x: act.d_softplus(x, 3.0),
        lambda x: F.softplus(x, beta=3.0),
    ),
    "prelu": (act.prelu, act.d_prelu, lambda x: F.prelu(x, x.new_full((1,), 0.25))),
    "prelu(0.05)": (
        lambda x: act.prelu(x, 0.05),
        lambda x: act.d_prelu(x, 0.05),
        lambda x: F.prelu(x, x.new_full((1,), 0.05)),
    ),
    "rrelu (eval)": (act.rrelu, act.d_rrelu, lambda x: F.rrelu(x, training=False)),
    "celu": (act.celu, act.d_celu, F.celu),
    "celu(2)": (lambda x: act.celu(x, 2.0), lambda x: act.d_celu(x, 2.0), lambda x: F.celu(x, 2.0)),
    "celu(0.5)": (lambda x: act.celu(x, 0.5), lambda x: act.d_celu(x, 0.5), lambda x: F.celu(x, 0.5)),
    "mish": (act.mish, act.d_mish, F.mish),
    "swish(2)": (lambda x: act.swish(x, 2.0), lambda x: act.d_swish(x, 2.0), lambda x: x * torch.sigmoid(2.0 * x)),
    "relu6": (act.relu6, act.d_relu6, F.relu6),
    "hard_sigmoid": (act.hard_sigmoid, act.d_hard_sigmoid, F.hardsigmoid),
    "hard_swish": (act.hard_swish, act.d_hard_swish, F.hardswish),
    "softmax_one_logit": (
        act.softmax_one_logit,
        act.d_softmax_one_logit,
        lambda x: torch.softmax(torch.stack([x, *[torch.zeros_like(x)] * 9], dim=-1), dim=-1)[..., 0],
    ),
}


def _autograd_slope(fn, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PAIRS)
def test_values_match_torch_without_nan(name, dtype):
    fn, _, reference = PAIRS[name]
    x = _grid(dtype)
    got = fn(x)
    assert got.dtype == dtype and got.shape == x.shape
    assert not got.isnan().any()
    torch.testing.assert_close(got, reference(x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PAIRS)
def test_closed_form_derivative_matches_autograd_of_torchs_function(name, dtype):
    _, derivative, reference = PAIRS[name]
    x = _grid(dtype)
    got = derivative(x)
    assert got.dtype == dtype and got.shape == x.shape
    assert got.isfinite().all()
    torch.testing.assert_close(got, _autograd_slope(reference, x))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PAIRS)
def test_autograd_through_the_from_scratch_function_is_finite_and_right(name, dtype):
    fn, derivative, _ = PAIRS[name]
    x = _grid(dtype)
    slope = _autograd_slope(fn, x)
    assert slope.isfinite().all()
    torch.testing.assert_close(slope, derivative(x))


def test_shape_and_dtype_survive_a_batch():
    x = torch.randn(4, 3, 5, dtype=torch.float64)
    for name, (fn, derivative, _) in PAIRS.items():
        for f in (fn, derivative):
            out = f(x)
            assert out.shape == x.shape and out.dtype == x.dtype, name


def test_tails_keep_relative_precision_where_torch_rounds_to_zero():
    # sigmoid(20) rounds to 1 in float32, so torch's s(1 - s) slope is 0; the true slope is about 2e-9.
    x = torch.tensor([20.0, 40.0], dtype=torch.float32)
    exact = act.d_sigmoid(x.double())
    torch.testing.assert_close(act.d_sigmoid(x).double(), exact, rtol=1e-5, atol=0)
    assert (act.d_sigmoid(x) > 0).all()
    torch.testing.assert_close(act.d_tanh(x / 2).double(), act.d_tanh(x.double() / 2), rtol=1e-5, atol=0)
    # the left tail of GELU: erfc keeps what 1 + erf loses
    x = torch.tensor([-10.0], dtype=torch.float64)
    reference = x * 0.5 * torch.special.erfc(-x / math.sqrt(2))
    assert unstable.naive_gelu(x).item() == 0.0
    torch.testing.assert_close(act.gelu(x), reference, rtol=1e-12, atol=0)
    # tanh of a tiny number keeps its digits
    tiny = torch.tensor([1e-20], dtype=torch.float32)
    assert act.tanh(tiny).item() == pytest.approx(1e-20, rel=1e-6)


# --- identities -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_derivative_identities_through_the_function_itself(dtype):
    x = torch.linspace(-15, 15, 3001, dtype=dtype)
    s = act.sigmoid(x)
    torch.testing.assert_close(_autograd_slope(torch.sigmoid, x), s * (1 - s))
    t = act.tanh(x)
    torch.testing.assert_close(_autograd_slope(torch.tanh, x), 1 - t**2)
    torch.testing.assert_close(_autograd_slope(F.softplus, x), act.sigmoid(x))
    e = act.elu(x, 1.5)
    torch.testing.assert_close(act.d_elu(x, 1.5)[x <= 0], (e + 1.5)[x <= 0])
    sp = act.softsign(x)
    torch.testing.assert_close(_autograd_slope(F.softsign, x), (1 - sp.abs()) ** 2)
    f = act.silu(x)
    torch.testing.assert_close(_autograd_slope(F.silu, x), f + s * (1 - f))
    torch.testing.assert_close(act.d_softplus(x), -torch.expm1(-act.softplus(x)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_function_identities(dtype):
    x = torch.linspace(-20, 20, 4001, dtype=dtype)
    torch.testing.assert_close(act.tanh(x), 2 * act.sigmoid(2 * x) - 1)
    torch.testing.assert_close(act.silu(x), x * act.sigmoid(x))
    torch.testing.assert_close(act.swish(x, 1.0), act.silu(x))
    torch.testing.assert_close(act.softmax_one_logit(x, 10), act.sigmoid(x - math.log(9)))
    torch.testing.assert_close(act.softmax_one_logit(x, 2), act.sigmoid(x))
    torch.testing.assert_close(act.softplus(x) - act.softplus(-x), x)
    torch.testing.assert_close(act.sigmoid(-x), 1 - act.sigmoid(x))


def test_gelu_approximations_are_close_but_not_equal():
    x = torch.linspace(-8, 8, 16001, dtype=torch.float64)
    tanh_error = (act.gelu(x) - act.gelu_tanh(x)).abs().max().item()
    sigmoid_error = (act.gelu(x) - act.gelu_sigmoid(x)).abs().max().item()
    assert 0 < tanh_error < 1e-3
    assert tanh_error < sigmoid_error < 0.03


# --- softmax ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_softmax_matches_torch_on_huge_logits(dtype, temperature):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 7, generator=gen, dtype=torch.float64).to(dtype) * 3
    x = torch.cat([x, x + 1000, x - 1e4, x * 1e4])
    for dim in (0, 1, -1):
        got = act.softmax(x, dim=dim, temperature=temperature)
        assert got.isfinite().all() and got.dtype == dtype
        torch.testing.assert_close(got, torch.softmax(x / temperature, dim=dim))
        torch.testing.assert_close(got.sum(dim=dim), torch.ones_like(got.sum(dim=dim)))
        log = act.log_softmax(x, dim=dim, temperature=temperature)
        assert log.isfinite().all()
        torch.testing.assert_close(log, torch.log_softmax(x / temperature, dim=dim))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_jacobian_matches_autograd(dtype):
    x = torch.tensor([1000.0, 999.0, 997.5, 1001.0], dtype=dtype)
    for temperature in (0.5, 1.0, 3.0):
        expected = torch.autograd.functional.jacobian(lambda z, t=temperature: torch.softmax(z / t, -1), x)
        torch.testing.assert_close(act.softmax_jacobian(x, temperature), expected)
    batch = torch.randn(3, 5, dtype=dtype)
    assert act.softmax_jacobian(batch).shape == (3, 5, 5)


def test_softmax_gradient_through_the_from_scratch_version():
    x = torch.tensor([[1000.0, 999.0, 990.0]], dtype=torch.float64, requires_grad=True)
    weights = torch.tensor([[0.3, -1.0, 2.0]], dtype=torch.float64)
    (act.softmax(x) * weights).sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    (torch.softmax(x2, -1) * weights).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)


def test_softmax_is_unchanged_by_adding_a_constant():
    x = torch.randn(5, 4, dtype=torch.float64)
    for shift in (-1e4, -3.0, 7.5, 1e4):
        torch.testing.assert_close(act.softmax(x + shift), act.softmax(x))


def test_softmax_one_logit_needs_two_classes():
    with pytest.raises(ValueError, match="two classes"):
        act.softmax_one_logit(torch.zeros(3), classes=1)


# --- the naive formulas fail where the stable ones do not --------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_formulas_break_at_large_inputs(dtype):
    big = torch.tensor([-1e4, 1e4], dtype=dtype)
    assert unstable.naive_sigmoid_ratio(big).isnan().any()
    assert unstable.naive_tanh(big).isnan().all()
    assert unstable.naive_softplus(big).isinf().any()
    assert unstable.naive_softmax(torch.tensor([1000.0, 999.0, 998.0], dtype=dtype)).isnan().all()
    assert unstable.naive_log_softmax(torch.tensor([1000.0, 0.0], dtype=dtype)).isinf().any()
    # values fine, gradients not:
    for naive in (unstable.naive_sigmoid, unstable.naive_silu, unstable.naive_elu):
        assert not naive(big).isnan().any()
        assert _autograd_slope(naive, big).isnan().any()
    for stable in (act.sigmoid, act.tanh, act.softplus, act.silu, act.elu):
        assert stable(big).isfinite().all()
        assert _autograd_slope(stable, big).isfinite().all()


def test_naive_formulas_agree_where_nothing_overflows():
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    torch.testing.assert_close(unstable.naive_sigmoid(x), act.sigmoid(x))
    torch.testing.assert_close(unstable.naive_sigmoid_ratio(x), act.sigmoid(x))
    torch.testing.assert_close(unstable.naive_tanh(x), act.tanh(x))
    torch.testing.assert_close(unstable.naive_softplus(x), act.softplus(x))
    torch.testing.assert_close(unstable.naive_elu(x), act.elu(x))
    torch.testing.assert_close(unstable.naive_silu(x), act.silu(x))
    torch.testing.assert_close(unstable.naive_gelu(x), act.gelu(x))
    torch.testing.assert_close(unstable.naive_softmax(x), act.softmax(x))
    torch.testing.assert_close(unstable.naive_log_softmax(x), act.log_softmax(x))


# --- measured properties against closed forms ----------------------------------------------


def _exact(name: str):
    """Closed forms for the measured properties, from the formulas (never from the grid)."""
    sqrt2 = math.sqrt(2.0)
    gelu_peak = 0.5 * math.erfc(-1.0) + sqrt2 * math.exp(-1.0) / math.sqrt(2 * math.pi)
    return {
        "sigmoid": {"slope0": 0.25, "max": 0.25, "range": (0.0, 1.0), "mean": 0.5},
        "tanh": {"slope0": 1.0, "max": 1.0, "range": (-1.0, 1.0), "mean": 0.0},
        "lecun_tanh": {"slope0": 1.7159 * 2 / 3, "max": 1.7159 * 2 / 3, "range": (-1.7159, 1.7159), "mean": 0.0},
        "relu": {"slope0": 0.0, "max": 1.0, "range": (0.0, math.inf), "mean": 1 / math.sqrt(2 * math.pi)},
        "leaky_relu": {
            "slope0": 0.01,
            "max": 1.0,
            "range": (-math.inf, math.inf),
            "mean": 0.99 / math.sqrt(2 * math.pi),
        },
        # E[ELU(z)] = E[z; z>0] + E[e^z - 1; z<0] = phi(0) + e^(1/2) Phi(-1) - 1/2
        "elu": {
            "slope0": 1.0,
            "max": 1.0,
            "range": (-1.0, math.inf),
            "mean": 1 / math.sqrt(2 * math.pi) + math.exp(0.5) * 0.5 * math.erfc(1 / sqrt2) - 0.5,
        },
        # E[z Phi(z)] = E[phi(z)] = 1 / (2 sqrt(pi))
        "gelu": {"slope0": 0.5, "max": gelu_peak, "mean": 1 / (2 * math.sqrt(math.pi))},
        "gelu_tanh": {"slope0": 0.5},
        "silu": {"slope0": 0.5},
        "softmax": {"slope0": 9 / 100, "max": 0.25, "range": (0.0, 1.0)},
        "softsign": {"slope0": 1.0, "max": 1.0, "range": (-1.0, 1.0), "mean": 0.0},
        "softplus": {"slope0": 0.5, "max": 1.0, "range": (0.0, math.inf)},
        # E[PReLU(z)] = (1 - a) phi(0): the negative half contributes a E[z; z < 0] = -a phi(0)
        "prelu": {"slope0": 0.25, "max": 1.0, "range": (-math.inf, math.inf), "mean": 0.75 / math.sqrt(2 * math.pi)},
        "rrelu": {
            "slope0": 11 / 48,
            "max": 1.0,
            "range": (-math.inf, math.inf),
            "mean": (1 - 11 / 48) / math.sqrt(2 * math.pi),
        },
        # CELU with alpha = 1 is ELU with alpha = 1
        "celu": {
            "slope0": 1.0,
            "max": 1.0,
            "range": (-1.0, math.inf),
            "mean": 1 / math.sqrt(2 * math.pi) + math.exp(0.5) * 0.5 * math.erfc(1 / sqrt2) - 0.5,
        },
        # tanh(softplus(0)) = tanh(log 2) = 3/5, and the second term vanishes at 0
        "mish": {"slope0": 0.6, "range_high": math.inf},
        # E[min(max(z, 0), 6)] = phi(0) - phi(6) + 6 Phi(-6) (the cap removes the tail beyond 6)
        "relu6": {
            "slope0": 0.0,
            "max": 1.0,
            "range": (0.0, 6.0),
            "mean": (1 - math.exp(-18)) / math.sqrt(2 * math.pi) + 6 * 0.5 * math.erfc(6 / sqrt2),
        },
        "hard_sigmoid": {"slope0": 1 / 6, "max": 1 / 6, "range": (0.0, 1.0), "mean": 0.5},
        # the minimum of x (x + 3) / 6 is at x = -3/2: -3/8; the slope (2x + 3)/6 reaches 3/2 only as x -> 3^-
        "hard_swish": {"slope0": 0.5, "max": 1.5, "range": (-3 / 8, math.inf)},
    }[name]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_measured_slopes_and_ranges_match_closed_forms(name):
    info = ACTIVATIONS[name]
    exact = _exact(name)
    assert info.slope_at_zero == pytest.approx(exact["slope0"], abs=1e-12)
    if "max" in exact:
        assert info.max_slope.value == pytest.approx(exact["max"], abs=1e-9)
    if "range_high" in exact:
        assert info.output_range.high == exact["range_high"]
    if "range" in exact:
        low, high = exact["range"]
        assert info.output_range.low == pytest.approx(low, abs=1e-9)
        assert info.output_range.high == pytest.approx(high, abs=1e-9)
    if "mean" in exact:
        assert info.mean_output == pytest.approx(exact["mean"], abs=1e-7)


def test_where_the_extrema_are():
    # GELU's slope peaks where its second derivative (2 - x^2) phi(x) vanishes: x = sqrt 2.
    assert ACTIVATIONS["gelu"].max_slope.x == pytest.approx(math.sqrt(2), abs=1e-6)
    # The minimum of SiLU sits at the root of 1 + x (1 - sigmoid(x)) = 0, and equals 1 + that root.
    lo, hi = -2.0, -1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        g = 1 + mid * (1 - 1 / (1 + math.exp(-mid)))
        lo, hi = (lo, mid) if g > 0 else (mid, hi)  # g rises through its root
    root = (lo + hi) / 2
    silu_range = ACTIVATIONS["silu"].output_range
    assert silu_range.low == pytest.approx(1 + root, abs=1e-10)
    assert analysis.minimum(act.silu).x == pytest.approx(root, abs=1e-6)
    # GELU's minimum: where Phi(x) + x phi(x) = 0
    gelu_root = analysis.root(lambda t: analysis.slope_at(act.d_gelu, t), -1.0, -0.5)
    assert analysis.minimum(act.gelu).x == pytest.approx(gelu_root, abs=1e-6)
    assert analysis.minimum(act.gelu).value == pytest.approx(ACTIVATIONS["gelu"].output_range.low, abs=1e-12)
    assert analysis.minimum(act.sigmoid).x == -math.inf
    assert silu_range.low_attained and not silu_range.high_attained
    # the one-logit softmax is sigmoid(x - log 9): its slope peaks at x = log 9
    assert ACTIVATIONS["softmax"].max_slope.x == pytest.approx(math.log(9), abs=1e-6)
    # softplus' slope approaches 1 but never reaches it
    assert not ACTIVATIONS["softplus"].max_slope.attained


def test_qualitative_properties():
    expected = {
        #              zero_c, bounded, monotone, smooth, (sat left, sat right)
        "sigmoid": (False, True, True, True, (True, True)),
        "tanh": (True, True, True, True, (True, True)),
        "lecun_tanh": (True, True, True, True, (True, True)),
        "relu": (False, False, True, False, (True, False)),
        "leaky_relu": (False, False, True, False, (False, False)),
        "elu": (False, False, True, True, (True, False)),
        "gelu": (False, False, False, True, (True, False)),
        "gelu_tanh": (False, False, False, True, (True, False)),
        "silu": (False, False, False, True, (True, False)),
        "softmax": (False, True, True, True, (True, True)),
        "softsign": (True, True, True, True, (True, True)),
        "softplus": (False, False, True, True, (True, False)),
        "prelu": (False, False, True, False, (False, False)),
        "rrelu": (False, False, True, False, (False, False)),
        "celu": (False, False, True, True, (True, False)),
        "mish": (False, False, False, True, (True, False)),
        "relu6": (False, True, True, False, (True, True)),
        "hard_sigmoid": (False, True, True, False, (True, True)),
        "hard_swish": (False, False, False, False, (True, False)),
    }
    assert set(expected) == set(ACTIVATIONS)
    for name, (zero_centred, bounded, monotone, smooth, saturates) in expected.items():
        info = ACTIVATIONS[name]
        got = (info.zero_centred, info.bounded, info.monotone, info.smooth, info.saturates)
        assert got == (zero_centred, bounded, monotone, smooth, saturates), name


def test_range_ends_open_or_closed():
    assert str(ACTIVATIONS["sigmoid"].output_range) == "(0, 1)"
    assert str(ACTIVATIONS["relu"].output_range) == "[0, ∞)"
    assert str(ACTIVATIONS["elu"].output_range) == "(−1, ∞)"
    assert ACTIVATIONS["gelu"].output_range.format(".2f").startswith("[−0.17")
    assert str(ACTIVATIONS["leaky_relu"].output_range) == "(−∞, ∞)"


def test_a_kink_other_than_relus_is_found():
    assert not analysis.has_continuous_slope(lambda x: act.d_elu(x, 2.0))
    assert analysis.has_continuous_slope(lambda x: act.d_elu(x, 1.0))
    assert not analysis.has_continuous_slope(lambda x: act.d_leaky_relu(x, 0.5))


def test_saturation_points_match_closed_forms():
    # sigmoid'(x) = c  <=>  e^-x / (1 + e^-x)^2 = c: solve the quadratic in e^-x.
    c = 0.01
    u = ((1 - 2 * c) - math.sqrt(1 - 4 * c)) / (2 * c)  # the root below 1
    assert analysis.saturation_point(act.d_sigmoid, "right", c) == pytest.approx(-math.log(u), abs=1e-9)
    assert analysis.saturation_point(act.d_sigmoid, "left", c) == pytest.approx(-math.log(u), abs=1e-9)
    # tanh'(x) = c  <=>  x = acosh(1 / sqrt c)
    assert analysis.saturation_point(act.d_tanh, "right", c) == pytest.approx(math.acosh(1 / math.sqrt(c)), abs=1e-9)
    # softsign'(x) = c  <=>  x = 1 / sqrt c - 1
    assert analysis.saturation_point(act.d_softsign, "left", c) == pytest.approx(1 / math.sqrt(c) - 1, abs=1e-9)
    # ELU's left side: alpha e^x = c
    assert analysis.saturation_point(act.d_elu, "left", c) == pytest.approx(-math.log(c), abs=1e-9)
    assert analysis.saturation_point(act.d_relu, "left", c) == 0.0
    assert analysis.saturation_point(act.d_relu, "right", c) == math.inf


def test_root_and_autograd_helpers():
    assert analysis.root(lambda t: t * t - 2, 0.0, 2.0) == pytest.approx(math.sqrt(2), abs=1e-12)
    with pytest.raises(ValueError, match="sign"):
        analysis.root(lambda t: t * t + 1, -1.0, 1.0)
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    torch.testing.assert_close(analysis.autograd_slope(torch.sin, x), torch.cos(x))
    values, slopes = analysis.values_and_slopes(unstable.naive_sigmoid, (-1e4, 0.0), torch.float32)
    assert values.dtype == torch.float32 and values.tolist() == [0.0, 0.5]
    assert slopes[0].isnan() and slopes[1].item() == 0.25


def test_max_slope_of_tanh_n_is_n():
    for n in (0.5, 2.0, 3.0):
        peak = analysis.max_slope(lambda x, n=n: act.d_tanh_n(x, n))
        assert peak.value == pytest.approx(n, abs=1e-9)
        assert peak.x == pytest.approx(0.0, abs=1e-6)


def test_registry_names_resolve_to_torch_objects_that_agree():
    x = torch.linspace(-6, 6, 241, dtype=torch.float64)
    for info in ACTIVATIONS.values():
        torch.testing.assert_close(info.fn(x), info.torch_reference(x))
        if info.name == "softmax":
            logits = torch.randn(4, 10, dtype=torch.float64)
            torch.testing.assert_close(info.module()(logits), act.softmax(logits))
            torch.testing.assert_close(registry.resolve(info.torch_functional)(logits, dim=-1), act.softmax(logits))
            continue
        torch.testing.assert_close(info.module().eval().to(x.dtype)(x), info.fn(x))
        functional = registry.resolve(info.torch_functional)
        if info.name == "prelu":  # the functional form takes the slope as a weight tensor
            torch.testing.assert_close(functional(x, x.new_full((1,), info.torch_kwargs["init"])), info.fn(x))
            continue
        torch.testing.assert_close(functional(x, **info.torch_kwargs), info.fn(x))


def test_comparison_rows_cover_the_core_set_in_order():
    rows = registry.comparison_rows(CORE_SET)
    assert [row["name"] for row in rows] == list(CORE_SET)
    assert set(CORE_SET) <= set(ACTIVATIONS)
    relu = rows[0]
    assert relu["saturation"] == (0.0, math.inf)
    assert relu["range"] == ACTIVATIONS["relu"].output_range


# --- the rest of the family ------------------------------------------------------------------


def test_mish_minimum_where_its_slope_vanishes():
    root = analysis.root(lambda t: analysis.slope_at(act.d_mish, t), -2.0, -0.5)
    minimum = analysis.minimum(act.mish)
    assert minimum.x == pytest.approx(root, abs=1e-6)
    lowest = float(act.mish(torch.tensor(root, dtype=torch.float64)))
    assert ACTIVATIONS["mish"].output_range.low == pytest.approx(lowest)


def test_celu_is_elu_at_alpha_1_and_smooth_for_every_alpha():
    x = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    torch.testing.assert_close(act.celu(x), act.elu(x), rtol=0, atol=0)
    for alpha in (0.5, 2.0, 3.0):
        assert analysis.has_continuous_slope(lambda v, a=alpha: act.d_celu(v, a))
        assert not analysis.has_continuous_slope(lambda v, a=alpha: act.d_elu(v, a))
        torch.testing.assert_close(act.celu(x, alpha), alpha * act.elu(x / alpha))


def test_hard_forms_are_piecewise_linear_versions_of_the_smooth_ones():
    x = torch.linspace(-8, 8, 16001, dtype=torch.float64)
    torch.testing.assert_close(act.hard_swish(x), x * act.hard_sigmoid(x))
    torch.testing.assert_close(act.hard_sigmoid(x), act.relu6(x + 3) / 6)
    # hard-sigmoid matches the sigmoid's value and... not its slope at 0: 1/6 against 1/4
    assert act.hard_sigmoid(torch.zeros(1)).item() == 0.5
    assert (act.hard_sigmoid(x) - act.sigmoid(x)).abs().max().item() < 0.1
    assert (act.hard_swish(x) - act.silu(x)).abs().max().item() < 0.25


def test_rrelu_training_mode_draws_slopes_in_the_interval_and_eval_uses_their_mean():
    gen = torch.Generator().manual_seed(0)
    x = -torch.rand(100_000, generator=gen, dtype=torch.float64) - 0.5
    slopes = act.rrelu_slopes(x, training=True, generator=torch.Generator().manual_seed(1))
    assert slopes.min().item() >= act.RRELU_LOWER and slopes.max().item() <= act.RRELU_UPPER
    assert slopes.mean().item() == pytest.approx(act.rrelu_eval_slope(), abs=2e-3)
    assert slopes.unique().numel() > 1000
    y = act.rrelu(x, training=True, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(y, slopes * x)
    # PyTorch's module in training mode behaves alike: slopes within [lower, upper], mean near the middle
    torch.manual_seed(2)
    ratio = torch.nn.RReLU()(x) / x
    assert ratio.min().item() >= act.RRELU_LOWER - 1e-12 and ratio.max().item() <= act.RRELU_UPPER + 1e-12
    assert ratio.mean().item() == pytest.approx(act.rrelu_eval_slope(), abs=2e-3)
    positive = torch.tensor([0.5, 3.0], dtype=torch.float64)
    torch.testing.assert_close(act.rrelu(positive, training=True), positive)


def test_prelu_slope_wrt_its_parameter_matches_autograd():
    x = torch.linspace(-4, 4, 81, dtype=torch.float64)
    a = torch.tensor([0.25], dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (F.prelu(x, a) * upstream).sum().backward()
    torch.testing.assert_close(a.grad, (upstream * act.d_prelu_da(x)).sum().reshape(1))
    # per-channel slopes broadcast
    batch = torch.randn(5, 3, dtype=torch.float64)
    slopes = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    torch.testing.assert_close(act.prelu(batch, slopes), F.prelu(batch, slopes))


def test_trainable_swish_module_matches_the_formula_and_learns_beta():
    from actgrader.reference.models import Swish

    x = torch.linspace(-6, 6, 121)
    module = Swish(1.5)
    torch.testing.assert_close(module(x), act.swish(x, 1.5))
    module(x).sum().backward()
    assert module.beta.grad is not None and module.beta.grad.item() != 0
    fixed = Swish(2.0, trainable=False)
    assert not list(fixed.parameters())
    torch.testing.assert_close(fixed(x), act.swish(x, 2.0))
