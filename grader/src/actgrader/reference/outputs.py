"""Output activations matched to the loss, and what breaks when they are not.

Taught in the chapter "Outputs and losses" (``book/output-and-loss.md``); the model check-up
(:mod:`actgrader.checkup`) uses :data:`LOSS_EXPECTS` to judge a model's last layer.

=============  ===============================  ==============================================
task           what follows the last layer      loss (PyTorch)
=============  ===============================  ==============================================
regression     nothing (a linear output)        ``MSELoss`` or ``L1Loss``
binary         nothing: the output is a logit   ``BCEWithLogitsLoss`` (or sigmoid + ``BCELoss``)
multi-class    nothing: the outputs are logits  ``CrossEntropyLoss`` (softmax only to *read*)
multi-label    nothing: one logit per label     ``BCEWithLogitsLoss`` (a sigmoid per label)
=============  ===============================  ==============================================

The losses that expect logits apply the squashing function themselves, in a fused and
numerically stable form. Squashing first anyway is the family of bugs this module measures:

* :func:`train_classifier` trains one network with logits into cross-entropy and with a
  softmax applied first ("double softmax"); :func:`logit_gradient` and
  :func:`margin_gradient_norms` give the gradient sizes that explain the difference, and
  :func:`double_softmax_floor` the lowest value the doubled loss can ever reach;
* :func:`bce_by_hand`, :func:`bce_on_sigmoid` and :func:`bce_with_logits` are three ways to
  write binary cross-entropy that agree at small logits and part ways at large ones;
* :func:`softmax_bce_floor` and :func:`train_multilabel` show why multi-label outputs use a
  sigmoid per label;
* :func:`sigmoid_gradient_factor` and :func:`output_logit_gradient` quantify saturation;
* :func:`fit_regression` and :func:`nonnegative_mse_floor` test the claim that a ReLU output
  is needed to predict values larger than 1;
* :func:`double_softmax_curve`, :func:`train_multilabel_head` and :func:`multilabel_head` are
  the same experiments in the form the exercise notebook ``output-and-loss`` calls them
  (networks and choices handed over as data).

Training here is full-batch (every step sees the whole data set), so a run is a function of
the model's initial weights and the data alone: build the model with a seed
(:func:`actgrader.reference.models.make_mlp`) and the losses are the same on every run. The
arithmetic runs on one thread (:func:`actgrader.reference.training.single_thread`) so that a
parallel sum cannot change the last digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actgrader.reference.forward import as_sequential
from actgrader.reference.training import single_thread

LossInput = Literal["logits", "probabilities", "log-probabilities", "values"]
Head = Literal["sigmoid", "softmax"]
Optimizer = Literal["sgd", "adam"]

#: What each standard loss expects to receive from the model: raw ``logits`` (it squashes
#: them itself), ``probabilities`` in [0, 1], ``log-probabilities`` (at most 0), or plain
#: ``values`` (regression). Keys are the class names of the ``torch.nn`` losses.
LOSS_EXPECTS: Mapping[str, LossInput] = {
    "CrossEntropyLoss": "logits",
    "BCEWithLogitsLoss": "logits",
    "MultiLabelSoftMarginLoss": "logits",
    "NLLLoss": "log-probabilities",
    "KLDivLoss": "log-probabilities",
    "BCELoss": "probabilities",
    "MSELoss": "values",
    "L1Loss": "values",
    "SmoothL1Loss": "values",
    "HuberLoss": "values",
}

#: The functional forms of the same losses (``torch.nn.functional``), by the class they mirror.
FUNCTIONAL_LOSSES: Mapping[Callable[..., Tensor], str] = {
    F.cross_entropy: "CrossEntropyLoss",
    F.binary_cross_entropy_with_logits: "BCEWithLogitsLoss",
    F.multilabel_soft_margin_loss: "MultiLabelSoftMarginLoss",
    F.nll_loss: "NLLLoss",
    F.kl_div: "KLDivLoss",
    F.binary_cross_entropy: "BCELoss",
    F.mse_loss: "MSELoss",
    F.l1_loss: "L1Loss",
    F.smooth_l1_loss: "SmoothL1Loss",
    F.huber_loss: "HuberLoss",
}


@dataclass(frozen=True)
class OutputChoice:
    """The output and loss that go together for one kind of task."""

    task: str
    output: str
    loss: str
    prediction: str


#: The matching table of the chapter, one row per task.
OUTPUT_AND_LOSS: tuple[OutputChoice, ...] = (
    OutputChoice("regression", "linear (no activation)", "MSELoss or L1Loss", "the output itself"),
    OutputChoice("binary", "linear: one logit", "BCEWithLogitsLoss", "sigmoid(logit) > 0.5"),
    OutputChoice(
        "multi-class", "linear: one logit per class", "CrossEntropyLoss", "argmax; softmax to read probabilities"
    ),
    OutputChoice(
        "multi-label", "linear: one logit per label", "BCEWithLogitsLoss", "sigmoid(logit) > 0.5, label by label"
    ),
)


def _optimizer(model: nn.Module, name: Optimizer, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose 'sgd' or 'adam'")


# --- multi-class: logits into cross-entropy, or a softmax first -----------------------------


def classification_loss(logits: Tensor, targets: Tensor, *, softmax_first: bool) -> Tensor:
    """``CrossEntropyLoss`` on ``logits`` (mean over the batch), or on ``softmax(logits)`` when ``softmax_first``.

    ``softmax_first=True`` is the double-softmax bug: the loss applies its own log-softmax on
    top of probabilities that are already normalized.
    """
    inputs = torch.softmax(logits, dim=-1) if softmax_first else logits
    return F.cross_entropy(inputs, targets)


def cross_entropy_gradient(logits: Tensor, targets: Tensor) -> Tensor:
    """The closed form ``softmax(z) - onehot(y)``: one example's cross-entropy gradient with respect to its logits."""
    return torch.softmax(logits, dim=-1) - F.one_hot(targets, logits.shape[-1]).to(logits.dtype)


