"""Task ``leaky_relu_recovery``: the dead-ReLU scenario with Leaky ReLU, measured by the units that still learn.

The learner writes ``leaky_relu_recovery(x, y, weights, biases, negative_slope, lr, epochs,
seed)``: the training of the task before with ``LeakyReLU(negative_slope)`` units, returning
``{"passing": [...], "loss": ...}``, the fraction of each hidden layer's units whose slope is
non-zero on at least one training example (so that gradient descent can still move them) and
the final training loss. Both are compared with
:func:`actgrader.reference.dead_relu.leaky_relu_run`, without training and after training
at the large learning rate (the task spells out the loop, so the same seed means the same
run); over those seeds the chapter's finding is checked as a property: with Leaky ReLU every
unit still passes gradient, with ReLU (``negative_slope = 0``) many do not. The networks have
pruned units (pre-activation exactly 0, where ReLU's slope is 0 and Leaky ReLU's is not), so that
counting ``z >= 0`` as passing cannot score by an accident of the data.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

import torch
from torch import Tensor, nn

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import dead_relu as ref
from actgrader.reference.initialization import activation_records
from actgrader.reference.models import mlp_from_weights
from actgrader.tasks import _gradient_flow as common

TASK = Task(
    "leaky_relu_recovery",
    "Leaky ReLU in the dead-ReLU scenario",
    answer="leaky_relu_recovery",
    reference=ref.leaky_relu_run,
    section="dead-relus#sec-dead-alternatives",
)

#: PyTorch's default slope, the one the chapter starts with.
SLOPE = 0.01
#: ReLU at the large rate: averaged over the seeds of a case, at most this share of the units may
#: still pass gradient. Measured on the reference with the scenario's pruned networks (200 seeds,
#: data seeds 0-3): at least 19% of the units are dead in every run, so the share passing is at
#: most 0.81; with Leaky ReLU every unit of every run passes.
RELU_MAX_PASSING = 0.95
SEEDS_PER_CASE = 3

AT_ZERO = (
    "You counted a ReLU unit whose pre-activation is exactly 0 as passing gradient. ReLU's slope at 0 is 0 "
    "(PyTorch takes the left slope there), so such a unit passes nothing: for ReLU count z > 0, not z >= 0, "
    "or take the slope with autograd."
)
EVERY_EXAMPLE = (
    "You counted the units whose slope is non-zero on every example. A unit can still learn when its slope "
    "is non-zero on at least one example: reduce with any over the batch, not all."
)
SUMMED_LOSS = 'result["loss"] is the summed cross-entropy; report the mean over all examples, as F.cross_entropy does.'
NEGATIVE_SIDE = (
    "A Leaky ReLU unit whose input is negative still passes gradient: its slope there is negative_slope, "
    "not 0. Count the units whose slope is non-zero on at least one example (for ReLU: output > 0 somewhere; "
    "for Leaky ReLU with a positive slope: every unit)."
)


def _read(value: object, hidden: int) -> tuple[Tensor, float]:
    if not isinstance(value, dict) or not {"passing", "loss"} <= set(value):
        raise Mistake('Return a dict with two entries: {"passing": [one fraction per hidden layer], "loss": number}.')
    passing = common.numbers(
        value["passing"], name='result["passing"]', length=hidden, what=f"one fraction per hidden layer ({hidden})"
    )
    expect.true(
        bool(((passing >= 0) & (passing <= 1)).all()),
        'The entries of result["passing"] are fractions of units: between 0 and 1.',
    )
    loss = value["loss"]
    if isinstance(loss, Tensor | float | int) and not isinstance(loss, bool):
        loss = float(loss)
    else:
        raise Mistake(f'result["loss"] should be a number, not a {type(loss).__name__}.')
    return passing, loss


def _fractions(
    x: Tensor, weights: list[Tensor], biases: list[Tensor], slope: float, count: Callable[[Tensor, Tensor], Tensor]
) -> Tensor:
    """Per hidden layer, the fraction of units where ``count(pre-activations, outputs)`` (a mask over units) holds."""
    model = mlp_from_weights(weights, biases, lambda: nn.LeakyReLU(slope))
    return torch.tensor(
        [float(count(pre, out).float().mean()) for pre, out in activation_records(model, x)], dtype=torch.float64
    )


def passing_mistakes(
    x: Tensor, weights: list[Tensor], biases: list[Tensor], slope: float, want: Tensor
) -> list[tuple[str, Tensor]]:
    """The passing fractions under the usual misreadings, each with its message."""
    passes = (lambda z: (z > 0) | (z < 0)) if slope else (lambda z: z > 0)
    return [
        (NEGATIVE_SIDE, _fractions(x, weights, biases, slope, lambda _z, out: (out > 0).any(dim=0))),
        ("That is the fraction of units that pass no gradient; the task asks for those that do.", 1 - want),
        (AT_ZERO, _fractions(x, weights, biases, slope, lambda z, _out: ((z >= 0) | (slope != 0)).any(dim=0))),
        (EVERY_EXAMPLE, _fractions(x, weights, biases, slope, lambda z, _out: (passes(z) | (slope != 0)).all(dim=0))),
    ]


def _judge_untrained(
    answer: Answer, x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], slope: float
) -> None:
    hidden = len(weights) - 1
    passing, loss = _read(answer(x, y, weights, biases, slope, common.LARGE_LR, 0, 0), hidden)
    want = ref.leaky_relu_run(x, y, weights, biases, slope, common.LARGE_LR, 0, 0)
    want_passing = torch.tensor(want["passing"], dtype=torch.float64)
    expect.close(
        passing,
        want_passing,
        name='result["passing"]',
        rtol=0.0,
        atol=1e-6,
        mistakes=passing_mistakes(x, weights, biases, slope, want_passing),
        otherwise='result["passing"] differs from the share of units whose slope is non-zero on at least one example '
        "of x. With epochs = 0 it describes the given network.",
    )
    want_loss = want["loss"]
    assert isinstance(want_loss, float)
    if math.isclose(loss, want_loss, rel_tol=1e-4):
        return
    if math.isclose(loss, want_loss * len(x), rel_tol=1e-4):
        raise Mistake(SUMMED_LOSS)
    raise Mistake(
        'result["loss"] should be the mean cross-entropy of the network\'s outputs (logits, no activation after '
        "the last layer) on all of (x, y); with epochs = 0, of the given network."
    )


def _untrained_problem(
    seed: int, widths: tuple[int, ...], batch: int
) -> tuple[Tensor, Tensor, list[Tensor], list[Tensor]]:
    x, weights, biases = common.damaged_network(seed, widths, batch, pruned=1)
    _, y = common.spirals(batch, seed)
    return x, y, weights, biases


def _leaky_blocks(slope: float, passing: Tensor) -> str:
    """The message for trained Leaky ReLU units said not to pass gradient."""
    return (
        f"After training with Leaky ReLU (slope {slope:g}) your result says only "
        f"{float(passing.min()):.0%} of a layer's units pass gradient. " + NEGATIVE_SIDE
    )


def _trained(
    answer: Answer, x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], slope: float, seed: int
) -> Tensor:
    """The learner's passing fractions after the scenario's training, checked against the reference's run.

    The task spells out the loop, so the same seed means the same run: the fractions must be the
    reference's (within one unit of a layer) and the loss too (relative tolerance ``LOSS_RTOL``).
    The property over seeds is then read from numbers that really come from training.
    """
    hidden = len(weights) - 1
    lr, epochs = common.LARGE_LR, common.SCENARIO_EPOCHS
    passing, loss = _read(answer(x, y, weights, biases, slope, lr, epochs, seed), hidden)
    want = ref.leaky_relu_run(x, y, weights, biases, slope, lr, epochs, seed)
    want_passing = torch.tensor(want["passing"], dtype=torch.float64)
    want_loss = want["loss"]
    assert isinstance(want_loss, float)
    same_passing = common.within_one_unit(passing, want_passing)
    same_loss = (not math.isfinite(want_loss) and not math.isfinite(loss)) or math.isclose(
        loss, want_loss, rel_tol=common.LOSS_RTOL
    )
    if same_passing and same_loss:
        return passing
    raise Mistake(_diagnose_training(answer, passing, loss, x, y, weights, biases, slope, seed, same_passing))


def _diagnose_training(
    answer: Answer,
    passing: Tensor,
    loss: float,
    x: Tensor,
    y: Tensor,
    weights: list[Tensor],
    biases: list[Tensor],
    slope: float,
    seed: int,
    same_passing: bool,
) -> str:
    """Why a trained run differs from the task's: what is counted, the loss reported, or which part of the loop."""
    lr, epochs = common.LARGE_LR, common.SCENARIO_EPOCHS
    if not same_passing and slope != 0 and not bool((passing == 1).all()):
        return _leaky_blocks(slope, passing)
    model = common.trained(x, y, weights, biases, lambda: nn.LeakyReLU(slope), lr, epochs, seed)
    want_passing = torch.tensor(ref.passing_fraction(model, x), dtype=torch.float64)
    want_loss = _loss(model, x, y)
    if same_passing and math.isclose(loss, want_loss * len(x), rel_tol=common.LOSS_RTOL):
        return SUMMED_LOSS
    if math.isclose(loss, want_loss, rel_tol=common.LOSS_RTOL):
        # What is counted is blamed only if the same misreading explains the untrained network's numbers too.
        untrained, _ = _read(answer(x, y, weights, biases, slope, lr, 0, seed), len(weights) - 1)
        initial = torch.tensor(ref.leaky_relu_run(x, y, weights, biases, slope, lr, 0, seed)["passing"])
        misreadings = common.consistent_misreadings(
            passing_mistakes(x, *common.weights_of(model), slope, want_passing),
            passing,
            passing_mistakes(x, weights, biases, slope, initial.double()),
            untrained,
        )
        if misreadings:
            return misreadings[0]
    rows = common.last_batch(len(x), epochs, seed)
    last_passing = torch.tensor(ref.passing_fraction(model, x[rows]), dtype=torch.float64)
    if common.within_one_unit(passing, last_passing) and _same_loss(loss, _loss(model, x[rows], y[rows])):
        return common.LOOP_LAST_BATCH
    for variant, message in common.LOOP_VARIANTS:
        other = common.trained(x, y, weights, biases, lambda: nn.LeakyReLU(slope), lr, epochs, seed, variant=variant)
        other_passing = torch.tensor(ref.passing_fraction(other, x), dtype=torch.float64)
        if common.within_one_unit(passing, other_passing) and _same_loss(loss, _loss(other, x, y)):
            return message
    what = 'result["passing"]' if not same_passing else 'result["loss"]'
    shown = passing.tolist() if not same_passing else loss
    expected = want_passing.tolist() if not same_passing else want_loss
    return (
        f"After {epochs} epochs at lr {lr:g} with negative_slope {slope:g} (seed {seed}) your {what} is {shown}; "
        f"the training the task describes gives {expected}. " + common.TRAINING_LOOP
    )


