"""Output activations matched to the loss: the matching table, and the set-ups the checks train.

Taught in the chapter "Outputs and losses" (``book/output-and-loss.md``); the model check-up
(:mod:`actgrader.checkup`) uses :data:`LOSS_EXPECTS` to judge a model's last layer, and the
tasks of the exercise notebook ``output-and-loss`` compare learners' answers with
:func:`double_softmax_curve`, :func:`train_multilabel_head`, :func:`multilabel_head` and
:func:`saturated_depth_factor`.

=============  ===============================  ==============================================
task           what follows the last layer      loss (PyTorch)
=============  ===============================  ==============================================
regression     nothing (a linear output)        ``MSELoss`` or ``L1Loss``
binary         nothing: the output is a logit   ``BCEWithLogitsLoss`` (or sigmoid + ``BCELoss``)
multi-class    nothing: the outputs are logits  ``CrossEntropyLoss`` (softmax only to *read*)
multi-label    nothing: one logit per label     ``BCEWithLogitsLoss`` (a sigmoid per label)
=============  ===============================  ==============================================

The losses that expect logits apply the squashing function themselves, in a fused and
numerically stable form. Squashing first anyway is the family of bugs the chapter measures:

* :func:`train_classifier` trains one network with logits into cross-entropy and with a
  softmax applied first ("double softmax"); :func:`logit_gradient` gives the gradient sizes
  that explain the difference;
* :func:`sigmoid_gradient_factor` and :func:`saturated_depth_factor` quantify saturation;
* :func:`double_softmax_curve`, :func:`train_multilabel_head` and :func:`multilabel_head` are
  the experiments in the form the exercise notebook ``output-and-loss`` calls them
  (networks and choices handed over as data).

The chapter's other experiments (three ways to write binary cross-entropy, a softmax on
multi-label targets, a ReLU output for regression, the softmax widget) are in
:mod:`actgrader.experiments.output_loss`.

Training here is full-batch (every step sees the whole data set), so a run is a function of
the model's initial weights and the data alone: build the model with a seed
(:func:`actgrader.reference.models.make_mlp`) and the losses are the same on every run. The
arithmetic runs on one thread (:func:`actgrader.reference.training.single_thread`) so that a
parallel sum cannot change the last digits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from actgrader.reference.forward import as_sequential
from actgrader.reference.training import single_thread

LossInput = Literal["logits", "probabilities", "log-probabilities", "values"]


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


def make_optimizer(model: nn.Module, name: Optimizer, lr: float) -> torch.optim.Optimizer:
    """Plain gradient descent (``"sgd"``, no momentum) or ``"adam"`` on ``model``'s parameters, at ``lr``."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose 'sgd' or 'adam'")


def full_batch_steps(measure: Callable[[], Tensor], opt: torch.optim.Optimizer, epochs: int) -> None:
    """``epochs`` full-batch steps on the loss ``measure()`` returns (it also records the run's
    figures), then one more ``measure()`` so the records describe the trained model too."""
    with single_thread():
        for _ in range(epochs):
            loss = measure()
            opt.zero_grad()
            loss.backward()
            opt.step()
        measure()


# --- multi-class: logits into cross-entropy, or a softmax first -------------------------------


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
    opt = make_optimizer(model, optimizer, lr)
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

    full_batch_steps(measure, opt, epochs)
    return run


# --- saturation -------------------------------------------------------------------------------


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
class MultilabelRun:
    """What a multi-label training run measured (:func:`~actgrader.experiments.output_loss.train_multilabel`).

    Entry ``k`` of each list is after ``k`` steps.

    ``label_accuracy`` counts every (example, label) decision; ``exact_match`` counts the
    examples whose every label is right. Labels are predicted present when the head's
    probability exceeds 0.5.
    """

    loss: list[float]
    label_accuracy: list[float]
    exact_match: list[float]


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
    opt = make_optimizer(network, optimizer, lr)
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

    full_batch_steps(measure, opt, epochs)
    return run


def multilabel_head() -> dict[str, str]:
    """The multi-label exercise's answer as data: no module after the last linear layer, and its loss.

    From the multi-label row of :data:`OUTPUT_AND_LOSS`: the logits go straight into
    ``BCEWithLogitsLoss``, which applies one sigmoid per label itself.
    """
    row = next(c for c in OUTPUT_AND_LOSS if c.task == "multi-label")
    return {"output": "none", "loss": row.loss}
