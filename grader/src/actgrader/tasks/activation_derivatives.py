"""Task ``activation_derivatives``: the slopes f'(x) of sixteen activations, from their closed forms.

The learner writes ``derivative(name, x)`` for the names in :data:`NAMES` (Leaky ReLU with
alpha = 0.01, ELU and CELU with alpha = 1, the exact GELU, PReLU at PyTorch's initial
a = 0.25, RReLU in evaluation mode); each is compared with
:func:`actgrader.reference.registry.derivative` on grids that reach ±1e4 and include the
kink at 0 (and ReLU6's, hard-sigmoid's and hard-swish's at ±3 and 6), in float32 and float64.
At a kink the slope is PyTorch's convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.reference import naive, registry
from actgrader.tasks._stability import (
    LOOSE,
    MAGNITUDES,
    Known,
    Tolerance,
    at_x,
    grid,
    judge,
    softplus_slope_tolerance,
)

TASK = Task(
    "activation_derivatives",
    "The derivatives of sixteen activations",
    answer="derivative",
    reference=registry.derivative,
    section="comparison#sec-comparison-table",
)

CLASSIC: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "softsign")
#: The members of the chapter "The rest of the family" that have a closed-form slope.
FAMILY: tuple[str, ...] = ("prelu", "rrelu", "celu", "mish", "relu6", "hard_sigmoid", "hard_swish")
NAMES: tuple[str, ...] = CLASSIC + FAMILY
LEAKY_ALPHA = 0.01
#: The kinks of the piecewise-linear members, added to the public grids of their case.
PIECEWISE_KINKS: tuple[float, ...] = (1.5, 3.0, 6.0)


@dataclass(frozen=True)
class Where:
    """The book sections a learner reads for one activation: its definition and its safe computation."""

    definition: str
    stability: str


SECTIONS: dict[str, Where] = {
    "sigmoid": Where("sigmoid#sec-sigmoid-definition", "sigmoid#sec-sigmoid-stability"),
    "tanh": Where("tanh#sec-tanh-definition", "tanh#sec-tanh-stability"),
    "relu": Where("relu-family#sec-relu-definitions", "relu-family#sec-relu-stability"),
    "leaky_relu": Where("relu-family#sec-relu-definitions", "relu-family#sec-relu-stability"),
    "elu": Where("relu-family#sec-relu-definitions", "relu-family#sec-relu-stability"),
    "gelu": Where("gelu-silu#sec-gelu-definition", "gelu-silu#sec-gelu-silu-stability"),
    "silu": Where("gelu-silu#sec-silu-definition", "gelu-silu#sec-gelu-silu-stability"),
    "softplus": Where("softsign-softplus#sec-softplus", "softsign-softplus#sec-softplus-stability"),
    "softsign": Where("softsign-softplus#sec-softsign", "softsign-softplus#sec-softsign"),
    "prelu": Where("activation-family#sec-family-prelu", "activation-family#sec-family-prelu"),
    "rrelu": Where("activation-family#sec-family-rrelu", "activation-family#sec-family-rrelu"),
    "celu": Where("activation-family#sec-family-celu", "activation-family#sec-family-celu"),
    "mish": Where("activation-family#sec-family-mish", "activation-family#sec-family-mish"),
    "relu6": Where("activation-family#sec-family-hard", "activation-family#sec-family-hard"),
    "hard_sigmoid": Where("activation-family#sec-family-hard", "activation-family#sec-family-hard"),
    "hard_swish": Where("activation-family#sec-family-hard", "activation-family#sec-family-hard"),
}


def kink(left: float) -> str:
    """The message for the right-hand slope taken at the kink x = 0."""
    return (
        f"At the kink x = 0 the slope is not defined; PyTorch (and this exercise) uses the left slope, {left:g}: "
        "write the condition for the right-hand side as x > 0, not x >= 0."
    )


def returned_function(name: str) -> str:
    return f"derivative('{name}', x) returned {registry.ACTIVATIONS[name].label}(x) itself, not its slope."


def naive_inside(name: str) -> str:
    """The message for the right closed form computed with the naive (overflowing) function inside it."""
    label = registry.ACTIVATIONS[name].label
    return (
        f"The slope of {label} is NaN where it is finite: the formula is right, but the {label} inside it "
        "exponentiates a large positive number. Compute through e^-|x|, or pick the branch by the sign "
        "of x with each branch's input clamped to its own side."
    )


#: The messages of the per-activation misconceptions, by "<name>:<what>".
MESSAGES: dict[str, str] = {
    "sigmoid:at_output": (
        "sigma'(x) = sigma(x)(1 - sigma(x)) takes sigma(x), the output: you evaluated it at the output "
        "sigma(x) instead of at the input, i.e. sigma(sigma(x))(1 - sigma(sigma(x)))."
    ),
    "sigmoid:input_plugged": "sigma'(x) = s(1 - s) with s = sigma(x), the output; x(1 - x) plugs in the input instead.",
    "tanh:no_square": "tanh'(x) = 1 - tanh(x)^2: the square is missing.",
    "tanh:at_output": (
        "tanh'(x) = 1 - t^2 with t = tanh(x), the output: you evaluated it at the output tanh(x) instead "
        "of at the input."
    ),
    "tanh:input_plugged": "tanh'(x) = 1 - t^2 with t = tanh(x), the output; 1 - x^2 plugs in the input instead.",
    "leaky_relu:sides_swapped": (
        f"The small slope alpha = {LEAKY_ALPHA:g} belongs to the negative side: the slope is 1 for x > 0 "
        "and alpha for x < 0."
    ),
    "leaky_relu:relu": "Leaky ReLU's slope for x < 0 is alpha, not 0: that is ReLU's.",
    "elu:no_alpha": "For x <= 0, ELU's slope is alpha e^x = ELU(x) + alpha: the + alpha is missing.",
    "elu:relu": "ELU's slope for x <= 0 is alpha e^x, not 0: that is ReLU's.",
    "gelu:tanh_approximation": (
        "This is the slope of GELU's tanh approximation; the exercise asks for the exact GELU, x Phi(x), "
        "whose slope is Phi(x) + x phi(x)."
    ),
    "gelu:cdf_only": "GELU(x) = x Phi(x) is a product: its slope is Phi(x) + x phi(x), not Phi(x) alone.",
    "gelu:pdf_term_only": "GELU(x) = x Phi(x) is a product: its slope is Phi(x) + x phi(x), not x phi(x) alone.",
    "silu:sigmoid_only": (
        "SiLU(x) = x sigma(x) is a product: its slope is sigma(x) + x sigma(x)(1 - sigma(x)), not sigma(x) alone."
    ),
    "silu:sigmoid_slope": (
        "That is the sigmoid's slope sigma(x)(1 - sigma(x)); SiLU(x) = x sigma(x) has slope "
        "sigma(x) + x sigma(x)(1 - sigma(x))."
    ),
    "softplus:mirrored": "softplus'(x) = e^x / (1 + e^x) = sigma(x), not sigma(-x) = 1 / (1 + e^x).",
    "softsign:no_square": "softsign'(x) = 1 / (1 + |x|)^2: the square is missing.",
    "softsign:no_abs": (
        "softsign'(x) = 1 / (1 + |x|)^2, with |x|: without it the slope is wrong (and infinite at "
        "x = -1) for negative x."
    ),
    "prelu:sides_swapped": (
        f"PReLU's learned slope a = {ref.PRELU_INIT:g} belongs to the negative side: the slope is 1 for x > 0 "
        "and a for x <= 0."
    ),
    "prelu:leaky_default": (
        f"PReLU's slope for x <= 0 is its parameter a, here PyTorch's initial a = {ref.PRELU_INIT:g} "
        "(nn.PReLU(init=0.25)), not Leaky ReLU's default 0.01."
    ),
    "prelu:slope_wrt_a": (
        "min(x, 0) is PReLU's slope with respect to its parameter a (what trains a); the exercise asks for "
        "the slope with respect to x: 1 for x > 0, a otherwise."
    ),
    "rrelu:end_of_interval": (
        "In evaluation mode RReLU's slope for x <= 0 is the middle of [lower, upper], "
        f"(1/8 + 1/3) / 2 = 11/48 = {ref.rrelu_eval_slope():.4f}, not an end of the interval."
    ),
    "rrelu:leaky_default": (
        f"RReLU's evaluation slope is (lower + upper) / 2 = 11/48 = {ref.rrelu_eval_slope():.4f}, "
        "not Leaky ReLU's 0.01."
    ),
    "celu:relu": "CELU's slope for x <= 0 is e^(x/alpha), not 0: that is ReLU's.",
    "celu:no_plus_one": "For x <= 0, CELU's slope is e^(x/alpha) = CELU(x)/alpha + 1: the + 1 is missing.",
    "mish:gate_only": (
        "Mish(x) = x tanh(softplus(x)) is a product: its slope is tanh(s) + x sigma(x) (1 - tanh(s)^2) "
        "with s = softplus(x), not tanh(s) alone."
    ),
    "mish:no_chain_rule": (
        "The chain rule through softplus is missing: d softplus(x)/dx = sigma(x) multiplies the second "
        "term, tanh(s) + x sigma(x) (1 - tanh(s)^2)."
    ),
    "mish:silu": "That is SiLU's slope; Mish gates x with tanh(softplus(x)), not with sigma(x).",
    "relu6:relu": "ReLU6 is capped at 6: its slope is 0 for x >= 6 too, not only for x <= 0 (that is ReLU's).",
    "relu6:kink_at_6": (
        "At the kink x = 6 PyTorch (and this exercise) uses slope 0: write the condition as x < 6, not x <= 6."
    ),
    "hard_sigmoid:everywhere": "hard-sigmoid is flat outside (-3, 3): its slope is 1/6 inside and 0 outside.",
    "hard_sigmoid:sigmoid": (
        "That is the sigmoid's slope; hard-sigmoid is piecewise linear, with slope 1/6 on (-3, 3) and 0 elsewhere."
    ),
    "hard_sigmoid:kinks": "At the kinks x = -3 and x = 3 PyTorch uses slope 0: write -3 < x < 3, not -3 <= x <= 3.",
    "hard_swish:unclipped": ("hard-swish's slope is (2x + 3)/6 only on (-3, 3): it is 0 for x <= -3 and 1 for x >= 3."),
    "hard_swish:gate_only": (
        "hard-swish(x) = x hard-sigmoid(x) is a product: its slope is hard-sigmoid(x) + x hard-sigmoid'(x), "
        "(2x + 3)/6 on (-3, 3), not hard-sigmoid(x) alone."
    ),
    "hard_swish:kinks": (
        "At x = -3 and x = 3 PyTorch uses the outer slopes, 0 and 1: write x <= -3 and x >= 3 for the outer pieces."
    ),
}


def _known(name: str, x: Tensor) -> list[Known]:
    """Misconceptions about ``name``'s slope, each with the values it gives on ``x``."""
    info = registry.ACTIVATIONS[name]
    where = SECTIONS[name].definition
    one = torch.ones_like(x)
    m = MESSAGES
    per_name: dict[str, list[tuple[str, Tensor]]] = {
        "sigmoid": [
            (m["sigmoid:at_output"], ref.d_sigmoid(ref.sigmoid(x))),
            (m["sigmoid:input_plugged"], x * (1 - x)),
        ],
        "tanh": [
            (m["tanh:no_square"], 1 - ref.tanh(x)),
            (m["tanh:at_output"], ref.d_tanh(ref.tanh(x))),
            (m["tanh:input_plugged"], 1 - x * x),
        ],
        "relu": [(kink(0.0), (x >= 0).to(x.dtype))],
        "leaky_relu": [
            (m["leaky_relu:sides_swapped"], torch.where(x > 0, torch.full_like(x, LEAKY_ALPHA), one)),
            (kink(LEAKY_ALPHA), torch.where(x >= 0, one, torch.full_like(x, LEAKY_ALPHA))),
            (m["leaky_relu:relu"], ref.d_relu(x)),
        ],
        "elu": [
            (m["elu:no_alpha"], torch.where(x > 0, one, ref.elu(x))),
            (m["elu:relu"], ref.d_relu(x)),
        ],
        "gelu": [
            (m["gelu:tanh_approximation"], ref.d_gelu_tanh(x)),
            (m["gelu:cdf_only"], ref.normal_cdf(x)),
            (m["gelu:pdf_term_only"], x * ref.normal_pdf(x)),
        ],
        "silu": [
            (m["silu:sigmoid_only"], ref.sigmoid(x)),
            (m["silu:sigmoid_slope"], ref.d_sigmoid(x)),
        ],
        "softplus": [(m["softplus:mirrored"], ref.sigmoid(-x))],
        "prelu": [
            (m["prelu:sides_swapped"], torch.where(x > 0, torch.full_like(x, ref.PRELU_INIT), one)),
            (kink(ref.PRELU_INIT), torch.where(x >= 0, one, torch.full_like(x, ref.PRELU_INIT))),
            (m["prelu:leaky_default"], ref.d_leaky_relu(x, LEAKY_ALPHA)),
            (m["prelu:slope_wrt_a"], ref.d_prelu_da(x)),
        ],
        "rrelu": [
            (m["rrelu:end_of_interval"], ref.d_leaky_relu(x, ref.RRELU_LOWER)),
            (m["rrelu:end_of_interval"], ref.d_leaky_relu(x, ref.RRELU_UPPER)),
            (m["rrelu:leaky_default"], ref.d_leaky_relu(x, LEAKY_ALPHA)),
            (kink(ref.rrelu_eval_slope()), torch.where(x >= 0, one, torch.full_like(x, ref.rrelu_eval_slope()))),
        ],
        "celu": [
            (m["celu:relu"], ref.d_relu(x)),
            (m["celu:no_plus_one"], torch.where(x > 0, one, ref.celu(x))),
        ],
        "mish": [
            (m["mish:gate_only"], torch.tanh(ref.softplus(x))),
            (m["mish:no_chain_rule"], _mish_without_chain_rule(x)),
            (m["mish:silu"], ref.d_silu(x)),
        ],
        "relu6": [
            (m["relu6:relu"], ref.d_relu(x)),
            (m["relu6:kink_at_6"], ((x > 0) & (x <= 6)).to(x.dtype)),
            (kink(0.0), ((x >= 0) & (x < 6)).to(x.dtype)),
        ],
        "hard_sigmoid": [
            (m["hard_sigmoid:everywhere"], torch.full_like(x, 1 / 6)),
            (m["hard_sigmoid:sigmoid"], ref.d_sigmoid(x)),
            (m["hard_sigmoid:kinks"], ((x >= -3) & (x <= 3)).to(x.dtype) / 6),
        ],
        "hard_swish": [
            (m["hard_swish:unclipped"], (2 * x + 3) / 6),
            (m["hard_swish:gate_only"], ref.hard_sigmoid(x)),
            (
                m["hard_swish:kinks"],
                torch.where(x < -3, torch.zeros_like(x), torch.where(x > 3, one, (2 * x + 3) / 6)),
            ),
        ],
        "softsign": [
            (m["softsign:no_square"], 1 / (1 + x.abs())),
            (m["softsign:no_abs"], 1 / (1 + x) ** 2),
        ],
    }
    known: list[Known] = [(returned_function(name), info.fn(x), where)]
    naive = _naive_slope(name, x)
    if naive is not None:
        known.append((naive_inside(name), naive, SECTIONS[name].stability))
    return known + [(message, values, where) for message, values in per_name[name]]


