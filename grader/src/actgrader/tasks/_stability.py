"""Judging activations computed from scratch, shared by ``stable_sigmoid``, ``stable_softmax``,
``stable_softplus`` and ``activation_derivatives``.

"Stable" means what the chapters mean by it: the values *and* the slopes autograd sends back
through them in a training step are finite and right. :func:`judge` judges one tensor (values
or slopes); :func:`learner_slopes` takes the slopes on the learner's side
(:func:`~actgrader.grading.answer.call_with_slopes`) and names why there are none (NumPy,
``.detach()``, an in-place edit the backward pass needs).

A result passes when it has the input's shape and dtype and equals the reference within a
tolerance that depends on the dtype. Otherwise the learner reads, in this order:

1. the known misconception whose values it reproduces, NaN and infinities included (so the
   naive formula is recognised by its NaNs at large ``x``, not only by its finite values);
2. where it is NaN or infinite although the true value is finite;
3. where it is furthest from the true value, relative to the tolerance.

Wrong values are never typed: each misconception's values are computed, from the reference
functions, on the same input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from actgrader.grading import Mistake, expect
from actgrader.grading.answer import Answer, call_with_slopes
from actgrader.tasks._draws import each_mistake_caught, redraw_until

#: (message, the values that misconception gives on this input); message may carry a section.
Known = tuple[str, Tensor] | tuple[str, Tensor, str]


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


#: Values compared with an absolute floor: right to a few units in the last place of float32
#: (float64) for values of order one; tiny values only need to be tiny.
LOOSE = {torch.float32: Tolerance(1e-4, 1e-6), torch.float64: Tolerance(1e-9, 1e-12)}
#: Purely relative: for tails where the exact value is tiny but every digit of it counts.
RELATIVE = {torch.float32: Tolerance(1e-4, 0.0), torch.float64: Tolerance(1e-9, 0.0)}

#: Softplus' slope in float64 is judged to 1e-8, not 1e-9: PyTorch's softplus, and any stable
#: form that returns x itself above x = 20 as PyTorch does, sends back a slope of exactly 1 there,
#: where the true slope sigma(x) is 1 - e^-20 ~ 1 - 2.1e-9. Such an answer is right (its values
#: are within 1e-10 relatively); with 1e-9 it lost hidden points whenever a draw fell just
#: above 20.
SOFTPLUS_SLOPE_RTOL_FLOAT64 = 1e-8


def softplus_slope_tolerance(tolerance: dict[torch.dtype, Tolerance]) -> dict[torch.dtype, Tolerance]:
    """``tolerance`` with float64's relative part at least :data:`SOFTPLUS_SLOPE_RTOL_FLOAT64`."""
    looser = tolerance[torch.float64]
    rtol = max(looser.rtol, SOFTPLUS_SLOPE_RTOL_FLOAT64)
    return {**tolerance, torch.float64: Tolerance(rtol, looser.atol)}


#: The relative tolerance within which a result is recognised as a misconception's values:
#: looser than the tolerances above, because the learner's code may compute the same wrong
#: formula with other functions and other last digits. (The absolute floor stays the judging
#: tolerance's, so that in a tail judged relatively, 0 is not "close" to a tiny number.)
RECOGNISE_RTOL = {torch.float32: 1e-3, torch.float64: 1e-6}

#: Where e^x overflows to inf: x above log(largest float), about 88.7 in float32 and 709.8 in float64.
EXP_OVERFLOW = {dtype: math.log(torch.finfo(dtype).max) for dtype in (torch.float32, torch.float64)}
OVERFLOW_TEXT = f"x above {EXP_OVERFLOW[torch.float32]:.1f} in float32, {EXP_OVERFLOW[torch.float64]:.1f} in float64"

#: |x| on the public grids: 0, small, moderate, past the point where e^|x| overflows in float32
#: (about 88.7) and in float64 (about 709.8), and 1e4.
MAGNITUDES: tuple[float, ...] = (
    0.0,
    1e-3,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    40.0,
    50.0,
    90.0,
    100.0,
    500.0,
    800.0,
    1000.0,
    1e4,
)
#: The left tails where the exact sigmoid and softplus are tiny but still normal numbers.
LEFT_TAIL: dict[torch.dtype, tuple[float, ...]] = {
    torch.float32: (-10.0, -17.0, -20.0, -30.0, -50.0, -80.0),
    torch.float64: (-20.0, -37.0, -40.0, -100.0, -300.0, -700.0),
}


def grid(dtype: torch.dtype, magnitudes: Sequence[float] = MAGNITUDES) -> Tensor:
    """``-m`` and ``m`` for every magnitude, in increasing order, in ``dtype``."""
    values = sorted({-m for m in magnitudes} | set(magnitudes))
    return torch.tensor(values, dtype=dtype)


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def at_x(x: Tensor) -> Callable[[tuple[int, ...]], str]:
    """Describes a position of an element-wise result by its input, e.g. 'at x = 1e+04 (float32)'."""

    def describe(index: tuple[int, ...]) -> str:
        return f"at x = {x[index].item():.6g} ({dtype_name(x.dtype)})"

    return describe


