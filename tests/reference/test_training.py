"""The shared SGD loop: reproducible, documented batch order, clipping and stopping."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from actgrader import datasets
from actgrader.reference.models import make_mlp
from actgrader.reference.training import accuracy, default_loss, single_thread, total_gradient_norm, train


def _same(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_train_is_the_documented_loop():
    x, y = datasets.two_spirals(70, seed=0)
    model = make_mlp([2, 8, 2], "relu", init="kaiming", seed=0)
    twin = copy.deepcopy(model)
    losses = train(model, (x, y), 0.1, 2, seed=5, batch_size=32)
    gen = torch.Generator().manual_seed(5)
    opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    expected = []
    for _ in range(2):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), 32):
            b = order[start : start + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(twin(x[b]), y[b]).backward()
            opt.step()
        expected.append(nn.functional.cross_entropy(twin(x), y).item())
    assert _same(model, twin)
    assert losses == pytest.approx(expected, rel=1e-6)


def test_train_is_deterministic_for_a_seed():
    data = datasets.sine_regression(64, seed=1)
    runs = []
    for seed in (3, 3, 4):
        model = make_mlp([1, 16, 1], "tanh", seed=0)
        runs.append(train(model, data, 0.05, 3, seed=seed))
    assert runs[0] == runs[1] != runs[2]


def test_nan_stops_training_and_clipping_caps_the_norm():
    x, y = datasets.sine_regression(64, seed=0)
    model = make_mlp([1, 16, 1], "relu", seed=0)
    losses = train(model, (x, 1e3 * y), 10.0, 4, seed=0)
    assert math.isnan(losses[-1])
    norms: list[float] = []
    clipped = make_mlp([1, 16, 1], "relu", seed=0)
    train(clipped, (x, 1e3 * y), 1e-3, 1, seed=0, max_grad_norm=1.0, on_step=lambda _l, n: norms.append(n))
    assert len(norms) == 2 and max(norms) > 1.0  # recorded before clipping


def test_total_gradient_norm_is_what_torch_clips():
    x, y = datasets.two_spirals(50, seed=0)
    model = make_mlp([2, 8, 8, 2], "tanh", seed=0)
    nn.functional.cross_entropy(model(x), y).backward()
    mine = total_gradient_norm(model)
    torch_norm = float(nn.utils.clip_grad_norm_(model.parameters(), math.inf))
    assert mine == pytest.approx(torch_norm, rel=1e-6)


def test_helpers():
    assert default_loss(torch.tensor([0, 1])) is nn.functional.cross_entropy
    assert default_loss(torch.tensor([0.5])) is nn.functional.mse_loss
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]])
    assert accuracy(model, x, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