def _mish_without_chain_rule(x: Tensor) -> Tensor:
    """``tanh(s) + x (1 - tanh(s)^2)``: Mish's slope with softplus' own slope sigma(x) left out."""
    t = torch.tanh(ref.softplus(x))
    return t + x * (1 - t * t)


#: PyTorch's float64 backward of ``hardsigmoid`` returns the float32 nearest 1/6
#: (0.16666666716...), 3e-8 away from 1/6: a learner who differentiates ``F.hardsigmoid`` with
#: autograd is right, so this slope is judged in float64 with a float32-sized tolerance.
#: Softplus' slope: see :func:`~actgrader.tasks._stability.softplus_slope_tolerance`
#: (autograd through ``F.softplus`` gives exactly 1 above x = 20).
TOLERANCES = {
    "hard_sigmoid": {**LOOSE, torch.float64: Tolerance(1e-7, 1e-12)},
    "softplus": softplus_slope_tolerance(LOOSE),
}


def _judge(answer: Answer, name: str, x: Tensor) -> None:
    label = registry.ACTIVATIONS[name].label
    judge(
        answer(name, x),
        registry.derivative(name, x),
        name=f"derivative('{name}', x)",
        tolerance=TOLERANCES.get(name, LOOSE),
        describe=at_x(x),
        known=_known(name, x),
        not_finite=(
            f"The slope of {label} must be finite for every finite x: never exponentiate a large positive number, "
            "and do not divide inf by inf."
        ),
        otherwise=f"Compare your formula for the slope of {label} with the chapter's.",
    )


