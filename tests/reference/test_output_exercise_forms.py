"""The output-and-loss references in the form the exercise notebook calls them (networks and choices as data).

Each adapter must agree with the chapter's own function on the same network built the
chapter's way, and with a plain implementation written out here.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from actgrader import datasets
from actgrader.experiments import output_loss as chapter_out
from actgrader.reference import outputs as out
from actgrader.reference.models import linear_layers, make_mlp


def _blobs_and_weights(seed: int = 0, classes: int = 5):
    x, y = datasets.gaussian_blobs(90, classes=classes, spread=0.4, seed=seed)
    model = make_mlp([2, 8, 8, classes], "relu", init="kaiming", bias=False, seed=seed)
    return x, y, model, [m.weight.detach().clone() for m in linear_layers(model)]


def _logits(x, weights):
    h = x
    for k, w in enumerate(weights):
        h = h @ w.T
        if k < len(weights) - 1:
            h = torch.relu(h)
    return h


def _by_hand(x, y, weights, lr, steps, softmax_first):
    """Full-batch gradient descent written out: the cross-entropy of softmax(logits) before each update."""
    params = [w.clone().requires_grad_(True) for w in weights]
    curve = []
    for _ in range(steps):
        h = _logits(x, params)
        curve.append(F.cross_entropy(h, y).item())
        loss = F.cross_entropy(torch.softmax(h, dim=1) if softmax_first else h, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    return curve


@pytest.mark.parametrize("softmax_first", [False, True])
def test_double_softmax_curve_is_train_classifiers_yardstick(softmax_first):
    x, y, model, weights = _blobs_and_weights()
    before = [w.clone() for w in weights]
    torch.manual_seed(3)
    expected_draw = torch.rand(2)
    torch.manual_seed(3)
    curve = out.double_softmax_curve(x, y, weights, 0.3, 12, softmax_first)
    assert torch.equal(torch.rand(2), expected_draw), "the global random state moved"
    assert all(torch.equal(a, b) for a, b in zip(weights, before, strict=True)), "the caller's weights changed"
    run = out.train_classifier(model, x, y, softmax_first=softmax_first, lr=0.3, epochs=12)
    assert curve == run.cross_entropy[:12]
    assert curve == pytest.approx(_by_hand(x, y, weights, 0.3, 12, softmax_first), rel=1e-5)


def test_double_softmax_curve_with_softmax_first_is_not_the_loss_it_minimizes():
    x, y, model, weights = _blobs_and_weights(seed=1)
    curve = out.double_softmax_curve(x, y, weights, 0.3, 5, True)
    run = out.train_classifier(model, x, y, softmax_first=True, lr=0.3, epochs=5)
    assert curve[0] == pytest.approx(float(F.cross_entropy(_logits(x, weights), y)))
    assert all(abs(a - b) > 1e-3 for a, b in zip(curve, run.loss, strict=False))


def test_probabilities_read_by_each_loss():
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out.probabilities_read_by("BCEWithLogitsLoss", z), torch.sigmoid(z))
    assert torch.equal(out.probabilities_read_by("MultiLabelSoftMarginLoss", z), torch.sigmoid(z))
    assert torch.equal(out.probabilities_read_by("CrossEntropyLoss", z), torch.softmax(z, dim=-1))
    p = torch.sigmoid(z)
    assert torch.equal(out.probabilities_read_by("BCELoss", p), p)
    assert torch.allclose(out.probabilities_read_by("NLLLoss", torch.log_softmax(z, -1)), torch.softmax(z, -1))
    with pytest.raises(ValueError):
        out.probabilities_read_by("MSELoss", z)


@pytest.mark.parametrize(
    ("output", "loss", "head"), [("none", "BCEWithLogitsLoss", "sigmoid"), ("none", "CrossEntropyLoss", "softmax")]
)
def test_train_multilabel_head_agrees_with_the_chapters_heads(output, loss, head):
    x, y = datasets.multilabel(64, seed=2)
    mine = out.train_multilabel_head(
        make_mlp([8, 16, 4], "relu", init="kaiming", seed=2), x, y, output=output, loss=loss, lr=0.01, epochs=15
    )
    chapter = chapter_out.train_multilabel(
        make_mlp([8, 16, 4], "relu", init="kaiming", seed=2), x, y, head=head, lr=0.01, epochs=15
    )
    assert mine.loss == chapter.loss
    assert mine.label_accuracy == chapter.label_accuracy
    assert mine.exact_match == chapter.exact_match
    assert len(mine.distance) == 16


def test_a_squashed_logit_keeps_its_probabilities_away_from_the_targets():
    """tanh before BCEWithLogitsLoss: every probability lies in (sigmoid(-1), sigmoid(1))."""
    x, y = datasets.multilabel(64, seed=3)
    run = out.train_multilabel_head(
        make_mlp([8, 16, 4], "relu", init="kaiming", seed=3),
        x,
        y,
        output="tanh",
        loss="BCEWithLogitsLoss",
        lr=0.01,
        epochs=20,
    )
    floor = 1 / (1 + math.exp(1))
    assert min(run.distance) > floor


def test_losses_that_cannot_take_the_set_up_raise():
    x, y = datasets.multilabel(32, seed=4)
    for output, loss in [("none", "BCELoss"), ("log_softmax", "NLLLoss")]:
        with pytest.raises((RuntimeError, ValueError)):
            out.train_multilabel_head(make_mlp([8, 4, 4], seed=4), x, y, output=output, loss=loss, lr=0.01, epochs=2)
    with pytest.raises(ValueError, match="unknown output"):
        out.train_multilabel_head(make_mlp([8, 4, 4], seed=4), x, y, output="gelu", loss="BCELoss", lr=0.01, epochs=1)


def test_the_answer_is_the_tables_multilabel_row_and_it_trains():
    choice = out.multilabel_head()
    assert choice == {"output": "none", "loss": "BCEWithLogitsLoss"}
    x, y = datasets.multilabel(256, seed=0)
    run = out.train_multilabel_head(
        make_mlp([8, 32, 4], "relu", init="kaiming", seed=0), x, y, **choice, lr=0.01, epochs=100
    )
    assert run.label_accuracy[-1] > 0.95 and run.distance[-1] < 0.1
