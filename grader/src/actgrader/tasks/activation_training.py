"""Task ``activation_training``: train one MLP with different hidden activations and return the loss curves.

The learner writes ``train_mlp(x, y, weights, activation, lr, epochs)``: full-batch gradient
descent on the mean squared error of a bias-free MLP (``actgrader.reference.forward``'s
conventions), returning the loss *before* each of the ``epochs`` updates. The check hands
over the data, the initial weights (so "the same seed" means the same starting point) and the
hyper-parameters, compares the curve with :func:`actgrader.reference.training.train_mlp`, and
checks a property of the four activations over several initial weights: with the notebook's
settings every curve falls and the sigmoid network ends highest (on curves that match the
reference's for those weights, so that curves made up to have the property earn nothing).
That property is verified for every seed hidden cases may draw (:data:`SEED_POOL`) by the
task's tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from actgrader import datasets
from actgrader.grading import CaseContext, Mistake, Ref, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference.forward import Activation, forward_pass, random_weights
from actgrader.reference.training import single_thread, train_mlp

TASK = Task(
    "activation_training",
    "The same MLP trained with four hidden activations",
    answer="train_mlp",
    reference=train_mlp,
    section="relu-family#sec-relu-convergence-myth",
)

#: The hidden activations compared, by the name a check hands over and the function it stands for.
ACTIVATIONS: dict[str, tuple[str, Activation]] = {
    "sigmoid": ("torch.sigmoid", torch.sigmoid),
    "tanh": ("torch.tanh", torch.tanh),
    "relu": ("torch.relu", torch.relu),
    "gelu": ("torch.nn.functional.gelu", F.gelu),
}

# The notebook's settings: y = sin(2 pi x) + noise on 128 points, the input with a constant 1
# appended (the only bias the network has), two hidden layers of 16 units.
POINTS = 128
DATA_SEED = 0
WIDTHS: tuple[int, ...] = (2, 16, 16, 1)
LR = 0.1
EPOCHS = 50
PUBLIC_SEEDS: tuple[int, ...] = (0, 1)
#: The initial-weight seeds hidden cases draw from; the property is verified on all of them.
SEED_POOL: range = range(100)

ORDER_SECTION = "sigmoid#sec-sigmoid-properties"

# Every case runs with one intra-op thread (restored afterwards), the learner's function
# included: on tensors this small a second thread only adds overhead (measured: 0.25 ms per
# training step on one thread, 1 to 5 ms on two busy cores). The batch grader's sandbox runs
# single-threaded anyway.

RTOL, ATOL = 1e-4, 1e-7


def with_constant_feature(x: Tensor) -> Tensor:
    """``x`` with a column of ones appended: the first layer's weights on it act as a bias."""
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)


def notebook_problem(seed: int) -> tuple[Tensor, Tensor, list[Tensor]]:
    """The notebook's data and the initial weights drawn with ``seed``."""
    x, y = datasets.sine_regression(POINTS, seed=DATA_SEED)
    return with_constant_feature(x), y, random_weights(WIDTHS, torch.Generator().manual_seed(seed))


def _variant(
    x: Tensor,
    y: Tensor,
    weights: Sequence[Tensor],
    activation: Activation,
    lr: float,
    epochs: int,
    *,
    loss: Callable[[Tensor], Tensor] = torch.mean,
    output_activation: bool = False,
    accumulate: bool = False,
    final: list[Tensor] | None = None,
) -> list[float]:
    """The reference's loop under a misconception: another loss, an activation on the output, gradients that add up.

    With ``final`` (an empty list), the trained weights are appended to it.
    """
    params = [w.detach().clone().requires_grad_(True) for w in weights]
    total = [torch.zeros_like(w) for w in weights]
    losses = []
    for _ in range(epochs):
        out = forward_pass(x, params, activation)
        if output_activation:
            out = activation(out)
        value = loss((out - y) ** 2)
        losses.append(value.item())
        grads = torch.autograd.grad(value, params)
        if accumulate:
            total = [t + g for t, g in zip(total, grads, strict=True)]
            grads = tuple(total)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    if final is not None:
        final.extend(p.detach() for p in params)
    return losses


