"""Per-layer gradient norms, the chain-rule product and the vanishing profile."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actgrader.reference.formulas import d_sigmoid, d_tanh
from actgrader.reference.gradient_flow import (
    chain_rule_product,
    decay_per_layer,
    gradient_profile,
    gradient_profiles,
    layer_gradient_norms,
    probe_batch,
    scalar_chain,
)
from actgrader.reference.models import linear_layers, make_mlp


@pytest.mark.parametrize(
    ("activation", "derivative"), [(torch.sigmoid, d_sigmoid), (torch.tanh, d_tanh), (torch.relu, None)]
)
def test_chain_rule_product_is_the_autograd_derivative(activation, derivative):
    weights = [1.5, -2.0, 0.7, 3.0, -1.2, 0.9]
    if derivative is None:
        weights = [abs(w) for w in weights]  # keep every ReLU on its active side

        def derivative(z):
            return (z > 0).double()

    zs, grad = scalar_chain(0.8, weights, activation)
    assert len(zs) == len(weights)
    assert chain_rule_product(weights, zs, derivative) == pytest.approx(grad, rel=1e-12)


def test_sigmoid_chain_with_unit_weights_is_at_most_a_quarter_per_layer():
    depth = 20
    _, grad = scalar_chain(0.0, [1.0] * depth, torch.sigmoid)
    assert 0 < grad < 0.25**depth


def test_layer_gradient_norms_are_the_weight_gradients_input_side_first():
    x, y = probe_batch(64)
    model = make_mlp([2, 8, 6, 2], "tanh", init="xavier", seed=0)
    norms = layer_gradient_norms(model, x, y, nn.functional.cross_entropy)
    assert all(p.grad is None for p in model.parameters())  # untouched
    nn.functional.cross_entropy(model(x), y).backward()
    expected = [layer.weight.grad.norm().item() for layer in linear_layers(model)]
    assert norms == pytest.approx(expected, rel=1e-6)
    assert len(norms) == 3


def test_profiles_are_deterministic_and_share_weights_across_activations():
    a = gradient_profile("relu", depth=6, seed=3)
    assert a == gradient_profile("relu", depth=6, seed=3)
    assert a != gradient_profile("relu", depth=6, seed=4)
    stacked = gradient_profiles("tanh", [0, 1], depth=6)
    assert stacked.shape == (2, 6)
    assert stacked[1].tolist() == pytest.approx(gradient_profile("tanh", depth=6, seed=1), rel=1e-12)
    # same seed, same weights whatever the activation
    w_relu = [m.weight for m in linear_layers(make_mlp([2, *[64] * 5, 2], "relu", seed=3))]
    w_gelu = [m.weight for m in linear_layers(make_mlp([2, *[64] * 5, 2], "gelu", seed=3))]
    assert all(torch.equal(p, q) for p, q in zip(w_relu, w_gelu, strict=True))


def test_decay_per_layer_of_a_geometric_profile():
    profile = [10.0 ** (k - 10) for k in range(8)] + [123.0]
    assert decay_per_layer(profile) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        decay_per_layer([1.0, 2.0])


def test_sigmoid_gradients_vanish_where_tanh_and_relu_do_not():
    seeds = range(3)
    sigmoid = [decay_per_layer(p) for p in gradient_profiles("sigmoid", seeds, init="xavier").tolist()]
    tanh = [decay_per_layer(p) for p in gradient_profiles("tanh", seeds, init="xavier").tolist()]
    relu = [decay_per_layer(p) for p in gradient_profiles("relu", seeds, init="kaiming").tolist()]
    assert min(sigmoid) > 3
    assert max(tanh) < 1.5 and max(relu) < 1.5
    assert math.isfinite(sum(sigmoid))
