"""Plausible wrong answers to `dead_fraction` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch

from .helpers import assert_fails_with, grade_locally


def _hidden_outputs(x, weights, biases):
    h, outs = x, []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        h = torch.relu(h @ w.T + b)
        outs.append(h)
    return outs


def right(x, weights, biases):
    return [(h == 0).all(dim=0).float().mean().item() for h in _hidden_outputs(x, weights, biases)]


def zero_on_some_example(x, weights, biases):
    return [(h == 0).any(dim=0).float().mean().item() for h in _hidden_outputs(x, weights, biases)]


def share_of_zero_entries(x, weights, biases):
    return [(h == 0).float().mean().item() for h in _hidden_outputs(x, weights, biases)]


def alive_fraction(x, weights, biases):
    return [1 - f for f in right(x, weights, biases)]


def wrong_axis(x, weights, biases):
    return [(h == 0).all(dim=1).float().mean().item() for h in _hidden_outputs(x, weights, biases)]


def output_layer_too(x, weights, biases):
    out = x
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        out = torch.relu(out @ w.T + b)
    last = torch.relu(out @ weights[-1].T + biases[-1])
    return [*right(x, weights, biases), (last == 0).all(dim=0).float().mean().item()]


def test_the_definition_earns_full_marks():
    result = grade_locally("dead_fraction", right)
    assert result.earned == result.max_points


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (zero_on_some_example, "zero on at least one example"),
        (share_of_zero_entries, "share of zero outputs (entries)"),
        (alive_fraction, "fraction of units still alive"),
        (wrong_axis, "The axes are swapped"),
        (output_layer_too, "the linear output layer has no ReLU"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("dead_fraction", answer, fragment)
