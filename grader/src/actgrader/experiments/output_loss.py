"""The experiments of the chapter on outputs and losses that no check uses.

Taught in the chapter "Outputs and losses" (``book/output-and-loss.md``), next to the matching
table and the checked set-ups of :mod:`actgrader.reference.outputs`:

* :func:`margin_gradient_norms` and :func:`double_softmax_floor`: the gradient sizes of a
  double softmax and the lowest value the doubled loss can ever reach;
* :func:`bce_by_hand`, :func:`bce_on_sigmoid` and :func:`bce_with_logits` are three ways to
  write binary cross-entropy that agree at small logits and part ways at large ones;
* :func:`sigmoid_chain_gradient` and :func:`output_logit_gradient` measure saturation;
* :func:`softmax_bce_floor` and :func:`train_multilabel` show why multi-label outputs use a
  sigmoid per label;
* :func:`fit_regression` and :func:`nonnegative_mse_floor` test the claim that a ReLU output
  is needed to predict values larger than 1;
* :func:`softmax_view` is what the chapter's softmax widget draws.

Training is full-batch and on one thread, as in :mod:`actgrader.reference.outputs`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actgrader.reference.outputs import (
    MultilabelRun,
    Optimizer,
    full_batch_steps,
    logit_gradient,
    make_optimizer,
)
from actgrader.reference.training import single_thread

Head = Literal["sigmoid", "softmax"]


# --- multi-class: the size of the gradient, and the floor of a double softmax -----------------


def margin_logits(margins: Tensor, classes: int) -> Tensor:
    """Logit vectors for class 0 as the target, with ``z_1 - z_0 = margin``: ``z_0 = -m/2``, ``z_1 = m/2``, the rest 0.

    A large positive margin makes the example confidently wrong (class 1 wins), a large
    negative one confidently right (class 0 wins); at 0 the two are tied. Shape
    ``(len(margins), classes)``.
    """
    if classes < 2:
        raise ValueError("a classifier needs at least two classes")
    logits = torch.zeros(len(margins), classes, dtype=margins.dtype)
    logits[:, 0] = -margins / 2
    logits[:, 1] = margins / 2
    return logits


def margin_gradient_norms(margins: Tensor, *, classes: int, softmax_first: bool) -> Tensor:
    """``||d loss / d z||`` for the logits of :func:`margin_logits` (target class 0), one per margin."""
    logits = margin_logits(margins, classes)
    targets = torch.zeros(len(margins), dtype=torch.long)
    return logit_gradient(logits, targets, softmax_first=softmax_first).norm(dim=-1)


def double_softmax_floor(classes: int) -> float:
    """The smallest value cross-entropy can take on softmax outputs: ``log(e + classes - 1) - 1``.

    The loss sees probabilities ``p`` in [0, 1] as logits; its best case is ``p`` one-hot on the
    right class, where the logit gap is only 1, so its own softmax gives the right class
    ``e / (e + classes - 1)`` and the loss cannot go below minus the log of that.
    """
    if classes < 2:
        raise ValueError("a classifier needs at least two classes")
    return math.log(math.e + classes - 1) - 1.0


# --- binary: BCE on sigmoid outputs versus BCE on logits --------------------------------------


def bce_by_hand(logits: Tensor, targets: Tensor) -> Tensor:
    """The textbook formula ``-(y log p + (1 - y) log(1 - p))`` with ``p = sigmoid(z)``, element-wise.

    Once ``p`` rounds to exactly 0 or 1 the log of the other side is ``log 0 = -inf``.
    """
    p = torch.sigmoid(logits)
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p))


def bce_on_sigmoid(logits: Tensor, targets: Tensor) -> Tensor:
    """``nn.BCELoss`` after ``nn.Sigmoid``, element-wise: what a model with a sigmoid output computes.

    PyTorch clamps each log at -100, so a rounded probability reads as a loss of 100 instead
    of ``inf``; the backward pass divides by ``max(p (1 - p), 1e-12)`` and then multiplies by
    the sigmoid's slope ``p (1 - p) = 0``, so the gradient is 0 where it should be largest.
    """
    return F.binary_cross_entropy(torch.sigmoid(logits), targets, reduction="none")


def bce_with_logits(logits: Tensor, targets: Tensor) -> Tensor:
    """Binary cross-entropy computed from the logit: ``max(z, 0) - z y + log(1 + e^-|z|)``, element-wise.

    The same function as :func:`bce_by_hand`, rearranged so that ``exp`` only ever sees a
    non-positive number and no probability is ever rounded: this is what
    ``nn.BCEWithLogitsLoss`` computes. Its gradient is ``sigmoid(z) - y``, never ``nan``.

    Written as two branches, ``(1 - y) z + log(1 + e^-z)`` for ``z >= 0`` and
    ``-y z + log(1 + e^z)`` for ``z < 0``, each fed an input clamped to its own half-line, so
    that autograd gets the exact gradient at ``z = 0`` too (``max`` and ``|z|`` have a kink there
    that the sum hides but autograd does not).
    """
    positive = logits.clamp(min=0)
    negative = logits.clamp(max=0)
    upper = (1 - targets) * positive + torch.log1p(torch.exp(-positive))
    lower = -targets * negative + torch.log1p(torch.exp(negative))
    return torch.where(logits >= 0, upper, lower)


def loss_and_gradient(
    loss: Callable[[Tensor, Tensor], Tensor], logits: Tensor, targets: Tensor
) -> tuple[Tensor, Tensor]:
    """An element-wise ``loss(logits, targets)`` and its derivative with respect to each logit (autograd)."""
    with torch.enable_grad():
        z = logits.detach().clone().requires_grad_(True)
        value = loss(z, targets)
        (grad,) = torch.autograd.grad(value.sum(), z)
    return value.detach(), grad


def sigmoid_rounds_to_one(dtype: torch.dtype = torch.float32) -> float:
    """The smallest logit (to 1e-6) at which ``torch.sigmoid`` returns exactly 1 in ``dtype``.

    From there on ``1 - p`` is 0: the by-hand BCE of a negative example is ``inf``, and BCELoss
    reads 100 with a zero gradient. Found by bisection on the real function, not by a formula,
    because the result depends on how the sigmoid is computed.
    """

    def is_one(z: float) -> bool:
        return bool(torch.sigmoid(torch.tensor(z, dtype=dtype)) == 1)

    lo, hi = 0.0, 1000.0
    if not is_one(hi):
        raise ValueError(f"sigmoid never rounds to 1 below {hi} in {dtype}")
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        if is_one(mid):
            hi = mid
        else:
            lo = mid
    return hi


# --- saturation -------------------------------------------------------------------------------


def sigmoid_chain_gradient(p: float, depth: int) -> float:
    """``d h_depth / d h_0`` through a chain of scalar units ``h_k = sigma(h_{k-1} + b_k)``, by autograd.

    Each bias is chosen so that every unit outputs ``p`` (weights are 1), so the chain rule
    predicts :func:`saturated_depth_factor`; this measures it in float64.
    """
    logit = math.log(p / (1 - p))
    h0 = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    h = h0
    for _ in range(depth):
        h = torch.sigmoid(h + (logit - p))
    (grad,) = torch.autograd.grad(h, h0)
    return float(grad)


def output_logit_gradient(p: float, target: float, loss: Literal["mse", "bce"]) -> float:
    """``d loss / d z`` at the output logit ``z`` whose sigmoid is ``p``.

    ``"mse"`` is ``(sigma(z) - y)**2``: its gradient ``2 (p - y) p (1 - p)`` carries the
    saturated slope. ``"bce"`` is binary cross-entropy on the logit: ``p - y``, the slope
    cancelled by the log.
    """
    z = torch.tensor(math.log(p / (1 - p)), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(target, dtype=torch.float64)
    if loss == "mse":
        value = (torch.sigmoid(z) - y) ** 2
    elif loss == "bce":
        value = F.binary_cross_entropy_with_logits(z, y)
    else:
        raise ValueError(f"unknown loss {loss!r}; choose 'mse' or 'bce'")
    (grad,) = torch.autograd.grad(value, z)
    return float(grad)


# --- multi-label: a sigmoid per label ---------------------------------------------------------


def softmax_bce_floor(positives: int, labels: int) -> float:
    """The lowest summed BCE a softmax output can reach on a target with ``positives`` ones among ``labels``.

    Softmax outputs sum to 1. With ``k >= 1`` positive labels the best is ``1/k`` on each of
    them and 0 elsewhere, a loss of ``k log k``; with no positive label the best is ``1/labels``
    everywhere, a loss of ``-labels log(1 - 1/labels)``. Only ``k = 1`` reaches 0. A sigmoid per
    label reaches 0 on every target.
    """
    if labels < 2 or not 0 <= positives <= labels:
        raise ValueError("need labels >= 2 and 0 <= positives <= labels")
    if positives == 0:
        return -labels * math.log(1 - 1 / labels)
    return positives * math.log(positives)


def multilabel_probabilities(logits: Tensor, head: Head) -> Tensor:
    """The per-label probabilities a head reads from the logits: a sigmoid each, or one softmax over all."""
    if head == "sigmoid":
        return torch.sigmoid(logits)
    if head == "softmax":
        return torch.softmax(logits, dim=-1)
    raise ValueError(f"unknown head {head!r}; choose 'sigmoid' or 'softmax'")


def fit_free_logits(target: Tensor, *, head: Head, steps: int = 2000, lr: float = 0.5) -> tuple[Tensor, float]:
    """The best probabilities ``head`` can output for one multi-hot ``target``, by gradient descent on free logits.

    Minimizes the BCE summed over labels between ``multilabel_probabilities(z, head)`` and
    ``target``, starting from ``z = 0``. Returns the probabilities and the loss reached (float64).
    """
    t = target.to(torch.float64)
    z = torch.zeros_like(t, requires_grad=True)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        p = multilabel_probabilities(z, head).clamp(1e-300, 1 - 1e-16)
        loss = F.binary_cross_entropy(p, t, reduction="sum")
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        p = multilabel_probabilities(z, head)
        final = F.binary_cross_entropy(p.clamp(1e-300, 1 - 1e-16), t, reduction="sum")
    return p.detach(), float(final)


def softmax_exact_match_bound(y: Tensor) -> float:
    """The best exact-match rate a softmax output read at the threshold 0.5 can reach on multi-hot ``y``.

    Softmax outputs sum to 1, so at most one of them exceeds 0.5: only the rows with no
    positive label or exactly one can be predicted exactly. This is their fraction.
    """
    return float((y.sum(dim=-1) <= 1).float().mean())


def multilabel_loss(logits: Tensor, y: Tensor, head: Head) -> Tensor:
    """``BCEWithLogitsLoss`` for the sigmoid head; for the softmax head, ``CrossEntropyLoss`` on the multi-hot target.

    The second is the mistake a multi-class habit makes: ``CrossEntropyLoss`` reads a float
    target as class probabilities, so ``y`` goes in without complaint.
    """
    if head == "sigmoid":
        return F.binary_cross_entropy_with_logits(logits, y)
    if head == "softmax":
        return F.cross_entropy(logits, y)
    raise ValueError(f"unknown head {head!r}; choose 'sigmoid' or 'softmax'")


def train_multilabel(
    model: nn.Module, x: Tensor, y: Tensor, *, head: Head, lr: float, epochs: int, optimizer: Optimizer = "adam"
) -> MultilabelRun:
    """Train ``model`` (logits, one per label) in place on multi-hot ``y`` with :func:`multilabel_loss`; full-batch."""
    opt = make_optimizer(model, optimizer, lr)
    run = MultilabelRun([], [], [])

    def measure() -> Tensor:
        logits = model(x)
        loss = multilabel_loss(logits, y, head)
        with torch.no_grad():
            predicted = multilabel_probabilities(logits, head) > 0.5
            right = predicted == y.bool()
            run.loss.append(float(loss.detach()))
            run.label_accuracy.append(float(right.float().mean()))
            run.exact_match.append(float(right.all(dim=-1).float().mean()))
        return loss

    full_batch_steps(measure, opt, epochs)
    return run


# --- regression: a linear output, not a ReLU --------------------------------------------------


def nonnegative_mse_floor(y: Tensor) -> float:
    """The smallest mean squared error any non-negative prediction can reach: ``mean(min(y, 0)**2)``.

    The best a ReLU output can do on a negative target is to predict 0.
    """
    return float((y.clamp(max=0) ** 2).mean())


@dataclass(frozen=True)
class RegressionRun:
    """What :func:`fit_regression` measured.

    ``loss`` holds the mean squared error after ``k`` steps at entry ``k``; ``predictions`` the
    final outputs; ``zero_fraction`` the fraction of them exactly 0 (a ReLU output that is
    off); ``grad_norm`` the norm of the whole gradient at the end: exactly 0 means that
    nothing can change any more.
    """

    loss: list[float]
    predictions: Tensor
    zero_fraction: float
    grad_norm: float


def fit_regression(
    model: nn.Module, x: Tensor, y: Tensor, *, lr: float, epochs: int, optimizer: Optimizer = "adam"
) -> RegressionRun:
    """Train ``model`` in place on ``(x, y)`` with ``MSELoss`` and full-batch steps (Adam by default)."""
    opt = make_optimizer(model, optimizer, lr)
    losses: list[float] = []
    with single_thread():
        for _ in range(epochs):
            loss = F.mse_loss(model(x), y)
            losses.append(float(loss.detach()))
            opt.zero_grad()
            loss.backward()
            opt.step()
        predictions = model(x)
        loss = F.mse_loss(predictions, y)
        losses.append(float(loss.detach()))
        params = [p for p in model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    norm = math.sqrt(sum(float(g.pow(2).sum()) for g in grads if g is not None))
    predictions = predictions.detach()
    return RegressionRun(losses, predictions, float((predictions == 0).float().mean()), norm)


# --- softmax, temperature and the cross-entropy gradient (the chapter's widget) ---------------


def softmax_view(logits: Tensor, target: int, temperature: float = 1.0) -> dict[str, Tensor]:
    """Everything the chapter's softmax widget draws for one logit vector.

    ``probabilities`` = ``softmax(z / T)``; ``log_probabilities`` = ``log_softmax(z / T)``;
    ``gradient`` = ``d CE(z / T, target) / d z = (softmax(z / T) - onehot) / T``;
    ``double_gradient``: the same derivative with a softmax applied before the loss.
    """
    z = logits.detach().to(torch.float64)
    scaled = z / temperature
    targets = torch.tensor([target])
    onehot = F.one_hot(targets, len(z))[0].to(z.dtype)
    probabilities = torch.softmax(scaled, dim=-1)
    double = logit_gradient(scaled.unsqueeze(0), targets, softmax_first=True)[0] / temperature
    return {
        "probabilities": probabilities,
        "log_probabilities": torch.log_softmax(scaled, dim=-1),
        "gradient": (probabilities - onehot) / temperature,
        "double_gradient": double,
    }
