"""Task ``multilabel_head``: choose the output activation and loss of a multi-label classifier.

The learner writes ``multilabel_head()`` returning the choice as data,
``{"output": <module after the last linear layer>, "loss": <torch.nn loss class name>}``
(the names of :data:`~actgrader.reference.outputs.OUTPUT_MODULES` and
:data:`~actgrader.reference.outputs.MULTILABEL_LOSSES`). The check never receives a model: it
builds the network itself, in this process, trains it with the chosen output and loss
(:func:`~actgrader.reference.outputs.train_multilabel_head`) on
:func:`actgrader.datasets.multilabel` data, and requires it to fit. Predictions are read the
way the chosen loss reads the outputs (a sigmoid per label for ``BCEWithLogitsLoss``, a
softmax for ``CrossEntropyLoss``...), and "fits" means both:

* at least :data:`ACCURACY` of the (example, label) decisions right at the threshold 0.5;
* probabilities within :data:`DISTANCE` of the 0/1 targets on average, so that a set-up whose
  probabilities can never approach 0 or 1 (a tanh or a second sigmoid squeezing the logits)
  does not pass on accuracy alone.

A choice that does not fit fails with the misconception it stands for and the figures
measured. The test suite checks the margins: every accepted set-up clears both thresholds
with room to spare on many data sets, every known wrong one misses by far.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from actgrader import datasets
from actgrader.grading import CaseContext, Mistake, Task
from actgrader.grading.answer import Answer
from actgrader.reference import outputs as ref
from actgrader.reference.models import make_mlp

TASK = Task(
    "multilabel_head",
    "Output and loss for a multi-label classifier",
    answer="multilabel_head",
    reference=ref.multilabel_head,
    section="output-and-loss#sec-multilabel",
)

HIDDEN = 32
POINTS = 256
EPOCHS = 100
LR = 0.01
#: The share of (example, label) decisions a set-up must get right.
ACCURACY = 0.9
#: The largest mean distance |p - y| between the probabilities the loss reads and the targets.
DISTANCE = 0.15

OUTPUTS = tuple(ref.OUTPUT_MODULES)
LOSSES = tuple(ref.MULTILABEL_LOSSES)
_OUTPUT_ALIASES = {"linear": "none", "identity": "none", "logits": "none", "": "none", "logsoftmax": "log_softmax"}

SOFTMAX_COMPETES = (
    "Softmax makes the labels compete: their probabilities sum to 1, so two true labels cannot "
    "both be near 1 (with k labels on, the best it can give each is 1/k). The labels of a "
    "multi-label problem are separate yes/no questions: give each its own sigmoid, i.e. keep "
    "the logits and use BCEWithLogitsLoss."
)
CE_APPLIES_SOFTMAX = (
    "CrossEntropyLoss applies its own softmax over the labels to whatever the model outputs, so the labels "
    "compete whatever the model ends with: their probabilities sum to 1, and two true labels cannot both be "
    "near 1. The labels of a multi-label problem are separate yes/no questions: keep the logits and use "
    "BCEWithLogitsLoss, which gives each label its own sigmoid."
)
SIGMOID_INTO_CE = (
    "A sigmoid before CrossEntropyLoss does not make the labels independent: CrossEntropyLoss applies its "
    "own softmax to what the model outputs, so the sigmoid's outputs, between 0 and 1, become the logits of "
    "a softmax over the labels. The labels still compete (their probabilities sum to 1), and squeezed "
    "logits cannot even make one of them confident. Keep the logits and use BCEWithLogitsLoss: it applies "
    "one sigmoid per label itself."
)
SOFTMAX_INTO_CE = (
    "The softmax runs twice: CrossEntropyLoss applies its own softmax to the model's softmax outputs. And "
    "either softmax makes the labels compete: their probabilities sum to 1, so two true labels cannot both "
    "be near 1. Keep the logits and use BCEWithLogitsLoss, one sigmoid per label."
)
DOUBLE_SIGMOID = (
    "The sigmoid is applied twice: {loss} applies its own sigmoid to what the model outputs, so "
    "the model's sigmoid outputs, between 0 and 1, are read as logits and every probability "
    "lands between 0.5 and 0.73: every label is predicted present. Leave the last layer linear "
    "and let the loss apply the sigmoid."
)
NLL_ONE_CLASS = (
    "NLLLoss picks one class per example (its target is a class index), so it cannot express "
    "several labels at once; with a multi-hot target it does not even run. Give each label its "
    "own sigmoid: logits into BCEWithLogitsLoss."
)
BCE_WANTS_PROBABILITIES = (
    "BCELoss takes probabilities in [0, 1], and with output '{output}' the model does not "
    "produce them. Either end the model with a sigmoid, or (better: exact for large logits) "
    "keep the logits and use BCEWithLogitsLoss."
)
SQUASHED_LOGITS = (
    "A {output} after the last layer limits the logits {loss} sees: {why}. The loss wants "
    "unbounded logits: leave the last layer linear."
)
SQUASH_REASONS = {
    "tanh": "they stay between -1 and 1, so no probability gets beyond 0.27 to 0.73",
    "relu": "they are never negative, so no label can ever be confidently absent",
}


def _normalise_loss(name: str) -> str | None:
    bare = name.strip().removeprefix("torch.").removeprefix("nn.").removesuffix("()")
    return next((loss for loss in LOSSES if loss.lower() == bare.lower()), None)


def read_choice(value: Any) -> tuple[str, str]:
    """The learner's ``{"output": ..., "loss": ...}`` as canonical names; a Mistake when it is malformed."""
    form = 'a dict like {"output": "none", "loss": "BCELoss"}'
    if not isinstance(value, dict):
        kind = "None (did you forget `return`?)" if value is None else f"a {type(value).__name__}"
        raise Mistake(f"`multilabel_head()` should return {form}, but it returned {kind}.")
    if set(value) != {"output", "loss"}:
        raise Mistake(f"The dict should have exactly the keys 'output' and 'loss'; it has {sorted(map(str, value))}.")
    output, loss = value["output"], value["loss"]
    if not isinstance(output, str) or not isinstance(loss, str):
        raise Mistake("Both choices are names, given as strings (e.g. 'sigmoid', 'BCELoss').")
    canonical = output.strip().lower().replace("nn.", "").replace("torch.", "")
    canonical = _OUTPUT_ALIASES.get(canonical, canonical)
    if canonical not in OUTPUTS:
        raise Mistake(f"Unknown output {output!r}: choose one of {', '.join(repr(o) for o in OUTPUTS)}.")
    loss_name = _normalise_loss(loss)
    if loss_name is None:
        raise Mistake(f"Unknown loss {loss!r}: choose one of {', '.join(repr(n) for n in LOSSES)}.")
    return canonical, loss_name


