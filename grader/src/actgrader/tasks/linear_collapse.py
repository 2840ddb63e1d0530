"""Task ``linear_collapse``: the single matrix a stack of layers without activations amounts to.

The learner writes ``collapse_linear_stack(weights)`` returning ``W_K ... W_2 W_1``.
"""

from __future__ import annotations

import torch

from actgrader.grading import CaseContext, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import forward as ref

TASK = Task(
    "linear_collapse",
    "Collapse a stack of linear layers into one matrix",
    answer="collapse_linear_stack",
    reference=ref.collapse_linear_stack,
    section="forward-propagation#sec-collapse",
)


def _weights(seed: int, widths: tuple[int, ...]) -> list[torch.Tensor]:
    return ref.random_weights(widths, torch.Generator().manual_seed(seed))


def _reversed_product(weights: list[torch.Tensor]) -> torch.Tensor | None:
    """W_1 W_2 ... W_K: the product in the wrong order (only defined when the shapes allow it)."""
    try:
        product = weights[0]
        for weight in weights[1:]:
            product = product @ weight
        return product
    except RuntimeError:
        return None


def _judge(answer: Answer, weights: list[torch.Tensor]) -> None:
    got = answer(weights)
    want = ref.collapse_linear_stack(weights)
    mistakes = []
    wrong_order = _reversed_product(weights)
    if wrong_order is not None:
        mistakes.append(
            (
                (
                    "The product is in the wrong order. The input meets W_1 first, so the collapsed "
                    "matrix is W_K ... W_2 W_1, with W_1 on the right."
                ),
                wrong_order,
            )
        )
    mistakes.append(
        (
            (
                "The matrix is transposed: it should have shape (outputs, inputs) like every W_k, "
                "so that the network computes x @ W.T."
            ),
            want.T,
        )
    )
    expect.close(
        got,
        want,
        name="the collapsed matrix",
        rtol=1e-4,
        atol=1e-5,
        mistakes=mistakes,
        otherwise="The matrix is not the product W_K ... W_2 W_1 of the layers' matrices.",
    )


@TASK.case(points=1)
def square_layers(answer: Answer, ctx: CaseContext) -> None:
    """four square layers (the order of the product matters)"""
    _judge(answer, _weights(ctx.small_seed(), (4, 4, 4, 4, 4)))


@TASK.case(points=1)
def matches_the_stack(answer: Answer, ctx: CaseContext) -> None:
    """one matrix gives the same outputs as the four-layer stack"""
    weights = _weights(ctx.small_seed(), (3, 5, 4, 6, 2))
    got = expect.tensor(answer(weights), name="the collapsed matrix", shape=(2, 3))
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(ctx.small_seed()))
    stack = ref.forward_pass(x, weights, lambda h: h)
    expect.close(
        x @ got.T,
        stack,
        name="x @ W.T",
        rtol=1e-4,
        atol=1e-5,
        otherwise="x @ W.T with your matrix does not reproduce the stack's outputs.",
    )


@TASK.case(points=2, hidden=True)
def random_stacks(answer: Answer, ctx: CaseContext) -> None:
    """stacks of random depth and widths"""
    rng = ctx.rng()
    for _ in range(3):
        depth = int(rng.integers(1, 7))
        widths = tuple(int(n) for n in rng.integers(1, 13, size=depth + 1))
        _judge(answer, _weights(int(rng.integers(2**31)), widths))
