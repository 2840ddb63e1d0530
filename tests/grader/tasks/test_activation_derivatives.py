"""Plausible answers to `derivative`: right closed forms earn full marks, wrong ones fail naming their mistake.

Each wrong answer is the right one with a single activation's slope replaced by a classic
slip, so the message must point at that activation.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from actgrader.tasks import activation_derivatives as task

from .helpers import assert_fails_with, assert_named, grade_locally, hidden_passes_over_secrets


def _sigmoid(x):
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _phi(x):
    return torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _cdf(x):
    return 0.5 * torch.special.erfc(-x / math.sqrt(2))


RIGHT = {
    "sigmoid": lambda x: _sigmoid(x) * (1 - _sigmoid(x)),  # loses the right tail's digits, within tolerance
    "tanh": lambda x: 1 - torch.tanh(x) ** 2,
    "relu": lambda x: (x > 0).to(x.dtype),
    "leaky_relu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01)),
    "elu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.exp(x.clamp(max=0))),
    "gelu": lambda x: _cdf(x) + x * _phi(x),
    "silu": lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
    "softplus": _sigmoid,
    "softsign": lambda x: 1 / (1 + x.abs()) ** 2,
    "prelu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.25)),
    "rrelu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, (1 / 8 + 1 / 3) / 2)),
    "celu": lambda x: torch.where(x > 0, torch.ones_like(x), torch.exp(x.clamp(max=0))),
    "mish": lambda x: _mish_slope(x),
    "relu6": lambda x: ((x > 0) & (x < 6)).to(x.dtype),
    "hard_sigmoid": lambda x: ((x > -3) & (x < 3)).to(x.dtype) / 6,
    "hard_swish": lambda x: torch.where(
        x <= -3, torch.zeros_like(x), torch.where(x >= 3, torch.ones_like(x), x / 3 + 0.5)
    ),
}


def _mish_slope(x):
    s = F.softplus(x)  # switches to x itself above 20: no overflow
    t = torch.tanh(s)
    return t + x * _sigmoid(x) * (1 - t * t)


def right(name, x):
    return RIGHT[name](x)


def _autograd(fn):
    def slope(x):
        x = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(fn(x).sum(), x)
        return grad

    return slope


def by_autograd(name, x):
    functions = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": F.leaky_relu,
        "elu": F.elu,
        "gelu": F.gelu,
        "silu": F.silu,
        "softplus": F.softplus,
        "softsign": F.softsign,
        "prelu": lambda v: F.prelu(v, v.new_full((1,), 0.25)),
        "rrelu": lambda v: F.rrelu(v, training=False),
        "celu": F.celu,
        "mish": F.mish,
        "relu6": F.relu6,
        "hard_sigmoid": F.hardsigmoid,
        "hard_swish": F.hardswish,
    }
    return _autograd(functions[name])(x)


@pytest.mark.parametrize("answer", [right, by_autograd])
def test_right_answers_earn_full_marks(answer):
    result = grade_locally("activation_derivatives", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def with_slip(name, slip):
    def answer(n, x):
        return slip(x) if n == name else RIGHT[n](x)

    answer.__name__ = f"{name}_slip"
    return answer


def _naive_sigmoid(x):
    e = torch.exp(x)
    return e / (1 + e)


def _definition(name):
    return task.SECTIONS[name].definition


SLIPS = [
    ("sigmoid", lambda x: RIGHT["sigmoid"](_sigmoid(x)), task.MESSAGES["sigmoid:at_output"]),
    ("sigmoid", lambda x: x * (1 - x), task.MESSAGES["sigmoid:input_plugged"]),
    ("tanh", lambda x: 1 - torch.tanh(x), task.MESSAGES["tanh:no_square"]),
    ("tanh", lambda x: 1 - torch.tanh(torch.tanh(x)) ** 2, task.MESSAGES["tanh:at_output"]),
    ("tanh", lambda x: 1 - x * x, task.MESSAGES["tanh:input_plugged"]),
    ("relu", lambda x: (x >= 0).to(x.dtype), task.kink(0.0)),
    ("relu", torch.relu, task.returned_function("relu")),
    (
        "leaky_relu",
        lambda x: torch.where(x > 0, torch.full_like(x, 0.01), torch.ones_like(x)),
        task.MESSAGES["leaky_relu:sides_swapped"],
    ),
    ("leaky_relu", lambda x: torch.where(x >= 0, torch.ones_like(x), torch.full_like(x, 0.01)), task.kink(0.01)),
    ("leaky_relu", lambda x: (x > 0).to(x.dtype), task.MESSAGES["leaky_relu:relu"]),
    (
        "elu",
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.expm1(x.clamp(max=0))),
        task.MESSAGES["elu:no_alpha"],
    ),
    ("elu", lambda x: (x > 0).to(x.dtype), task.MESSAGES["elu:relu"]),
    ("gelu", _autograd(lambda v: F.gelu(v, approximate="tanh")), task.MESSAGES["gelu:tanh_approximation"]),
    ("gelu", _cdf, task.MESSAGES["gelu:cdf_only"]),
    ("gelu", lambda x: x * _phi(x), task.MESSAGES["gelu:pdf_term_only"]),
    ("silu", _sigmoid, task.MESSAGES["silu:sigmoid_only"]),
    ("silu", lambda x: _sigmoid(x) * (1 - _sigmoid(x)), task.MESSAGES["silu:sigmoid_slope"]),
    ("softplus", lambda x: _sigmoid(-x), task.MESSAGES["softplus:mirrored"]),
    ("softsign", lambda x: 1 / (1 + x.abs()), task.MESSAGES["softsign:no_square"]),
    (
        "prelu",
        lambda x: torch.where(x > 0, torch.full_like(x, 0.25), torch.ones_like(x)),
        task.MESSAGES["prelu:sides_swapped"],
    ),
    ("prelu", lambda x: torch.where(x >= 0, torch.ones_like(x), torch.full_like(x, 0.25)), task.kink(0.25)),
    (
        "prelu",
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01)),
        task.MESSAGES["prelu:leaky_default"],
    ),
    ("prelu", lambda x: x.clamp(max=0), task.MESSAGES["prelu:slope_wrt_a"]),
    (
        "rrelu",
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 1 / 8)),
        task.MESSAGES["rrelu:end_of_interval"],
    ),
    (
        "rrelu",
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 1 / 3)),
        task.MESSAGES["rrelu:end_of_interval"],
    ),
    (
        "rrelu",
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01)),
        task.MESSAGES["rrelu:leaky_default"],
    ),
    ("celu", lambda x: (x > 0).to(x.dtype), task.MESSAGES["celu:relu"]),
    (
        "celu",
        lambda x: torch.where(x > 0, torch.ones_like(x), torch.expm1(x.clamp(max=0))),
        task.MESSAGES["celu:no_plus_one"],
    ),
    ("celu", F.celu, task.returned_function("celu")),
    ("mish", lambda x: torch.tanh(F.softplus(x)), task.MESSAGES["mish:gate_only"]),
    (
        "mish",
        lambda x: torch.tanh(F.softplus(x)) + x * (1 - torch.tanh(F.softplus(x)) ** 2),
        task.MESSAGES["mish:no_chain_rule"],
    ),
    ("mish", lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))), task.MESSAGES["mish:silu"]),
    ("relu6", lambda x: (x > 0).to(x.dtype), task.MESSAGES["relu6:relu"]),
    ("relu6", lambda x: ((x > 0) & (x <= 6)).to(x.dtype), task.MESSAGES["relu6:kink_at_6"]),
    ("relu6", lambda x: ((x >= 0) & (x < 6)).to(x.dtype), task.kink(0.0)),
    ("hard_sigmoid", lambda x: torch.full_like(x, 1 / 6), task.MESSAGES["hard_sigmoid:everywhere"]),
    ("hard_sigmoid", lambda x: _sigmoid(x) * (1 - _sigmoid(x)), task.MESSAGES["hard_sigmoid:sigmoid"]),
    ("hard_sigmoid", lambda x: ((x >= -3) & (x <= 3)).to(x.dtype) / 6, task.MESSAGES["hard_sigmoid:kinks"]),
    ("hard_swish", lambda x: x / 3 + 0.5, task.MESSAGES["hard_swish:unclipped"]),
    ("hard_swish", F.hardsigmoid, task.MESSAGES["hard_swish:gate_only"]),
    (
        "hard_swish",
        lambda x: torch.where(x < -3, torch.zeros_like(x), torch.where(x > 3, torch.ones_like(x), x / 3 + 0.5)),
        task.MESSAGES["hard_swish:kinks"],
    ),
]


@pytest.mark.parametrize(("name", "slip", "message"), SLIPS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SLIPS)])
def test_wrong_answer_is_named(name, slip, message):
    """Each message links the activation's definition."""
    assert_named("activation_derivatives", with_slip(name, slip), message, section=_definition(name))


