"""Task ``init_for_activation``: choose the weights' standard deviation for an activation, judged by what it does.

The learner writes ``init_std(activation, fan_in, fan_out)``. The check never compares it
with a formula: it builds 20-layer networks in the trusted process with weights drawn at the
learner's standard deviation (zero biases), runs a batch through them and measures the
activation spread of every hidden layer
(:func:`actgrader.reference.initialization.activation_spread`). It must stay within a factor
of 20 of the first layer's all the way through; for tanh the units must also stay in its
near-linear part (mean slope at least 0.8 in the last ten layers), which Kaiming's factor 2
violates. When the answer fails and matches a known scheme, the message names the mismatch.

Each case builds networks of two widths a factor 3 to 5 apart, so that one number for every
layer (a constant tuned to one width) cannot pass. The layers are square, so a rule written
with fan_out where fan_in is meant (PyTorch's ``mode="fan_out"``, which preserves the
backward pass instead) is accepted: in a square layer the two are the same.
"""

from __future__ import annotations

import itertools
import math
import statistics

import torch
from torch import nn

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference.formulas import d_tanh
from actgrader.reference.initialization import activation_records, matched_std, weight_variance
from actgrader.reference.models import mlp_from_weights
from actgrader.reference.training import single_thread

TASK = Task(
    "init_for_activation",
    "An initialization that suits the activation",
    answer="init_std",
    reference=matched_std,
    section="initialization#sec-mismatch",
)

DEPTH = 20
NETWORKS = 3
BATCH = 256
#: Every hidden layer's spread must stay within this factor of the first hidden layer's. With a
#: matched scheme (Kaiming; Glorot or LeCun for tanh) the largest ratio measured over 300 secrets
#: of the hidden case (widths 24 to 200, 3 networks each) was 6.6, for ReLU at 25 units (narrow
#: layers' random gains compound); the mismatches the messages name change it by a factor of 1000
#: or more.
SPREAD_FACTOR = 20.0
#: tanh: the mean slope tanh'(z) over the last ten hidden layers must be at least this. Measured
#: on networks of 48 units (three networks averaged, 100 seeds): 0.89 or more with Glorot's or
#: LeCun's scale, at most 0.69 with Kaiming's (widths 24 to 200, 300 secrets: at least 0.95).
TANH_MIN_SLOPE = 0.8
#: What the learner's activation names mean here (Leaky ReLU with PyTorch's default slope).
MODULES = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh}

SCHEME_NAMES = {
    "kaiming": "Kaiming (variance 2/fan_in)",
    "xavier": "Glorot/Xavier (variance 2/(fan_in + fan_out))",
    "lecun": "LeCun (variance 1/fan_in)",
    "default": "nn.Linear's default (variance 1/(3 fan_in))",
}


def _recognise(std: float, fan_in: int, fan_out: int) -> str | None:
    """What ``std`` is (within 2%): a scheme's standard deviation (``"kaiming"``), its variance
    (``"variance:kaiming"``), the bound of its uniform form, sqrt(3) times the standard deviation
    (``"bound:kaiming"``), or its gain divided by fan_in instead of its square root (``"fan_in:kaiming"``)."""
    for scheme in ("kaiming", "xavier", "lecun", "default"):
        variance = weight_variance(scheme, fan_in, fan_out)
        forms = {
            scheme: math.sqrt(variance),
            f"variance:{scheme}": variance,
            f"bound:{scheme}": math.sqrt(3 * variance),
            f"fan_in:{scheme}": math.sqrt(variance * fan_in) / fan_in,
        }
        for name, value in forms.items():
            if math.isclose(std, value, rel_tol=0.02):
                return name
    return None


def _stds(answer: Answer, activation: str, widths: list[int]) -> list[float]:
    stds: dict[tuple[int, int], float] = {}
    for fan_in, fan_out in itertools.pairwise(widths):
        if (fan_in, fan_out) not in stds:
            std = expect.number(
                answer(activation, fan_in, fan_out), name=f'init_std("{activation}", {fan_in}, {fan_out})'
            )
            if not std > 0:
                raise Mistake(
                    f'init_std("{activation}", {fan_in}, {fan_out}) is {std:g}; a standard deviation is positive.'
                )
            stds[fan_in, fan_out] = std
    return [stds[pair] for pair in itertools.pairwise(widths)]


def _measure(activation: str, widths: list[int], stds: list[float], seed: int) -> tuple[list[float], float]:
    """Spread of each hidden layer (mean over ``NETWORKS`` networks), and for tanh the mean slope of the last ten."""
    gen = torch.Generator().manual_seed(seed)
    spreads, slopes = [], []
    with single_thread():
        for _ in range(NETWORKS):
            x = torch.randn(BATCH, widths[0], generator=gen)
            weights = [
                torch.randn(n_out, n_in, generator=gen) * std
                for n_in, n_out, std in zip(widths, widths[1:], stds, strict=False)
            ]
            biases = [torch.zeros(w.shape[0]) for w in weights]
            records = activation_records(mlp_from_weights(weights, biases, lambda: MODULES[activation]()), x)
            spreads.append([float(out.std()) for _, out in records])
            slopes.append(statistics.fmean(float(d_tanh(pre).mean()) for pre, _ in records[-10:]))
    return [statistics.fmean(layer) for layer in zip(*spreads, strict=True)], statistics.fmean(slopes)


def short_name(scheme: str) -> str:
    return SCHEME_NAMES[scheme].split(" (")[0]


def variance_not_std(scheme: str) -> str:
    return f"Your init_std returns a variance ({short_name(scheme)}'s), not a standard deviation: take the square root."