def _naive_slope(name: str, x: Tensor) -> Tensor | None:
    """The right closed form with the naive function inside it (NaN at large x), for the names that have one."""
    forms = {
        "sigmoid": lambda v: naive.naive_sigmoid_ratio(v) * (1 - naive.naive_sigmoid_ratio(v)),
        "tanh": lambda v: 1 - naive.naive_tanh(v) ** 2,
        "silu": lambda v: naive.naive_sigmoid_ratio(v) * (1 + v * (1 - naive.naive_sigmoid_ratio(v))),
        "softplus": naive.naive_sigmoid_ratio,
    }
    return forms[name](x) if name in forms else None


def _check_names(answer: Answer, names: tuple[str, ...], x: Tensor) -> None:
    for name in names:
        _judge(answer, name, x)


@TASK.case(points=1, section="sigmoid#sec-sigmoid-definition")
def sigmoid_and_tanh(answer: Answer, ctx: CaseContext) -> None:
    """sigmoid and tanh, float32 from -1e4 to 1e4"""
    _check_names(answer, ("sigmoid", "tanh"), grid(torch.float32))


@TASK.case(points=1, section="relu-family#sec-relu-definitions")
def relu_family(answer: Answer, ctx: CaseContext) -> None:
    """the ReLU family: ReLU, Leaky ReLU (alpha = 0.01), ELU (alpha = 1), x = 0 included"""
    _check_names(answer, ("relu", "leaky_relu", "elu"), grid(torch.float32))


