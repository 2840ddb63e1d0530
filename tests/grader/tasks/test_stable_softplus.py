"""Plausible answers to `softplus`: stable rewritings earn full marks, wrong ones fail naming their mistake.

Stable means what the chapter means: right values and a finite, right slope autograd sends back.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from actgrader.tasks import _stability
from actgrader.tasks import stable_softplus as task

from .helpers import assert_named, first_public_failure, grade_locally, hidden_passes_over_secrets


def relu_plus_log1p(x):
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))


def logaddexp(x):
    return torch.logaddexp(x, torch.zeros_like(x))


def thresholded(x):
    return torch.where(x > 20, x, torch.log1p(torch.exp(x.clamp(max=20))))


@pytest.mark.parametrize("answer", [relu_plus_log1p, logaddexp, thresholded, F.softplus])
def test_stable_answers_earn_full_marks(answer):
    result = grade_locally("stable_softplus", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def naive(x):
    return torch.log(1 + torch.exp(x))


def log1p_only(x):
    return torch.log1p(torch.exp(x))


def positive_form_everywhere(x):
    return x + torch.log1p(torch.exp(-x))


def log_not_log1p(x):
    return x.clamp(min=0) + torch.log(1 + torch.exp(-x.abs()))


def forgot_the_max(x):
    return torch.log1p(torch.exp(-x.abs()))


def unclamped_threshold(x):
    """PyTorch's shortcut typed without a clamp: right values, NaN slopes past e^x's overflow."""
    return torch.where(x > 20, x, torch.log1p(torch.exp(x)))


def unclamped_branches(x):
    return torch.where(x > 0, x + torch.log1p(torch.exp(-x)), torch.log1p(torch.exp(x)))


def through_numpy(x):
    return torch.from_numpy(np.logaddexp(0, x.numpy()))


def detached(x):
    return relu_plus_log1p(x).detach()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (naive, task.OVERFLOWS),
        (log1p_only, task.OVERFLOWS),
        (positive_form_everywhere, task.POSITIVE_FORM),
        (log_not_log1p, task.LOG_NOT_LOG1P),
        (forgot_the_max, task.MISSING_MAX),
        (unclamped_threshold, task.UNSELECTED_BRANCH),
        (unclamped_branches, task.UNSELECTED_BRANCH),
        (detached, _stability.NO_GRAPH.format(call="softplus(x)")),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("stable_softplus", answer, message)


def test_numpy_is_named_before_pytorchs_words():
    _, outcome = first_public_failure("stable_softplus", through_numpy)
    assert outcome.message.startswith(_stability.THROUGH_NUMPY.format(call="softplus(x)") + " (Your code raised ")


@pytest.mark.parametrize("answer", [unclamped_threshold, unclamped_branches])
def test_right_values_with_nan_slopes_lose_the_grid_cases(answer):
    result = grade_locally("stable_softplus", answer)
    failed = {o.name for o in result.outcomes if not o.passed}
    assert {"float32_grid", "float64_grid_and_batch"} <= failed


@pytest.mark.parametrize(
    "answer",
    [
        naive,
        log1p_only,
        positive_form_everywhere,
        forgot_the_max,
        unclamped_threshold,
        unclamped_branches,
    ],
)
def test_no_secret_lets_a_wrong_answer_score_the_random_tensors(answer):
    """Each dtype gets a tensor reaching past the overflow of e^|x| on both sides. Before, small scales
    let these pass the case under these numbers of 100 secrets:
    positive_form_everywhere 31, naive and log1p_only 27, unclamped_threshold 25, unclamped_branches 24."""
    assert hidden_passes_over_secrets("stable_softplus", answer, 200)["random_tensors"] == []


@pytest.mark.parametrize("answer", [relu_plus_log1p, logaddexp, thresholded, F.softplus])
def test_every_secret_gives_a_stable_answer_the_random_tensors(answer):
    """PyTorch's softplus (and the thresholded form) returns x above 20, so its float64 slope there is 1,
    2.1e-9 from sigma(x): with a 1e-9 slope tolerance they lost this case under 2 of 100 secrets."""
    secrets = 200
    assert len(hidden_passes_over_secrets("stable_softplus", answer, secrets)["random_tensors"]) == secrets