def test_the_right_formula_around_an_overflowing_function_is_named_and_links_its_stable_form():
    answer = with_slip("sigmoid", lambda x: _naive_sigmoid(x) * (1 - _naive_sigmoid(x)))
    assert_named(
        "activation_derivatives", answer, task.naive_inside("sigmoid"), section=task.SECTIONS["sigmoid"].stability
    )


def test_softsign_without_the_absolute_value_is_named_on_the_float64_grid():
    result = grade_locally("activation_derivatives", with_slip("softsign", lambda x: 1 / (1 + x) ** 2))
    failed = {o.name: o.message for o in result.outcomes if not o.passed}
    assert failed["softplus_and_softsign"] == task.MESSAGES["softsign:no_abs"]


def test_an_unknown_name_is_reported_as_the_learners_error():
    def sigmoid_and_tanh_only(name, x):
        return {"sigmoid": RIGHT["sigmoid"], "tanh": RIGHT["tanh"]}[name](x)

    result = assert_fails_with("activation_derivatives", sigmoid_and_tanh_only, "raised KeyError")
    assert 0 < result.earned < result.max_points


def test_section_labels_exist_in_the_chapters():
    """Messages link per activation; the labels must exist in the chapter sources (the site test builds them)."""
    from pathlib import Path

    from actgrader.tasks.activation_derivatives import NAMES, SECTIONS

    book = Path(__file__).resolve().parents[3] / "book"
    assert set(SECTIONS) == set(NAMES)
    for where in SECTIONS.values():
        for section in (where.definition, where.stability):
            page, _, label = section.partition("#")
            assert f"({label})=" in (book / f"{page}.md").read_text(encoding="utf-8"), section


@pytest.mark.parametrize("answer", [right, by_autograd])
def test_every_secret_gives_a_right_answer_the_hidden_cases(answer):
    """Autograd through F.softplus gives a slope of exactly 1 above x = 20 (2.1e-9 from sigma(x)):
    with a 1e-9 float64 tolerance it lost a hidden case under 1 of 100 secrets, told that its
    softplus overflows."""
    secrets = 100
    passes = hidden_passes_over_secrets("activation_derivatives", answer, secrets)
    assert passes and all(len(found) == secrets for found in passes.values()), {
        name: secrets - len(found) for name, found in passes.items()
    }