RECORDED_AFTER = (
    "The loss was recorded after each update: the first entry must be the loss of the initial weights. "
    "In each epoch compute the loss, record it, then update."
)
NEVER_UPDATED = (
    "The loss never changes: the weights are not updated. Update them in place under torch.no_grad() "
    "(w -= lr * grad), so that the next epoch's forward pass uses them."
)
ASCENT = "The loss moves up the gradient: gradient descent subtracts, W <- W - lr * dL/dW."
ACCUMULATED = (
    "The gradients add up from epoch to epoch: with loss.backward(), set each weight's .grad to None "
    "(or zero it) after every update, or use torch.autograd.grad, which does not accumulate."
)
SUMMED = (
    "The loss is the mean of the squared errors over every entry, ((y_hat - y) ** 2).mean(), "
    "not their sum: the sum also makes every step as many times larger as there are entries."
)
HALVED = "The loss is the plain mean of the squared errors, without a factor 1/2 (which also halves every step)."
OUTPUT_ACTIVATION = (
    "The activation was applied after the output layer too. The last layer is linear: the network's "
    "output is W_K h_{K-1}."
)


def ignores_activation(used: str, asked: str) -> str:
    """The message for a function that trained with ``used`` when ``asked`` was handed over."""
    return (
        f"Your function trained with {used} whatever `activation` it was given ({asked} here): "
        "call the `activation` argument after every hidden layer."
    )


NOT_REINITIALISED = (
    "This curve starts where the previous call's training ended: your function keeps the weights it trained "
    "(in a variable outside it) instead of starting again from the `weights` it is given. Every call must "
    "start from fresh copies, w.clone().requires_grad_(True), so that the activations are compared from the "
    "same starting point."
)
IN_PLACE_ON_LEAF = (
    "The update ran on tensors that autograd tracks: w -= lr * grad on a weight that requires grad is refused. "
    "Update under torch.no_grad() (with torch.no_grad(): w -= lr * grad)."
)
NO_REQUIRES_GRAD = (
    "The weights do not require gradients, so autograd has nothing to differentiate: train copies that do, "
    "w.clone().requires_grad_(True)."
)
GRAPH_REUSED = (
    "backward() ran twice through the same graph: the forward pass must be computed again in every epoch, "
    "from the current weights, before the loss and its gradient."
)
NEW_TENSOR_EACH_STEP = (
    "w = w - lr * w.grad makes a new tensor that is not a leaf, so after the next backward() its .grad is None. "
    "Update the weights in place under torch.no_grad() (w -= lr * w.grad), or use torch.autograd.grad."
)
KNOWN_ERRORS: list[expect.KnownError] = [
    (expect.error_mentions("RuntimeError", "a leaf Variable that requires grad"), IN_PLACE_ON_LEAF),
    (expect.error_mentions("RuntimeError", "does not require grad"), NO_REQUIRES_GRAD),
    (expect.error_mentions("RuntimeError", "backward through the graph a second time"), GRAPH_REUSED),
    (expect.error_mentions("TypeError", "NoneType"), NEW_TENSOR_EACH_STEP),
    (expect.error_mentions("AttributeError", "'NoneType' object"), NEW_TENSOR_EACH_STEP),
]

#: A call of the learner's function within a case: (x, y, weights, activation name, lr, epochs).
Call = tuple[Tensor, Tensor, list[Tensor], str, float, int]


def _known(
    x: Tensor, y: Tensor, weights: list[Tensor], name: str, lr: float, epochs: int
) -> list[tuple[str, Callable[[], list[float]]]]:
    """Misconceptions, each with a function computing the curve it gives (run only if needed)."""
    act = ACTIVATIONS[name][1]
    known: list[tuple[str, Callable[[], list[float]]]] = [
        (RECORDED_AFTER, lambda: train_mlp(x, y, weights, act, lr, epochs + 1)[1:]),
        (NEVER_UPDATED, lambda: [train_mlp(x, y, weights, act, lr, 1)[0]] * epochs),
        (ASCENT, lambda: train_mlp(x, y, weights, act, -lr, epochs)),
        (ACCUMULATED, lambda: _variant(x, y, weights, act, lr, epochs, accumulate=True)),
        (SUMMED, lambda: _variant(x, y, weights, act, lr, epochs, loss=torch.sum)),
        (HALVED, lambda: _variant(x, y, weights, act, lr, epochs, loss=lambda e: 0.5 * e.mean())),
        (OUTPUT_ACTIVATION, lambda: _variant(x, y, weights, act, lr, epochs, output_activation=True)),
    ]
    for other, (_, other_act) in ACTIVATIONS.items():
        if other != name:
            known.append(
                (
                    ignores_activation(other, name),
                    lambda other_act=other_act: train_mlp(x, y, weights, other_act, lr, epochs),
                )
            )
    return known


