"""`train_mlp`: right implementations earn full marks, classic slips fail naming their mistake, and the
ordering the checks assert holds for every seed a hidden case may draw."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actgrader.reference.forward import as_sequential
from actgrader.reference.training import single_thread, train_mlp
from actgrader.tasks import activation_training as task
from actgrader.tasks.activation_training import (
    ACTIVATIONS,
    DATA_SEED,
    EPOCHS,
    LR,
    POINTS,
    PUBLIC_SEEDS,
    SEED_POOL,
    WIDTHS,
    notebook_problem,
)

from .helpers import assert_named, first_public_failure, grade_locally


def _forward(x, params, activation, *, on_output=False):
    h = x
    for k, w in enumerate(params):
        h = h @ w.T
        if k < len(params) - 1 or on_output:
            h = activation(h)
    return h


def with_autograd_grad(x, y, weights, activation, lr, epochs):
    params = [w.clone().requires_grad_(True) for w in weights]
    losses = []
    for _ in range(epochs):
        loss = ((_forward(x, params, activation) - y) ** 2).mean()
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    return losses


class _Act(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, h):
        return self.fn(h)


def with_torch_optim(x, y, weights, activation, lr, epochs):
    model = as_sequential(weights, _Act(activation))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        losses.append(float(loss))
        loss.backward()
        optimizer.step()
    return torch.tensor(losses)


@pytest.mark.parametrize("answer", [with_autograd_grad, with_torch_optim])
def test_right_answers_earn_full_marks(answer):
    result = grade_locally("activation_training", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def _loop(*, record_after=False, update=True, sign=1.0, accumulate=False, loss="mean", on_output=False, relu=False):
    def train(x, y, weights, activation, lr, epochs):
        act = torch.relu if relu else activation
        params = [w.clone().requires_grad_(True) for w in weights]
        losses = []
        for _ in range(epochs):
            err = (_forward(x, params, act, on_output=on_output) - y) ** 2
            value = {"mean": err.mean(), "sum": err.sum(), "half": 0.5 * err.mean()}[loss]
            if not record_after:
                losses.append(value.item())
            value.backward()
            with torch.no_grad():
                for p in params:
                    if update:
                        p -= sign * lr * p.grad
                    if not accumulate:
                        p.grad = None
            if record_after:
                with torch.no_grad():
                    losses.append(((_forward(x, params, act, on_output=on_output) - y) ** 2).mean().item())
        return losses

    return train


def one_loss_too_many(x, y, weights, activation, lr, epochs):
    losses = with_autograd_grad(x, y, weights, activation, lr, epochs + 1)
    return losses


def returns_the_weights(x, y, weights, activation, lr, epochs):
    return weights


_KEPT: dict[tuple, list[torch.Tensor]] = {}


def not_reinitialised(x, y, weights, activation, lr, epochs):
    """Keeps its trained weights between calls (per shape): each activation continues the previous one's run."""
    key = tuple(tuple(w.shape) for w in weights)
    params = _KEPT.setdefault(key, [w.clone().requires_grad_(True) for w in weights])
    losses = []
    for _ in range(epochs):
        loss = ((_forward(x, params, activation) - y) ** 2).mean()
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    return losses


def _raw_loop(update):
    def train(x, y, weights, activation, lr, epochs):
        params = [w.clone().requires_grad_(True) for w in weights]
        losses = []
        for _ in range(epochs):
            loss = ((_forward(x, params, activation) - y) ** 2).mean()
            losses.append(loss.item())
            loss.backward()
            params = update(params, lr)
        return losses

    return train


def _in_place_without_no_grad(params, lr):
    for p in params:
        p -= lr * p.grad
    return params


def _new_tensors(params, lr):
    return [p - lr * p.grad for p in params]


def forward_once(x, y, weights, activation, lr, epochs):
    params = [w.clone().requires_grad_(True) for w in weights]
    loss = ((_forward(x, params, activation) - y) ** 2).mean()
    losses = []
    for _ in range(epochs):
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
    return losses


