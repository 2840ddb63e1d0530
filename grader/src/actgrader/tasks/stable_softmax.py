"""Task ``stable_softmax``: softmax along a given dimension, finite for logits of any size.

The learner writes ``softmax(x, dim=-1)``; it is compared with
:func:`actgrader.reference.formulas.softmax` on logits near ±1000, on rows of very
different scales, along every dimension of 1-, 2- and 3-D tensors, in float32 and float64.
Stable means the slope too: on every input, what autograd sends back through the learner's
softmax for a random upstream gradient (the vector-Jacobian product a training step computes)
is compared with the reference's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.reference import naive
from actgrader.tasks._stability import LOOSE, Known, Tolerance, dtype_name, judge, learner_slopes

TASK = Task(
    "stable_softmax",
    "Softmax along a dimension, stable for large logits",
    answer="softmax",
    reference=ref.softmax,
    section="softmax#sec-softmax-stability",
)

WRONG_DIM_SECTION = "softmax#sec-softmax-definition"


NAIVE = (
    "softmax gives NaN for logits near 1000: subtract the maximum first. e^1000 is inf in float32 "
    "and float64, and inf / inf is NaN; softmax(x - max x) is the same distribution and its largest "
    "exponent is e^0 = 1."
)
MINUS_MINIMUM = (
    "Subtracting the minimum does not stop e^x from overflowing when the logits are far apart: "
    "subtract the largest logit, so that every exponent is <= 0."
)
GLOBAL_MAXIMUM = (
    "You subtracted the largest entry of the whole tensor: a slice whose logits are all far below it "
    "underflows to 0 / 0. Subtract each slice's own maximum, x.amax(dim, keepdim=True)."
)
WHOLE_TENSOR = (
    "The whole tensor sums to 1 instead of each slice along `dim`: take the maximum and the sum along `dim` only."
)
NO_KEEPDIM = (
    "Without keepdim=True the maxima and sums lose their axis and broadcast along the wrong "
    "one: use x.amax(dim, keepdim=True) and e.sum(dim, keepdim=True)."
)
MAX_PAIR = (
    "torch.max(x, dim) (and x.max(dim)) returns a pair (values, indices), not a tensor: take its .values, "
    "or use x.amax(dim, keepdim=True)."
)


def wrong_dim(other: int, dim: int) -> str:
    """The message for a softmax taken over dimension ``other`` when ``dim`` was asked for."""
    return (
        f"Softmax was taken over the wrong dimension (dim={other}, asked for dim={dim}): the "
        "entries along `dim` must sum to 1. Use the `dim` argument for the maximum and the sum."
    )


def _no_keepdim(x: Tensor, dim: int) -> Tensor:
    """max and sum without ``keepdim=True``: they broadcast against the wrong axis, or fail to."""
    e = torch.exp(x - x.amax(dim=dim))
    return e / e.sum(dim=dim)


def _known(x: Tensor, dim: int) -> list[Known]:
    known: list[Known] = [
        (NAIVE, naive.naive_softmax(x, dim=dim)),
        (MINUS_MINIMUM, naive.naive_softmax(x - x.amin(dim=dim, keepdim=True), dim=dim)),
        (GLOBAL_MAXIMUM, naive.naive_softmax(x - x.max(), dim=dim)),
        (WHOLE_TENSOR, ref.softmax(x.flatten(), dim=0).reshape(x.shape), WRONG_DIM_SECTION),
    ]
    for other in range(x.dim()):
        if other != dim % x.dim():
            known.append((wrong_dim(other, dim), ref.softmax(x, dim=other), WRONG_DIM_SECTION))
    if expect.raised_by(lambda: _no_keepdim(x, dim)) is None and _no_keepdim(x, dim).shape == x.shape:
        known.append((NO_KEEPDIM, _no_keepdim(x, dim)))
    return known


def _known_errors(x: Tensor, dim: int) -> list[expect.KnownError]:
    """Exceptions with a known cause: keepdim forgotten on a shape where the sizes clash, the (values, indices)
    pair of torch.max, and a dimension fixed in the code that this tensor does not have."""
    known: list[expect.KnownError] = [
        (expect.raises_like(lambda: _no_keepdim(x, dim)), NO_KEEPDIM),
        (expect.error_mentions("TypeError", "torch.return_types.max"), MAX_PAIR),
    ]
    for fixed in (1, 2, -2):
        if not -x.dim() <= fixed < x.dim():
            known.append(
                (expect.raises_like(lambda fixed=fixed: x.amax(dim=fixed)), wrong_dim(fixed, dim), WRONG_DIM_SECTION)
            )
    return known


def _describe(x: Tensor, dim: int):
    def describe(index: tuple[int, ...]) -> str:
        where = list(index)
        where[dim % x.dim()] = slice(None)
        logits = x[tuple(where)]
        shown = ", ".join(f"{v:.6g}" for v in logits[:6].tolist()) + (", ..." if logits.numel() > 6 else "")
        return f"at index {index} ({dtype_name(x.dtype)}, logits along dim {dim}: [{shown}])"

    return describe


SLOPE_NOT_FINITE = (
    "A gradient that is NaN or inf poisons every gradient upstream. Subtract each slice's maximum along `dim` "
    "before exponentiating, and build the result from torch operations only."
)
SLOPE_OTHERWISE = (
    "The gradient autograd sends back through softmax is s * (g - sum(s * g)) along `dim` (s the "
    "probabilities, g the upstream gradient); e^(x - max) / sum e^(x - max) gives it."
)


def _tolerance(x: Tensor, upstream: Tensor | None = None) -> dict[torch.dtype, Tolerance]:
    """LOOSE, widened for large logits: a correct softmax may compute x - log(sum e^x), whose rounding
    (a few units in the last place of the largest |x|) becomes a relative error of the probabilities;
    the gradient s * (g - sum(s * g)) carries that error times the upstream gradient g."""
    largest = float(x.abs().max()) if x.numel() else 0.0
    rtol = LOOSE[x.dtype].rtol + 4 * torch.finfo(x.dtype).eps * largest
    atol = LOOSE[x.dtype].atol + (rtol * float(upstream.abs().max()) if upstream is not None else 0.0)
    return {x.dtype: Tolerance(rtol, atol)}


def _judge(answer: Answer, x: Tensor, dim: int, gen: torch.Generator) -> None:
    """Values, then the gradient autograd sends back for an upstream gradient drawn from ``gen``."""
    args = (x, dim) if dim != -1 else (x,)
    describe = _describe(x, dim)
    with expect.known_errors(_known_errors(x, dim)):
        got = answer(*args)
    judge(
        got,
        ref.softmax(x, dim=dim),
        name="softmax(x)",
        tolerance=_tolerance(x),
        describe=describe,
        known=_known(x, dim),
        not_finite="Subtract each slice's maximum along `dim` before exponentiating: then no exponent is positive.",
        otherwise="Softmax is e^x / sum(e^x) along `dim`; subtracting the maximum first changes nothing else.",
    )
    upstream = torch.randn(x.shape, generator=gen, dtype=x.dtype)
    leaf = x.detach().clone().requires_grad_(True)
    (want,) = torch.autograd.grad(ref.softmax(leaf, dim=dim), leaf, grad_outputs=upstream)
    call = f"softmax(x, dim={dim})"
    got = expect.tensor(
        learner_slopes(answer, *args, call=call, cotangent=upstream),
        name=f"the gradient of {call}",
        shape=tuple(x.shape),
        dtype=x.dtype,
    )
    judge(
        got,
        want,
        name=f"the gradient autograd sends back through {call}",
        tolerance=_tolerance(x, upstream),
        describe=describe,
        not_finite=SLOPE_NOT_FINITE,
        otherwise=SLOPE_OTHERWISE,
    )


def _logits_near_1000(dtype: torch.dtype) -> Tensor:
    """Square, so that a missing keepdim broadcasts silently instead of failing."""
    ramp = torch.arange(4, dtype=dtype)
    return torch.stack([1000 - ramp, -1000 + ramp.flip(0), torch.tensor([1000, 0, -5, 3], dtype=dtype), ramp])


@TASK.case(points=1)
def logits_near_1000(answer: Answer, ctx: CaseContext) -> None:
    """logits near ±1000 (float32), each row a distribution (values and gradients)"""
    _judge(answer, _logits_near_1000(torch.float32), -1, torch.Generator().manual_seed(ctx.small_seed()))


@TASK.case(points=1)
def uses_dim(answer: Answer, ctx: CaseContext) -> None:
    """the `dim` argument: columns of a 2-D batch, dim 1 of a 3-D tensor (values and gradients)"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    _judge(answer, 3 * torch.randn(3, 5, generator=gen), 0, gen)
    _judge(answer, 3 * torch.randn(2, 4, 3, generator=gen), 1, gen)
    _judge(answer, 3 * torch.randn(4, 4, generator=gen), 1, gen)


