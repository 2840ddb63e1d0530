"""Plausible wrong answers to `weight_gradient_norms` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from actgrader.tasks import weight_gradient_norms as task

from .helpers import assert_named, first_public_failure, grade_locally, hidden_passes_over_secrets


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


def read_before_backward(x, y, weights, biases, activation):
    """Reads .grad before loss.backward() has run (it is None)."""
    out, ws, _ = _forward(x, weights, biases, activation)
    norms = [w.grad.norm().item() for w in ws]
    F.cross_entropy(out, y).backward()
    return norms


def read_before_backward_guarded(x, y, weights, biases, activation):
    """The same, with None replaced by 0: every norm is 0."""
    out, ws, _ = _forward(x, weights, biases, activation)
    norms = [0.0 if w.grad is None else w.grad.norm().item() for w in ws]
    F.cross_entropy(out, y).backward()
    return norms


def without_requires_grad(x, y, weights, biases, activation):
    h = x
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w.T + b
        if k < len(weights) - 1:
            h = activation(h)
    F.cross_entropy(h, y).backward()
    return [w.grad.norm().item() for w in weights]


def softmax_before_the_loss(x, y, weights, biases, activation):
    out, ws, _ = _forward(x, weights, biases, activation)
    return [g.norm().item() for g in torch.autograd.grad(F.cross_entropy(torch.softmax(out, dim=1), y), ws)]


def l1_norms(x, y, weights, biases, activation):
    out, ws, _ = _forward(x, weights, biases, activation)
    return [g.abs().sum().item() for g in torch.autograd.grad(F.cross_entropy(out, y), ws)]


def squared_norms(x, y, weights, biases, activation):
    return [n**2 for n in right(x, y, weights, biases, activation)]


def weight_norms(x, y, weights, biases, activation):
    return [w.norm().item() for w in weights]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (output_side_first, task.REVERSED),
        (bias_gradients, task.BIAS_GRADIENTS),
        (activation_norms, task.OUTPUT_NORMS),
        (weight_norms, task.WEIGHT_NORMS),
        (summed_loss, task.summed_loss(64)),
        (activation_on_output, task.OUTPUT_ACTIVATION),
        (no_biases, task.NO_BIASES),
        (squared_norms, task.SQUARED),
        (read_before_backward_guarded, task.READ_BEFORE_BACKWARD),
        (softmax_before_the_loss, task.DOUBLE_SOFTMAX),
        (l1_norms, task.L1_NORM),
        (never_zeroed, task.ACCUMULATED),
    ],
)
def test_wrong_answer_is_named(answer, message):
    _MODEL.clear()
    assert_named("weight_gradient_norms", answer, message)


@pytest.mark.parametrize(
    ("answer", "message", "error"),
    [
        (read_before_backward, task.READ_BEFORE_BACKWARD, "AttributeError: 'NoneType' object has no attribute 'norm'"),
        (without_requires_grad, task.NO_REQUIRES_GRAD, "RuntimeError: element 0 of tensors does not require grad"),
    ],
)
def test_exceptions_with_a_known_cause_are_named_before_pytorchs_words(answer, message, error):
    """Issue 15: gradient norms read before backward() got a generic message."""
    _, outcome = first_public_failure("weight_gradient_norms", answer)
    assert outcome.message.startswith(f"{message} (Your code raised {error}")


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


def test_gradients_never_zeroed_lose_the_other_networks_under_every_secret():
    """With a width drawn for each activation, the two networks differed in shape under 20 of these 20
    secrets (graded each as in a fresh process), so a model kept across calls never saw its gradients
    accumulate and passed."""
    passes = hidden_passes_over_secrets("weight_gradient_norms", never_zeroed, 20, fresh=_MODEL.clear)
    assert passes["other_networks"] == []
