"""Plausible wrong answers to `leaky_relu_recovery` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from actgrader.tasks import _gradient_flow as common
from actgrader.tasks import leaky_relu_recovery as task

from .helpers import assert_fails_with, assert_named, grade_locally


def _forward(params, h, slope, *, keep=None):
    for k in range(0, len(params), 2):
        z = h @ params[k].T + params[k + 1]
        if k < len(params) - 2:
            if keep is not None:
                keep.append(z)
            h = F.leaky_relu(z, slope)
        else:
            h = z
    return h


def _run(x, y, weights, biases, slope, lr, epochs, seed, *, passing="slope", reduction="mean", train_reduction="mean"):
    params = [t.clone().requires_grad_(True) for pair in zip(weights, biases, strict=True) for t in pair]
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), 32):
            batch = perm[start : start + 32]
            loss = F.cross_entropy(_forward(params, x[batch], slope), y[batch], reduction=train_reduction)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p -= lr * g
    with torch.no_grad():
        pre: list[torch.Tensor] = []
        loss = F.cross_entropy(_forward(params, x, slope, keep=pre), y, reduction=reduction).item()
    if passing == "slope":
        fractions = [((z > 0) | (slope != 0)).any(dim=0).float().mean().item() for z in pre]
    elif passing == "at_zero":  # z >= 0: ReLU's slope at 0 taken as 1
        fractions = [((z >= 0) | (slope != 0)).any(dim=0).float().mean().item() for z in pre]
    elif passing == "every_example":
        fractions = [((z > 0) | (slope != 0)).all(dim=0).float().mean().item() for z in pre]
    else:  # "output": a unit counts when its output is positive somewhere
        fractions = [(F.leaky_relu(z, slope) > 0).any(dim=0).float().mean().item() for z in pre]
    return {"passing": fractions, "loss": loss}


def right(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, negative_slope, lr, epochs, seed)


def positive_output_counts(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, negative_slope, lr, epochs, seed, passing="output")


def counts_zero_as_passing(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, negative_slope, lr, epochs, seed, passing="at_zero")


def on_every_example(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, negative_slope, lr, epochs, seed, passing="every_example")


def trains_on_summed_loss(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, negative_slope, lr, epochs, seed, train_reduction="sum")


def summed_loss(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, negative_slope, lr, epochs, seed, reduction="sum")


def always_relu(x, y, weights, biases, negative_slope, lr, epochs, seed):
    return _run(x, y, weights, biases, 0.0, lr, epochs, seed)


def as_tuple(x, y, weights, biases, negative_slope, lr, epochs, seed):
    result = _run(x, y, weights, biases, negative_slope, lr, epochs, seed)
    return result["passing"], result["loss"]


def made_up(x, y, weights, biases, negative_slope, lr, epochs, seed):
    """Honest without training; afterwards, numbers invented to have the property (no training at all)."""
    if epochs == 0:
        return right(x, y, weights, biases, negative_slope, lr, epochs, seed)
    return {"passing": [1.0 if negative_slope else 0.5] * (len(weights) - 1), "loss": 0.0}


def wrong_loss_after_training(x, y, weights, biases, negative_slope, lr, epochs, seed):
    """The right passing fractions, but the loss of the untrained network."""
    result = right(x, y, weights, biases, negative_slope, lr, epochs, seed)
    result["loss"] = right(x, y, weights, biases, negative_slope, lr, 0, seed)["loss"]
    return result


def test_numbers_that_only_have_the_property_earn_only_the_untrained_cases():
    result = grade_locally("leaky_relu_recovery", made_up)
    assert sorted(o.name for o in result.outcomes if o.passed) == [
        "untrained_leaky",
        "untrained_other_networks",
        "untrained_relu",
    ]


def test_the_slope_definition_earns_full_marks():
    result = grade_locally("leaky_relu_recovery", right)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (positive_output_counts, "still passes gradient: its slope there is negative_slope"),
        (always_relu, "still passes gradient: its slope there is negative_slope"),
        (summed_loss, "summed cross-entropy"),
        (made_up, "the training the task describes gives"),
        (wrong_loss_after_training, 'your result["loss"] is'),
        (as_tuple, 'Return a dict with two entries: {"passing"'),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("leaky_relu_recovery", answer, fragment)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (counts_zero_as_passing, task.AT_ZERO),
        (on_every_example, task.EVERY_EXAMPLE),
        (positive_output_counts, task.NEGATIVE_SIDE),
        (summed_loss, task.SUMMED_LOSS),
    ],
)
def test_wrong_answer_is_named_exactly(answer, message):
    assert_named("leaky_relu_recovery", answer, message)


def test_a_loop_on_the_summed_loss_is_named():
    result = grade_locally("leaky_relu_recovery", trains_on_summed_loss)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["leaky_keeps_units_trainable"] == common.LOOP_SUM


def test_counting_z_at_zero_as_passing_loses_every_relu_case():
    """The scenario's networks have pruned units (z exactly 0): ReLU's slope there is 0."""
    result = grade_locally("leaky_relu_recovery", counts_zero_as_passing)
    assert [o.name for o in result.outcomes if o.passed] == ["untrained_leaky"]
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["leaky_keeps_units_trainable"] == task.AT_ZERO
