"""Plausible wrong answers to `forward_pass` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch

from .helpers import assert_fails_with


def activation_on_output_too(x, weights, activation):
    h = x
    for w in weights:
        h = activation(h @ w.T)
    return h


def no_activation(x, weights, activation):
    h = x
    for w in weights:
        h = h @ w.T
    return h


def activation_on_input(x, weights, activation):
    h = activation(x)
    for k, w in enumerate(weights):
        h = h @ w.T
        if k < len(weights) - 1:
            h = activation(h)
    return h


def always_relu(x, weights, activation):
    import torch

    h = x
    for k, w in enumerate(weights):
        h = h @ w.T
        if k < len(weights) - 1:
            h = torch.relu(h)
    return h


def column_vectors(x, weights, activation):
    h = x.T
    for k, w in enumerate(weights):
        h = w @ h
        if k < len(weights) - 1:
            h = activation(h)
    return h  # forgot to transpose back


def _casts_to(dtype):
    """A forward pass computed in ``dtype`` whatever the input's dtype."""

    def casts(x, weights, activation):
        h = x.to(dtype)
        for k, w in enumerate(weights):
            h = h @ w.to(dtype).T
            if k < len(weights) - 1:
                h = activation(h)
        return h

    return casts


casts_to_float32 = _casts_to(torch.float32)
casts_to_float64 = _casts_to(torch.float64)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (activation_on_output_too, "applied after the output layer too"),
        (no_activation, "No activation was applied between the layers"),
        (activation_on_input, "applied to the input x as well"),
        (always_relu, "used ReLU whatever `activation` it was given"),
        (column_vectors, "It looks transposed"),
        (casts_to_float32, "keep the dtype of the input"),
        (casts_to_float64, "keep the dtype of the input (torch.float32)"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("forward_pass", answer, fragment)