@TASK.case(points=1)
def float64_mixed_scales(answer: Answer, ctx: CaseContext) -> None:
    """float64 rows of very different scales, and a 1-D vector (values and gradients)"""
    x = torch.tensor([[1000.0, 999.0, 0.0], [-5.0, 0.0, 5.0], [-1000.0, -1002.0, -1001.0]], dtype=torch.float64)
    gen = torch.Generator().manual_seed(ctx.small_seed())
    _judge(answer, x, -1, gen)
    _judge(answer, torch.tensor([1e4, 0.0, -1e4, 9999.0], dtype=torch.float64), -1, gen)


@TASK.case(points=2, hidden=True)
def random_logits(answer: Answer, ctx: CaseContext) -> None:
    """tensors of random shape, scale, offset, dtype and dim (values and gradients)"""
    rng = ctx.rng()
    while True:
        draws = [_random_logits(rng) for _ in range(4)]
        if all(any(_separates(wrong, x, dim) for x, dim, _ in draws) for wrong in WRONG_SOFTMAXES):
            break
    for x, dim, gen in draws:
        _judge(answer, x, dim, gen)


def _random_logits(rng: np.random.Generator) -> tuple[Tensor, int, torch.Generator]:
    shape = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    dim = int(rng.integers(-len(shape), len(shape)))
    dtype = (torch.float32, torch.float64)[int(rng.integers(2))]
    scale = float(10 ** rng.uniform(-1, 3.5))
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    x = scale * torch.randn(shape, generator=gen, dtype=dtype) + float(rng.uniform(-2000, 2000))
    return x, dim, gen


