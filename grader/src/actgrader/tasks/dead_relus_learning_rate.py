"""Task ``dead_relus_learning_rate``: train with a too-large and a sensible learning rate, count the dead units.

The learner writes ``count_dead_after_training(x, y, weights, biases, lr, epochs, seed)``:
minibatch SGD on the ReLU network given as tensors, then the dead fraction of each hidden
layer on the whole training set (their ``dead_fraction`` from the task before may be used).
With no training it must give exactly the reference's fractions
(:func:`actgrader.reference.dead_relu.dead_after_training`). After training, each run must
give the reference's fractions too (within one unit of a layer: the task spells out the loop,
so the same seed means the same run), and the chapter's finding is checked as a property over
seeds: the large rate leaves more dead units than the small one. The networks have pruned units
(pre-activation exactly 0), so that a ``dead_fraction`` counting ``z < 0`` cannot carry its
points here; when the training is right but the counting is not, the message says so, naming
the misreading of "dead" (not the training loop).
"""

from __future__ import annotations

import statistics

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import dead_relu as ref
from actgrader.tasks import _gradient_flow as common

TASK = Task(
    "dead_relus_learning_rate",
    "Dead ReLUs after training with a large and a small learning rate",
    answer="count_dead_after_training",
    reference=ref.dead_after_training,
    section="dead-relus#sec-dead-lr",
)

#: Averaged over the seeds of a case, the large rate must leave at least this much more of the
#: network dead than the small one. Measured on the reference with the scenario's pruned networks
#: (210 seeds, data seeds 0-6): the gap for one seed is at least 0.09 and its mean over 3 seeds at
#: least 0.19 (typically 0.40).
MIN_GAP = 0.05
SEEDS_PER_CASE = 3
TRAINING_CHANGED_NOTHING = (
    "Training changed nothing: after the epochs the dead fractions are those of the initial network. "
    "Check that each step updates the weights and biases (p -= lr * p.grad, or optimizer.step()) and "
    "that you measure the trained network."
)
#: Said before the misreading of "dead" when the training is right but the counting is not.
COUNTED_WRONGLY = (
    "Your training gives the task's network, but its dead units are counted wrongly (if you reused your "
    "dead_fraction, fix it in its own task first): "
)


def _read(value: object, hidden: int) -> Tensor:
    got = common.numbers(value, name="the result", length=hidden, what=f"one dead fraction per hidden layer ({hidden})")
    expect.finite(got, name="the result")
    expect.true(
        bool(((got >= 0) & (got <= 1)).all()), "The dead fractions should lie between 0 and 1 (they are fractions)."
    )
    return got


def _run(answer: Answer, seed: int, data_seed: int, lr: float) -> Tensor:
    """The learner's dead fractions after training, checked against the reference's.

    The training is fully specified (the task gives the loop), so the learner's fractions must be
    the reference's (within one unit of a layer): the property over seeds is then read from
    numbers that really come from training, not from numbers made up to have it.
    """
    x, y = common.spirals(common.SCENARIO_POINTS, data_seed)
    weights, biases = common.scenario_network(seed)
    hidden = len(weights) - 1
    epochs = common.SCENARIO_EPOCHS
    got = _read(answer(x, y, weights, biases, lr, epochs, seed), hidden)
    want = torch.tensor(ref.dead_after_training(x, y, weights, biases, lr, epochs, seed), dtype=torch.float64)
    if common.within_one_unit(got, want):
        return got
    raise Mistake(diagnose_training(answer, got, x, y, weights, biases, lr, seed))


