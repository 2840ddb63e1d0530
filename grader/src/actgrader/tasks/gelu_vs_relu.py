"""Task ``gelu_vs_relu`` (auto-graded part): where an activation passes no gradient at all.

The learner writes ``zero_gradient_fraction(z, activation)``: the fraction of the entries of a
batch of pre-activations ``z`` where the slope of ``activation`` (a function the check hands
over, e.g. ``torch.relu``) is exactly 0. It is compared with
:func:`actgrader.reference.dead_relu.zero_gradient_fraction`. ReLU blocks the gradient of
every non-positive pre-activation, about half of a standard normal batch; GELU, SiLU and Leaky
ReLU block none there, but in float32 the smooth ones' slopes underflow to exactly 0 far in
their left tails (GELU's below about -6, ELU's and SiLU's below about -100), which a case
checks so that "none for every smooth activation" cannot pass without autograd. The prose
part of the task (why GELU in transformers, ReLU in CNNs) is graded by an instructor with the
rubric in the solution notebook.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from actgrader.grading import CaseContext, Mistake, Ref, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference.dead_relu import zero_gradient_fraction
from actgrader.tasks._draws import each_mistake_caught, redraw_until

TASK = Task(
    "gelu_vs_relu",
    "GELU and ReLU: where the gradient stops",
    answer="zero_gradient_fraction",
    reference=zero_gradient_fraction,
    section="gelu-silu#sec-gelu-silu-properties",
)

#: The activations a check hands over: the name the learner receives, the function, a label.
ACTIVATIONS: dict[str, tuple[str, Callable[[Tensor], Tensor]]] = {
    "relu": ("torch.relu", torch.relu),
    "gelu": ("torch.nn.functional.gelu", F.gelu),
    "silu": ("torch.nn.functional.silu", F.silu),
    "leaky_relu": ("torch.nn.functional.leaky_relu", F.leaky_relu),
    "elu": ("torch.nn.functional.elu", F.elu),
}
LABELS = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "leaky_relu": "Leaky ReLU", "elu": "ELU"}

#: A fraction of n entries is a multiple of 1/n: this is far below one entry for the sizes used.
TOLERANCE = 1e-6


def negative_counted(label: str) -> str:
    return (
        f"You counted the negative pre-activations, z < 0. {label}'s slope for z < 0 is not 0 unless the "
        "activation is ReLU: GELU's and SiLU's are small (and negative in their dip), Leaky ReLU's is alpha, "
        "ELU's alpha e^z. Count where the gradient itself is exactly 0."
    )


def zero_outputs_counted(label: str) -> str:
    return (
        f"You counted where {label}(z) is 0, not where its slope is 0. GELU(0) and SiLU(0) are 0, but their "
        "slope there is 1/2. Take the gradient with autograd and count its zeros."
    )


def tail_underflow(label: str, right: float) -> str:
    return (
        f"Your fraction is 0, but on this batch {label}'s slope is exactly 0 at {right:.1%} of the "
        "entries: far in its left tail the slope underflows (in float32 GELU's below about -6, "
        "ELU's and SiLU's below about -100), so those entries pass no gradient either. Take the "
        "gradient with autograd and count its zeros rather than assuming there are none."
    )


def entries_not_fraction(count: int) -> str:
    return f"Return the fraction of the {count} entries, not the number of them."


NOT_ZERO_COUNTED = (
    "This is the fraction where the gradient is NOT zero: the question is the share of entries that "
    "pass no gradient back."
)
PERCENTAGE = "Return a fraction between 0 and 1, not a percentage."
RELU_KINK = (
    "You counted z < 0 only. At z = 0 ReLU has no derivative, and PyTorch uses the left slope, 0: "
    "an entry exactly at 0 passes no gradient either (count z <= 0)."
)
SMALL_COUNTED = (
    "You counted small slopes as zero. A slope of 1e-8 is small, but it still passes gradient back: count "
    "the entries where the gradient is exactly 0 (grad == 0), not below a tolerance."
)


def _small_slopes(z: Tensor, fn: Callable[[Tensor], Tensor], got: float | None) -> float | None:
    """The fraction a learner gets by calling "zero" every slope below some tolerance, read from ``got``.

    The tolerance is unknown; the candidate fractions are those of the tolerances at the batch's
    own small slopes (up to 0.05), and the one that equals ``got`` is the signature.
    """
    if got is None:
        return None
    leaf = z.detach().clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(fn(leaf).sum(), leaf)
    magnitudes = slope.abs().double().flatten()
    for bound in torch.unique(magnitudes[(magnitudes > 0) & (magnitudes <= 0.05)]).tolist():
        fraction = float((magnitudes <= bound).double().mean())
        if math.isclose(got, fraction, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            return fraction
    return None


def _known(z: Tensor, name: str, got: float | None = None) -> list[tuple[str, float]]:
    fn = ACTIVATIONS[name][1]
    label = LABELS[name]
    right = zero_gradient_fraction(z, fn)
    known = [
        (negative_counted(label), float((z < 0).double().mean())),
        (zero_outputs_counted(label), float((fn(z) == 0).double().mean())),
        (NOT_ZERO_COUNTED, 1 - right),
        (PERCENTAGE, 100 * right),
        (entries_not_fraction(z.numel()), right * z.numel()),
    ]
    if name == "relu":
        known.insert(0, (RELU_KINK, float((z < 0).double().mean())))
    else:
        known.append((tail_underflow(label, right), 0.0))
    small = _small_slopes(z, fn, got)
    if small is not None:
        known.append((SMALL_COUNTED, small))
    return known


def _judge(answer: Answer, z: Tensor, name: str) -> None:
    path, fn = ACTIVATIONS[name]
    got = expect.number(answer(z, Ref(path)), name="zero_gradient_fraction(z, activation)")
    want = zero_gradient_fraction(z, fn)
    if abs(got - want) <= TOLERANCE:
        return
    for message, wrong in _known(z, name, got):
        if math.isclose(got, wrong, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            raise Mistake(message)
    raise Mistake(
        f"For {LABELS[name]} on this batch of {z.numel()} pre-activations your fraction is {got:.6g}; it should be "
        f"{want:.6g}. Take the gradient of activation(z).sum() with respect to z (autograd) and count the entries "
        "where it is exactly 0."
    )


def _normal(seed: int, shape: tuple[int, ...], mean: float = 0.0, std: float = 1.0, dtype=torch.float32) -> Tensor:
    return mean + std * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@TASK.case(points=1, section="relu-family#sec-relu-definitions")
def standard_normal(answer: Answer, ctx: CaseContext) -> None:
    """standard normal pre-activations: ReLU, then GELU"""
    z = _normal(ctx.small_seed(), (64, 50))
    _judge(answer, z, "relu")
    _judge(answer, z, "gelu")


@TASK.case(points=1, section="relu-family#sec-relu-definitions")
def exact_zeros(answer: Answer, ctx: CaseContext) -> None:
    """a batch where a quarter of the entries are exactly 0"""
    z = _normal(ctx.small_seed(), (40, 25))
    z[:10] = 0.0
    for name in ("relu", "gelu", "silu"):
        _judge(answer, z, name)


def _uniform(seed: int, shape: tuple[int, ...], low: float, high: float) -> Tensor:
    return low + (high - low) * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


@TASK.case(points=1)
def other_activations(answer: Answer, ctx: CaseContext) -> None:
    """a Leaky ReLU and an ELU layer, a ReLU layer pushed negative (mean -1), and far left tails in float32"""
    z = _normal(ctx.small_seed(), (30, 40))
    _judge(answer, z, "leaky_relu")
    _judge(answer, z, "elu")
    _judge(answer, _normal(ctx.small_seed() + 1, (30, 40), mean=-1.0), "relu")
    # In float32 the slope underflows to exactly 0 far left: GELU's below about -6, ELU's and
    # SiLU's below about -100. There, too, no gradient passes.
    _judge(answer, _uniform(ctx.small_seed() + 2, (30, 40), -14.0, -2.0), "gelu")
    far = _uniform(ctx.small_seed() + 3, (30, 40), -150.0, -50.0)
    _judge(answer, far, "elu")
    _judge(answer, far, "silu")


@TASK.case(points=2, hidden=True)
def random_layers(answer: Answer, ctx: CaseContext) -> None:
    """batches of random shape, shift and spread, every activation"""
    rng = ctx.rng()
    batches = redraw_until(
        lambda: _random_batches(rng, ctx.small_seed()),
        lambda drawn: each_mistake_caught(WRONG_FRACTIONS, drawn, _separates),
        case=ctx.label,
    )
    for z, name in batches:
        _judge(answer, z, name)


def _random_batches(rng: np.random.Generator, mask_seed: int) -> list[tuple[Tensor, str]]:
    batches = []
    for name in ACTIVATIONS:
        shape = tuple(int(n) for n in rng.integers(1, 40, size=int(rng.integers(1, 4))))
        mean, std = float(rng.uniform(-2.0, 1.0)), float(rng.uniform(0.3, 2.0))
        # float64: PyTorch's GELU slope is exactly 0 below about -6.15 in float32, which
        # would make the answer depend on how far the random tail reaches
        z = _normal(int(rng.integers(2**31)), shape, mean, std, torch.float64)
        if rng.random() < 0.5:
            z = torch.where(torch.rand(shape, generator=torch.Generator().manual_seed(mask_seed)) < 0.2, 0.0, z)
        batches.append((z, name))
    # and one far left tail in float32, where the slope of every smooth activation underflows
    low = float(rng.uniform(-200.0, -20.0))
    tail = _uniform(int(rng.integers(2**31)), (int(rng.integers(10, 40)), 20), low, low / 10)
    batches.append((tail, str(rng.choice(["gelu", "silu", "elu"]))))
    return batches


def _slopes(z: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
    leaf = z.detach().clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(fn(leaf).sum(), leaf)
    return slope


#: The known mistakes as functions of (z, activation): the random case's batches are redrawn,
#: from the same generator, until each of them is wrong on one batch at least. Otherwise batches
#: without exact zeros would let "where the output is 0" pass (the smooth activations' slopes
#: are nowhere 0 in float64, nor their outputs), a ReLU batch with no entry at or below 0 a
#: percentage or a count, a tail short of the underflow "none for the smooth ones", and so on.
WRONG_FRACTIONS: tuple[Callable[[Tensor, Callable[[Tensor], Tensor]], float], ...] = (
    lambda z, fn: float((z < 0).double().mean()),
    lambda z, fn: float((z <= 0).double().mean()),
    lambda z, fn: float((fn(z) == 0).double().mean()),
    lambda z, fn: 1 - zero_gradient_fraction(z, fn),
    lambda z, fn: 100 * zero_gradient_fraction(z, fn),
    lambda z, fn: zero_gradient_fraction(z, fn) * z.numel(),
    lambda z, fn: float((_slopes(z, fn).abs() < 1e-2).double().mean()),
    lambda z, fn: zero_gradient_fraction(z, fn) if fn is torch.relu else 0.0,
)


def _separates(wrong: Callable[[Tensor, Callable[[Tensor], Tensor]], float], batch: tuple[Tensor, str]) -> bool:
    z, name = batch
    fn = ACTIVATIONS[name][1]
    return abs(wrong(z, fn) - zero_gradient_fraction(z, fn)) > 10 * TOLERANCE
