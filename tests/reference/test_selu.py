"""SELU's constants from the fixed-point equations, the moment map, and the statistics through depth."""

from __future__ import annotations

import mpmath
import pytest
import torch

from actgrader.reference.selu import (
    _selu_moments,
    _selu_moments_by_quadrature,
    fixed_point_equations,
    iterate_moment_map,
    map_jacobian,
    moment_map,
    moments_through_depth,
    selu_constants,
    torch_selu_constants,
)


def test_solved_constants_are_pytorchs_to_the_last_bits():
    alpha, scale = selu_constants()
    torch_alpha, torch_scale = torch_selu_constants()
    assert alpha == pytest.approx(torch_alpha, rel=4e-16)
    assert scale == pytest.approx(torch_scale, rel=4e-16)


def test_constants_zero_both_equations_and_an_elu_does_not():
    alpha, scale = selu_constants()
    assert max(abs(r) for r in fixed_point_equations(alpha, scale)) < 1e-15
    mean, second = fixed_point_equations(1.0, 1.0)  # a plain ELU
    assert mean < -0.01 or mean > 0.01 or abs(second) > 0.01


def test_torch_constants_are_read_off_the_function():
    alpha, scale = torch_selu_constants()
    z = torch.tensor([0.5, -1.0], dtype=torch.float64)
    expected = torch.tensor([scale * 0.5, scale * alpha * (torch.exp(torch.tensor(-1.0, dtype=torch.float64)) - 1)])
    assert torch.allclose(torch.nn.functional.selu(z), expected.double(), rtol=1e-15)


@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (0.3, 1.4), (-0.5, 0.7), (1.2, 2.0)])
def test_closed_form_moments_match_numerical_integration(mean, std):
    alpha, scale = selu_constants()
    with mpmath.workdps(20):
        args = (mpmath.mpf(mean), mpmath.mpf(std), mpmath.mpf(alpha), mpmath.mpf(scale))
        closed, numeric = _selu_moments(*args), _selu_moments_by_quadrature(*args)
        for c, q in zip(closed, numeric, strict=True):
            assert abs(c - q) < mpmath.mpf(10) ** -15


def test_moment_map_matches_a_monte_carlo_estimate():
    alpha, scale = selu_constants()
    mean, var = moment_map(0.0, 1.5, alpha, scale, tau=1.0)
    z = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 1.5**0.5
    h = torch.nn.functional.selu(z)
    assert float(h.mean()) == pytest.approx(mean, abs=3e-3)
    assert float(h.var()) == pytest.approx(var, rel=3e-3)


def test_zero_one_is_an_attracting_fixed_point_with_lecun_weights_only():
    alpha, scale = selu_constants()
    assert moment_map(0.0, 1.0, alpha, scale) == pytest.approx((0.0, 1.0), abs=1e-14)
    eig = torch.linalg.eigvals(map_jacobian(alpha, scale)).abs()
    assert float(eig.max()) < 1
    path = iterate_moment_map(0.4, 2.0, 25, alpha, scale)
    assert len(path) == 26 and abs(path[-1][1] - 1) < 1e-2
    assert moment_map(0.0, 1.0, alpha, scale, tau=2.0)[1] > 1.5  # Kaiming's scale moves it


def test_statistics_stay_put_with_lecun_and_drift_otherwise():
    shape = dict(depth=30, width=96, n=256)
    mean, var = moments_through_depth(init="lecun", **shape)
    assert mean.shape == var.shape == (30,)
    assert float((var - 1).abs().max()) < 0.25 and float(mean.abs().max()) < 0.1
    assert float(moments_through_depth(init="kaiming", **shape)[1][-1]) > 10
    assert float(moments_through_depth(regularizer="dropout", p=0.2, **shape)[1][-1]) > 1.3
    assert abs(float(moments_through_depth(regularizer="alpha_dropout", p=0.2, **shape)[1][-1]) - 1) < 0.25
    assert float(moments_through_depth(wiring="residual", **shape)[1][-1]) > 1e4


def test_batch_norm_makes_the_weight_scale_irrelevant():
    shape = dict(depth=10, width=64, n=128)
    lecun = moments_through_depth(wiring="batchnorm", init="lecun", **shape)
    kaiming = moments_through_depth(wiring="batchnorm", init="kaiming", **shape)
    assert torch.allclose(lecun[1], kaiming[1], rtol=1e-3)


def test_seeds_are_independent_and_reproducible():
    shape = dict(depth=5, width=32, n=64)
    one = moments_through_depth(weight_seed=0, data_seed=1, **shape)
    assert torch.equal(one[1], moments_through_depth(weight_seed=0, data_seed=1, **shape)[1])
    assert not torch.equal(one[1], moments_through_depth(weight_seed=0, data_seed=2, **shape)[1])
    assert not torch.equal(one[1], moments_through_depth(weight_seed=3, data_seed=1, **shape)[1])
