"""Task ``saturated_sigmoid``: the gradient factor of a sigmoid saturated at output ``p``, over ``depth`` layers.

The learner writes ``saturated_gradient_factor(p, depth)``: the sigmoid's slope written
through its output, ``p (1 - p)``, multiplied over ``depth`` layers whose units all output
``p``. It is compared with :func:`actgrader.reference.outputs.saturated_depth_factor`; the
classic slip, evaluating the slope as if ``p`` were the sigmoid's *input*, is named.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import outputs as ref
from actgrader.tasks._draws import redraw_until

TASK = Task(
    "saturated_sigmoid",
    "The gradient through saturated sigmoids",
    answer="saturated_gradient_factor",
    reference=ref.saturated_depth_factor,
    section="output-and-loss#sec-saturated-sigmoid",
)

#: Relative tolerance: float64 arithmetic in any order is far inside it; float32, which rounds
#: 0.99 itself and loses digits below 1.2e-38, is not.
RTOL = 1e-6


#: The smallest normal float32 number: below it float32 keeps fewer digits, down to 0 at about 1.4e-45.
FLOAT32_TINY = float(torch.finfo(torch.float32).tiny)


def _float32_versions(p: float, depth: int) -> list[float]:
    """The answer computed in float32, the two ways a learner would write it with tensors."""
    p32 = torch.tensor(p, dtype=torch.float32)
    return [float((p32 * (1 - p32)) ** depth), float(torch.tensor(p * (1 - p), dtype=torch.float32) ** depth)]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


PEAK = (
    "0.25 is the sigmoid's slope at its centre (output 0.5), the best case. A unit saturated "
    "at output p passes p (1 - p)."
)
ONE_MINUS_P = "The slope of the sigmoid at output p is p (1 - p), not 1 - p."
P_ONLY = "The slope of the sigmoid at output p is p (1 - p), not p."
ADDED = (
    "The factors of the layers were added. The chain rule multiplies them: one factor "
    "p (1 - p) per layer, so the result is p (1 - p) to the power of the depth."
)


def as_input(p: float) -> str:
    """The message for the slope evaluated as if ``p`` were the sigmoid's input."""
    return (
        f"You evaluated the slope as if {p:g} were the sigmoid's input: sigma'({p:g}) = "
        f"sigma({p:g}) (1 - sigma({p:g})). Here {p:g} is the sigmoid's output p, so its slope is "
        "simply p (1 - p)."
    )


def one_layer(depth: int) -> str:
    return (
        f"That is one layer's factor. Through {depth} layers the chain rule multiplies one such "
        f"factor per layer: p (1 - p) to the power {depth}."
    )


def off_by_one(depth: int) -> str:
    return f"Off by one layer: {depth} layers contribute {depth} factors, p (1 - p) to the power {depth}."


def in_float32(want: float, depth: int) -> str:
    """The message for the answer computed in float32."""
    return (
        f"This is the float32 result. p (1 - p) to the power {depth} is {want:.3g}"
        + (
            ", below float32's smallest normal number (1.2e-38), where float32 keeps few digits or rounds to 0"
            if want < FLOAT32_TINY
            else ""
        )
        + ". Compute with Python floats (float64)."
    )


def _mistakes(p: float, depth: int) -> list[tuple[str, float]]:
    factor = p * (1 - p)
    s = _sigmoid(p)
    known = [
        (as_input(p), (s * (1 - s)) ** depth),
        (PEAK, 0.25**depth),
        (ONE_MINUS_P, (1 - p) ** depth),
        (P_ONLY, p**depth),
    ]
    if depth > 1:
        known += [
            (one_layer(depth), factor),
            (ADDED, depth * factor),
            (off_by_one(depth), factor ** (depth - 1)),
            (off_by_one(depth), factor ** (depth + 1)),
        ]
    return known


def _judge(answer: Answer, p: float, depth: int) -> None:
    got = expect.number(answer(p, depth), name=f"saturated_gradient_factor({p:g}, {depth})")
    want = ref.saturated_depth_factor(p, depth)
    if math.isclose(got, want, rel_tol=RTOL, abs_tol=0.0):
        return
    for message, wrong in _mistakes(p, depth):
        if math.isclose(got, wrong, rel_tol=RTOL, abs_tol=0.0):
            raise Mistake(message)
    if any(got == wrong or math.isclose(got, wrong, rel_tol=RTOL) for wrong in _float32_versions(p, depth)):
        raise Mistake(in_float32(want, depth))
    raise Mistake(
        f"saturated_gradient_factor({p:g}, {depth}) returned {got:.6g}, which is not the product of {depth} "
        "slopes of a sigmoid whose output is p. Write the slope through the output, p (1 - p), and multiply "
        "one such factor per layer."
    )


@TASK.case(points=1)
def one_layer_at_099(answer: Answer, ctx: CaseContext) -> None:
    """one sigmoid saturated at 0.99"""
    _judge(answer, 0.99, 1)


@TASK.case(points=1)
def twenty_layers_at_099(answer: Answer, ctx: CaseContext) -> None:
    """twenty layers saturated at 0.99"""
    _judge(answer, 0.99, 20)


@TASK.case(points=1)
def low_outputs(answer: Answer, ctx: CaseContext) -> None:
    """five layers at output 0.2, one at 0.5"""
    _judge(answer, 0.2, 5)
    _judge(answer, 0.5, 1)


@TASK.case(points=2, hidden=True)
def other_outputs_and_depths(answer: Answer, ctx: CaseContext) -> None:
    """other outputs and depths"""
    rng = ctx.rng()
    # The first draw also separates float32, which at most outputs and depths comes within the
    # tolerance (by a margin: a learner's float32 may round a little differently from ours).
    case = ctx.label
    _judge(answer, *_separating_draw(rng, case=case, float32_margin=10.0))
    for _ in range(3):
        _judge(answer, *_separating_draw(rng, case=case))


def _separating_draw(rng: np.random.Generator, *, case: str, float32_margin: float | None = None) -> tuple[float, int]:
    """An output p and a depth of two layers or more (with one, one layer's factor is the answer)
    on which no known mistake comes within the tolerance of the right factor, nor, with
    ``float32_margin``, the float32 results within that many tolerances. A draw on which one does
    is redrawn from the same generator; ``case`` names the case in the error if none is accepted."""

    def separates_all(draw: tuple[float, int]) -> bool:
        want = ref.saturated_depth_factor(*draw)
        near = [(wrong, RTOL) for _, wrong in _mistakes(*draw)]
        if float32_margin is not None:
            near += [(wrong, float32_margin * RTOL) for wrong in _float32_versions(*draw)]
        return not any(math.isclose(wrong, want, rel_tol=tol) for wrong, tol in near)

    return redraw_until(
        lambda: (round(float(rng.uniform(0.001, 0.999)), 4), int(rng.integers(2, 31))), separates_all, case=case
    )