def diagnose_training(
    answer: Answer, got: Tensor, x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], lr: float, seed: int
) -> str:
    """Why the learner's fractions after training are not the task's: the counting, or which part of the loop."""
    epochs = common.SCENARIO_EPOCHS

    def dead(model: torch.nn.Module, on: Tensor = x) -> Tensor:
        return torch.tensor(ref.dead_fraction(model, on), dtype=torch.float64)

    initial = torch.tensor(ref.dead_fraction_from_weights(x, weights, biases), dtype=torch.float64)
    if torch.allclose(got, initial, rtol=0.0, atol=1e-9):
        return TRAINING_CHANGED_NOTHING
    model = common.trained(x, y, weights, biases, "relu", lr, epochs, seed)
    want = dead(model)
    # The counting is blamed only if the same misreading also explains the learner's untrained numbers.
    got_untrained = _read(answer(x, y, weights, biases, lr, 0, seed), len(weights) - 1)
    misreadings = common.consistent_misreadings(
        common.dead_fraction_mistakes(want, x, *common.weights_of(model), got),
        got,
        common.dead_fraction_mistakes(initial, x, weights, biases, got_untrained),
        got_untrained,
    )
    if misreadings:
        return COUNTED_WRONGLY + misreadings[0]
    departures = [(common.LOOP_LAST_BATCH, dead(model, x[common.last_batch(len(x), epochs, seed)]))] + [
        (message, dead(common.trained(x, y, weights, biases, "relu", lr, epochs, seed, variant=variant)))
        for variant, message in common.LOOP_VARIANTS
    ]
    departure = common.closest_match(got, departures)
    if departure is not None:
        return departure
    shown = ", ".join(f"{v:.0%}" for v in got.tolist())
    expected = ", ".join(f"{v:.0%}" for v in want.tolist())
    return (
        f"After {epochs} epochs at lr {lr:g} (seed {seed}) your dead fractions are [{shown}]; "
        f"the training the task describes leaves [{expected}]. " + common.TRAINING_LOOP
    )


def check_learning_rates(answer: Answer, seeds: list[int], data_seed: int) -> None:
    """The property: averaged over ``seeds``, the large rate kills at least ``MIN_GAP`` more of the network."""
    small, large = [], []
    for seed in seeds:
        small.append(float(_run(answer, seed, data_seed, common.SMALL_LR).mean()))
        large.append(float(_run(answer, seed, data_seed, common.LARGE_LR).mean()))
    gap = statistics.fmean(large) - statistics.fmean(small)
    if gap >= MIN_GAP:
        return
    raise Mistake(
        f"Averaged over {len(seeds)} seeds, lr {common.LARGE_LR:g} left {statistics.fmean(large):.0%} of the units "
        f"dead and lr {common.SMALL_LR:g} {statistics.fmean(small):.0%}. The too-large steps should kill far more "
        "units than the small ones (in the chapter's experiment, tens of percentage points more). Check the training "
        "loop: minibatches of 32 in the order drawn from `seed`, mean cross-entropy, plain SGD steps with the given lr."
    )


UNTRAINED_OTHERWISE = (
    "With epochs = 0 nothing is trained, so the result is the dead fraction of the given network "
    "on all of x: for each hidden layer, the share of units whose ReLU output is 0 on every example."
)


@TASK.case(points=1)
def no_training(answer: Answer, ctx: CaseContext) -> None:
    """no epochs: the given network's dead fractions"""
    _judge_untrained(answer, *common.damaged_network(ctx.small_seed(), (2, 16, 16, 16, 2), batch=100, pruned=1))


def _judge_untrained(answer: Answer, x: Tensor, weights: list[Tensor], biases: list[Tensor]) -> None:
    y = (x[:, 0] > 0).long()
    got = _read(answer(x, y, weights, biases, common.LARGE_LR, 0, 0), len(weights) - 1)
    want = torch.tensor(ref.dead_after_training(x, y, weights, biases, common.LARGE_LR, 0, 0), dtype=torch.float64)
    common.close_dead_fractions(got, want, x, weights, biases, UNTRAINED_OTHERWISE)


@TASK.case(points=2)
def large_rate_kills_more(answer: Answer, ctx: CaseContext) -> None:
    """three seeds: lr 2 leaves more dead units than lr 0.1"""
    rng = ctx.rng()
    check_learning_rates(answer, [int(s) for s in rng.integers(2**31, size=SEEDS_PER_CASE)], data_seed=0)


@TASK.case(points=2, hidden=True)
def large_rate_kills_more_other_seeds(answer: Answer, ctx: CaseContext) -> None:
    """the same property on other seeds and data"""
    rng = ctx.rng()
    seeds = [int(s) for s in rng.integers(2**31, size=SEEDS_PER_CASE)]
    check_learning_rates(answer, seeds, data_seed=int(rng.integers(2**31)))
