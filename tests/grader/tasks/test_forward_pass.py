"""Plausible wrong answers to `forward_pass` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch

from actgrader.tasks import forward_pass as task

from .helpers import assert_named, first_public_failure, grade_locally, hidden_passes_over_secrets


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


def no_transpose(x, weights, activation):
    h = x
    for k, w in enumerate(weights):
        h = h @ w
        if k < len(weights) - 1:
            h = activation(h)
    return h


def weights_on_the_left(x, weights, activation):
    h = x
    for k, w in enumerate(weights):
        h = w @ h
        if k < len(weights) - 1:
            h = activation(h)
    return h


def stops_before_the_output_layer(x, weights, activation):
    h = x
    for w in weights[:-1]:
        h = activation(h @ w.T)
    return h


def first_activation_only(x, weights, activation):
    h = x
    for k, w in enumerate(weights):
        h = h @ w.T
        if k == 0 and len(weights) > 1:
            h = activation(h)
    return h


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (activation_on_output_too, task.OUTPUT_ACTIVATION),
        (no_activation, task.NO_ACTIVATION),
        (activation_on_input, task.INPUT_ACTIVATION),
        (stops_before_the_output_layer, task.OUTPUT_LAYER_MISSING),
        (
            column_vectors,
            (
                "the output has shape (2, 7), but it should have shape (7, 2). "
                "It looks transposed: rows are examples, columns are features."
            ),
        ),
        (casts_to_float32, "the output has dtype torch.float32; keep the dtype of the input (torch.float64)."),
        (casts_to_float64, "the output has dtype torch.float64; keep the dtype of the input (torch.float32)."),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("forward_pass", answer, message)


def test_relu_everywhere_is_named_where_another_activation_is_asked_for():
    result = grade_locally("forward_pass", always_relu)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["uses_the_given_activation"] == task.ALWAYS_RELU


def test_an_activation_after_the_first_layer_only_is_named_in_deeper_networks():
    result = grade_locally("forward_pass", first_activation_only)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["relu_network"] == task.FIRST_ACTIVATION_ONLY


@pytest.mark.parametrize(
    ("answer", "message", "error"),
    [
        (no_transpose, task.NOT_TRANSPOSED, "mat1 and mat2 shapes cannot be multiplied (7x3 and 5x3)"),
        (weights_on_the_left, task.WEIGHTS_ON_THE_LEFT, "mat1 and mat2 shapes cannot be multiplied (5x3 and 7x3)"),
    ],
)
def test_a_product_that_cannot_be_taken_is_named_before_pytorchs_words(answer, message, error):
    _, outcome = first_public_failure("forward_pass", answer)
    assert outcome.message == f"{message} (Your code raised RuntimeError: {error}.)"


#: Right on a single layer by definition (it has no activation to apply, or get wrong).
RIGHT_ON_ONE_LAYER = (no_activation, always_relu, first_activation_only)


@pytest.mark.parametrize(
    "answer",
    [
        activation_on_output_too,
        no_activation,
        activation_on_input,
        always_relu,
        column_vectors,
        casts_to_float64,
        no_transpose,
        weights_on_the_left,
        stops_before_the_output_layer,
        first_activation_only,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_hidden_points(answer):
    """Before the draws excluded them, three ReLU networks let `always_relu` pass `random_networks` (6 of 300
    secrets), three two-layer networks `first_activation_only` (5 of 300), and a 1x1 layer (or one example
    of one output) `no_transpose` and `column_vectors` pass `single_layer` (1 of 100). 50 secrets here (a
    tenth of a second each). Casting to float32 is left out: the hidden cases are float32 by design, and
    only the public float64 case tells it."""
    passes = hidden_passes_over_secrets("forward_pass", answer, 50)
    assert passes["random_networks"] == []
    if answer not in RIGHT_ON_ONE_LAYER:
        assert passes["single_layer"] == []