def without_requires_grad(x, y, weights, activation, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = ((_forward(x, weights, activation) - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
    return losses


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_loop(record_after=True), task.RECORDED_AFTER),
        (_loop(update=False), task.NEVER_UPDATED),
        (_loop(sign=-1.0), task.ASCENT),
        (_loop(accumulate=True), task.ACCUMULATED),
        (_loop(loss="sum"), task.SUMMED),
        (_loop(loss="half"), task.HALVED),
        (_loop(on_output=True), task.OUTPUT_ACTIVATION),
        (
            one_loss_too_many,
            (
                "The curve has 21 losses for 20 epochs: record the loss at the start of each epoch, "
                "before its update, and not again after the last one."
            ),
        ),
        (
            returns_the_weights,
            "train_mlp should return the loss curve: a list of 20 numbers (or a 1-D tensor), not list.",
        ),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("activation_training", answer, message)


def test_one_activation_for_all_is_named_where_another_is_asked_for():
    result = grade_locally("activation_training", _loop(relu=True))
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["tanh_network"] == task.ignores_activation("relu", "tanh")


def test_weights_kept_from_call_to_call_are_named():
    """Issue 15: a model not re-initialised between activations got a generic message."""
    _KEPT.clear()
    result = grade_locally("activation_training", not_reinitialised)
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["each_activation"] == task.NOT_REINITIALISED
    assert result.earned < result.max_points


@pytest.mark.parametrize(
    ("answer", "message", "error"),
    [
        (
            _raw_loop(_in_place_without_no_grad),
            task.IN_PLACE_ON_LEAF,
            "RuntimeError: a leaf Variable that requires grad",
        ),
        (
            _raw_loop(_new_tensors),
            task.NEW_TENSOR_EACH_STEP,
            "TypeError: unsupported operand type(s) for *: 'float' and",
        ),
        (forward_once, task.GRAPH_REUSED, "RuntimeError: Trying to backward through the graph a second time"),
        (without_requires_grad, task.NO_REQUIRES_GRAD, "RuntimeError: element 0 of tensors does not require grad"),
    ],
)
def test_exceptions_of_a_training_loop_are_named_before_pytorchs_words(answer, message, error):
    _, outcome = first_public_failure("activation_training", answer)
    assert outcome.message.startswith(f"{message} (Your code raised {error}")


def _batched_curves(seeds: list[int]) -> dict[str, torch.Tensor]:
    """Every seed's curve at once (weights stacked along a first axis): a loss per seed and epoch."""
    problems = [notebook_problem(s) for s in seeds]
    x, y = problems[0][0], problems[0][1]
    stacked = [torch.stack([p[2][k] for p in problems]) for k in range(len(problems[0][2]))]
    curves = {}
    for name, (_, act) in ACTIVATIONS.items():
        params = [w.clone().requires_grad_(True) for w in stacked]
        losses = []
        for _ in range(EPOCHS):
            h = x.expand(len(seeds), -1, -1)
            for k, w in enumerate(params):
                h = h @ w.transpose(1, 2)
                if k < len(params) - 1:
                    h = act(h)
            per_seed = ((h - y) ** 2).mean(dim=(1, 2))
            losses.append(per_seed.detach())
            grads = torch.autograd.grad(per_seed.sum(), params)
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p -= LR * g
        curves[name] = torch.stack(losses, dim=1)
    return curves


def test_every_seed_of_the_pool_shows_the_stated_ordering():
    seeds = list(SEED_POOL)
    with single_thread():  # small tensors: a second thread only slows this down (measured: 20 times faster)
        curves = _batched_curves(seeds)
    # the batched computation is the reference's, seed by seed
    for i in PUBLIC_SEEDS:
        x, y, weights = notebook_problem(seeds[i])
        for name, (_, act) in ACTIVATIONS.items():
            expected = torch.tensor(train_mlp(x, y, weights, act, LR, EPOCHS))
            torch.testing.assert_close(curves[name][i], expected, rtol=1e-4, atol=1e-6)
    for name, c in curves.items():
        assert bool((c[:, -1] < c[:, 0]).all()), f"{name}: a curve that does not fall"
    others = torch.stack([curves[n][:, -1] for n in ACTIVATIONS if n != "sigmoid"]).amax(dim=0)
    margin = curves["sigmoid"][:, -1] / others
    print(f"\nsigmoid's final loss / the highest other final loss over {len(seeds)} seeds: min {margin.min():.3f}")
    assert bool((margin > 1.01).all()), f"seeds where the sigmoid does not end clearly highest: {seeds}"


def test_the_notebook_states_the_settings_and_seeds_the_checks_use():
    from pathlib import Path

    import nbformat

    notebook = Path(__file__).resolve().parents[3] / "solutions" / "activations" / "activations.ipynb"
    cells = {c.id: c.source for c in nbformat.read(notebook, as_version=4).cells}
    text, demo = cells["activation_training_task"], cells["activation_training_demo"]
    assert f"for every seed from {SEED_POOL.start} to {SEED_POOL.stop - 1}" in text
    assert f"({POINTS} points)" in text and f"`lr = {LR:g}`, {EPOCHS} epochs" in text
    assert f"two hidden layers of {WIDTHS[1]}" in text and WIDTHS[1] == WIDTHS[2] and len(WIDTHS) == 4
    assert f"sine_regression({POINTS}, seed={DATA_SEED})" in demo and f"widths = {list(WIDTHS)}" in demo
    assert f", {LR:g}, {EPOCHS})" in demo and "manual_seed(0)" in demo and 0 in PUBLIC_SEEDS


def made_up_curves(x, y, weights, activation, lr, epochs):
    """No training: falling curves invented so that the sigmoid's ends highest."""
    rank = {torch.sigmoid: 4.0, torch.tanh: 3.0, torch.relu: 2.0}.get(activation, 1.0)
    return [rank * (1 - 0.5 * i / epochs) for i in range(epochs)]


def test_curves_that_only_have_the_property_earn_nothing():
    result = grade_locally("activation_training", made_up_curves)
    assert result.earned == 0, [(o.name, o.passed) for o in result.outcomes]
