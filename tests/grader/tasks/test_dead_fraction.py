"""Plausible wrong answers to `dead_fraction` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch

from actgrader.tasks import _gradient_flow as common

from .helpers import assert_named, grade_locally, hidden_passes_over_secrets


def _layers(x, weights, biases, *, relu=True, use_biases=True):
    """(pre-activations, outputs) of each hidden layer."""
    h, out = x, []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = h @ w.T + (b if use_biases else 0)
        out.append((z, torch.relu(z)))
        h = torch.relu(z) if relu else z
    return out


def right(x, weights, biases):
    return [(h == 0).all(dim=0).float().mean().item() for _, h in _layers(x, weights, biases)]


def through_pre_activations(x, weights, biases):
    return [(z <= 0).all(dim=0).float().mean().item() for z, _ in _layers(x, weights, biases)]


def as_tensor(x, weights, biases):
    return torch.tensor(right(x, weights, biases))


@pytest.mark.parametrize("answer", [right, through_pre_activations, as_tensor])
def test_the_definition_earns_full_marks(answer):
    result = grade_locally("dead_fraction", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def zero_on_some_example(x, weights, biases):
    return [(h == 0).any(dim=0).float().mean().item() for _, h in _layers(x, weights, biases)]


def share_of_zero_entries(x, weights, biases):
    return [(h == 0).float().mean().item() for _, h in _layers(x, weights, biases)]


def alive_fraction(x, weights, biases):
    return [1 - f for f in right(x, weights, biases)]


def wrong_axis(x, weights, biases):
    return [(h == 0).all(dim=1).float().mean().item() for _, h in _layers(x, weights, biases)]


def counts(x, weights, biases):
    return [(h == 0).all(dim=0).float().sum().item() for _, h in _layers(x, weights, biases)]


def percentages(x, weights, biases):
    return [100 * f for f in right(x, weights, biases)]


def strictly_negative(x, weights, biases):
    """Counts z < 0: the false full score of issue 15 (no case had a pre-activation exactly 0)."""
    return [(z < 0).all(dim=0).float().mean().item() for z, _ in _layers(x, weights, biases)]


def with_a_tolerance(x, weights, biases):
    return [(h < 1e-6).all(dim=0).float().mean().item() for _, h in _layers(x, weights, biases)]


def isclose_to_zero(x, weights, biases):
    return [
        torch.isclose(h, torch.zeros_like(h)).all(dim=0).float().mean().item() for _, h in _layers(x, weights, biases)
    ]


def without_biases(x, weights, biases):
    return [(h == 0).all(dim=0).float().mean().item() for _, h in _layers(x, weights, biases, use_biases=False)]


def no_relu_between_layers(x, weights, biases):
    return [(z <= 0).all(dim=0).float().mean().item() for z, _ in _layers(x, weights, biases, relu=False)]


def negative_on_average(x, weights, biases):
    return [(z.mean(dim=0) <= 0).float().mean().item() for z, _ in _layers(x, weights, biases)]


def first_example_only(x, weights, biases):
    return [(h[0] == 0).float().mean().item() for _, h in _layers(x, weights, biases)]


def output_layer_too(x, weights, biases):
    out = x
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        out = torch.relu(out @ w.T + b)
    last = torch.relu(out @ weights[-1].T + biases[-1])
    return [*right(x, weights, biases), (last == 0).all(dim=0).float().mean().item()]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (zero_on_some_example, common.DEAD_SOME_EXAMPLE),
        (share_of_zero_entries, common.DEAD_ENTRIES),
        (alive_fraction, common.DEAD_ALIVE),
        (wrong_axis, common.DEAD_AXES),
        (counts, common.DEAD_COUNTS),
        (percentages, common.DEAD_PERCENT),
        (strictly_negative, common.DEAD_STRICT),
        (with_a_tolerance, common.DEAD_THRESHOLD),
        (isclose_to_zero, common.DEAD_THRESHOLD),
        (negative_on_average, common.DEAD_MEAN),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("dead_fraction", answer, message)


@pytest.mark.parametrize(
    ("answer", "message"),
    [(without_biases, common.DEAD_NO_BIASES), (no_relu_between_layers, common.DEAD_NO_RELU)],
)
def test_mistakes_that_show_in_deeper_networks_are_named(answer, message):
    """Both are right on the one-layer hand-built case; the three-layer case separates them."""
    result = grade_locally("dead_fraction", answer)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["three_damaged_layers"] == message


def test_the_first_example_only_is_named_on_the_damaged_network():
    result = grade_locally("dead_fraction", first_example_only)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["three_damaged_layers"] == common.DEAD_ONE_EXAMPLE


def test_the_output_layer_is_not_counted():
    result = grade_locally("dead_fraction", output_layer_too)
    message = next(o.message for o in result.outcomes if not o.passed)
    assert message == (
        "the result has 2 entries; it should have 1: one fraction per hidden layer (1 here; the linear output "
        "layer has no ReLU)."
    )


def test_strictly_negative_loses_every_case():
    """Every case holds pre-activations exactly 0: a pruned unit or an input at 0."""
    result = grade_locally("dead_fraction", strictly_negative)
    assert result.earned == 0


@pytest.mark.parametrize(
    "answer",
    [
        zero_on_some_example,
        share_of_zero_entries,
        alive_fraction,
        wrong_axis,
        counts,
        percentages,
        strictly_negative,
        negative_on_average,
        without_biases,
        no_relu_between_layers,
        first_example_only,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_hidden_points(answer):
    """Before the draw asked for two hidden layers, three one-hidden-layer networks let
    `no_relu_between_layers` pass (2 of 100 secrets). Each secret grades three networks: 30 secrets.
    A tolerance instead of exactly 0 is left out: only a unit with tiny positive outputs tells it, which
    the hand-built layer has and random networks almost never do."""
    assert hidden_passes_over_secrets("dead_fraction", answer, 30) == {"random_networks": []}
