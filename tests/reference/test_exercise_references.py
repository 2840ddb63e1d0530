"""The reference functions added for the exercise notebook `activations`, against independent computations.

``training.train_mlp`` against ``torch.optim.SGD`` on an ``nn.Sequential``; ``lstm.lstm_step``
against ``nn.LSTMCell``; ``dead_relu.zero_gradient_fraction`` against counts made by hand;
``registry.derivative`` against autograd of PyTorch's own functions.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from actgrader.reference import lstm, registry
from actgrader.reference.dead_relu import zero_gradient_fraction
from actgrader.reference.forward import as_sequential, random_weights
from actgrader.reference.training import train_mlp


def _slope(fn, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad


def _problem(seed: int, dtype: torch.dtype = torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(40, 3, generator=gen, dtype=dtype)
    y = torch.randn(40, 2, generator=gen, dtype=dtype)
    return x, y, random_weights((3, 7, 5, 2), gen, dtype)


@pytest.mark.parametrize(("activation", "module"), [(torch.tanh, nn.Tanh()), (F.gelu, nn.GELU())])
def test_train_mlp_is_full_batch_sgd_on_the_mean_squared_error(activation, module):
    x, y, weights = _problem(0, torch.float64)
    model = as_sequential(weights, module)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    expected = []
    for _ in range(12):
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        expected.append(loss.item())
        loss.backward()
        optimizer.step()
    assert train_mlp(x, y, weights, activation, 0.05, 12) == pytest.approx(expected, rel=1e-12)


def test_train_mlp_leaves_the_callers_weights_alone_and_starts_from_them():
    x, y, weights = _problem(1)
    before = [w.clone() for w in weights]
    losses = train_mlp(x, y, weights, torch.relu, 0.1, 5)
    assert all(torch.equal(a, b) for a, b in zip(before, weights, strict=True))
    assert len(losses) == 5 and all(isinstance(v, float) for v in losses)
    assert losses[0] == ((as_sequential(weights, nn.ReLU())(x) - y) ** 2).mean().item()
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("inputs", "hidden", "batch"), [(3, 4, 5), (1, 1, 1), (6, 2, 3)])
def test_lstm_step_is_nn_lstmcell(dtype, inputs, hidden, batch):
    torch.manual_seed(inputs * 10 + hidden)
    cell = nn.LSTMCell(inputs, hidden, dtype=dtype)
    weights = {name: p.detach() for name, p in cell.named_parameters()}
    assert tuple(weights) == lstm.WEIGHT_NAMES
    tol = 1e-6 if dtype == torch.float32 else 1e-14
    # a sequence of six steps from the same start: the state is carried from step to step
    h0, c0 = torch.randn(batch, hidden, dtype=dtype), torch.randn(batch, hidden, dtype=dtype)
    h, c, h_t, c_t = h0, c0, h0, c0
    for _ in range(6):
        x = 3 * torch.randn(batch, inputs, dtype=dtype)
        h, c = lstm.lstm_step(x, h, c, weights)
        with torch.no_grad():
            h_t, c_t = cell(x, (h_t, c_t))
        assert h.dtype == dtype and h.shape == (batch, hidden)
        torch.testing.assert_close(h, h_t, rtol=tol, atol=tol)
        torch.testing.assert_close(c, c_t, rtol=tol, atol=tol)


def test_gate_preactivations_follow_the_documented_block_order():
    torch.manual_seed(3)
    cell = nn.LSTMCell(2, 3)
    weights = {name: p.detach() for name, p in cell.named_parameters()}
    x, h = torch.randn(4, 2), torch.randn(4, 3)
    z = lstm.gate_preactivations(x, h, weights)
    for k, gate in enumerate(lstm.GATE_ORDER):
        rows = slice(3 * k, 3 * (k + 1))
        expected = (
            x @ weights["weight_ih"][rows].T
            + weights["bias_ih"][rows]
            + h @ weights["weight_hh"][rows].T
            + weights["bias_hh"][rows]
        )
        torch.testing.assert_close(z[gate], expected)


def test_zero_gradient_fraction_counts_relu_zeros_and_nothing_for_smooth_activations():
    negatives, zeros, positives = 7, 3, 11
    z = torch.cat([-torch.rand(negatives) - 0.1, torch.zeros(zeros), torch.rand(positives) + 0.1])
    assert zero_gradient_fraction(z, torch.relu) == (negatives + zeros) / z.numel()
    assert zero_gradient_fraction(z.reshape(3, 7), torch.relu) == (negatives + zeros) / z.numel()
    for smooth in (F.gelu, F.silu, F.leaky_relu, F.elu, torch.tanh):
        assert zero_gradient_fraction(z, smooth) == 0.0
    sample = torch.randn(10_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert zero_gradient_fraction(sample, torch.relu) == (sample <= 0).double().mean().item()
    assert zero_gradient_fraction(sample, F.gelu) == 0.0


def test_zero_gradient_fraction_leaves_its_input_alone():
    z = torch.randn(5)
    before = z.clone()
    zero_gradient_fraction(z, torch.relu)
    assert torch.equal(z, before) and not z.requires_grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "softsign"]
)
def test_derivative_is_the_slope_of_pytorchs_function(name, dtype):
    x = torch.linspace(-8, 8, 1601, dtype=dtype)
    x = x[x != 0]  # the kink: checked separately (PyTorch's convention there is the left slope)
    info = registry.ACTIVATIONS[name]
    got = registry.derivative(name, x)
    assert got.dtype == dtype and got.shape == x.shape
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(got, _slope(info.torch_reference, x), rtol=tol, atol=tol)


def test_derivative_at_the_kink_is_pytorchs_left_slope():
    zero = torch.zeros(1)
    for name in ("relu", "leaky_relu", "elu"):
        info = registry.ACTIVATIONS[name]
        torch.testing.assert_close(registry.derivative(name, zero), _slope(info.torch_reference, zero))
