"""Redrawing a hidden case's inputs until every known mistake is wrong on them.

A hidden case draws its inputs from ``ctx.rng()``, the generator derived from the instructor's
secret, and no draw may make a known wrong answer right by accident (CONTRIBUTING.md, "Tasks
and checks"). Where excluding such draws up front is not enough, the case redraws from the
*same* generator until each known mistake is wrong on one of its inputs at least, so the
inputs stay a function of the secret. :func:`redraw_until` is that loop; it stops after
``limit`` draws with an error naming the case, so that a mistake no draw can separate is a
loud bug instead of an endless loop. :func:`each_mistake_caught` is the usual test: every
mistake is wrong on one draw at least.

Used by the hidden cases of ``gelu_vs_relu``, ``half_safe_softmax``, ``linear_collapse``,
``matched_width``, ``online_softmax``, ``saturated_sigmoid`` and, through
:mod:`actgrader.tasks._stability`, ``stable_sigmoid`` and ``stable_softplus``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from actgrader.grading.cases import CheckFault

T = TypeVar("T")
M = TypeVar("M")
D = TypeVar("D")

#: Draws a case may make before :func:`redraw_until` gives up. The rarest accepted draw, the
#: first of ``saturated_sigmoid`` (float32 must be wrong too), is accepted about 1 time in 50
#: (290 draws at most over 200 secrets): 10,000 refusals in a row would have a probability near
#: e^-200, so reaching the limit is a bug, not bad luck.
LIMIT = 10_000


def redraw_until(draw: Callable[[], T], accept: Callable[[T], bool], *, case: str, limit: int = LIMIT) -> T:
    """The first of ``draw()``'s results that ``accept`` holds for.

    ``draw`` takes every random number from the case's generator, so calling it again goes on
    along the same sequence: the result is a function of the secret. ``case`` names the case in
    the error.

    Raises:
        CheckFault: ``limit`` draws in a row were all refused (a known mistake that no draw
            can separate, or an ``accept`` that never holds).
    """
    for _ in range(limit):
        drawn = draw()
        if accept(drawn):
            return drawn
    raise CheckFault(
        f"{case}: none of {limit} draws was accepted; some known mistake is right on every draw "
        "(or the test of a draw never holds): change the draw's ranges or that mistake's test."
    )


def each_mistake_caught(mistakes: Iterable[M], draws: Iterable[D], separates: Callable[[M, D], bool]) -> bool:
    """Every one of ``mistakes`` is wrong on one of ``draws`` at least (``separates(mistake, draw)``)."""
    draws = list(draws)
    return all(any(separates(mistake, drawn) for drawn in draws) for mistake in mistakes)
