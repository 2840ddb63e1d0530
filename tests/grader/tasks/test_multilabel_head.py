"""`multilabel_head`: the set-ups that fit pass, the known wrong ones fail naming their misconception.

Also: the thresholds leave room on both sides (accepted set-ups clear them with margin on
data sets of the hidden cases' family, wrong ones miss by far), and malformed choices get a
message about the format.
"""

from __future__ import annotations

import numpy as np
import pytest

from actgrader import datasets
from actgrader.reference import outputs as ref
from actgrader.reference.models import make_mlp
from actgrader.tasks import multilabel_head as task

from .helpers import assert_fails_with, first_public_failure, grade_locally

ACCEPTED = [("none", "BCEWithLogitsLoss"), ("sigmoid", "BCELoss"), ("none", "MultiLabelSoftMarginLoss")]
#: Wrong set-ups that train without an error, so only the thresholds can catch them.
WRONG_THAT_TRAIN = [
    ("none", "CrossEntropyLoss"),
    ("softmax", "CrossEntropyLoss"),
    ("softmax", "BCELoss"),
    ("sigmoid", "BCEWithLogitsLoss"),
    ("tanh", "BCEWithLogitsLoss"),
    ("relu", "BCEWithLogitsLoss"),
]


def choice(output, loss):
    def multilabel_head():
        return {"output": output, "loss": loss}

    return multilabel_head


@pytest.mark.parametrize(("output", "loss"), [*ACCEPTED, ("linear", "nn.BCEWithLogitsLoss"), ("Sigmoid", "bceloss")])
def test_set_ups_that_fit_earn_everything(output, loss):
    result = grade_locally("multilabel_head", choice(output, loss))
    assert result.earned == result.max_points, [(o.name, o.message) for o in result.outcomes if not o.passed]


@pytest.mark.parametrize(
    ("output", "loss", "message"),
    [
        ("none", "CrossEntropyLoss", task.CE_APPLIES_SOFTMAX),
        ("sigmoid", "CrossEntropyLoss", task.SIGMOID_INTO_CE),
        ("softmax", "CrossEntropyLoss", task.SOFTMAX_INTO_CE),
        ("log_softmax", "CrossEntropyLoss", task.CE_APPLIES_SOFTMAX),
        ("softmax", "BCELoss", task.SOFTMAX_COMPETES),
        ("softmax", "BCEWithLogitsLoss", task.SOFTMAX_COMPETES),
        ("log_softmax", "NLLLoss", task.NLL_ONE_CLASS),
        ("sigmoid", "BCEWithLogitsLoss", task.DOUBLE_SIGMOID.format(loss="BCEWithLogitsLoss")),
        ("sigmoid", "MultiLabelSoftMarginLoss", task.DOUBLE_SIGMOID.format(loss="MultiLabelSoftMarginLoss")),
        ("none", "BCELoss", task.BCE_WANTS_PROBABILITIES.format(output="none")),
        (
            "tanh",
            "BCEWithLogitsLoss",
            task.SQUASHED_LOGITS.format(output="tanh", loss="BCEWithLogitsLoss", why=task.SQUASH_REASONS["tanh"]),
        ),
        (
            "relu",
            "BCEWithLogitsLoss",
            task.SQUASHED_LOGITS.format(output="relu", loss="BCEWithLogitsLoss", why=task.SQUASH_REASONS["relu"]),
        ),
    ],
)
def test_wrong_set_up_is_named(output, loss, message):
    """The misconception first, then what was measured (or what PyTorch said when it could not train)."""
    _, outcome = first_public_failure("multilabel_head", choice(output, loss))
    assert outcome.message.startswith(message + " ")
    rest = outcome.message.removeprefix(message + " ")
    assert rest.startswith(("Trained here on 4 labels: ", "(PyTorch said: ")), rest
    assert outcome.section == task.TASK.section


@pytest.mark.parametrize(
    ("output", "loss", "message"),
    [
        ("gelu", "BCEWithLogitsLoss", "Unknown output 'gelu': choose one of "),
        ("none", "MSELoss", "Unknown loss 'MSELoss': choose one of "),
    ],
)
def test_a_name_outside_the_lists_is_refused(output, loss, message):
    _, outcome = first_public_failure("multilabel_head", choice(output, loss))
    assert outcome.message.startswith(message)


def test_the_measured_figures_are_in_the_message():
    result = assert_fails_with("multilabel_head", choice("none", "CrossEntropyLoss"), "of the label decisions right")
    assert any("at least 90% needed" in (o.message or "") for o in result.outcomes)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "did you forget `return`"),
        (("none", "BCEWithLogitsLoss"), "should return a dict"),
        ({"activation": "none", "loss": "BCEWithLogitsLoss"}, "exactly the keys 'output' and 'loss'"),
        ({"output": None, "loss": "BCEWithLogitsLoss"}, "given as strings"),
    ],
)
def test_malformed_choices_say_what_the_format_is(value, fragment):
    assert_fails_with("multilabel_head", lambda: value, fragment)


def test_every_set_up_has_a_verdict_before_training():
    """The diagnosis is a function of the choice alone; only the accepted set-ups have none."""
    for output in task.OUTPUTS:
        for loss in task.LOSSES:
            assert (task.diagnosis(output, loss) is None) == ((output, loss) in ACCEPTED), (output, loss)


def test_thresholds_leave_margin_on_the_hidden_family():
    rng = np.random.default_rng(7)
    for _ in range(4):
        labels, dim = int(rng.integers(3, 7)), int(rng.integers(6, 11))
        x, y = datasets.multilabel(task.POINTS, dim=dim, labels=labels, seed=int(rng.integers(2**31)))
        weight_seed = int(rng.integers(2**31))
        for output, loss in ACCEPTED[:2] + WRONG_THAT_TRAIN:
            model = make_mlp([dim, task.HIDDEN, labels], "relu", init="kaiming", seed=weight_seed)
            run = ref.train_multilabel_head(model, x, y, output=output, loss=loss, lr=task.LR, epochs=task.EPOCHS)
            accuracy, distance = run.label_accuracy[-1], run.distance[-1]
            if (output, loss) in ACCEPTED:
                assert accuracy >= task.ACCURACY + 0.05 and distance <= task.DISTANCE - 0.05, (output, loss)
            else:
                assert accuracy <= task.ACCURACY - 0.1 or distance >= task.DISTANCE + 0.1, (output, loss)