def _number(t: Tensor, index: tuple[int, ...]) -> str:
    return f"{t[index].item():.6g}"


def _isclose(a: Tensor, b: Tensor, tol: Tolerance, *, equal_nan: bool) -> Tensor:
    return torch.isclose(a.double(), b.double(), rtol=tol.rtol, atol=tol.atol, equal_nan=equal_nan)


def _index(flat: int, shape: torch.Size) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape))


def judge(
    got: Any,
    want: Tensor,
    *,
    name: str,
    tolerance: dict[torch.dtype, Tolerance],
    describe: Callable[[tuple[int, ...]], str],
    known: Sequence[Known] = (),
    not_finite: str,
    otherwise: str,
) -> None:
    """Pass if ``got`` matches ``want``; otherwise raise :class:`Mistake` saying why (see the module doc).

    ``not_finite`` is the advice when ``got`` is NaN or infinite where ``want`` is finite;
    ``otherwise`` the advice when it is merely wrong. A known misconception may name its own
    book section as a third element.
    """
    got = expect.tensor(got, name=name, shape=tuple(want.shape), dtype=want.dtype)
    tol = tolerance[want.dtype]
    if bool(_isclose(got, want, tol, equal_nan=False).all()):
        return
    recognise = Tolerance(max(tol.rtol, RECOGNISE_RTOL[want.dtype]), tol.atol)
    for entry in known:
        message, wrong = entry[0], torch.as_tensor(entry[1])
        if wrong.shape == got.shape and bool(_isclose(got, wrong, recognise, equal_nan=True).all()):
            raise Mistake(message, section=entry[2] if len(entry) > 2 else None)
    bad = ~torch.isfinite(got) & torch.isfinite(want)
    if bool(bad.any()):
        index = _index(int(torch.nonzero(bad.flatten())[0]), got.shape)
        value = got[index].item()
        kind = "NaN" if value != value else ("inf" if value > 0 else "-inf")
        raise Mistake(
            f"{name} is {kind} {describe(index)}, where the true value is {_number(want, index)}. {not_finite}"
        )
    excess = (got.double() - want.double()).abs() - tol.atol - tol.rtol * want.double().abs()
    index = _index(int(excess.flatten().argmax()), got.shape)
    raise Mistake(
        f"{name} is {_number(got, index)} {describe(index)} but should be {_number(want, index)}. {otherwise}"
    )


def _random_tensor(rng: Any) -> Tensor:
    shape = tuple(int(n) for n in rng.integers(1, 7, size=int(rng.integers(1, 4))))
    dtype = (torch.float32, torch.float64)[int(rng.integers(2))]
    scale = float(10 ** rng.uniform(-1, 4))
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    return scale * torch.randn(shape, generator=gen, dtype=dtype)


def _reaches_overflow(x: Tensor) -> bool:
    """``x`` holds entries on both sides beyond where e^|x| overflows its dtype.

    The random case's three tensors are redrawn (from the same generator) until each dtype has
    one such tensor: small scales alone would let the naive formulas, an unselected branch that
    overflows, or a computation in the other dtype pass by an accident of the draw.
    """
    limit = math.log(torch.finfo(x.dtype).max)
    return bool(x.max() > limit and x.min() < -limit)


ElementwiseJudge = Callable[[Any, Tensor, dict[torch.dtype, Tolerance]], None]


