"""Task ``double_softmax``: train one classifier with a softmax before ``CrossEntropyLoss`` and without.

The learner writes ``train_classifier(x, y, weights, lr, steps, softmax_first)``: full-batch
gradient descent on a bias-free ReLU network handed over as tensors, with
``F.cross_entropy(softmax(logits))`` (the bug) or ``F.cross_entropy(logits)`` (the fix), and
returns the cross-entropy of the network's own probabilities before each update, so that
both set-ups are measured on one scale. The curves are compared with
:func:`actgrader.reference.outputs.double_softmax_curve` on the same data and initial
weights; then, over several seeds, the learner's own curves (each first compared with the
reference's, so that curves made up to have the property earn nothing) must show the property
the chapter measures: after the same number of steps the fix ends at least :data:`FACTOR` times
lower.

The set-up is the chapter's ten-blob experiment made small (16-unit hidden layers, 60 steps).
On it the double softmax still learns (its accuracy climbs well above chance), but slowly,
and the examples it gets wrong it gets confidently wrong, so the cross-entropy of its
probabilities stays high. The test suite checks the property's margin over many set-ups of
the hidden cases' family (10 to 12 classes) and shows an eight-class run where it fails:
with fewer classes the gap can close, so the property is only claimed where it holds.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from actgrader import datasets
from actgrader.grading import CaseContext, Mistake, Task
from actgrader.grading.answer import Answer
from actgrader.reference import outputs as ref
from actgrader.reference.forward import as_sequential
from actgrader.reference.models import linear_layers, make_mlp
from actgrader.reference.training import single_thread

TASK = Task(
    "double_softmax",
    "A softmax before CrossEntropyLoss, and the fix",
    answer="train_classifier",
    reference=ref.double_softmax_curve,
    section="output-and-loss#sec-double-softmax",
)

LR = 0.5
STEPS = 60
HIDDEN = (16, 16)
SPREAD = 0.3
#: After the same number of steps the double softmax's cross-entropy must be at least this many
#: times the fix's (measured over 1100 set-ups of the hidden cases' family: at least 6 times).
FACTOR = 3.0
#: Curves are compared within this relative tolerance: float32 training in another order of
#: operations (another thread count, ``F.linear``, ``torch.optim.SGD``) stays far inside it.
RTOL = 1e-3
ATOL = 1e-5


@dataclass(frozen=True)
class Setup:
    """One experiment: ``points`` examples of ``classes`` Gaussian blobs and a seeded initial network."""

    classes: int
    points: int
    data_seed: int
    weight_seed: int

    def tensors(self) -> tuple[Tensor, Tensor, list[Tensor]]:
        x, y = datasets.gaussian_blobs(self.points, classes=self.classes, spread=SPREAD, seed=self.data_seed)
        model = make_mlp([2, *HIDDEN, self.classes], "relu", init="kaiming", bias=False, seed=self.weight_seed)
        return x, y, [layer.weight.detach().clone() for layer in linear_layers(model)]

    def describe(self) -> str:
        return f"{self.classes} classes, {self.points} points"


def random_setup(rng: np.random.Generator) -> Setup:
    """A set-up of the hidden cases' family: 10 to 12 classes, 160 to 240 points, any seeds."""
    return Setup(
        int(rng.integers(10, 13)), int(rng.integers(160, 241)), int(rng.integers(2**31)), int(rng.integers(2**31))
    )


PUBLIC = (Setup(10, 200, 0, 0), Setup(10, 200, 1, 1), Setup(10, 200, 2, 2))


