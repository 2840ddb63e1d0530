"""The reference functions in the form the gradient-flow exercises call them (networks as tensors).

Each adapter must agree with the chapter's own function applied to the same network built
the chapter's way; these tests build it both ways and compare.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actgrader import datasets
from actgrader.reference.dead_relu import (
    dead_after_training,
    dead_fraction,
    dead_fraction_from_weights,
    leaky_relu_run,
    passing_fraction,
)
from actgrader.reference.gradient_flow import layer_gradient_norms, weight_gradient_norms
from actgrader.reference.initialization import matched_std, weight_variance
from actgrader.reference.models import linear_layers, make_mlp, mlp_from_weights
from actgrader.reference.tanh_scaling import depth_bound, explode_bound, t1, thresholds
from actgrader.reference.training import train


def _tensors(model: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    layers = linear_layers(model)
    return [m.weight.detach().clone() for m in layers], [m.bias.detach().clone() for m in layers]


def test_mlp_from_weights_is_the_same_network_and_touches_nothing():
    model = make_mlp([3, 8, 8, 2], "tanh", init="xavier", seed=1)
    weights, biases = _tensors(model)
    before = [w.clone() for w in weights]
    torch.manual_seed(5)
    expected_draw = torch.rand(3)
    torch.manual_seed(5)
    rebuilt = mlp_from_weights(weights, biases, "tanh")
    assert torch.equal(torch.rand(3), expected_draw), "the global random state moved"
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model(x))
        rebuilt[0].weight.add_(1.0)
    assert all(torch.equal(w, b) for w, b in zip(weights, before, strict=True)), "the caller's tensors changed"


def test_mlp_from_weights_wants_one_bias_per_layer():
    with pytest.raises(ValueError):
        mlp_from_weights([torch.zeros(2, 2)], [], "relu")


@pytest.mark.parametrize(("function", "name"), [(torch.sigmoid, "sigmoid"), (torch.relu, "relu")])
def test_weight_gradient_norms_is_layer_gradient_norms(function, name):
    model = make_mlp([2, 16, 16, 16, 2], name, init="kaiming", seed=3)
    x, y = datasets.two_spirals(40, seed=1)
    weights, biases = _tensors(model)
    got = weight_gradient_norms(x, y, weights, biases, function)
    assert got == pytest.approx(layer_gradient_norms(model, x, y, nn.functional.cross_entropy), rel=1e-6)
    assert len(got) == 4


def _half_dead() -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """One hidden layer of four units on inputs in [0, 1]^2; units 0 and 2 are negative on all of them."""
    first = torch.tensor([[-1.0, -1.0], [1.0, 0.0], [0.0, -2.0], [1.0, -1.0]])
    second = torch.randn(2, 4, generator=torch.Generator().manual_seed(0))
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(0))
    return [first, second], [torch.tensor([-0.1, 0.0, -0.5, 0.0]), torch.zeros(2)], x


def test_passing_fraction_relu_versus_leaky_relu():
    weights, biases, x = _half_dead()
    assert dead_fraction_from_weights(x, weights, biases) == [0.5]
    relu = mlp_from_weights(weights, biases, "relu")
    assert passing_fraction(relu, x) == [1 - f for f in dead_fraction(relu, x)] == [0.5]
    leaky = mlp_from_weights(weights, biases, lambda: nn.LeakyReLU(0.01))
    assert passing_fraction(leaky, x) == [1.0]


def test_training_adapters_follow_the_shared_loop():
    x, y = datasets.two_spirals(64, seed=2)
    model = make_mlp([2, 16, 16, 2], "relu", init="kaiming", seed=4)
    weights, biases = _tensors(model)
    got = dead_after_training(x, y, weights, biases, 1.0, 3, 7)
    train(model, (x, y), 1.0, 3, 7)
    assert got == dead_fraction(model, x)
    as_leaky = leaky_relu_run(x, y, weights, biases, 0.0, 1.0, 3, 7)
    assert as_leaky["passing"] == [1 - f for f in got]
    with torch.no_grad():
        assert as_leaky["loss"] == pytest.approx(float(nn.functional.cross_entropy(model(x), y)), rel=1e-6)


def test_no_training_measures_the_given_network():
    weights, biases, x = _half_dead()
    y = torch.zeros(len(x), dtype=torch.long)
    assert dead_after_training(x, y, weights, biases, 10.0, 0, 0) == [0.5]
    result = leaky_relu_run(x, y, weights, biases, 0.1, 10.0, 0, 0)
    assert result["passing"] == [1.0]
    with torch.no_grad():
        logits = mlp_from_weights(weights, biases, lambda: nn.LeakyReLU(0.1))(x)
    assert result["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, y)))


@pytest.mark.parametrize(("activation", "scheme"), [("relu", "kaiming"), ("leaky_relu", "kaiming"), ("tanh", "xavier")])
def test_matched_std_follows_the_table(activation, scheme):
    assert matched_std(activation, 30, 50) == pytest.approx(math.sqrt(weight_variance(scheme, 30, 50)))
    with pytest.raises(ValueError):
        matched_std("swish", 30, 50)


def test_thresholds_are_the_three_functions():
    assert thresholds(2, 50) == (t1(2.0), depth_bound(2.0, 50.0), explode_bound(2.0))
    assert all(isinstance(v, float) for v in thresholds(2.5, 7))
