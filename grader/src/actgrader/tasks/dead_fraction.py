"""Task ``dead_fraction``: the fraction of dead ReLU units in each hidden layer, on a batch.

The learner writes ``dead_fraction(x, weights, biases)`` for the ReLU network given as
tensors: per hidden layer, the fraction of units whose output is zero for every example of
``x``. Compared exactly with
:func:`actgrader.reference.dead_relu.dead_fraction_from_weights`; the usual misreadings of
"dead" (zero on *some* example, the share of zero entries, the alive fraction, the wrong
axis) are named.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import dead_relu as ref
from actgrader.reference.initialization import activation_records
from actgrader.reference.models import mlp_from_weights
from actgrader.tasks import _gradient_flow as common

TASK = Task(
    "dead_fraction",
    "Count the dead ReLU units of each layer",
    answer="dead_fraction",
    reference=ref.dead_fraction_from_weights,
    section="dead-relus#sec-dead-definition",
)


def half_dead_layer() -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """One hidden layer of four ReLU units on inputs in [0, 1]^2: units 0 and 2 are negative on all of them."""
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(0))
    weights = [
        torch.tensor([[-1.0, -1.0], [1.0, 0.0], [0.0, -2.0], [1.0, -1.0]]),
        torch.randn(2, 4, generator=torch.Generator().manual_seed(1)),
    ]
    biases = [torch.tensor([-0.1, 0.0, -0.5, 0.0]), torch.zeros(2)]
    return x, weights, biases


def damaged_network(
    seed: int, widths: tuple[int, ...], batch: int, bias_scale: float = 0.8
) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """A Kaiming network whose hidden biases are drawn from ``[-bias_scale, 0]``: deeper layers get more dead units.

    With the default scale and three hidden layers of 16 units, about 11%, 33% and 51% of the
    units of layers 1, 2 and 3 are dead on 100 spirals (means over 200 seeds).
    """
    x, _ = common.spirals(batch, seed)
    weights, biases = common.network(widths, seed)
    gen = torch.Generator().manual_seed(seed + 2)
    biases = [-bias_scale * torch.rand(b.shape, generator=gen) for b in biases[:-1]] + [biases[-1]]
    return x, weights, biases


def _hidden_outputs(x: Tensor, weights: list[Tensor], biases: list[Tensor]) -> list[Tensor]:
    return [out for _, out in activation_records(mlp_from_weights(weights, biases, "relu"), x)]


def known_mistakes(want: Tensor, x: Tensor, weights: list[Tensor], biases: list[Tensor]) -> list[tuple[str, Tensor]]:
    """Dead fractions under the usual misreadings of "dead", each with the message that names it."""
    outs = _hidden_outputs(x, weights, biases)

    def per_layer(fn: Callable[[Tensor], Tensor]) -> Tensor:
        return torch.tensor([float(fn(h == 0)) for h in outs], dtype=torch.float64)

    return [
        (
            (
                "You counted units that are zero on at least one example. Half of a healthy ReLU layer is "
                "zero on any given example; a unit is dead only when it is zero on every example of the batch."
            ),
            per_layer(lambda z: z.any(dim=0).float().mean()),
        ),
        (
            (
                "That is the share of zero outputs (entries), not of dead units. A unit (a column) is dead "
                "when its output is zero on every example (every row)."
            ),
            per_layer(lambda z: z.float().mean()),
        ),
        ("That is the fraction of units still alive: dead is one minus it.", 1 - want),
        (
            (
                "The axes are swapped: you found the examples on which every unit is zero. A dead unit is a "
                "column of the layer's output that is zero in every row (reduce over dim=0, the batch)."
            ),
            per_layer(lambda z: z.all(dim=1).float().mean()),
        ),
        (
            "These are counts of dead units; the task asks for fractions (divide by the layer's width).",
            per_layer(lambda z: z.all(dim=0).float().sum()),
        ),
        ("These are percentages; the task asks for fractions between 0 and 1.", want * 100),
    ]


def _judge(answer: Answer, x: Tensor, weights: list[Tensor], biases: list[Tensor]) -> None:
    hidden = len(weights) - 1
    got = common.numbers(
        answer(x, weights, biases),
        name="the result",
        length=hidden,
        what=f"one fraction per hidden layer ({hidden} here; the linear output layer has no ReLU)",
    )
    want = torch.tensor(ref.dead_fraction_from_weights(x, weights, biases), dtype=torch.float64)
    expect.close(
        got,
        want,
        name="the dead fractions",
        rtol=0.0,
        atol=1e-6,
        mistakes=known_mistakes(want, x, weights, biases),
        otherwise="The fractions differ from the dead units' share. For each hidden layer compute "
        "h = relu(h_prev @ W.T + b) on the whole batch; a unit is dead when its column of h is 0 in every row.",
    )


@TASK.case(points=1)
def hand_built_layer(answer: Answer, ctx: CaseContext) -> None:
    """four units, two of them negative on every input"""
    _judge(answer, *half_dead_layer())


@TASK.case(points=1)
def three_damaged_layers(answer: Answer, ctx: CaseContext) -> None:
    """three hidden layers with negative biases"""
    _judge(answer, *damaged_network(ctx.small_seed(), (2, 16, 16, 16, 2), batch=100))


@TASK.case(points=1)
def single_example(answer: Answer, ctx: CaseContext) -> None:
    """a batch of one example: zero on it means dead on it"""
    x, weights, biases = half_dead_layer()
    _judge(answer, x[:1], weights, biases)
    _judge(answer, *damaged_network(ctx.small_seed(), (2, 8, 8, 2), batch=1, bias_scale=0.0))


@TASK.case(points=2, hidden=True)
def random_networks(answer: Answer, ctx: CaseContext) -> None:
    """networks of other depths, widths and batch sizes"""
    rng = ctx.rng()
    for _ in range(3):
        depth = int(rng.integers(2, 6))
        widths = (2, *(int(w) for w in rng.integers(4, 33, size=depth - 1)), 2)
        _judge(answer, *damaged_network(int(rng.integers(2**31)), widths, batch=int(rng.integers(1, 200))))
