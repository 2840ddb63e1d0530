"""Task ``matched_width``: the hidden width that gives a gated block the weights of an ungated one.

The learner writes ``matched_hidden_width(d, multiple_of)``: two thirds of ``4 d`` rounded
down, then up to a multiple of ``multiple_of`` (LLaMA's rule), compared with
:func:`actgrader.reference.gated.matched_hidden_width`. The widths are chosen so that each
misreading (no matching, two thirds of ``d``, rounding the other way, skipping a rounding step)
gives a different number, and each is named.
"""

from __future__ import annotations

import math

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import gated as ref
from actgrader.tasks._draws import each_mistake_caught, redraw_until


def matched_hidden_width(d: int, multiple_of: int) -> int:
    """The reference with the learner's signature (the expansion is 4, as in the task)."""
    return ref.matched_hidden_width(d, multiple_of=multiple_of)


TASK = Task(
    "matched_width",
    "The hidden width of a parameter-matched gated block",
    answer="matched_hidden_width",
    reference=matched_hidden_width,
    section="gated-units#sec-matched-width",
)

UNMATCHED = (
    "That is the ungated block's width, 4d. A gated block has three matrices instead of two, so the same "
    "number of weights allows a hidden width of two thirds of 4d."
)
TWO_THIRDS_OF_D = "Two thirds of d leaves out the expansion: the ungated block is 4d wide, so take two thirds of 4d."
THREE_HALVES = "Three halves of 4d gives the gated block more weights, not the same number: take two thirds of 4d."
NOT_AN_INTEGER = (
    "A width is a whole number of units: round two thirds of 4d down, then up to a multiple of multiple_of."
)
NEAREST = (
    "Two thirds of 4d was rounded to the nearest integer; the rule rounds it down first (int(8 d / 3)), "
    "then up to a multiple of multiple_of."
)
ROUNDED_DOWN_TO_MULTIPLE = (
    "The width was rounded down to a multiple of multiple_of; the rule rounds up to the next multiple "
    "(LLaMA: d = 4096 gives 11008, a multiple of 256)."
)
NO_MULTIPLE = (
    "multiple_of was ignored: after rounding two thirds of 4d down, round up to the next multiple of multiple_of."
)
CEIL_FIRST = (
    "Two thirds of 4d was rounded up; the rule rounds it down (int(8 d / 3)), then up to a multiple of multiple_of."
)


def _mistakes(d: int, multiple_of: int) -> list[tuple[str, float]]:
    exact = 8 * d / 3
    down = int(exact)

    def up_to(width: float) -> int:
        return multiple_of * math.ceil(width)

    return [
        (UNMATCHED, 4 * d),
        (UNMATCHED, up_to((4 * d) / multiple_of)),
        (TWO_THIRDS_OF_D, int(2 * d / 3)),
        (TWO_THIRDS_OF_D, up_to(int(2 * d / 3) / multiple_of)),
        (THREE_HALVES, 6 * d),
        (NEAREST, up_to(round(exact) / multiple_of)),
        (CEIL_FIRST, up_to(math.ceil(exact) / multiple_of)),
        (ROUNDED_DOWN_TO_MULTIPLE, multiple_of * (down // multiple_of)),
        (NO_MULTIPLE, down),
    ]


#: How many misreadings `_mistakes` computes (the same number for every d and multiple_of).
_N_MISTAKES = len(_mistakes(1, 1))


def _separates(k: int, draw: tuple[int, int]) -> bool:
    """The ``k``-th misreading of `_mistakes` is not the right width for the d and multiple_of of ``draw``."""
    return _mistakes(*draw)[k][1] != matched_hidden_width(*draw)


def _judge(answer: Answer, d: int, multiple_of: int) -> None:
    got = answer(d, multiple_of)
    want = matched_hidden_width(d, multiple_of)
    if isinstance(got, float) and not got.is_integer():
        raise Mistake(NOT_AN_INTEGER)
    value = expect.number(got, name=f"matched_hidden_width({d}, {multiple_of})")
    if value == want:
        return
    for message, wrong in _mistakes(d, multiple_of):
        if value == wrong:
            raise Mistake(message)
    raise Mistake(
        f"matched_hidden_width({d}, {multiple_of}) returned {got!r}; "
        "it is not two thirds of 4d rounded as the rule says."
    )


@TASK.case(points=1)
def plain_widths(answer: Answer, ctx: CaseContext) -> None:
    """d = 512 and d = 10, multiple_of = 1"""
    _judge(answer, 512, 1)
    _judge(answer, 10, 1)


@TASK.case(points=1)
def llama_widths(answer: Answer, ctx: CaseContext) -> None:
    """the widths of LLaMA: d = 4096 with multiple_of = 256, and d = 100 with multiple_of = 64"""
    _judge(answer, 4096, 256)
    _judge(answer, 100, 64)


@TASK.case(points=1, hidden=True)
def random_widths(answer: Answer, ctx: CaseContext) -> None:
    """random model widths and multiples"""
    rng = ctx.rng()
    # Redrawn from the same generator until each misreading is wrong on one draw at least: with
    # a multiple above 1, rounding two thirds of 4d up or to the nearest first usually lands on
    # the same multiple, and five such draws would let it pass.
    draws = redraw_until(
        lambda: [(int(rng.integers(1, 10_000)), int(2 ** rng.integers(0, 9))) for _ in range(5)],
        lambda drawn: each_mistake_caught(range(_N_MISTAKES), drawn, _separates),
        case=ctx.label,
    )
    for d, multiple_of in draws:
        _judge(answer, d, multiple_of)