def _loss(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(x), y))


def _same_loss(got: float, want: float) -> bool:
    return (not math.isfinite(want) and not math.isfinite(got)) or math.isclose(got, want, rel_tol=common.LOSS_RTOL)


def check_scenario(answer: Answer, seeds: list[int], data_seed: int) -> None:
    """The property: after the large rate, Leaky ReLU keeps every unit passing gradient and ReLU does not."""
    x, y = common.spirals(common.SCENARIO_POINTS, data_seed)
    relu_passing = []
    for seed in seeds:
        weights, biases = common.scenario_network(seed)
        leaky = _trained(answer, x, y, weights, biases, SLOPE, seed)
        relu = _trained(answer, x, y, weights, biases, 0.0, seed)
        if not bool((leaky == 1).all()):
            raise Mistake(_leaky_blocks(SLOPE, leaky))
        relu_passing.append(float(relu.mean()))
    if statistics.fmean(relu_passing) > RELU_MAX_PASSING:
        raise Mistake(
            f"With negative_slope = 0 (plain ReLU) and lr {common.LARGE_LR:g}, {statistics.fmean(relu_passing):.0%} of "
            "the units still pass gradient in your runs; at this rate many ReLU units die, as in the task before. "
            "Check that negative_slope = 0 really gives ReLU and that you train before measuring."
        )


