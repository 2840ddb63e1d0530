"""tanh(n x): thresholds against their closed forms and autograd; the rescaling argument, step by step."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from actgrader.reference.formulas import d_tanh_n
from actgrader.reference.models import ScaledTanh, make_mlp
from actgrader.reference.tanh_scaling import (
    as_plain_tanh,
    curvature_peak,
    depth_bound,
    explode_bound,
    gaussian_output_variance,
    gradient_descent,
    lecun_amplitude,
    max_parameter_gap,
    rescaled_learning_rates,
    scaled_tanh_slope_threshold,
    slope_threshold,
    t1,
    tanh_n_copy,
    widest_t1,
)

NS = [1.25, 1.5, 2.0, 3.0, 5.0, 10.0]


def autograd_slope(x: float, n: float) -> float:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.tanh(n * t), t)
    return float(g)


@pytest.mark.parametrize("n", NS)
def test_t1_is_the_atanh_formula_and_the_slope_there_is_one_over_n(n):
    assert t1(n) == pytest.approx(math.atanh(math.sqrt(1 - 1 / n**2)) / n, rel=1e-12)
    assert t1(n) == pytest.approx(math.acosh(n) / n, rel=1e-12)
    assert autograd_slope(t1(n), n) == pytest.approx(1 / n, rel=1e-9)
    assert autograd_slope(0.99 * t1(n), n) > 1 / n > autograd_slope(1.01 * t1(n), n)


@pytest.mark.parametrize("n", NS)
@pytest.mark.parametrize("depth", [2, 5, 20, 50])
def test_depth_bound_is_where_the_slope_cancels_depth_minus_one_peaks(n, depth):
    x = depth_bound(n, depth)
    # n (1 - tanh^2(n x)) = n / cosh^2(n x) = n^(1 - K)
    log_slope = math.log(n) - 2 * math.log(math.cosh(n * x))
    assert log_slope == pytest.approx((1 - depth) * math.log(n), abs=1e-9)
    if n**depth < 1e9:  # where the source's formula is still computable in float64
        assert x == pytest.approx(math.atanh(math.sqrt(1 - n ** (-depth))) / n, rel=1e-6)


def test_depth_bound_two_is_t1_and_large_depths_do_not_overflow():
    assert depth_bound(3.0, 2) == pytest.approx(t1(3.0), rel=1e-14)
    big = depth_bound(10.0, 1000)
    assert big == pytest.approx((500 * math.log(10.0) + math.log(2.0)) / 10.0, rel=1e-12)


@pytest.mark.parametrize("n", NS)
def test_explode_bound_is_where_the_slope_is_one(n):
    x = explode_bound(n)
    assert x == pytest.approx(math.atanh(math.sqrt(1 - 1 / n)) / n, rel=1e-12)
    assert autograd_slope(x, n) == pytest.approx(1.0, rel=1e-9)
    assert explode_bound(n) < t1(n)


def test_slope_threshold_agrees_with_the_courses_derivative():
    n = torch.tensor([1.5, 2.0, 4.0], dtype=torch.float64)
    c = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    x = slope_threshold(n, c)
    assert torch.allclose(d_tanh_n(x, 1.0) * 0 + n * (1 - torch.tanh(n * x) ** 2), c, rtol=1e-10)
    for ni, ci, xi in zip(n.tolist(), c.tolist(), x.tolist(), strict=True):
        assert float(d_tanh_n(torch.tensor(xi, dtype=torch.float64), ni)) == pytest.approx(ci, rel=1e-10)
    with pytest.raises(ValueError):
        slope_threshold(2.0, 3.0)
    with pytest.raises(ValueError):
        t1(0.5)


def test_thresholds_accept_floats_and_tensors():
    assert isinstance(t1(2), float) and isinstance(explode_bound(2.0), float)
    assert isinstance(depth_bound(2, 50), float)
    ns = torch.tensor([1.5, 2.0, 3.0])
    for fn in (t1, explode_bound):
        out = fn(ns)
        assert isinstance(out, torch.Tensor) and out.shape == ns.shape
        assert torch.allclose(out, torch.tensor([fn(float(n)) for n in ns], dtype=out.dtype))
    out = depth_bound(ns, torch.tensor([10.0, 20.0, 50.0]))
    expected = [depth_bound(1.5, 10), depth_bound(2.0, 20), depth_bound(3.0, 50)]
    assert torch.allclose(out, torch.tensor(expected, dtype=torch.float64))


def test_the_sources_rounded_figures():
    # Figures quoted by the source text (seed 001), to the digits it gives.
    assert round(t1(2), 3) == 0.658
    assert round(depth_bound(2, 50), 1) == 9.0
    assert round(explode_bound(2), 3) == 0.441


def test_widest_interval_is_the_stationary_point_of_acosh_n_over_n():
    n_star, best = widest_t1()
    assert math.acosh(n_star) == pytest.approx(n_star / math.sqrt(n_star**2 - 1), rel=1e-9)
    n = torch.tensor(n_star, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.acosh(n) / n, n)
    assert abs(float(grad)) < 1e-8
    assert best == pytest.approx(t1(n_star))
    grid = torch.linspace(1.0, 10.0, 90001, dtype=torch.float64)
    assert best >= float(t1(grid).max()) - 1e-12
    assert best > t1(2.0) > t1(3.0)


def test_lecun_constants():
    a, b = lecun_amplitude(), 2 / 3
    assert a * math.tanh(b) == pytest.approx(1.0, rel=1e-15)
    assert round(a, 4) == 1.7159
    peak = curvature_peak(b)
    x = torch.linspace(0, 4, 400001, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(torch.tanh(b * x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    assert float(x.detach()[d2.abs().argmax()]) == pytest.approx(peak, abs=2e-5)


def test_scaled_tanh_threshold_is_where_the_slope_is_reached():
    a, b = lecun_amplitude(), 2 / 3
    x = scaled_tanh_slope_threshold(a, b)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(a * torch.tanh(b * t), t)
    assert float(g) == pytest.approx(1.0, rel=1e-12)
    assert scaled_tanh_slope_threshold(1.0, 2.0, 1.0) == pytest.approx(explode_bound(2.0), rel=1e-12)
    with pytest.raises(ValueError):
        scaled_tanh_slope_threshold(1.0, 1.0, 2.0)


def test_gaussian_output_variance_against_monte_carlo():
    assert gaussian_output_variance(lambda z: z) == pytest.approx(1.0, rel=1e-9)
    z = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for f in (torch.tanh, lambda t: 1.7159 * torch.tanh(2 * t / 3), torch.sigmoid):
        assert gaussian_output_variance(f) == pytest.approx(float(f(z).var()), rel=3e-3)


# --- the rescaling argument ---------------------------------------------------------------------


def _setup(n: float):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen, dtype=torch.float64)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    plain = make_mlp([3, 16, 16, 1], "tanh", init="xavier", seed=1).double()
    with torch.no_grad():  # non-zero biases, so that they are rescaled too
        for layer in plain:
            if isinstance(layer, nn.Linear):
                layer.bias.normal_(0.0, 0.1, generator=gen)
    return x, y, plain, tanh_n_copy(plain, n)


@pytest.mark.parametrize("n", [2.0, 3.0, 0.5])
def test_tanh_n_copy_computes_the_same_function(n):
    x, _, plain, scaled = _setup(n)
    assert sum(isinstance(m, ScaledTanh) for m in scaled) == 2
    assert torch.allclose(plain(x), scaled(x), rtol=0, atol=1e-12)
    assert max_parameter_gap(plain, as_plain_tanh(scaled)) < 1e-14


@pytest.mark.parametrize("n", [2.0, 3.0])
def test_same_learning_rate_differs_rescaled_learning_rate_agrees(n):
    x, y, plain, scaled = _setup(n)
    lr = 0.1
    same, rescaled = copy.deepcopy(scaled), copy.deepcopy(scaled)
    gradient_descent(plain, x, y, nn.functional.mse_loss, lr, 1)
    gradient_descent(same, x, y, nn.functional.mse_loss, lr, 1)
    gradient_descent(rescaled, x, y, nn.functional.mse_loss, rescaled_learning_rates(rescaled, n, lr), 1)
    assert max_parameter_gap(plain, as_plain_tanh(same)) > 1e-3
    assert max_parameter_gap(plain, as_plain_tanh(rescaled)) < 1e-12
    # and after many steps
    losses_plain = gradient_descent(plain, x, y, nn.functional.mse_loss, lr, 50)
    losses_rescaled = gradient_descent(
        rescaled, x, y, nn.functional.mse_loss, rescaled_learning_rates(rescaled, n, lr), 50
    )
    assert max(abs(a - b) for a, b in zip(losses_plain, losses_rescaled, strict=True)) < 1e-10


def test_the_weight_step_moves_n_w_by_n_squared_times_more():
    n, lr = 3.0, 0.01
    x, y, plain, scaled = _setup(n)
    before = as_plain_tanh(scaled)
    gradient_descent(plain, x, y, nn.functional.mse_loss, lr, 1)
    gradient_descent(scaled, x, y, nn.functional.mse_loss, lr, 1)
    after = as_plain_tanh(scaled)
    first_plain = plain[0].weight - before[0].weight
    first_scaled = after[0].weight - before[0].weight
    assert torch.allclose(first_scaled, n**2 * first_plain, rtol=1e-9, atol=1e-15)


def test_rescaled_rates_and_plain_gradient_descent_formula():
    scaled = _setup(2.0)[3]
    assert rescaled_learning_rates(scaled, 2.0, 0.4) == [0.1, 0.1, 0.4]
    x, y, model, _ = _setup(2.0)
    twin = copy.deepcopy(model)
    gradient_descent(model, x, y, nn.functional.mse_loss, 0.05, 3)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.05)
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.mse_loss(twin(x), y).backward()
        optimizer.step()
    assert max_parameter_gap(model, twin) < 1e-15
    with pytest.raises(ValueError):
        gradient_descent(model, x, y, nn.functional.mse_loss, [0.1, 0.1], 1)
