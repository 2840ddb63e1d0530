"""Clipping against torch's, ReLU homogeneity, scaled initial weights and the training traces."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from actgrader.experiments.exploding import (
    clip_by_total_norm_,
    experiment_data,
    homogeneity_ratio,
    scaled_mlp,
    total_norm,
    training_trace,
)
from actgrader.reference.models import linear_layers, make_mlp


def _with_gradients(seed: int = 0) -> nn.Sequential:
    x, y = experiment_data(40)
    model = make_mlp([2, 16, 16, 2], "tanh", init="kaiming", seed=seed)
    with torch.no_grad():
        for layer in linear_layers(model):
            layer.weight.mul_(4.0)
    nn.functional.cross_entropy(model(x), y).backward()
    return model


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e6])
def test_clipping_matches_torch(max_norm):
    mine, theirs = _with_gradients(), _with_gradients()
    norm_mine = clip_by_total_norm_(mine.parameters(), max_norm)
    norm_theirs = float(nn.utils.clip_grad_norm_(theirs.parameters(), max_norm))
    assert norm_mine == pytest.approx(norm_theirs, rel=1e-6)
    for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, rtol=1e-5, atol=1e-9)


def test_clipping_keeps_the_direction_and_caps_the_length():
    model = _with_gradients()
    before = torch.cat([p.grad.flatten() for p in model.parameters()]).clone()
    norm = clip_by_total_norm_(model.parameters(), 0.5)
    after = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert norm > 0.5
    assert float(total_norm([after])) == pytest.approx(0.5, rel=1e-5)
    assert float(torch.nn.functional.cosine_similarity(before, after, dim=0)) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("factor", [0.5, 1.1, 2.0])
def test_bias_free_relu_networks_are_homogeneous_of_degree_depth(factor):
    depth = 6
    model = make_mlp([3, *[32] * (depth - 1), 2], "relu", init="kaiming", bias=False, seed=0)
    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    ratio = homogeneity_ratio(model, x, factor)
    assert torch.allclose(ratio, torch.full_like(ratio, factor**depth), rtol=1e-4)
    tanh_model = make_mlp([3, *[32] * (depth - 1), 2], "tanh", init="xavier", bias=False, seed=0)
    tanh_ratio = homogeneity_ratio(tanh_model, x, factor)
    assert not torch.allclose(tanh_ratio, torch.full_like(tanh_ratio, factor**depth), rtol=1e-2)


def test_scaled_mlp_draws_weights_at_the_chosen_multiple_of_lecun():
    model = scaled_mlp("relu", math.sqrt(2), depth=4, width=400, seed=0)
    hidden = linear_layers(model)[1:-1]
    for layer in hidden:
        assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    out = linear_layers(model)[-1]
    assert out.weight.std().item() == pytest.approx(math.sqrt(1 / 400), rel=0.05)


def test_training_trace_is_deterministic_and_records_norms_before_clipping():
    data = experiment_data(64)
    a = training_trace("relu", 2.5, 0.05, 0, epochs=2, depth=6, data=data)
    b = training_trace("relu", 2.5, 0.05, 0, epochs=2, depth=6, data=data)
    assert a.losses == b.losses and a.grad_norms == b.grad_norms
    assert len(a.losses) == 4  # 2 epochs of 2 batches
    clipped = training_trace("relu", 2.5, 0.05, 0, epochs=2, depth=6, data=data, max_norm=1.0)
    assert clipped.grad_norms[0] == pytest.approx(a.grad_norms[0])  # same start, norm before clipping
    assert clipped.losses[0] == pytest.approx(a.losses[0])
    assert clipped.losses != a.losses