@TASK.case(points=1, section="gelu-silu#sec-gelu-definition")
def gelu_and_silu(answer: Answer, ctx: CaseContext) -> None:
    """the exact GELU and SiLU"""
    _check_names(answer, ("gelu", "silu"), grid(torch.float32))


@TASK.case(points=1, section="softsign-softplus#sec-softplus")
def softplus_and_softsign(answer: Answer, ctx: CaseContext) -> None:
    """softplus and softsign"""
    _check_names(answer, ("softplus", "softsign"), grid(torch.float32))


@TASK.case(points=1, section="activation-family#sec-family-prelu")
def learned_and_random_slopes(answer: Answer, ctx: CaseContext) -> None:
    """the learned-slope units: PReLU (a = 0.25) and RReLU in evaluation mode"""
    _check_names(answer, ("prelu", "rrelu"), grid(torch.float32))


@TASK.case(points=1, section="activation-family#sec-family-mish")
def celu_and_mish(answer: Answer, ctx: CaseContext) -> None:
    """the smooth ones: CELU (alpha = 1) and Mish"""
    _check_names(answer, ("celu", "mish"), grid(torch.float32))


@TASK.case(points=1, section="activation-family#sec-family-hard")
def piecewise_linear(answer: Answer, ctx: CaseContext) -> None:
    """the piecewise-linear ones: ReLU6, hard-sigmoid and hard-swish, their kinks at -3, 0, 3 and 6 included"""
    x = grid(torch.float32, MAGNITUDES + PIECEWISE_KINKS)
    _check_names(answer, ("relu6", "hard_sigmoid", "hard_swish"), x)


