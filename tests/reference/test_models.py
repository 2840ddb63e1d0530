"""The shared MLP builder, initialization schemes and datasets."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actgrader import datasets
from actgrader.reference.initialization import SCHEMES, initialize_, weight_variance
from actgrader.reference.models import ScaledTanh, linear_layers, make_mlp


def _same_parameters(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("init", SCHEMES)
def test_a_seed_gives_the_same_network_and_leaves_the_global_rng_alone(init):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = make_mlp([3, 16, 16, 2], "tanh", init=init, seed=7)
    after = torch.rand(1)
    assert torch.equal(before, after)
    assert _same_parameters(a, make_mlp([3, 16, 16, 2], "tanh", init=init, seed=7))
    assert not _same_parameters(a, make_mlp([3, 16, 16, 2], "tanh", init=init, seed=8))


def test_activation_after_every_layer_but_the_last_each_its_own_module():
    model = make_mlp([2, 4, 4, 4, 1], lambda: nn.LeakyReLU(0.1), seed=0)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "LeakyReLU"] * 3 + ["Linear"]
    activations = [m for m in model if isinstance(m, nn.LeakyReLU)]
    assert len({id(m) for m in activations}) == 3


@pytest.mark.parametrize("init", ["kaiming", "xavier", "lecun"])
def test_drawn_weights_have_the_scheme_variance(init):
    layer = initialize_(nn.Linear(400, 300), init, torch.Generator().manual_seed(0))
    want = weight_variance(init, 400, 300)
    assert layer.weight.var().item() == pytest.approx(want, rel=0.02)
    assert layer.weight.mean().item() == pytest.approx(0.0, abs=4 * math.sqrt(want / layer.weight.numel()))
    assert torch.count_nonzero(layer.bias) == 0


def test_default_scheme_variance_is_what_nn_linear_draws():
    torch.manual_seed(0)
    layer = nn.Linear(500, 400)
    assert layer.weight.var().item() == pytest.approx(weight_variance("default", 500, 400), rel=0.02)
    bound = 1 / math.sqrt(500)
    assert layer.weight.abs().max().item() <= bound


def test_scaled_tanh_is_lecuns_by_default():
    x = torch.linspace(-3, 3, 13)
    assert torch.allclose(ScaledTanh()(x), 1.7159 * torch.tanh(2 * x / 3))
    assert torch.allclose(ScaledTanh(1.0, 2.0)(x), torch.tanh(2 * x))


def test_linear_layers_in_order():
    model = make_mlp([5, 3, 2], seed=0)
    assert [m.in_features for m in linear_layers(model)] == [5, 3]


def test_datasets_are_reproducible_and_well_formed():
    for make in (datasets.two_spirals, datasets.gaussian_blobs, datasets.sine_regression, datasets.multilabel):
        x1, y1 = make(seed=3)
        x2, y2 = make(seed=3)
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
        assert x1.shape[0] == y1.shape[0] and torch.isfinite(x1).all()
    _, y = datasets.multilabel(seed=0)
    per_row = y.sum(dim=1)
    assert (per_row >= 2).any() and (per_row == 0).any()  # labels are not exclusive