def as_curve(got: Any, epochs: int) -> Tensor:
    """The learner's curve as a float64 vector of ``epochs`` losses, or a :class:`Mistake` saying what it is instead."""
    if isinstance(got, Tensor):
        values = got.detach().double().flatten() if got.dim() <= 1 else None
    elif isinstance(got, (list, tuple)):
        try:
            values = torch.tensor([float(v) for v in got], dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            values = None
    else:
        values = None
    if values is None:
        raise Mistake(
            f"train_mlp should return the loss curve: a list of {epochs} numbers (or a 1-D tensor), "
            f"not {type(got).__name__}{' of shape ' + str(tuple(got.shape)) if isinstance(got, Tensor) else ''}."
        )
    if len(values) == epochs + 1:
        raise Mistake(
            f"The curve has {epochs + 1} losses for {epochs} epochs: record the loss at the start of each epoch, "
            "before its update, and not again after the last one."
        )
    if len(values) != epochs:
        raise Mistake(f"The curve has {len(values)} losses; it should have one per epoch, {epochs}.")
    return values


def _close(a: Tensor, b: Tensor) -> bool:
    return bool(torch.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True).all())


def _continued(previous: Call, x: Tensor, y: Tensor, name: str, lr: float, epochs: int) -> list[float]:
    """The curve of training with ``name`` from the weights the ``previous`` call's training ended with."""
    px, py, pweights, pname, plr, pepochs = previous
    final: list[Tensor] = []
    _variant(px, py, pweights, ACTIVATIONS[pname][1], plr, pepochs, final=final)
    return train_mlp(x, y, final, ACTIVATIONS[name][1], lr, epochs)


def judge_curve(
    answer: Answer,
    x: Tensor,
    y: Tensor,
    weights: list[Tensor],
    name: str,
    lr: float,
    epochs: int,
    previous: Call | None = None,
) -> Tensor:
    """Compare the learner's curve with the reference on the same inputs; name the mistake if it differs.

    ``previous`` is the call this case made before, if any: a curve that continues its training
    shows weights kept from call to call.
    """
    path, act = ACTIVATIONS[name]
    with single_thread():
        with expect.known_errors(KNOWN_ERRORS):
            got = as_curve(answer(x, y, weights, Ref(path), lr, epochs), epochs)
        want = torch.tensor(train_mlp(x, y, weights, act, lr, epochs), dtype=torch.float64)
        if _close(got, want):
            return got
        known = _known(x, y, weights, name, lr, epochs)
        if previous is not None and all(p.shape == w.shape for p, w in zip(previous[2], weights, strict=True)):
            known.insert(0, (NOT_REINITIALISED, lambda: _continued(previous, x, y, name, lr, epochs)))
        for message, curve in known:
            if _close(got, torch.tensor(curve(), dtype=torch.float64)):
                raise Mistake(message)
    if not bool(torch.isfinite(got).all()):
        epoch = int(torch.nonzero(~torch.isfinite(got))[0])
        raise Mistake(
            f"The loss is {got[epoch].item()} at epoch {epoch + 1} ({name}, lr = {lr:g}), where the reference stays "
            "finite: check the loss and the size of the update."
        )
    epoch = int((got - want).abs().argmax())
    raise Mistake(
        f"The {name} curve differs from full-batch gradient descent on the mean squared error: at epoch "
        f"{epoch + 1} your loss is {got[epoch].item():.6g}, the reference's {want[epoch].item():.6g}. Check the "
        "forward pass, the loss and the update order (loss, record, gradient, step)."
    )


