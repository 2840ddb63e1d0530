"""Variance propagation through deep networks, and nn.Linear's default initialization, against closed forms."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actgrader.reference.initialization import (
    activation_records,
    activation_spread,
    default_weight_bound,
    example_spread,
    input_dependence,
    linear_default_statistics,
    preactivation_spread,
    predicted_relu_preactivation_variances,
    relu_fixed_point_variance,
    relu_variance_gain,
    saturated_fraction,
    spread,
    weight_variance,
)
from actgrader.reference.models import make_mlp


def _x(n: int = 1000, dim: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))


def test_spreads_are_the_std_of_each_layers_values():
    model = make_mlp([64, 32, 32, 10], "tanh", init="xavier", seed=0)
    x = _x()
    z1 = model[0](x)
    h1 = model[1](z1)
    z2 = model[2](h1)
    h2 = model[3](z2)
    assert activation_spread(model, x) == pytest.approx([h1.std().item(), h2.std().item()], rel=1e-6)
    assert preactivation_spread(model, x) == pytest.approx([z1.std().item(), z2.std().item()], rel=1e-6)
    assert input_dependence(model, x)[0] == pytest.approx(h1.var(dim=0, unbiased=False).mean().sqrt().item())
    assert len(activation_records(model, x)) == 2


def test_example_spread_ignores_what_every_example_shares():
    h = torch.randn(500, 8, generator=torch.Generator().manual_seed(0))
    shifted = h + torch.arange(8.0) * 10
    assert example_spread(shifted) == pytest.approx(example_spread(h), rel=1e-5)
    assert spread(shifted) > 10 * spread(h)


def test_relu_gain_per_scheme():
    assert relu_variance_gain("kaiming", 64, 64) == pytest.approx(1.0)
    assert relu_variance_gain("xavier", 64, 64) == pytest.approx(0.5)
    assert relu_variance_gain("lecun", 64, 64) == pytest.approx(0.5)
    assert relu_variance_gain("default", 64, 64) == pytest.approx(1 / 6)


@pytest.mark.parametrize("scheme", ["kaiming", "xavier"])
def test_predicted_relu_variances_match_the_measured_mean_over_seeds(scheme):
    widths = [256] * 9 + [10]
    x = _x(400, 256)
    measured = torch.tensor(
        [preactivation_spread(make_mlp(widths, "relu", init=scheme, bias=False, seed=s), x) for s in range(6)]
    )
    mean_variance = (measured**2).mean(dim=0)
    predicted = torch.tensor(predicted_relu_preactivation_variances(scheme, widths, float((x**2).mean())))
    assert torch.allclose(mean_variance, predicted.float(), rtol=0.15)


def test_default_init_settles_at_the_bias_floor():
    width = 256
    model = make_mlp([width] * 31 + [10], "relu", init="default", seed=0)
    x = _x(500, width)
    variances = torch.tensor(preactivation_spread(model, x)[-10:]) ** 2
    floor = relu_fixed_point_variance("default", width, width, weight_variance("default", width, width))
    assert variances.mean().item() == pytest.approx(floor, rel=0.15)
    # what remains does not depend on the input
    assert input_dependence(model, x)[-1] < 1e-3 * input_dependence(model, x)[0]
    with pytest.raises(ValueError):
        relu_fixed_point_variance("kaiming", width, width, 0.1)


def test_nn_linear_default_is_uniform_with_variance_one_third_over_fan_in():
    fan_in, fan_out = 500, 400
    stats = linear_default_statistics(fan_in, fan_out, seed=0)
    assert stats["weight_variance"] == pytest.approx(weight_variance("default", fan_in, fan_out), rel=0.02)
    assert stats["weight_max"] <= default_weight_bound(fan_in)
    assert stats["weight_max"] > 0.99 * default_weight_bound(fan_in)
    assert stats["bias_max"] <= default_weight_bound(fan_in)
    assert default_weight_bound(fan_in) == pytest.approx(1 / math.sqrt(fan_in), rel=1e-12)
    gain = nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    assert default_weight_bound(fan_in) == pytest.approx(math.sqrt(3) * gain / math.sqrt(fan_in), rel=1e-12)
    torch.manual_seed(1)
    before = torch.rand(1)
    torch.manual_seed(1)
    linear_default_statistics(10, 10, seed=5)
    assert torch.equal(torch.rand(1), before)  # the global generator is left alone


def test_torch_xavier_is_glorot_not_lecun():
    layer = nn.Linear(600, 200)
    nn.init.xavier_normal_(layer.weight, generator=torch.Generator().manual_seed(0))
    measured = layer.weight.var().item()
    assert measured == pytest.approx(weight_variance("xavier", 600, 200), rel=0.03)
    assert abs(measured - weight_variance("lecun", 600, 200)) > 0.2 * measured


def test_saturated_fraction_counts_outputs_near_the_bounds():
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.Tanh())
    with torch.no_grad():
        model[0].weight.fill_(1.0)
    x = torch.tensor([[0.0], [1.0], [3.0], [-4.0]])
    assert saturated_fraction(model, x) == [0.5]