def add_elementwise_cases(task: Any, judge_one: ElementwiseJudge, *, left_tail_title: str) -> None:
    """Register the five cases shared by the element-wise stability tasks (sigmoid, softplus).

    ``judge_one(answer, x, tolerance)`` judges the learner's function on one input (its values and
    the slopes autograd sends back through it). The public
    cases cover float32 and float64 grids to ±1e4, a 2-D batch and the left tail (judged
    relatively, where every digit counts); the hidden ones draw random shapes, scales, dtypes
    and tail points from the case's seed.
    """

    @task.case(points=1)
    def float32_grid(answer: Any, ctx: Any) -> None:
        """float32 inputs from -1e4 to 1e4 (values and slopes)"""
        judge_one(answer, grid(torch.float32), LOOSE)

    @task.case(points=1)
    def float64_grid_and_batch(answer: Any, ctx: Any) -> None:
        """float64 inputs from -1e4 to 1e4, and a 2-D batch (values and slopes)"""
        judge_one(answer, grid(torch.float64), LOOSE)
        gen = torch.Generator().manual_seed(ctx.small_seed())
        judge_one(answer, 30 * torch.randn(4, 5, generator=gen), LOOSE)

    @task.case(points=1, title=left_tail_title)
    def left_tail(answer: Any, ctx: Any) -> None:
        for dtype, points in LEFT_TAIL.items():
            judge_one(answer, torch.tensor(points, dtype=dtype), RELATIVE)

    @task.case(points=1, hidden=True)
    def random_tensors(answer: Any, ctx: Any) -> None:
        """tensors of random shape, scale and dtype (values and slopes)"""
        rng = ctx.rng()
        tensors = redraw_until(
            lambda: [_random_tensor(rng) for _ in range(3)],
            lambda drawn: each_mistake_caught(LOOSE, drawn, lambda dtype, x: x.dtype == dtype and _reaches_overflow(x)),
            case=ctx.label,
        )
        for x in tensors:
            judge_one(answer, x, LOOSE)

    @task.case(points=1, hidden=True)
    def random_tails(answer: Any, ctx: Any) -> None:
        """random points in the left tail (values and slopes)"""
        rng = ctx.rng()
        for dtype, points in LEFT_TAIL.items():
            x = torch.tensor(rng.uniform(min(points), -10.0, size=8), dtype=dtype)
            judge_one(answer, x, RELATIVE)


# --- slopes: what autograd sends back through the learner's function ---------------------------

NO_GRAPH = (
    "{call} returns the right values, but autograd cannot send a slope back through them: the result "
    "is computed outside autograd's graph (with NumPy or math, .item(), .detach(), .data, or under "
    "torch.no_grad()). A network using it could not learn. Compute with torch operations on the tensor x "
    "and return their result."
)
NOT_CONNECTED = (
    "The result of {call} does not depend on x as far as autograd can see, so no slope reaches x: "
    "compute the result from x with torch operations, without building a new tensor from its numbers "
    "(torch.tensor(...) of values, .tolist())."
)
THROUGH_NUMPY = (
    "{call} goes through NumPy (x.numpy() refuses a tensor that autograd tracks, and NumPy's results "
    "carry no slope back): a network using it could not learn. Use torch operations on the tensor x."
)
IN_PLACE = (
    "{call} gives the right values, but autograd cannot differentiate it: an in-place operation "
    "(+=, /=, x[...] = ..., .exp_()) overwrote a value the backward pass needs. Compute new tensors "
    "(e = torch.exp(...); e / (1 + e)) instead of modifying them in place."
)


def learner_slopes(answer: Answer, *args: Any, call: str, cotangent: Tensor | None = None) -> Tensor:
    """The slopes autograd sends back through the learner's function for ``args`` (w.r.t. ``args[0]``).

    ``call`` names the call in messages ("sigmoid(x)"). Fails with the reason when there are
    none: the result carries no graph, does not depend on x, or the learner's code cannot be
    differentiated (NumPy, an in-place edit).
    """
    known: list[expect.KnownError] = [
        (expect.error_mentions("RuntimeError", "numpy()", "requires grad"), THROUGH_NUMPY.format(call=call)),
        (expect.error_mentions("RuntimeError", "modified by an inplace operation"), IN_PLACE.format(call=call)),
    ]
    with expect.known_errors(known):
        result = call_with_slopes(answer, *args, cotangent=cotangent)
    if result.problem == "unused":
        raise Mistake(NOT_CONNECTED.format(call=call))
    if result.problem is not None:  # no graph (a result that is not a tensor was judged before)
        raise Mistake(NO_GRAPH.format(call=call))
    return result.slope


def elementwise_slope(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """The slope autograd computes for the element-wise ``fn`` at ``x`` (a misconception's slope)."""
    leaf = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (slope,) = torch.autograd.grad(fn(leaf).sum(), leaf)
    return slope


def judge_elementwise_slopes(
    answer: Answer,
    x: Tensor,
    want: Tensor,
    *,
    call: str,
    tolerance: dict[torch.dtype, Tolerance],
    known: Sequence[Known] = (),
    not_finite: str,
    otherwise: str,
) -> None:
    """Judge the slopes autograd sends back through an element-wise function, except at x = 0 exactly.

    At 0 the usual stable forms differentiate |x| or a clamp at its corner, where autograd
    takes a one-sided slope: one point of measure zero, not what the chapters call unstable.
    """
    got = learner_slopes(answer, x, call=call)
    got = expect.tensor(got, name=f"the slope of {call}", shape=tuple(want.shape), dtype=want.dtype)
    at_zero = x == 0
    judge(
        torch.where(at_zero, want, got),
        want,
        name=f"the slope autograd sends back through {call}",
        tolerance=tolerance,
        describe=at_x(x),
        known=[(entry[0], torch.where(at_zero, want, torch.as_tensor(entry[1])), *entry[2:]) for entry in known],
        not_finite=not_finite,
        otherwise=otherwise,
    )