@TASK.case(points=1)
def tanh_network(answer: Answer, ctx: CaseContext) -> None:
    """a tanh network: the curve matches, epoch by epoch"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    x = with_constant_feature(torch.rand(32, 2, generator=gen) * 2 - 1)
    y = torch.sin(3 * x[:, :1]) * torch.cos(2 * x[:, 1:2])
    judge_curve(answer, x, y, random_weights((3, 8, 8, 1), gen), "tanh", 0.2, 20)


@TASK.case(points=1)
def each_activation(answer: Answer, ctx: CaseContext) -> None:
    """the same weights with sigmoid, ReLU and GELU"""
    x, y, weights = notebook_problem(PUBLIC_SEEDS[0])
    previous: Call | None = None
    for name in ("sigmoid", "relu", "gelu"):
        judge_curve(answer, x[:48], y[:48], weights, name, LR, 15, previous)
        previous = (x[:48], y[:48], weights, name, LR, 15)


def _falls_and_sigmoid_ends_highest(answer: Answer, seed: int) -> None:
    x, y, weights = notebook_problem(seed)
    # Each curve must first be the reference's for this seed: judging the ordering alone would
    # credit curves made up to have it.
    curves: dict[str, Tensor] = {}
    previous: Call | None = None
    for name in ACTIVATIONS:
        curves[name] = judge_curve(answer, x, y, weights, name, LR, EPOCHS, previous)
        previous = (x, y, weights, name, LR, EPOCHS)
    names = list(curves)
    for name, curve in curves.items():
        if not bool(torch.isfinite(curve).all()) or not curve[-1] < curve[0]:
            raise Mistake(
                f"With the notebook's settings (seed {seed}) the {name} loss should fall over {EPOCHS} epochs; yours "
                f"went from {curve[0].item():.4g} to {curve[-1].item():.4g}. Check the sign and the size of the update."
            )
    finals = {name: curve[-1].item() for name, curve in curves.items()}
    lower = [name for name in names if name != "sigmoid" and finals[name] >= finals["sigmoid"]]
    if lower:
        shown = ", ".join(f"{name} {value:.4g}" for name, value in finals.items())
        raise Mistake(
            f"With the notebook's settings (seed {seed}) the sigmoid network should end with the highest loss, "
            f"but {' and '.join(lower)} did not end below it ({shown}). The sigmoid's slope is at most 1/4 and its "
            "outputs are all positive, so it learns slowest here. If the other cases of this task fail too, fix "
            "what they name first."
        )


@TASK.case(points=1, section=ORDER_SECTION)
def sigmoid_learns_slowest(answer: Answer, ctx: CaseContext) -> None:
    """seeds 0 and 1: every curve falls, the sigmoid's ends highest"""
    for seed in PUBLIC_SEEDS:
        _falls_and_sigmoid_ends_highest(answer, seed)


@TASK.case(points=1, hidden=True)
def random_problems(answer: Answer, ctx: CaseContext) -> None:
    """networks, data and hyper-parameters drawn at random"""
    rng = ctx.rng()
    for _ in range(2):
        n_in, n_out = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        widths = (n_in + 1, *(int(w) for w in rng.integers(2, 13, size=int(rng.integers(1, 3)))), n_out)
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        x = with_constant_feature(torch.randn(int(rng.integers(8, 49)), n_in, generator=gen))
        y = torch.tanh(x @ torch.randn(n_in + 1, n_out, generator=gen))
        name = str(rng.choice(sorted(ACTIVATIONS)))
        lr = float(10 ** rng.uniform(math.log10(0.02), math.log10(0.3)))
        judge_curve(answer, x, y, random_weights(widths, gen), name, lr, int(rng.integers(5, 21)))


@TASK.case(points=1, hidden=True, section=ORDER_SECTION)
def sigmoid_learns_slowest_other_seeds(answer: Answer, ctx: CaseContext) -> None:
    """two other initial weights: every curve falls, the sigmoid's ends highest"""
    pool = [s for s in SEED_POOL if s not in PUBLIC_SEEDS]
    for seed in ctx.rng().choice(pool, size=2, replace=False):
        _falls_and_sigmoid_ends_highest(answer, int(seed))