def _curve(value: Any, *, name: str) -> Tensor:
    """The learner's curve as a float64 vector (NaN and infinities kept: they are diagnosed, not rejected)."""
    if isinstance(value, np.ndarray | Tensor):
        if value.ndim != 1:
            raise Mistake(f"{name} should be a list of numbers, one per step; it has shape {tuple(value.shape)}.")
        entries = value.tolist()
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        kind = "None (did you forget `return`?)" if value is None else f"a {type(value).__name__}"
        raise Mistake(f"{name} should be a list of numbers, one per step, but it is {kind}.")
    out = []
    for entry in entries:
        if isinstance(entry, Tensor | np.ndarray | np.generic) and np.size(entry) == 1:
            entry = entry.item()
        if isinstance(entry, bool) or not isinstance(entry, int | float):
            raise Mistake(f"{name} should hold plain numbers (use loss.item()); one entry is a {type(entry).__name__}.")
        out.append(float(entry))
    return torch.tensor(out, dtype=torch.float64)


def _same(got: Tensor, want: Any) -> bool:
    want_t = torch.as_tensor(want, dtype=torch.float64)
    return got.shape == want_t.shape and bool(torch.allclose(got, want_t, rtol=RTOL, atol=ATOL))


def _flag(softmax_first: bool) -> str:
    return f"softmax_first={softmax_first}"


@functools.lru_cache(maxsize=16)
def _reference_runs(setup: Setup) -> dict[bool, ref.ClassifierRun]:
    """The chapter's runs on ``setup`` for both flags (``steps + 1`` values of each measure).

    ``cross_entropy[:STEPS]`` is :func:`~actgrader.reference.outputs.double_softmax_curve`
    (the task's reference); ``loss`` is what each run minimized. Cached: every answer checked
    in one process meets the same set-ups.
    """
    x, y, weights = setup.tensors()
    runs = {}
    for flag in (False, True):
        with torch.random.fork_rng(devices=[]):
            model = as_sequential(weights, torch.nn.ReLU())
        runs[flag] = ref.train_classifier(model, x, y, softmax_first=flag, lr=LR, epochs=STEPS)
    return runs


NLL_ON_LOGITS = (
    "The curve goes below 0, which a cross-entropy never does. That is NLLLoss on raw "
    "logits: NLLLoss expects log-probabilities and only returns -z_y, so it rewards "
    "making the right logit as large as possible without bound. Use "
    "F.cross_entropy(logits, y) (or NLLLoss after log_softmax), and record that."
)
DROPS_THE_LOG = (
    "Your fix trains with NLLLoss on the softmax's probabilities: that removes the second softmax but also the "
    "log. NLLLoss only picks -p_y out of what it is given (it expects log-probabilities), so it minimizes -p_y, "
    "a loss whose gradient vanishes on confidently wrong examples just as the double softmax's does. Give "
    "F.cross_entropy the raw logits (or NLLLoss the log_softmax)."
)
LOG_TWICE = (
    "The curve contains NaN. The usual cause is a log taken twice: log_softmax (or "
    "CrossEntropyLoss) already works with log-probabilities, which are negative, and "
    "torch.log of a negative number is NaN. CrossEntropyLoss takes the raw logits and "
    "applies log-softmax itself: give it nothing else."
)
SOFTMAX_IN_BOTH = (
    "With softmax_first=False your curve is the softmax-first one: the softmax is applied in "
    "both versions. The fix is to remove it: CrossEntropyLoss takes the raw logits and "
    "applies log-softmax itself."
)
SOFTMAX_NEVER = (
    "With softmax_first=True your curve is the fixed one: the softmax never reached the loss. "
    "When the flag is set, compute F.cross_entropy(torch.softmax(logits, dim=1), y)."
)
WRONG_DIM = (
    "With softmax_first=True your softmax runs over the batch (dim=0), not over the classes: each column, "
    "one class across the examples, sums to 1. The logits have one row per example: torch.softmax(logits, "
    "dim=1)."
)
DOUBLED_RECORDED = (
    "With softmax_first=True your curve is the doubled loss itself, the number being minimized. "
    "It is not comparable with the fix's: its floor is log(e + C - 1) - 1, not 0. Record "
    "the cross-entropy of the network's own probabilities, F.cross_entropy(logits, y), "
    "in both versions, and minimize the doubled loss only when the flag is set."
)
RECORDED_AFTER = (
    "Your curve is recorded after each update. Record the loss of the current weights "
    "first, then update them: the first value is the untrained network's loss."
)
SUMMED = (
    "The loss is summed over the batch instead of averaged: CrossEntropyLoss averages "
    "(reduction='mean'), which also keeps the learning rate meaningful for any batch size."
)
TRAINING_DIFFERS = (
    "The first value is right (the network and the loss are), but training then differs. "
    "Use plain full-batch gradient descent with the lr you are given, W <- W - lr * dL/dW "
    "for every weight, from gradients computed afresh at each step (zero them, or use "
    "torch.autograd.grad), without momentum; minimize F.cross_entropy on the logits, or "
    "on torch.softmax(logits, dim=1) (over the classes) when softmax_first is set."
)
UNTRAINED_DIFFERS = (
    "The loss of the untrained network already differs. Check the network (ReLU between "
    "layers, none after the last, h @ W.T with one example per row) and that you record "
    "F.cross_entropy(logits, y): the cross-entropy of the network's own probabilities."
)


