"""The dead-unit diagnostic on networks built by hand, and the experiment's reproducibility."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from actgrader.reference.dead_relu import (
    dead_fraction,
    dead_units,
    experiment_data,
    first_layer_frozen,
    inactive_fraction,
    run,
)
from actgrader.reference.training import train


def _hand_built(activation: nn.Module) -> nn.Sequential:
    """Four hidden units on inputs in [0, 1]^2: units 0 and 2 are negative on every such input."""
    first = nn.Linear(2, 4)
    second = nn.Linear(4, 2)
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[-1.0, -1.0], [1.0, 0.0], [0.0, -2.0], [1.0, -1.0]]))
        first.bias.copy_(torch.tensor([-0.1, 0.0, -0.5, 0.0]))
        second.weight.normal_(generator=torch.Generator().manual_seed(0))
    return nn.Sequential(first, activation, second)


def _inputs() -> torch.Tensor:
    return torch.rand(100, 2, generator=torch.Generator().manual_seed(0))


def test_dead_fraction_counts_units_zero_on_the_whole_batch():
    model = _hand_built(nn.ReLU())
    x = _inputs()
    assert dead_fraction(model, x) == [0.5]
    assert dead_units(model, x)[0].tolist() == [True, False, True, False]
    # on a single example more units can be zero than on the batch
    one = torch.tensor([[0.2, 0.5]])
    assert dead_fraction(model, one) == [0.75]


@pytest.mark.parametrize("activation", [nn.LeakyReLU(0.01), nn.ELU(), nn.GELU()])
def test_other_activations_are_inactive_but_not_dead(activation):
    model = _hand_built(activation)
    x = _inputs()
    assert dead_fraction(model, x) == [0.0]
    assert inactive_fraction(model, x) == [0.5]


def test_relu_dead_and_inactive_agree():
    model = _hand_built(nn.ReLU())
    assert dead_fraction(model, _inputs()) == inactive_fraction(model, _inputs())


def test_a_dead_first_layer_unit_gets_no_gradient_and_never_moves():
    model = _hand_built(nn.ReLU())
    x = _inputs()
    y = (x[:, 0] > x[:, 1]).long()
    assert first_layer_frozen(model, x, y, nn.functional.cross_entropy) == 0.0
    before = copy.deepcopy(model[0])
    train(model, (x, y), 0.5, 5, seed=0, batch_size=10)
    mask = torch.tensor([True, False, True, False])
    assert torch.equal(model[0].weight[mask], before.weight[mask])
    assert torch.equal(model[0].bias[mask], before.bias[mask])
    assert not torch.equal(model[0].weight[~mask], before.weight[~mask])


def test_run_is_deterministic_and_records_every_epoch():
    data = experiment_data(120)
    a = run("relu", 0.3, seed=1, epochs=3, data=data)
    b = run("relu", 0.3, seed=1, epochs=3, data=data)
    c = run("relu", 0.3, seed=2, epochs=3, data=data)
    assert a.losses == b.losses and a.dead == b.dead
    assert a.losses != c.losses
    assert len(a.dead) == 4 and len(a.dead[0]) == 3  # before training + 3 epochs, 3 hidden layers
    assert a.final_dead == a.final_inactive
    assert not a.diverged
