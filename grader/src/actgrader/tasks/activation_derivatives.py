"""Task ``activation_derivatives``: the slopes f'(x) of nine activations, from their closed forms.

The learner writes ``derivative(name, x)`` for the names in :data:`NAMES` (Leaky ReLU with
alpha = 0.01, ELU with alpha = 1, the exact GELU); each is compared with
:func:`actgrader.reference.registry.derivative` on grids that reach ±1e4 and include the
kink at 0, in float32 and float64. At the kink the slope is PyTorch's convention, the left one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from actgrader.grading import CaseContext, Task
from actgrader.grading.answer import Answer
from actgrader.reference import formulas as ref
from actgrader.reference import naive, registry
from actgrader.tasks._stability import LOOSE, Known, at_x, grid, judge

TASK = Task(
    "activation_derivatives",
    "The derivatives of nine activations",
    answer="derivative",
    reference=registry.derivative,
    section="comparison#sec-comparison-table",
)

NAMES: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "softsign")
LEAKY_ALPHA = 0.01


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


def _judge(answer: Answer, name: str, x: Tensor) -> None:
    label = registry.ACTIVATIONS[name].label
    judge(
        answer(name, x),
        registry.derivative(name, x),
        name=f"derivative('{name}', x)",
        tolerance=LOOSE,
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