@TASK.case(points=1)
def untrained_relu(answer: Answer, ctx: CaseContext) -> None:
    """no epochs, slope 0 (ReLU): units passing gradient and loss"""
    _judge_untrained(answer, *_untrained_problem(ctx.small_seed(), (2, 16, 16, 16, 2), 100), 0.0)


@TASK.case(points=1)
def untrained_leaky(answer: Answer, ctx: CaseContext) -> None:
    """no epochs, slope 0.01: every unit passes gradient"""
    _judge_untrained(answer, *_untrained_problem(ctx.small_seed(), (2, 16, 16, 16, 2), 100), SLOPE)


@TASK.case(points=1)
def leaky_keeps_units_trainable(answer: Answer, ctx: CaseContext) -> None:
    """lr 2, three seeds: Leaky ReLU keeps every unit trainable, ReLU does not"""
    rng = ctx.rng()
    check_scenario(answer, [int(s) for s in rng.integers(2**31, size=SEEDS_PER_CASE)], data_seed=0)


@TASK.case(points=1, hidden=True)
def untrained_other_networks(answer: Answer, ctx: CaseContext) -> None:
    """other networks and slopes, no epochs"""
    rng = ctx.rng()
    for slope in (0.0, float(rng.uniform(0.005, 0.3))):
        depth = int(rng.integers(2, 5))
        widths = (2, *(int(w) for w in rng.integers(4, 33, size=depth - 1)), 2)
        _judge_untrained(
            answer, *_untrained_problem(int(rng.integers(2**31)), widths, int(rng.integers(2, 200))), slope
        )


@TASK.case(points=1, hidden=True)
def scenario_other_seeds(answer: Answer, ctx: CaseContext) -> None:
    """the scenario on other seeds and data"""
    rng = ctx.rng()
    check_scenario(
        answer, [int(s) for s in rng.integers(2**31, size=SEEDS_PER_CASE)], data_seed=int(rng.integers(2**31))
    )