def diagnosis(output: str, loss: str) -> str | None:
    """The misconception behind a set-up, or None for the set-ups that fit a multi-label problem."""
    if loss == "NLLLoss":
        return NLL_ONE_CLASS
    if loss == "CrossEntropyLoss":
        return {"sigmoid": SIGMOID_INTO_CE, "softmax": SOFTMAX_INTO_CE}.get(output, CE_APPLIES_SOFTMAX)
    if output in ("softmax", "log_softmax"):
        return SOFTMAX_COMPETES
    if loss == "BCELoss":
        return None if output == "sigmoid" else BCE_WANTS_PROBABILITIES.format(output=output)
    if output == "sigmoid":
        return DOUBLE_SIGMOID.format(loss=loss)
    if output in SQUASH_REASONS:
        return SQUASHED_LOGITS.format(output=output, loss=loss, why=SQUASH_REASONS[output])
    return None


def _judge(answer: Answer, *, labels: int, dim: int, data_seed: int, weight_seed: int) -> None:
    output, loss = read_choice(answer())
    x, y = datasets.multilabel(POINTS, dim=dim, labels=labels, seed=data_seed)
    model = make_mlp([dim, HIDDEN, labels], "relu", init="kaiming", seed=weight_seed)
    known = diagnosis(output, loss)
    try:
        with warnings.catch_warnings():  # a warning on stderr would cost the notebook cell its points
            warnings.simplefilter("ignore")
            run = ref.train_multilabel_head(model, x, y, output=output, loss=loss, lr=LR, epochs=EPOCHS)
    except (RuntimeError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0][:160]
        raise Mistake((known or f"{loss} cannot train this set-up.") + f" (PyTorch said: {detail})") from None
    accuracy, distance = run.label_accuracy[-1], run.distance[-1]
    if accuracy >= ACCURACY and distance <= DISTANCE:
        return
    measured = (
        f"Trained here on {labels} labels: {accuracy:.0%} of the label decisions right (at least "
        f"{ACCURACY:.0%} needed), probabilities {distance:.2f} from the targets on average (at most "
        f"{DISTANCE:g} needed)."
    )
    raise Mistake(f"{known or 'This set-up does not fit a multi-label data set.'} {measured}")


@TASK.case(points=2)
def course_data(answer: Answer, ctx: CaseContext) -> None:
    """it trains on the course's data: 8 features, 4 labels"""
    _judge(answer, labels=4, dim=8, data_seed=0, weight_seed=0)


@TASK.case(points=1)
def six_labels(answer: Answer, ctx: CaseContext) -> None:
    """it trains on 6 labels of 10 features"""
    _judge(answer, labels=6, dim=10, data_seed=1, weight_seed=1)


def _random(answer: Answer, rng: np.random.Generator, labels: tuple[int, int]) -> None:
    _judge(
        answer,
        labels=int(rng.integers(labels[0], labels[1] + 1)),
        dim=int(rng.integers(6, 11)),
        data_seed=int(rng.integers(2**31)),
        weight_seed=int(rng.integers(2**31)),
    )


@TASK.case(points=1, hidden=True)
def few_labels(answer: Answer, ctx: CaseContext) -> None:
    """other data and weights: 3 or 4 labels"""
    _random(answer, ctx.rng(), (3, 4))


@TASK.case(points=1, hidden=True)
def many_labels(answer: Answer, ctx: CaseContext) -> None:
    """other data and weights: 5 or 6 labels"""
    _random(answer, ctx.rng(), (5, 6))