def logit_gradient(logits: Tensor, targets: Tensor, *, softmax_first: bool) -> Tensor:
    """Each example's ``d loss_i / d z_i`` (shape ``(batch, classes)``), by autograd.

    ``loss_i`` is example ``i``'s own loss (not divided by the batch size), so the rows are
    comparable across batch sizes. Without a softmax first this is
    :func:`cross_entropy_gradient`; with it, the same vector is multiplied by the softmax's
    Jacobian, whose entries are at most 1/4, and evaluated at probabilities instead of logits.
    """
    with torch.enable_grad():
        z = logits.detach().clone().requires_grad_(True)
        inputs = torch.softmax(z, dim=-1) if softmax_first else z
        per_example = F.cross_entropy(inputs, targets, reduction="none")
        (grad,) = torch.autograd.grad(per_example.sum(), z)
    return grad


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


@dataclass(frozen=True)
class ClassifierRun:
    """What :func:`train_classifier` measured. Entry ``k`` of each list is after ``k`` steps.

    * ``loss``: the objective that was minimized (with ``softmax_first``, the doubled one);
    * ``cross_entropy``: the cross-entropy of the model's probabilities ``softmax(z)``, the same
      yardstick for both set-ups;
    * ``accuracy``: the fraction of examples whose largest logit is the right class;
    * ``logit_grad_norm``: the mean over examples of ``||d loss_i / d z_i||``
      (see :func:`logit_gradient`).
    """

    loss: list[float]
    cross_entropy: list[float]
    accuracy: list[float]
    logit_grad_norm: list[float]


def _steps(measure: Callable[[], Tensor], opt: torch.optim.Optimizer, epochs: int) -> None:
    """``epochs`` full-batch steps on the loss ``measure()`` returns (it also records the run's
    figures), then one more ``measure()`` so the records describe the trained model too."""
    with single_thread():
        for _ in range(epochs):
            loss = measure()
            opt.zero_grad()
            loss.backward()
            opt.step()
        measure()


