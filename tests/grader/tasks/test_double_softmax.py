"""`train_classifier` (double softmax): plausible wrong answers fail with the message naming their mistake.

Also: correct answers written in other ways pass (the tolerance is wide enough for another
order of operations), and the property the task asserts holds with margin.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from actgrader.reference import outputs as ref
from actgrader.tasks import double_softmax as task

from .helpers import assert_named, grade_locally


def _logits(x, params):
    h = x
    for k, w in enumerate(params):
        h = h @ w.T
        if k < len(params) - 1:
            h = torch.relu(h)
    return h


def _train(x, y, weights, lr, steps, *, objective, record, momentum=0.0, after=False, extra=False):
    """A configurable gradient-descent loop: ``objective(logits)`` is minimized, ``record(logits)`` recorded."""
    params = [w.clone().requires_grad_(True) for w in weights]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    curve = []
    for _ in range(steps):
        logits = _logits(x, params)
        if not after:
            curve.append(record(logits).item())
        opt.zero_grad()
        objective(logits).backward()
        opt.step()
        if after:
            curve.append(record(_logits(x, params)).item())
    if extra:
        curve.append(record(_logits(x, params)).item())
    return curve


def _ce(y):
    return lambda z: F.cross_entropy(z, y)


def _double(y):
    return lambda z: F.cross_entropy(torch.softmax(z, dim=1), y)


def _objective(y, softmax_first):
    return _double(y) if softmax_first else _ce(y)


def correct_with_optim(x, y, weights, lr, steps, softmax_first):
    return _train(x, y, weights, lr, steps, objective=_objective(y, softmax_first), record=_ce(y))


def correct_with_nn_modules(x, y, weights, lr, steps, softmax_first):
    layers = []
    for k, w in enumerate(weights):
        linear = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
        with torch.no_grad():
            linear.weight.copy_(w)
        layers += [linear] + ([torch.nn.ReLU()] if k < len(weights) - 1 else [])
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    curve = []
    for _ in range(steps):
        logits = model(x)
        curve.append(loss_fn(logits, y).item())
        loss = loss_fn(torch.nn.Softmax(dim=1)(logits), y) if softmax_first else loss_fn(logits, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return np.array(curve)


def softmax_in_both(x, y, weights, lr, steps, softmax_first):
    return _train(x, y, weights, lr, steps, objective=_double(y), record=_ce(y))


def softmax_never(x, y, weights, lr, steps, softmax_first):
    return _train(x, y, weights, lr, steps, objective=_ce(y), record=_ce(y))


def records_the_minimized_loss(x, y, weights, lr, steps, softmax_first):
    objective = _objective(y, softmax_first)
    return _train(x, y, weights, lr, steps, objective=objective, record=objective)


def nll_on_logits(x, y, weights, lr, steps, softmax_first):
    objective = _double(y) if softmax_first else (lambda z: F.nll_loss(z, y))
    return _train(x, y, weights, lr, steps, objective=objective, record=objective)


def log_applied_twice(x, y, weights, lr, steps, softmax_first):
    def twice(z):
        return F.nll_loss(torch.log(F.log_softmax(z, dim=1)), y)

    objective = _double(y) if softmax_first else twice
    return _train(x, y, weights, lr, steps, objective=objective, record=objective)


def summed_over_the_batch(x, y, weights, lr, steps, softmax_first):
    def total(z):
        return F.cross_entropy(z, y, reduction="sum")

    objective = (lambda z: F.cross_entropy(torch.softmax(z, 1), y, reduction="sum")) if softmax_first else total
    return _train(x, y, weights, lr, steps, objective=objective, record=total)


def recorded_after_the_update(x, y, weights, lr, steps, softmax_first):
    return _train(x, y, weights, lr, steps, objective=_objective(y, softmax_first), record=_ce(y), after=True)


def one_value_too_many(x, y, weights, lr, steps, softmax_first):
    return _train(x, y, weights, lr, steps, objective=_objective(y, softmax_first), record=_ce(y), extra=True)


def with_momentum(x, y, weights, lr, steps, softmax_first):
    return _train(x, y, weights, lr, steps, objective=_objective(y, softmax_first), record=_ce(y), momentum=0.9)


def with_a_relu_on_the_output(x, y, weights, lr, steps, softmax_first):
    def objective(z):
        return _objective(y, softmax_first)(torch.relu(z))

    return _train(x, y, weights, lr, steps, objective=objective, record=lambda z: F.cross_entropy(torch.relu(z), y))


def returns_tensors(x, y, weights, lr, steps, softmax_first):
    return [torch.tensor(v).reshape(1, 1) for v in correct_with_optim(x, y, weights, lr, steps, softmax_first)]


@pytest.mark.parametrize("answer", [correct_with_optim, correct_with_nn_modules, ref.double_softmax_curve])
def test_correct_answers_written_in_other_ways_earn_everything(answer):
    result = grade_locally("double_softmax", answer)
    assert result.earned == result.max_points, [(o.name, o.message) for o in result.outcomes if not o.passed]


def fix_drops_the_log(x, y, weights, lr, steps, softmax_first):
    """The "fix" that swaps CrossEntropyLoss for NLLLoss on the probabilities: no second softmax, no log either."""
    objective = _double(y) if softmax_first else (lambda z: F.nll_loss(torch.softmax(z, dim=1), y))
    return _train(x, y, weights, lr, steps, objective=objective, record=_ce(y))


def fix_drops_the_log_recorded(x, y, weights, lr, steps, softmax_first):
    objective = _double(y) if softmax_first else (lambda z: F.nll_loss(torch.softmax(z, dim=1), y))
    return _train(x, y, weights, lr, steps, objective=objective, record=objective)


def softmax_over_the_batch(x, y, weights, lr, steps, softmax_first):
    objective = (lambda z: F.cross_entropy(torch.softmax(z, dim=0), y)) if softmax_first else _ce(y)
    return _train(x, y, weights, lr, steps, objective=objective, record=_ce(y))


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (softmax_in_both, task.SOFTMAX_IN_BOTH),
        (nll_on_logits, task.NLL_ON_LOGITS),
        (log_applied_twice, task.LOG_TWICE),
        (summed_over_the_batch, task.SUMMED),
        (recorded_after_the_update, task.RECORDED_AFTER),
        (one_value_too_many, task.one_too_many(task.STEPS)),
        (with_momentum, task.TRAINING_DIFFERS),
        (with_a_relu_on_the_output, task.UNTRAINED_DIFFERS),
        (fix_drops_the_log, task.DROPS_THE_LOG),
        (fix_drops_the_log_recorded, task.DROPS_THE_LOG),
        (
            returns_tensors,
            "the curve for softmax_first=False should hold plain numbers (use loss.item()); one entry is a Tensor.",
        ),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("double_softmax", answer, message)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (softmax_never, task.SOFTMAX_NEVER),
        (records_the_minimized_loss, task.DOUBLED_RECORDED),
        (softmax_over_the_batch, task.WRONG_DIM),
    ],
)
def test_a_wrong_softmax_first_version_is_named(answer, message):
    """(The first case, softmax_first=False, passes: the learner reads this in the second.)"""
    result = grade_locally("double_softmax", answer)
    failed = {o.name: o for o in result.outcomes if not o.passed}
    assert failed["softmax_first_curve"].message == message
    assert failed["softmax_first_curve"].section == task.TASK.section


def test_the_property_holds_with_margin_over_the_hidden_family():
    """Over many set-ups of the hidden cases' family the reference's ratio is well above FACTOR."""
    rng = np.random.default_rng(2026)
    ratios = []
    for _ in range(30):
        x, y, weights = task.random_setup(rng).tensors()
        fixed = ref.double_softmax_curve(x, y, weights, task.LR, task.STEPS, False)[-1]
        doubled = ref.double_softmax_curve(x, y, weights, task.LR, task.STEPS, True)[-1]
        ratios.append(doubled / fixed)
    assert min(ratios) > 1.5 * task.FACTOR, sorted(ratios)[:3]


def test_with_fewer_classes_the_gap_can_close():
    """Why the property is only claimed from ten classes up: an eight-class run where both end low."""
    x, y, weights = task.Setup(8, 200, 106, 6).tensors()
    fixed = ref.double_softmax_curve(x, y, weights, task.LR, task.STEPS, False)[-1]
    doubled = ref.double_softmax_curve(x, y, weights, task.LR, task.STEPS, True)[-1]
    assert doubled < task.FACTOR * fixed


def made_up_curves(x, y, weights, lr, steps, softmax_first):
    """No training: flat curves invented so that the fix ends five times lower."""
    return [5.0 if softmax_first else 1.0] * steps


def test_curves_that_only_have_the_property_earn_nothing():
    result = grade_locally("double_softmax", made_up_curves)
    assert result.earned == 0, [(o.name, o.passed) for o in result.outcomes]
