"""Task ``stable_softmax``: softmax along a given dimension, finite for logits of any size.

The learner writes ``softmax(x, dim=-1)``; it is compared with
:func:`actgrader.reference.formulas.softmax` on logits near ±1000, on rows of very
different scales, along every dimension of 1-, 2- and 3-D tensors, in float32 and float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.reference.naive import naive_softmax
from actgrader.tasks._stability import LOOSE, Known, dtype_name, judge

TASK = Task(
    "stable_softmax",
    "Softmax along a dimension, stable for large logits",
    answer="softmax",
    reference=ref.softmax,
    section="softmax#sec-softmax-stability",
)

WRONG_DIM_SECTION = "softmax#sec-softmax-definition"


def _no_keepdim(x: Tensor, dim: int) -> Tensor | None:
    """max and sum without ``keepdim=True``: they broadcast against the wrong axis (only runs for some shapes)."""
    try:
        e = torch.exp(x - x.amax(dim=dim))
        out = e / e.sum(dim=dim)
    except RuntimeError:
        return None
    return out if out.shape == x.shape else None


def _known(x: Tensor, dim: int) -> list[Known]:
    known: list[Known] = [
        (
            (
                "softmax gives NaN for logits near 1000: subtract the maximum first. e^1000 is inf in float32 "
                "and float64, and inf / inf is NaN; softmax(x - max x) is the same distribution and its largest "
                "exponent is e^0 = 1."
            ),
            naive_softmax(x, dim=dim),
        ),
        (
            (
                "Subtracting the minimum does not stop e^x from overflowing when the logits are far apart: "
                "subtract the largest logit, so that every exponent is <= 0."
            ),
            naive_softmax(x - x.amin(dim=dim, keepdim=True), dim=dim),
        ),
        (
            (
                "You subtracted the largest entry of the whole tensor: a slice whose logits are all far below it "
                "underflows to 0 / 0. Subtract each slice's own maximum, x.amax(dim, keepdim=True)."
            ),
            naive_softmax(x - x.max(), dim=dim),
        ),
        (
            (
                "The whole tensor sums to 1 instead of each slice along `dim`: take the maximum and the sum "
                "along `dim` only."
            ),
            ref.softmax(x.flatten(), dim=0).reshape(x.shape),
            WRONG_DIM_SECTION,
        ),
    ]
    for other in range(x.dim()):
        if other != dim % x.dim():
            known.append(
                (
                    (
                        f"Softmax was taken over the wrong dimension (dim={other}, asked for dim={dim}): the "
                        "entries along `dim` must sum to 1. Use the `dim` argument for the maximum and the sum."
                    ),
                    ref.softmax(x, dim=other),
                    WRONG_DIM_SECTION,
                )
            )
    no_keepdim = _no_keepdim(x, dim)
    if no_keepdim is not None:
        known.append(
            (
                (
                    "Without keepdim=True the maxima and sums lose their axis and broadcast along the wrong "
                    "one: use x.amax(dim, keepdim=True) and e.sum(dim, keepdim=True)."
                ),
                no_keepdim,
            )
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


def _judge(answer: Answer, x: Tensor, dim: int) -> None:
    got = answer(x, dim) if dim != -1 else answer(x)
    judge(
        got,
        ref.softmax(x, dim=dim),
        name="softmax(x)",
        tolerance=LOOSE,
        describe=_describe(x, dim),
        known=_known(x, dim),
        not_finite="Subtract each slice's maximum along `dim` before exponentiating: then no exponent is positive.",
        otherwise="Softmax is e^x / sum(e^x) along `dim`; subtracting the maximum first changes nothing else.",
    )


def _logits_near_1000(dtype: torch.dtype) -> Tensor:
    """Square, so that a missing keepdim broadcasts silently instead of failing."""
    ramp = torch.arange(4, dtype=dtype)
    return torch.stack([1000 - ramp, -1000 + ramp.flip(0), torch.tensor([1000, 0, -5, 3], dtype=dtype), ramp])


@TASK.case(points=1)
def logits_near_1000(answer: Answer, ctx: CaseContext) -> None:
    """logits near ±1000 (float32), each row a distribution"""
    _judge(answer, _logits_near_1000(torch.float32), -1)


@TASK.case(points=1)
def uses_dim(answer: Answer, ctx: CaseContext) -> None:
    """the `dim` argument: columns of a 2-D batch, dim 1 of a 3-D tensor"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    _judge(answer, 3 * torch.randn(3, 5, generator=gen), 0)
    _judge(answer, 3 * torch.randn(2, 4, 3, generator=gen), 1)
    _judge(answer, 3 * torch.randn(4, 4, generator=gen), 1)


@TASK.case(points=1)
def float64_mixed_scales(answer: Answer, ctx: CaseContext) -> None:
    """float64 rows of very different scales, and a 1-D vector"""
    x = torch.tensor([[1000.0, 999.0, 0.0], [-5.0, 0.0, 5.0], [-1000.0, -1002.0, -1001.0]], dtype=torch.float64)
    _judge(answer, x, -1)
    _judge(answer, torch.tensor([1e4, 0.0, -1e4, 9999.0], dtype=torch.float64), -1)


@TASK.case(points=2, hidden=True)
def random_logits(answer: Answer, ctx: CaseContext) -> None:
    """tensors of random shape, scale, offset, dtype and dim"""
    rng = ctx.rng()
    for _ in range(4):
        shape = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        dim = int(rng.integers(-len(shape), len(shape)))
        dtype = (torch.float32, torch.float64)[int(rng.integers(2))]
        scale = float(10 ** rng.uniform(-1, 3.5))
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        x = scale * torch.randn(shape, generator=gen, dtype=dtype) + float(rng.uniform(-2000, 2000))
        _judge(answer, x, dim)