def _naive_after(shift: Callable[[Tensor, int], Tensor]) -> Callable[[Tensor, int], Tensor]:
    return lambda x, dim: naive.naive_softmax(x - shift(x, dim), dim=dim)


#: The known mistakes as functions of (x, dim): the random case's four tensors are redrawn, from
#: the same generator, until each of them is wrong on one of them at least. Otherwise a draw of
#: four 1-D tensors would let the whole tensor's softmax pass, four draws of the last dim a
#: softmax that ignores `dim`, four small scales the naive one, and so on.
WRONG_SOFTMAXES: tuple[Callable[[Tensor, int], Tensor], ...] = (
    lambda x, dim: naive.naive_softmax(x, dim=dim),
    _naive_after(lambda x, dim: x.amin(dim=dim, keepdim=True)),
    _naive_after(lambda x, dim: x.max()),
    lambda x, dim: ref.softmax(x.flatten(), dim=0).reshape(x.shape),
    lambda x, dim: ref.softmax(x, dim=-1),
    lambda x, dim: ref.softmax(x, dim=0),
    lambda x, dim: ref.softmax(x, dim=1),
    _no_keepdim,
)


def _separates(wrong: Callable[[Tensor, int], Tensor], x: Tensor, dim: int) -> bool:
    """``wrong`` raises on (x, dim), or is off by ten times the tolerance somewhere."""
    try:
        got = wrong(x, dim)
    except (RuntimeError, IndexError):
        return True
    want = ref.softmax(x, dim=dim)
    tolerance = _tolerance(x)[x.dtype]
    return got.shape != want.shape or not torch.allclose(got, want, rtol=10 * tolerance.rtol, atol=10 * tolerance.atol)