def one_too_many(steps: int) -> str:
    return (
        f"The curve has {steps + 1} values, one too many: record the loss before each of the "
        f"{steps} updates, not once more after the last one."
    )


def wrong_length(length: int, steps: int) -> str:
    return f"The curve has {length} values; it should have one per step, {steps}, each taken before that step's update."


def _nll_of_probabilities(logits: Tensor, y: Tensor) -> Tensor:
    return F.nll_loss(torch.softmax(logits, dim=1), y)


def _softmax_over_batch(logits: Tensor, y: Tensor) -> Tensor:
    return F.cross_entropy(torch.softmax(logits, dim=0), y)


#: Objectives and recorded measures of the variants below, by name.
_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "cross_entropy": F.cross_entropy,
    "nll_of_probabilities": _nll_of_probabilities,
    "softmax_over_batch": _softmax_over_batch,
}


@functools.lru_cache(maxsize=32)
def _variant_curve(setup: Setup, objective: str, record: str) -> tuple[float, ...]:
    """Full-batch gradient descent on ``setup`` minimizing the loss ``objective``, recording ``record``
    before each step: what a learner's loop under a misconception gives (cached per set-up)."""
    x, y, weights = setup.tensors()
    params = [w.clone().requires_grad_(True) for w in weights]
    curve = []
    with single_thread():
        for _ in range(STEPS):
            logits = x
            for k, w in enumerate(params):
                logits = logits @ w.T
                if k < len(params) - 1:
                    logits = torch.relu(logits)
            curve.append(float(_LOSSES[record](logits.detach(), y)))
            grads = torch.autograd.grad(_LOSSES[objective](logits, y), params)
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p -= LR * g
    return tuple(curve)


def _diagnose(curve: Tensor, setup: Setup, softmax_first: bool) -> str:
    """What the learner's (wrong) curve shows, in terms of the course."""
    steps = STEPS
    if not softmax_first and any(
        _same(curve, _variant_curve(setup, "nll_of_probabilities", record))
        for record in ("cross_entropy", "nll_of_probabilities")
    ):
        return DROPS_THE_LOG
    if bool((curve < 0).any()):
        return NLL_ON_LOGITS
    if bool(torch.isnan(curve).any()):
        return LOG_TWICE
    runs = _reference_runs(setup)
    same, other = runs[softmax_first], runs[not softmax_first]
    if not softmax_first and (_same(curve, other.cross_entropy[:steps]) or _same(curve, other.loss[:steps])):
        return SOFTMAX_IN_BOTH
    if softmax_first and _same(curve, other.cross_entropy[:steps]):
        return SOFTMAX_NEVER
    if softmax_first and _same(curve, same.loss[:steps]):
        return DOUBLED_RECORDED
    if softmax_first and any(
        _same(curve, _variant_curve(setup, "softmax_over_batch", record))
        for record in ("cross_entropy", "softmax_over_batch")
    ):
        return WRONG_DIM
    if len(curve) == steps + 1 and _same(curve, same.cross_entropy):
        return one_too_many(steps)
    if _same(curve, same.cross_entropy[1:]):
        return RECORDED_AFTER
    if len(curve) != steps:
        return wrong_length(len(curve), steps)
    first = same.cross_entropy[0]
    if math.isclose(float(curve[0]), setup.points * first, rel_tol=RTOL):
        return SUMMED
    if math.isclose(float(curve[0]), first, rel_tol=RTOL, abs_tol=ATOL):
        return TRAINING_DIFFERS
    return UNTRAINED_DIFFERS