@TASK.case(points=1)
def float64_and_batches(answer: Answer, ctx: CaseContext) -> None:
    """every name on a float64 grid and on a 2-D batch"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    batch = 4 * torch.randn(3, 4, generator=gen)
    for name in NAMES:
        _judge(answer, name, grid(torch.float64))
        _judge(answer, name, batch)


@TASK.case(points=2, hidden=True)
def random_tensors(answer: Answer, ctx: CaseContext) -> None:
    """every name on tensors of random shape, scale and dtype"""
    rng = ctx.rng()
    for name in NAMES:
        shape = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))
        dtype = (torch.float32, torch.float64)[int(rng.integers(2))]
        scale = float(10 ** rng.uniform(-1, 3))
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        _judge(answer, name, scale * torch.randn(shape, generator=gen, dtype=dtype))


@TASK.case(points=1, hidden=True)
def near_the_kink(answer: Answer, ctx: CaseContext) -> None:
    """every name on inputs at and just around 0"""
    rng = ctx.rng()
    for dtype in (torch.float32, torch.float64):
        tiny = torch.tensor(rng.uniform(-1e-3, 1e-3, size=6), dtype=dtype)
        x = torch.cat([tiny, torch.zeros(2, dtype=dtype), -tiny.abs() * 1e-3])
        for name in NAMES:
            _judge(answer, name, x)
