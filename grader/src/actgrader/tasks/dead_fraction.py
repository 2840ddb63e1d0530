"""Task ``dead_fraction``: the fraction of dead ReLU units in each hidden layer, on a batch.

The learner writes ``dead_fraction(x, weights, biases)`` for the ReLU network given as
tensors: per hidden layer, the fraction of units whose output is zero for every example of
``x``. Compared exactly with
:func:`actgrader.reference.dead_relu.dead_fraction_from_weights`; the usual misreadings of
"dead" (zero on *some* example, the share of zero entries, the alive fraction, the wrong
axis, a negative pre-activation where ReLU's output is 0 at 0 too, a tolerance instead of
exactly 0, ...) are named (:func:`actgrader.tasks._gradient_flow.dead_fraction_mistakes`).
Every case has units whose pre-activation is exactly 0 (pruned units, inputs at 0), so that
counting ``z < 0`` cannot pass by an accident of the data.
"""

from __future__ import annotations

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task
from actgrader.grading.answer import Answer
from actgrader.reference import dead_relu as ref
from actgrader.tasks import _gradient_flow as common

TASK = Task(
    "dead_fraction",
    "Count the dead ReLU units of each layer",
    answer="dead_fraction",
    reference=ref.dead_fraction_from_weights,
    section="dead-relus#sec-dead-definition",
)

OTHERWISE = (
    "The fractions differ from the dead units' share. For each hidden layer compute "
    "h = relu(h_prev @ W.T + b) on the whole batch; a unit is dead when its column of h is 0 in every row."
)

#: The hand-built layer's units (incoming weights, bias), on inputs in [0, 1]^2 that include
#: points with a coordinate exactly 0. Dead: 0 and 2 (negative everywhere), 4 (exactly 0
#: everywhere), 5 and 9 (negative, and exactly 0 where the input is). Unit 6 is alive with tiny
#: outputs. Five dead out of twelve: neither a half nor one more than the alive ones, so that
#: the alive fraction and a tolerance cannot come out right either.
HAND_BUILT_UNITS: tuple[tuple[tuple[float, float], float], ...] = (
    ((-1.0, -1.0), -0.1),
    ((1.0, 0.0), 0.0),
    ((0.0, -2.0), -0.5),
    ((1.0, -1.0), 0.0),
    ((0.0, 0.0), 0.0),
    ((-1.0, 0.0), 0.0),
    ((1e-9, 1e-9), 0.0),
    ((-1.0, 1.0), 0.0),
    ((0.5, 0.5), -0.2),
    ((-2.0, -1.0), 0.0),
    ((0.0, 1.0), -0.5),
    ((2.0, 0.0), -1.0),
)


def hand_built_network() -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """One hidden layer of twelve ReLU units on inputs in [0, 1]^2 (see :data:`HAND_BUILT_UNITS`)."""
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(0))
    x = torch.cat([x, torch.tensor([[0.0, 0.0], [0.0, 0.5], [0.5, 0.0]])])
    weights = [
        torch.tensor([w for w, _ in HAND_BUILT_UNITS]),
        torch.randn(2, len(HAND_BUILT_UNITS), generator=torch.Generator().manual_seed(1)),
    ]
    biases = [torch.tensor([b for _, b in HAND_BUILT_UNITS]), torch.zeros(2)]
    return x, weights, biases


def _judge(answer: Answer, x: Tensor, weights: list[Tensor], biases: list[Tensor]) -> None:
    hidden = len(weights) - 1
    got = common.numbers(
        answer(x, weights, biases),
        name="the result",
        length=hidden,
        what=f"one fraction per hidden layer ({hidden} here; the linear output layer has no ReLU)",
    )
    want = torch.tensor(ref.dead_fraction_from_weights(x, weights, biases), dtype=torch.float64)
    common.close_dead_fractions(got, want, x, weights, biases, OTHERWISE)


@TASK.case(points=1)
def hand_built_layer(answer: Answer, ctx: CaseContext) -> None:
    """twelve hand-built units: negative, exactly 0, and tiny but positive ones"""
    _judge(answer, *hand_built_network())


@TASK.case(points=1)
def three_damaged_layers(answer: Answer, ctx: CaseContext) -> None:
    """three hidden layers with negative biases and a pruned unit each"""
    _judge(answer, *common.damaged_network(ctx.small_seed(), (2, 16, 16, 16, 2), batch=100, pruned=1))


@TASK.case(points=1)
def single_example(answer: Answer, ctx: CaseContext) -> None:
    """a batch of one example: zero on it means dead on it"""
    x, weights, biases = hand_built_network()
    _judge(answer, x[:1], weights, biases)
    _judge(answer, *common.damaged_network(ctx.small_seed(), (2, 8, 8, 2), batch=1, bias_scale=0.0))


@TASK.case(points=2, hidden=True)
def random_networks(answer: Answer, ctx: CaseContext) -> None:
    """networks of other depths, widths, batch sizes and pruned units"""
    rng = ctx.rng()
    # Two hidden layers or more: with one, leaving out the ReLU between layers changes nothing.
    # Two examples or more: with one, "zero on some example" and "zero on the first" are "zero on all".
    for _ in range(3):
        depth = int(rng.integers(3, 6))
        widths = (2, *(int(w) for w in rng.integers(4, 33, size=depth - 1)), 2)
        _judge(
            answer,
            *common.damaged_network(
                int(rng.integers(2**31)), widths, batch=int(rng.integers(2, 200)), pruned=int(rng.integers(1, 3))
            ),
        )
