"""The experiments behind the part's myth checks: exact sigmoid-to-tanh twins, same-sign gradients, the race."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actgrader.experiments import activation_choice as exp
from actgrader.reference.models import make_mlp


def test_a_sigmoid_network_has_an_exact_tanh_twin():
    model = make_mlp([3, 16, 8, 16, 2], "sigmoid", seed=3).double()
    before = [p.detach().clone() for p in model.parameters()]
    twin = exp.sigmoid_net_as_tanh(model)
    x = torch.randn(500, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 4
    with torch.no_grad():
        torch.testing.assert_close(twin(x), model(x), rtol=0, atol=1e-12)
    assert [type(m) for m in twin] == [nn.Linear, nn.Tanh] * 3 + [nn.Linear]
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # untouched


def test_the_twin_rejects_what_it_cannot_convert():
    with pytest.raises(TypeError, match="ReLU"):
        exp.sigmoid_net_as_tanh(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)))
    with pytest.raises(TypeError, match="between two Linear"):
        exp.sigmoid_net_as_tanh(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()))
    with pytest.raises(ValueError, match="bias"):
        exp.sigmoid_net_as_tanh(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1, bias=False)))


def test_same_sign_rows():
    grad = torch.tensor([[1.0, 2.0, 0.0], [-1.0, -3.0, -0.5], [1.0, -1.0, 2.0], [0.0, 0.0, 0.0]])
    assert exp.same_sign_rows(grad) == 0.75


def test_one_example_through_a_sigmoid_gives_single_signed_rows():
    assert exp.weight_gradient_same_sign(torch.sigmoid, batch=1, seed=5) == 1.0
    # with tanh inputs a row is single-signed only when every input has the same sign
    gen = torch.Generator().manual_seed(5)
    h = torch.tanh(torch.randn(1, 16, generator=gen, dtype=torch.float64))
    one_sign = bool((h > 0).all() or (h < 0).all())
    assert exp.weight_gradient_same_sign(torch.tanh, batch=1, seed=5) == float(one_sign)


def test_a_batch_mixes_signs_but_less_after_a_sigmoid():
    sigmoid_rows = exp.weight_gradient_same_sign(torch.sigmoid, batch=64, seed=0)
    tanh_rows = exp.weight_gradient_same_sign(torch.tanh, batch=64, seed=0)
    assert 0.0 < sigmoid_rows < 1.0
    assert tanh_rows < sigmoid_rows


def test_steps_to_accuracy_is_reproducible_and_respects_the_budget():
    first = exp.steps_to_accuracy("relu", seed=1, max_steps=400)
    assert first is not None and 1 <= first <= 400
    assert exp.steps_to_accuracy("relu", seed=1, max_steps=400) == first
    assert exp.steps_to_accuracy("relu", seed=1, max_steps=first - 1) is None
    assert exp.steps_to_accuracy("relu", seed=1, max_steps=first) == first
    threads = torch.get_num_threads()
    exp.steps_to_accuracy("tanh", seed=0, max_steps=5)
    assert torch.get_num_threads() == threads


def test_race_and_wins():
    race = exp.convergence_race(["relu", "linear"], [0, 1], max_steps=150)
    assert set(race) == {"relu", "linear"} and all(len(v) == 2 for v in race.values())
    assert race["linear"] == [None, None]  # a linear network cannot separate two spirals
    assert exp.wins(race, "relu", "linear") == sum(s is not None for s in race["relu"])
    assert exp.wins({"a": [3, None, 5], "b": [4, 2, None]}, "a", "b") == 2
    assert exp.wins({"a": [None], "b": [None]}, "a", "b") == 0
