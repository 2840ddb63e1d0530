"""Task ``tanh_n_thresholds``: the three thresholds of the chapter on tanh(n·x), for any real n.

The learner writes ``tanh_n_thresholds(n, depth)`` returning ``(t1, depth_bound,
explode_bound)``: where the slope of ``tanh(n x)`` falls to ``1/n``, to ``n^(1-K)`` and to 1.
Compared with :func:`actgrader.reference.tanh_scaling.thresholds`; the usual slips (the
missing ``1/n``, the two square roots swapped, ``K`` for ``K - 1``, the source's artanh form
that float64 cannot resolve for large ``K``) are named.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import tanh_scaling as ref

TASK = Task(
    "tanh_n_thresholds",
    "The thresholds of tanh(n·x) as functions of n",
    answer="tanh_n_thresholds",
    reference=ref.thresholds,
    section="tanh-scaling#sec-t1",
)

#: Any float64 formula of the chapter lands far inside this; a wrong one lands far outside.
RTOL = 1e-9
NAMES = ("t1", "the depth bound", "the exploding bound")
SECTIONS = ("tanh-scaling#sec-t1", "tanh-scaling#sec-depth-bound", "tanh-scaling#sec-explode-bound")
PUBLIC = ((2.0, 50), (3.0, 10), (1.5, 30))
#: The depth bound is also judged at a depth where 1 - n^-K rounds to 1 in float64 (2^-100 is far
#: below its resolution): there the source's artanh form gives inf, as it does for much of the
#: hidden cases' range, so the public cases say so before grading does.
DEPTH_PUBLIC = (*PUBLIC, (2.0, 100))


def _read(value: Any, n: float, depth: int) -> tuple[float, float, float]:
    call = f"tanh_n_thresholds({n:g}, {depth})"
    if isinstance(value, dict):
        raise Mistake(f"{call} returned a dict; return a tuple (t1, depth_bound, explode_bound).")
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise Mistake(f"{call} should return three numbers, (t1, depth_bound, explode_bound).")
    # inf and nan are let through here: for the depth bound they point at the artanh form (see _judge).
    numbers = [
        v if isinstance(v, float) and not math.isfinite(v) else expect.number(v, name=f"{NAMES[i]} of {call}")
        for i, v in enumerate(value)
    ]
    return cast(tuple[float, float, float], tuple(numbers))


def _source_depth_form(n: float, depth: int) -> float:
    """The source text's ``artanh(sqrt(1 - n^-K)) / n`` in float64: inf once ``1 - n^-K`` rounds to 1."""
    s = math.sqrt(1 - n ** (-depth))
    return math.atanh(s) / n if s < 1 else math.inf


SWAPPED = (
    "t1 and the exploding bound are swapped: t1 is where the slope n / cosh^2(n x) falls to 1/n, "
    "arcosh(n) / n = artanh(sqrt(1 - 1/n^2)) / n; the slope falls to 1 at arcosh(sqrt(n)) / n = "
    "artanh(sqrt(1 - 1/n)) / n."
)
NO_ONE_OVER_N = "The factor 1/n is missing: the slope condition fixes n x, so x itself is arcosh(...) divided by n."
NO_SQUARE_ROOT = (
    "The square root is missing: the slope n / cosh^2(n x) equals c where cosh(n x) = sqrt(n / c), "
    "so the bound is arcosh(n^(K/2)) / n, not arcosh(n^K) / n."
)


def k_against_k_minus_one(depth: int) -> str:
    return (
        f"K against K - 1: one unit has to cancel the other K - 1 = {depth - 1} units at the peak slope n, "
        f"so its slope must fall to n^(1 - K), which happens at arcosh(sqrt(n / n^(1-K))) / n = "
        "arcosh(n^(K/2)) / n."
    )


def artanh_form(depth: int) -> str:
    return (
        f"For K = {depth} the form artanh(sqrt(1 - n^-K)) / n needs 1 - n^-K, which float64 rounds "
        "(or to exactly 1, giving inf). Use arcosh(n^(K/2)) / n, or its logarithmic form, which keeps "
        "every digit."
    )


def _mistakes(which: int, n: float, depth: int) -> list[tuple[str, Callable[[], float]]]:
    """Wrong values for threshold ``which`` (0: t1, 1: depth bound, 2: exploding bound), computed lazily."""
    if which == 0:
        return [
            (SWAPPED, lambda: math.acosh(math.sqrt(n)) / n),
            (NO_ONE_OVER_N, lambda: math.acosh(n)),
        ]
    if which == 2:
        return [
            (SWAPPED, lambda: math.acosh(n) / n),
            (NO_ONE_OVER_N, lambda: math.acosh(math.sqrt(n))),
        ]
    k_message = k_against_k_minus_one(depth)
    return [
        (k_message, lambda: math.acosh(n ** ((depth - 1) / 2)) / n),
        (k_message, lambda: math.acosh(n ** ((depth + 1) / 2)) / n),
        (NO_ONE_OVER_N, lambda: math.acosh(n ** (depth / 2))),
        (NO_SQUARE_ROOT, lambda: math.acosh(n**depth) / n),
    ]


def _judge(answer: Answer, n: float, depth: int, which: tuple[int, ...]) -> None:
    got = _read(answer(n, depth), n, depth)
    want = ref.thresholds(n, depth)
    for i in which:
        if math.isclose(got[i], want[i], rel_tol=RTOL):
            continue
        for message, wrong in _mistakes(i, n, depth):
            try:
                value = wrong()
            except (ValueError, OverflowError):
                continue
            if math.isclose(got[i], value, rel_tol=RTOL):
                raise Mistake(message, section=SECTIONS[i])
        if i == 1 and (not math.isfinite(got[i]) or math.isclose(got[i], _source_depth_form(n, depth), rel_tol=RTOL)):
            raise Mistake(artanh_form(depth), section=SECTIONS[1])
        expect.number(got[i], name=f"{NAMES[i]} for n = {n:g}, K = {depth}")  # names inf or nan
        raise Mistake(
            f"{NAMES[i]} for n = {n:g}, K = {depth} is {got[i]:.10g}; that is not where the slope of tanh(n x) "
            f"reaches the chapter's level ({('1/n', 'n^(1-K)', '1')[i]}).",
            section=SECTIONS[i],
        )


@TASK.case(points=1, section=SECTIONS[0])
def t1_values(answer: Answer, ctx: CaseContext) -> None:
    """t1 for n = 2, 3 and 1.5"""
    for n, depth in PUBLIC:
        _judge(answer, n, depth, (0,))


@TASK.case(points=1, section=SECTIONS[1])
def depth_bound_values(answer: Answer, ctx: CaseContext) -> None:
    """the depth bound for (n, K) = (2, 50), (3, 10), (1.5, 30), (2, 100)"""
    for n, depth in DEPTH_PUBLIC:
        _judge(answer, n, depth, (1,))


@TASK.case(points=1, section=SECTIONS[2])
def explode_bound_values(answer: Answer, ctx: CaseContext) -> None:
    """the exploding bound for n = 2, 3 and 1.5"""
    for n, depth in PUBLIC:
        _judge(answer, n, depth, (2,))


@TASK.case(points=2, hidden=True)
def random_n_and_depth(answer: Answer, ctx: CaseContext) -> None:
    """other real n and depths K"""
    rng = ctx.rng()
    for _ in range(4):
        n = float(rng.uniform(1.05, 6.0))
        depth = int(rng.integers(2, 101))
        _judge(answer, n, depth, (0, 1, 2))