def uniform_bound(scheme: str) -> str:
    return (
        f"Your init_std returns the bound a of {short_name(scheme)}'s uniform form U(-a, a), not a standard "
        "deviation: a uniform distribution on (-a, a) has standard deviation a / sqrt(3)."
    )


def divided_by_fan_in(scheme: str) -> str:
    return (
        f"Your init_std divides by fan_in, not by its square root: {short_name(scheme)}'s variance is "
        "proportional to 1/fan_in, so its standard deviation to 1/sqrt(fan_in)."
    )


GLOROT_WITH_RELU = (
    "Glorot/Xavier (or LeCun) with ReLU shrinks the signal: ReLU zeroes half of its inputs, so each layer "
    "halves the variance. Kaiming's 2/fan_in makes up for that half."
)
KAIMING_WITH_TANH = (
    "Kaiming with tanh over-amplifies: its factor 2 makes up for the half that ReLU discards, but tanh keeps "
    "both halves, so the pre-activations grow into tanh's curved, saturating part, where slopes are small "
    "and gradients grow towards the input. Glorot/Xavier or LeCun suit tanh."
)


def linear_default(relu_family: bool) -> str:
    return (
        "nn.Linear's default, variance 1/(3 fan_in), shrinks the signal: each layer multiplies the variance by "
        f"about {'1/6' if relu_family else '1/3'}, so 20 layers erase the input."
    )


def misconception(activation: str, scheme: str | None) -> str | None:
    """What the recognised ``scheme`` says about a standard deviation that failed for ``activation``."""
    relu_family = activation in ("relu", "leaky_relu")
    if scheme is None:
        return None
    form, _, base = scheme.partition(":")
    if base:
        return {"variance": variance_not_std, "bound": uniform_bound, "fan_in": divided_by_fan_in}[form](base)
    if relu_family and scheme in ("xavier", "lecun"):
        return GLOROT_WITH_RELU
    if scheme == "default":
        return linear_default(relu_family)
    if activation == "tanh" and scheme == "kaiming":
        return KAIMING_WITH_TANH
    return None


def _explain(activation: str, scheme: str | None, trouble: str) -> str:
    known = misconception(activation, scheme)
    return f"{known} ({trouble})" if known else trouble


def _judge(answer: Answer, activation: str, widths: list[int], seed: int) -> None:
    stds = _stds(answer, activation, widths)
    spreads, slope = _measure(activation, widths, stds, seed)
    scheme = _recognise(stds[1], widths[1], widths[2])
    first = spreads[0]
    for k, value in enumerate(spreads[1:], start=2):
        if not (first / SPREAD_FACTOR <= value <= first * SPREAD_FACTOR) or not math.isfinite(value):
            way = "shrank" if value < first else "grew"
            trouble = (
                f"Measured: the spread of the hidden layers' outputs {way} from {first:.3g} in layer 1 to "
                f"{value:.3g} in layer {k}, more than a factor {SPREAD_FACTOR:g}."
            )
            raise Mistake(_explain(activation, scheme, trouble))
    if activation == "tanh" and slope < TANH_MIN_SLOPE:
        trouble = (
            f"Measured: the mean slope tanh'(z) over the last ten layers is {slope:.2f}; in tanh's near-linear part "
            f"it is close to 1 (at least {TANH_MIN_SLOPE:g} asked here)."
        )
        raise Mistake(_explain(activation, scheme, trouble))


def _widths(n_in: int, width: int) -> list[int]:
    """``DEPTH`` hidden layers of ``width`` units after ``n_in`` inputs, then a linear output of 2."""
    return [n_in, *[width] * DEPTH, 2]


#: The two widths of the public cases, a factor 4 apart: one standard deviation for every width
#: (a constant tuned to one network) cannot keep both spreads (a constant that suits 24 units
#: multiplies the variance of 96-unit layers by about 4 per layer, and the other way round).
PUBLIC_WIDTHS = (24, 96)


def _judge_widths(answer: Answer, activation: str, widths: tuple[int, ...], seed: int) -> None:
    for width in widths:
        _judge(answer, activation, _widths(16, width), seed)


@TASK.case(points=1)
def relu_network(answer: Answer, ctx: CaseContext) -> None:
    """twenty ReLU layers of 24 units, and of 96, keep their spread"""
    _judge_widths(answer, "relu", PUBLIC_WIDTHS, ctx.small_seed())


@TASK.case(points=1)
def tanh_network(answer: Answer, ctx: CaseContext) -> None:
    """twenty tanh layers of 24 units, and of 96, keep their spread, near-linear"""
    _judge_widths(answer, "tanh", PUBLIC_WIDTHS, ctx.small_seed())


@TASK.case(points=1)
def leaky_relu_network(answer: Answer, ctx: CaseContext) -> None:
    """twenty Leaky ReLU layers of 24 units, and of 96, keep their spread"""
    _judge_widths(answer, "leaky_relu", PUBLIC_WIDTHS, ctx.small_seed())


@TASK.case(points=2, hidden=True)
def other_widths(answer: Answer, ctx: CaseContext) -> None:
    """each activation with other inputs and widths (two widths 3 to 5 times apart)"""
    rng = ctx.rng()
    for activation in ("relu", "tanh", "leaky_relu"):
        narrow = int(rng.integers(24, 41))
        wide = int(narrow * rng.uniform(3.0, 5.0))
        n_in, seed = int(rng.integers(4, 65)), int(rng.integers(2**31))
        for width in (narrow, wide):
            _judge(answer, activation, _widths(n_in, width), seed)
