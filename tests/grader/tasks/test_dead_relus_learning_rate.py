"""Plausible wrong answers to `count_dead_after_training` fail with the message that names their mistake."""

from __future__ import annotations

import statistics

import pytest
import torch
from torch.nn import functional as F

from actgrader.reference import dead_relu as ref
from actgrader.tasks import _gradient_flow as common
from actgrader.tasks import dead_relus_learning_rate as task

from .helpers import assert_fails_with, assert_named, grade_locally


def _dead(x, weights, biases, *, strict=False):
    h, out = x, []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = h @ w.T + b
        out.append(((z < 0) if strict else (torch.relu(z) == 0)).all(dim=0).float().mean().item())
        h = torch.relu(z)
    return out


def _train(
    x, y, weights, biases, lr, epochs, seed, *, step=True, order="seeded", reduction="mean", batch=32, biases_move=True
):
    params = [t.clone().requires_grad_(True) for pair in zip(weights, biases, strict=True) for t in pair]
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        if order == "reseeded":
            gen = torch.Generator().manual_seed(seed)
        perm = torch.randperm(len(x), generator=gen) if order != "fixed" else torch.arange(len(x))
        for start in range(0, len(x), batch):
            rows = perm[start : start + batch]
            h = x[rows]
            for k in range(0, len(params), 2):
                h = h @ params[k].T + params[k + 1]
                if k < len(params) - 2:
                    h = torch.relu(h)
            grads = torch.autograd.grad(F.cross_entropy(h, y[rows], reduction=reduction), params)
            if step:
                with torch.no_grad():
                    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                        if biases_move or i % 2 == 0:
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


def strict_dead_fraction(x, y, weights, biases, lr, epochs, seed):
    """A faithful loop that reuses a dead_fraction counting z < 0: the false 5/5 of issue 15."""
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed), strict=True)


def summed_loss(x, y, weights, biases, lr, epochs, seed):
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed, reduction="sum"))


def full_batch(x, y, weights, biases, lr, epochs, seed):
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed, batch=len(x)))


def reseeded_every_epoch(x, y, weights, biases, lr, epochs, seed):
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed, order="reseeded"))


def biases_frozen(x, y, weights, biases, lr, epochs, seed):
    return _dead(x, *_train(x, y, weights, biases, lr, epochs, seed, biases_move=False))


def measured_on_last_batch(x, y, weights, biases, lr, epochs, seed):
    trained = _train(x, y, weights, biases, lr, epochs, seed)
    return _dead(x[common.last_batch(len(x), epochs, seed)] if epochs else x, *trained)


@pytest.mark.parametrize("answer", [right])
def test_a_faithful_training_loop_earns_full_marks(answer):
    result = grade_locally("dead_relus_learning_rate", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (rates_swapped, "the training the task describes leaves"),
        (unshuffled, "torch.randperm(len(x), generator=gen) at the start of every epoch"),
        (made_up, "the training the task describes leaves"),
    ],
)
def test_a_loop_gone_wrong_is_pointed_at_the_loop(answer, fragment):
    assert_fails_with("dead_relus_learning_rate", answer, fragment)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (never_steps, task.TRAINING_CHANGED_NOTHING),
        (summed_loss, common.LOOP_SUM),
        (full_batch, common.LOOP_FULL_BATCH),
        (reseeded_every_epoch, common.LOOP_RESEEDED),
        (biases_frozen, common.LOOP_BIASES_FROZEN),
        (measured_on_last_batch, common.LOOP_LAST_BATCH),
    ],
)
def test_a_departure_from_the_loop_is_named(answer, message):
    result = grade_locally("dead_relus_learning_rate", answer)
    failed = {o.name: o for o in result.outcomes if not o.passed}
    assert failed["large_rate_kills_more"].message == message
    assert failed["large_rate_kills_more"].section == task.TASK.section


@pytest.mark.parametrize(
    ("answer", "message"),
    [(counts_alive, common.DEAD_ALIVE), (strict_dead_fraction, common.DEAD_STRICT)],
)
def test_a_wrong_dead_fraction_is_named_untrained_and_blamed_on_the_counting_after_training(answer, message):
    result = assert_named("dead_relus_learning_rate", answer, message)
    for outcome in result.outcomes:
        if outcome.name != "no_training":
            assert not outcome.passed
            assert outcome.message == task.COUNTED_WRONGLY + message  # not "check your training loop"
    assert result.earned == 0


@pytest.mark.parametrize("answer", [made_up, rates_swapped])
def test_numbers_that_only_have_the_property_earn_only_the_untrained_case(answer):
    result = grade_locally("dead_relus_learning_rate", answer)
    assert [o.name for o in result.outcomes if o.passed] == ["no_training"]


def test_pruned_units_stay_dead_through_training_and_the_property_keeps_its_margin():
    x, y = common.spirals(common.SCENARIO_POINTS, 0)
    gaps = []
    for seed in range(12):
        weights, biases = common.scenario_network(seed)
        pruned = [(w == 0).all(dim=1) & (b == 0) for w, b in zip(weights[:-1], biases[:-1], strict=True)]
        assert all(int(mask.sum()) == common.PRUNED for mask in pruned)
        model = common.trained(x, y, weights, biases, "relu", common.LARGE_LR, common.SCENARIO_EPOCHS, seed)
        for mask, dead in zip(pruned, ref.dead_units(model, x), strict=True):
            assert bool(dead[mask].all())
        small = ref.dead_after_training(x, y, weights, biases, common.SMALL_LR, common.SCENARIO_EPOCHS, seed)
        large = ref.dead_after_training(x, y, weights, biases, common.LARGE_LR, common.SCENARIO_EPOCHS, seed)
        gaps.append(statistics.fmean(large) - statistics.fmean(small))
    means = [statistics.fmean(gaps[i : i + task.SEEDS_PER_CASE]) for i in range(0, len(gaps), task.SEEDS_PER_CASE)]
    assert min(means) > 2 * task.MIN_GAP
