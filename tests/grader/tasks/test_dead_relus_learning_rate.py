"""Plausible wrong answers to `count_dead_after_training` fail with the message that names their mistake."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from .helpers import assert_fails_with, grade_locally


def _dead(x, weights, biases):
    h, out = x, []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        h = torch.relu(h @ w.T + b)
        out.append((h == 0).all(dim=0).float().mean().item())
    return out


def _train(x, y, weights, biases, lr, epochs, seed, *, step=True, order="seeded"):
    params = [t.clone().requires_grad_(True) for pair in zip(weights, biases, strict=True) for t in pair]
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen) if order == "seeded" else torch.arange(len(x))
        for start in range(0, len(x), 32):
            batch = perm[start : start + 32]
            h = x[batch]
            for k in range(0, len(params), 2):
                h = h @ params[k].T + params[k + 1]
                if k < len(params) - 2:
                    h = torch.relu(h)
            grads = torch.autograd.grad(F.cross_entropy(h, y[batch]), params)
            if step:
                with torch.no_grad():
                    for p, g in zip(params, grads, strict=True):
                        p -= lr * g
    return [p.detach() for p in params[0::2]], [p.detach() for p in params[1::2]]


def right(x, y, weights, biases, lr, epochs, seed):
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed))


def unshuffled(x, y, weights, biases, lr, epochs, seed):
    """Visits the examples in their given order: not the run the task specifies for this seed."""
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed, order="fixed"))


def never_steps(x, y, weights, biases, lr, epochs, seed):
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed, step=False))


def rates_swapped(x, y, weights, biases, lr, epochs, seed):
    """Uses lr as a divisor (a 'step size' of 0.2 / lr): large rates become small and the other way round."""
    return _dead(x, *_train(x, y, weights, biases, 0.2 / lr, epochs, seed))


def counts_alive(x, y, weights, biases, lr, epochs, seed):
    return [1 - f for f in right(x, y, weights, biases, lr, epochs, seed)]


def made_up(x, y, weights, biases, lr, epochs, seed):
    """Honest without training; afterwards, numbers invented to have the property (no training at all)."""
    if epochs == 0:
        return _dead(x, weights, biases)
    return [min(1.0, lr / 2)] * (len(weights) - 1)


@pytest.mark.parametrize("answer", [right])
def test_a_faithful_training_loop_earns_full_marks(answer):
    result = grade_locally("dead_relus_learning_rate", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (never_steps, "Training changed nothing"),
        (rates_swapped, "the training the task describes leaves"),
        (unshuffled, "torch.randperm(len(x), generator=gen) at the start of every epoch"),
        (made_up, "the training the task describes leaves"),
        (counts_alive, "That is the fraction of units still alive"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("dead_relus_learning_rate", answer, fragment)


@pytest.mark.parametrize("answer", [made_up, rates_swapped])
def test_numbers_that_only_have_the_property_earn_only_the_untrained_case(answer):
    result = grade_locally("dead_relus_learning_rate", answer)
    assert [o.name for o in result.outcomes if o.passed] == ["no_training"]