def train_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    softmax_first: bool,
    lr: float,
    epochs: int,
    optimizer: Optimizer = "sgd",
) -> ClassifierRun:
    """Train ``model`` in place on ``(x, y)`` with full-batch steps and :func:`classification_loss`.

    ``model`` maps ``x`` to logits (no softmax of its own). ``optimizer`` is plain gradient
    descent (``"sgd"``, no momentum) by default: its step is proportional to the gradient, so
    the gradient sizes that differ between the two set-ups show directly; ``"adam"`` rescales
    each step and hides much of the difference. Deterministic for a given initial model.
    """
    opt = _optimizer(model, optimizer, lr)
    run = ClassifierRun([], [], [], [])

    def measure() -> Tensor:
        logits = model(x)
        loss = classification_loss(logits, y, softmax_first=softmax_first)
        with torch.no_grad():
            run.loss.append(float(loss.detach()))
            run.cross_entropy.append(float(F.cross_entropy(logits, y)))
            run.accuracy.append(float((logits.argmax(dim=-1) == y).float().mean()))
            grad = logit_gradient(logits, y, softmax_first=softmax_first)
            run.logit_grad_norm.append(float(grad.norm(dim=-1).mean()))
        return loss

    _steps(measure, opt, epochs)
    return run


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


# --- saturation -----------------------------------------------------------------------------


def sigmoid_gradient_factor(p: float | Tensor) -> float | Tensor:
    """The sigmoid's slope written through its output: ``sigma'(z) = p (1 - p)`` where ``p = sigma(z)``.

    At most 1/4 (at ``p = 0.5``); 0.0099 at ``p = 0.99``.
    """
    return p * (1 - p)


def saturated_depth_factor(p: float, depth: int) -> float:
    """``(p (1 - p)) ** depth``: what ``depth`` sigmoids, each saturated at output ``p``, multiply a gradient by.

    Each layer also multiplies by its weights; this is the activations' share of the product.
    """
    return float(sigmoid_gradient_factor(p)) ** depth


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


@dataclass(frozen=True)
class MultilabelRun:
    """What :func:`train_multilabel` measured. Entry ``k`` of each list is after ``k`` steps.

    ``label_accuracy`` counts every (example, label) decision; ``exact_match`` counts the
    examples whose every label is right. Labels are predicted present when the head's
    probability exceeds 0.5.
    """

    loss: list[float]
    label_accuracy: list[float]
    exact_match: list[float]


