"""Plausible wrong answers to `weight_gradient_norms` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from .helpers import assert_fails_with, grade_locally


def _forward(x, weights, biases, activation, *, last_activation=False, use_biases=True):
    ws = [w.clone().requires_grad_(True) for w in weights]
    bs = [b.clone().requires_grad_(True) for b in biases]
    h = x
    for k, (w, b) in enumerate(zip(ws, bs, strict=True)):
        h = h @ w.T + (b if use_biases else 0)
        if k < len(ws) - 1 or last_activation:
            h = activation(h)
    return h, ws, bs


def _norms(x, y, weights, biases, activation, **kwargs):
    out, ws, _bs = _forward(x, weights, biases, activation, **kwargs)
    grads = torch.autograd.grad(F.cross_entropy(out, y), ws)
    return [g.norm().item() for g in grads]


def right(x, y, weights, biases, activation):
    return _norms(x, y, weights, biases, activation)


def zero_dim_tensors(x, y, weights, biases, activation):
    out, ws, _ = _forward(x, weights, biases, activation)
    return [g.norm() for g in torch.autograd.grad(F.cross_entropy(out, y), ws)]


def one_tensor(x, y, weights, biases, activation):
    return torch.tensor(_norms(x, y, weights, biases, activation), dtype=torch.float64)


def output_side_first(x, y, weights, biases, activation):
    return _norms(x, y, weights, biases, activation)[::-1]


def bias_gradients(x, y, weights, biases, activation):
    out, _, bs = _forward(x, weights, biases, activation)
    return [g.norm().item() for g in torch.autograd.grad(F.cross_entropy(out, y), bs)]


def activation_norms(x, y, weights, biases, activation):
    h, norms = x, []
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w.T + b
        if k < len(weights) - 1:
            h = activation(h)
        norms.append(h.norm().item())
    return norms


def summed_loss(x, y, weights, biases, activation):
    out, ws, _ = _forward(x, weights, biases, activation)
    grads = torch.autograd.grad(F.cross_entropy(out, y, reduction="sum"), ws)
    return [g.norm().item() for g in grads]


def activation_on_output(x, y, weights, biases, activation):
    return _norms(x, y, weights, biases, activation, last_activation=True)


def no_biases(x, y, weights, biases, activation):
    return _norms(x, y, weights, biases, activation, use_biases=False)


_MODEL: dict[str, torch.nn.Sequential] = {}


def never_zeroed(x, y, weights, biases, activation):
    """Keeps one model across calls and copies the weights in, but never zeroes the gradients."""
    key = str([tuple(w.shape) for w in weights])
    if key not in _MODEL:
        layers = [torch.nn.Linear(w.shape[1], w.shape[0]) for w in weights]
        _MODEL[key] = torch.nn.Sequential(*layers)
    model = _MODEL[key]
    with torch.no_grad():
        for layer, w, b in zip(model, weights, biases, strict=True):
            layer.weight.copy_(w)
            layer.bias.copy_(b)
    h = x
    for k, layer in enumerate(model):
        h = layer(h)
        if k < len(model) - 1:
            h = activation(h)
    F.cross_entropy(h, y).backward()
    return [layer.weight.grad.norm().item() for layer in model]


@pytest.mark.parametrize("answer", [right, zero_dim_tensors, one_tensor])
def test_a_plain_autograd_answer_earns_full_marks_as_floats_or_tensors(answer):
    result = grade_locally("weight_gradient_norms", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (output_side_first, "grow toward the input: check the order of your layers"),
        (bias_gradients, "norms of the biases' gradients"),
        (activation_norms, "norms of the layers' outputs (the activations)"),
        (summed_loss, "the loss was summed over the batch"),
        (activation_on_output, "applied after the output layer too"),
        (no_biases, "biases were left out of the forward pass"),
        (never_zeroed, "gradients from an earlier call are being added"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    _MODEL.clear()
    assert_fails_with("weight_gradient_norms", answer, fragment)


def made_up_norms(x, y, weights, biases, activation):
    """No backpropagation: norms invented so that the sigmoid's vanish and ReLU's do not."""
    n = len(weights)
    return [1.0] * n if activation is torch.relu else [10.0 ** (k - n) for k in range(n)]


def summed_loss(x, y, weights, biases, activation):
    """A plausible slip: the summed cross-entropy (every norm len(x) times too large, the ratios unchanged)."""
    params = [w.clone().requires_grad_(True) for w in weights]
    h = x
    for k, (w, b) in enumerate(zip(params, biases, strict=True)):
        h = h @ w.T + b
        if k < len(params) - 1:
            h = activation(h)
    grads = torch.autograd.grad(F.cross_entropy(h, y, reduction="sum"), params)
    return [g.norm().item() for g in grads]


@pytest.mark.parametrize("answer", [made_up_norms, summed_loss])
def test_norms_that_only_have_the_property_earn_nothing(answer):
    result = grade_locally("weight_gradient_norms", answer)
    assert result.earned == 0, [(o.name, o.passed) for o in result.outcomes]