def _train(answer: Answer, x: Tensor, y: Tensor, weights: list[Tensor], softmax_first: bool) -> Any:
    """Call the learner's function on one thread, as the reference runs: the tensors are tiny, and on
    a busy machine a second thread costs far more than it saves (ten times, measured here)."""
    with single_thread():
        return answer(x, y, weights, LR, STEPS, softmax_first)


def _judge(answer: Answer, setup: Setup, softmax_first: bool) -> Tensor:
    """The learner's curve for ``setup`` when it matches the reference; a named mistake otherwise."""
    x, y, weights = setup.tensors()
    name = f"the curve for {_flag(softmax_first)}"
    curve = _curve(_train(answer, x, y, weights, softmax_first), name=name)
    if _same(curve, _reference_runs(setup)[softmax_first].cross_entropy[:STEPS]):
        return curve
    raise Mistake(_diagnose(curve, setup, softmax_first))


def _fix_ends_lower(answer: Answer, setups: list[Setup]) -> None:
    """The chapter's finding on each setup, read from curves that must first be the reference's.

    (Judging the property alone would credit curves made up to have it.)
    """
    for setup in setups:
        curves = {flag: _judge(answer, setup, flag) for flag in (False, True)}
        fixed, doubled = float(curves[False][-1]), float(curves[True][-1])
        if not (math.isfinite(fixed) and math.isfinite(doubled) and fixed > 0) or doubled < FACTOR * fixed:
            raise Mistake(
                f"On {setup.describe()} your two versions ended at a cross-entropy of {fixed:.3f} "
                f"(logits) and {doubled:.3f} (softmax first) after {STEPS} steps. The fix should end at "
                f"least {FACTOR:g} times lower: if both are equal, the flag changes nothing; if the fix is "
                "the higher one, the flag works the wrong way round."
            )


@TASK.case(points=1)
def logits_curve(answer: Answer, ctx: CaseContext) -> None:
    """logits into CrossEntropyLoss: the reference's curve"""
    _judge(answer, PUBLIC[0], softmax_first=False)


@TASK.case(points=1)
def softmax_first_curve(answer: Answer, ctx: CaseContext) -> None:
    """softmax first: the reference's curve"""
    _judge(answer, PUBLIC[0], softmax_first=True)


@TASK.case(points=1)
def fix_ends_lower(answer: Answer, ctx: CaseContext) -> None:
    """on 2 more seeds, the fix ends at least 3 times lower"""
    _fix_ends_lower(answer, list(PUBLIC[1:]))


@TASK.case(points=1, hidden=True)
def other_data_and_weights(answer: Answer, ctx: CaseContext) -> None:
    """both curves on other data and initial weights"""
    setup = random_setup(ctx.rng())
    _judge(answer, setup, softmax_first=False)
    _judge(answer, setup, softmax_first=True)


@TASK.case(points=1, hidden=True)
def fix_ends_lower_other_seeds(answer: Answer, ctx: CaseContext) -> None:
    """the fix ends at least 3 times lower on other seeds"""
    rng = ctx.rng()
    _fix_ends_lower(answer, [random_setup(rng) for _ in range(2)])