def multilabel_loss(logits: Tensor, y: Tensor, head: Head) -> Tensor:
    """``BCEWithLogitsLoss`` for the sigmoid head; for the softmax head, ``CrossEntropyLoss`` on the multi-hot target.

    The second is the mistake a multi-class habit makes: ``CrossEntropyLoss`` accepts a
    target of per-class weights, so ``y`` goes in without complaint.
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
    opt = _optimizer(model, optimizer, lr)
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

    _steps(measure, opt, epochs)
    return run


# --- regression: a linear output, not a ReLU ---------------------------------------------------


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
    opt = _optimizer(model, optimizer, lr)
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


# --- softmax, temperature and the cross-entropy gradient (the chapter's widget) ----------------


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


# --- the forms the exercise notebook "output-and-loss" calls ----------------------------------


def double_softmax_curve(
    x: Tensor, y: Tensor, weights: Sequence[Tensor], lr: float, steps: int, softmax_first: bool
) -> list[float]:
    """:func:`train_classifier` as the double-softmax exercise calls it: a network as tensors in, a curve out.

    The network is the bias-free MLP of :func:`actgrader.reference.forward.as_sequential` with
    a ReLU between layers (``weights[k]`` of shape ``(n_{k+1}, n_k)``, the last layer linear),
    trained by ``steps`` full-batch gradient-descent steps on :func:`classification_loss`.
    Returns the cross-entropy of the network's own probabilities, ``F.cross_entropy(logits, y)``,
    before each of the ``steps`` updates: the ``cross_entropy`` yardstick of
    :class:`ClassifierRun` without its value after the last step. With ``softmax_first`` that
    is *not* the loss being minimized, so that the two set-ups are compared on one scale. The
    caller's tensors and the global random state are left alone.
    """
    with torch.random.fork_rng(devices=[]):
        model = as_sequential(weights, nn.ReLU())
    run = train_classifier(model, x, y, softmax_first=softmax_first, lr=lr, epochs=steps)
    return run.cross_entropy[:steps]


#: What the multi-label exercise may put after the model's last linear layer, by name
#: (``"none"``: the model outputs its logits).
OUTPUT_MODULES: Mapping[str, Callable[[], nn.Module]] = {
    "none": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "softmax": lambda: nn.Softmax(dim=-1),
    "log_softmax": lambda: nn.LogSoftmax(dim=-1),
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
}

#: The classification losses the multi-label exercise offers, by ``torch.nn`` class name.
MULTILABEL_LOSSES: Mapping[str, Callable[[], nn.Module]] = {
    "BCEWithLogitsLoss": nn.BCEWithLogitsLoss,
    "MultiLabelSoftMarginLoss": nn.MultiLabelSoftMarginLoss,
    "BCELoss": nn.BCELoss,
    "CrossEntropyLoss": nn.CrossEntropyLoss,
    "NLLLoss": nn.NLLLoss,
}


def probabilities_read_by(loss: str, outputs: Tensor) -> Tensor:
    """The per-label probabilities that ``loss`` compares with the targets when a model outputs ``outputs``.

    A loss that expects logits (:data:`LOSS_EXPECTS`) squashes them itself: a sigmoid per entry
    for ``BCEWithLogitsLoss`` and ``MultiLabelSoftMarginLoss``, a softmax over the labels for
    ``CrossEntropyLoss``. ``BCELoss`` takes its input as probabilities, ``NLLLoss`` as
    log-probabilities. Reading predictions the way the loss reads them keeps a set-up honest:
    a sigmoid applied twice shows up as probabilities that never drop below 0.5.
    """
    expects = LOSS_EXPECTS.get(loss)
    if loss == "CrossEntropyLoss":
        return torch.softmax(outputs, dim=-1)
    if expects == "logits":
        return torch.sigmoid(outputs)
    if expects == "probabilities":
        return outputs
    if expects == "log-probabilities":
        return torch.exp(outputs)
    raise ValueError(f"unknown loss {loss!r}; choose from {sorted(MULTILABEL_LOSSES)}")


@dataclass(frozen=True)
class HeadRun(MultilabelRun):
    """What :func:`train_multilabel_head` measured: :class:`MultilabelRun`'s lists, plus ``distance``.

    ``distance`` is the mean of ``|p - y|`` over every (example, label), with ``p`` the
    probabilities the loss reads (:func:`probabilities_read_by`): near 0 when the set-up is
    both right and confident, at least 0.27 for a sigmoid squeezed into (0.27, 0.73).
    """

    distance: list[float]


def train_multilabel_head(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    output: str,
    loss: str,
    lr: float,
    epochs: int,
    optimizer: Optimizer = "adam",
) -> HeadRun:
    """Train ``model`` (logits, one per label) followed by ``OUTPUT_MODULES[output]`` on multi-hot ``y`` with ``loss``.

    The multi-label exercise's set-up given as data: ``output`` names the module after the last
    linear layer and ``loss`` a class of :data:`MULTILABEL_LOSSES`. Full-batch steps, in place.
    Labels are predicted present when the probability the loss reads
    (:func:`probabilities_read_by`) exceeds 0.5. A loss that cannot take these outputs or
    targets raises as ``torch`` does (``BCELoss`` on values outside [0, 1], ``NLLLoss`` on a
    multi-hot target).
    """
    if output not in OUTPUT_MODULES:
        raise ValueError(f"unknown output {output!r}; choose from {sorted(OUTPUT_MODULES)}")
    if loss not in MULTILABEL_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose from {sorted(MULTILABEL_LOSSES)}")
    network = nn.Sequential(model, OUTPUT_MODULES[output]())
    loss_fn = MULTILABEL_LOSSES[loss]()
    opt = _optimizer(network, optimizer, lr)
    run = HeadRun([], [], [], [])

    def measure() -> Tensor:
        outputs = network(x)
        value = loss_fn(outputs, y)
        with torch.no_grad():
            p = probabilities_read_by(loss, outputs)
            right = (p > 0.5) == y.bool()
            run.loss.append(float(value.detach()))
            run.label_accuracy.append(float(right.float().mean()))
            run.exact_match.append(float(right.all(dim=-1).float().mean()))
            run.distance.append(float((p - y).abs().mean()))
        return value

    _steps(measure, opt, epochs)
    return run


def multilabel_head() -> dict[str, str]:
    """The multi-label exercise's answer as data: no module after the last linear layer, and its loss.

    From the multi-label row of :data:`OUTPUT_AND_LOSS`: the logits go straight into
    ``BCEWithLogitsLoss``, which applies one sigmoid per label itself.
    """
    row = next(c for c in OUTPUT_AND_LOSS if c.task == "multi-label")
    return {"output": "none", "loss": row.loss}
