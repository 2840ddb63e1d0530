"""Task ``linear_collapse``: the single matrix a stack of layers without activations amounts to.

The learner writes ``collapse_linear_stack(weights)`` returning ``W_K ... W_2 W_1``. Known wrong
answers are recognised by what they give on square layers (where they run) and by the exception
they raise on the others (where the shapes cannot be multiplied in that order): the learner reads
the misconception, not PyTorch's "mat1 and mat2 shapes cannot be multiplied".
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import numpy as np
import torch

from actgrader.grading import CaseContext, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import forward as ref
from actgrader.tasks._draws import redraw_until

TASK = Task(
    "linear_collapse",
    "Collapse a stack of linear layers into one matrix",
    answer="collapse_linear_stack",
    reference=ref.collapse_linear_stack,
    section="forward-propagation#sec-collapse",
)

WRONG_ORDER = (
    "The product is in the wrong order. The input meets W_1 first, so the collapsed "
    "matrix is W_K ... W_2 W_1, with W_1 on the right."
)
TRANSPOSED = (
    "The matrix is transposed: it should have shape (outputs, inputs) like every W_k, "
    "so that the network computes x @ W.T."
)
ELEMENTWISE = (
    "`*` multiplies matrices entry by entry; composing layers takes the matrix product, `@` "
    "(or torch.matmul): W_K @ ... @ W_2 @ W_1."
)
SUMMED = "The layers' matrices were added. Layers compose by the matrix product: W_K @ ... @ W_2 @ W_1."
#: For the exception: `*` and `+` on matrices of different shapes fail with the same words.
ENTRYWISE = (
    "The layers' matrices were combined entry by entry (`*` or `+`), which needs matrices of one shape. "
    "Composing layers takes the matrix product, `@` (or torch.matmul): W_K @ ... @ W_2 @ W_1."
)
LAST_ONLY = "That is only the last layer's matrix, W_K: the collapsed matrix is the product of all of them."
FIRST_ONLY = "That is only the first layer's matrix, W_1: the collapsed matrix is the product of all of them."


def _weights(seed: int, widths: tuple[int, ...]) -> list[torch.Tensor]:
    return ref.random_weights(widths, torch.Generator().manual_seed(seed))


def _reversed_product(weights: list[torch.Tensor]) -> torch.Tensor | None:
    """W_1 W_2 ... W_K: the product in the wrong order (only defined when the shapes allow it)."""
    try:
        return functools.reduce(operator.matmul, weights)
    except RuntimeError:
        return None


def _failing_pairs(shapes: Sequence[tuple[int, ...]]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The shapes at which W_1 W_2 ... W_K fails, evaluated left to right and right to left."""
    pairs = []
    left = shapes[0]
    for shape in shapes[1:]:
        if left[1] != shape[0]:
            pairs.append((left, shape))
            break
        left = (left[0], shape[1])
    right = shapes[-1]
    for shape in reversed(shapes[:-1]):
        if shape[1] != right[0]:
            pairs.append((shape, right))
            break
        right = (shape[0], right[1])
    return pairs


def known_errors(weights: list[torch.Tensor]) -> list[expect.KnownError]:
    """Exceptions with a known cause, each recognised by what the misconception raises on these shapes."""
    shapes = [tuple(w.shape) for w in weights]
    return [
        (expect.failed_matmul(*_failing_pairs(shapes)), WRONG_ORDER),
        (expect.raises_like(lambda: functools.reduce(operator.mul, weights)), ENTRYWISE),
        (expect.raises_like(lambda: functools.reduce(lambda a, b: b * a, weights)), ENTRYWISE),
        (expect.raises_like(lambda: functools.reduce(operator.add, weights)), ENTRYWISE),
        (expect.raises_like(lambda: functools.reduce(lambda a, b: b + a, weights)), ENTRYWISE),
    ]


def _mistakes(weights: list[torch.Tensor], want: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    mistakes = []
    wrong_order = _reversed_product(weights)
    if wrong_order is not None:
        mistakes.append((WRONG_ORDER, wrong_order))
    mistakes.append((TRANSPOSED, want.T))
    for message, combine in ((ELEMENTWISE, operator.mul), (SUMMED, operator.add)):
        if expect.raised_by(lambda combine=combine: functools.reduce(combine, weights)) is None:
            mistakes.append((message, functools.reduce(combine, weights)))
    if len(weights) > 1:
        mistakes += [(LAST_ONLY, weights[-1]), (FIRST_ONLY, weights[0])]
    return mistakes


def _collapsed(answer: Answer, weights: list[torch.Tensor]) -> object:
    with expect.known_errors(known_errors(weights)):
        return answer(weights)


def _judge(answer: Answer, weights: list[torch.Tensor]) -> None:
    got = _collapsed(answer, weights)
    want = ref.collapse_linear_stack(weights)
    expect.close(
        got,
        want,
        name="the collapsed matrix",
        rtol=1e-4,
        atol=1e-5,
        mistakes=_mistakes(weights, want),
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
    got = expect.tensor(_collapsed(answer, weights), name="the collapsed matrix", shape=(2, 3))
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


def _separates_every_mistake(weights: list[torch.Tensor]) -> bool:
    """No known mistake gives the product on this stack (within the tolerance `_judge` allows)."""
    want = ref.collapse_linear_stack(weights)
    return not any(
        got.shape == want.shape and torch.allclose(got, want, rtol=1e-3, atol=1e-4)
        for _, got in _mistakes(weights, want)
    )


def _random_stack(rng: np.random.Generator, *, case: str) -> list[torch.Tensor]:
    """A stack on which every known mistake is wrong, drawn from ``rng`` alone.

    At least two layers (with one, W_1 alone and W_K alone are the product) and an input width
    other than the output width (then the transposed product, and the entrywise product or sum,
    have another shape than the product; a 1x1 product is its own transpose). A draw on which
    some mistake still equals the product (the product in the wrong order, by a coincidence of
    the values) is redrawn from the same generator, so the stacks stay a function of the secret.
    ``case`` names the case in the error if no draw is accepted.
    """

    def widths() -> tuple[int, ...]:
        depth = int(rng.integers(2, 7))
        return tuple(int(n) for n in rng.integers(1, 13, size=depth + 1))

    def stack() -> list[torch.Tensor]:
        # the widths first, then the seed of the weights: the order the generator was always read in
        drawn = redraw_until(widths, lambda w: w[0] != w[-1], case=case)
        return _weights(int(rng.integers(2**31)), drawn)

    return redraw_until(stack, _separates_every_mistake, case=case)


@TASK.case(points=2, hidden=True)
def random_stacks(answer: Answer, ctx: CaseContext) -> None:
    """stacks of random depth (two layers or more) and widths (inputs other than outputs)"""
    rng = ctx.rng()
    for _ in range(3):
        _judge(answer, _random_stack(rng, case=ctx.label))
