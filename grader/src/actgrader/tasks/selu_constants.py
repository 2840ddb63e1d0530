"""Task ``selu_constants``: SELU's two constants, solved from its two fixed-point equations.

The learner writes ``selu_constants()`` returning ``(alpha, scale)``: the values for which
``selu(z)`` has mean 0 and variance 1 when ``z ~ N(0, 1)``, compared with
:func:`actgrader.reference.selu.selu_constants` to 1e-9 relative. The check cannot see
whether the numbers were computed or copied; the notebook asks for them computed, and the
demo cell shows the two equations' residuals. Known slips (the pair swapped, ELU's constants,
a sampled estimate, one equation only) are named.
"""

from __future__ import annotations

import math

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import selu as ref

TASK = Task(
    "selu_constants",
    "SELU's two constants from the fixed-point equations",
    answer="selu_constants",
    reference=ref.selu_constants,
    section="selu#sec-selu-constants",
)

RTOL = 1e-9

NOT_A_PAIR = "Return the two constants as a pair of numbers, (alpha, scale)."
SWAPPED = "The pair is swapped: return (alpha, scale), alpha (about 1.67) first, then scale (about 1.05)."
ELU = "alpha = 1 and scale = 1 are a plain ELU's, which does not keep the variance at 1: solve the two equations."
ROUGH = (
    "Your constants are close but not precise (relative error {error:.1e}): a sampled (Monte Carlo) estimate "
    "or a loose solver tolerance. Write the two expectations as Gaussian integrals (closed forms or numerical "
    "quadrature) and solve to full precision."
)
ONE_EQUATION = (
    "E[selu(z)] = 0 holds for your pair but E[selu(z)^2] = 1 does not: solve both equations together, "
    "the mean and the second moment."
)
OTHERWISE = (
    "These are not the constants for which selu(z), z ~ N(0, 1), has mean 0 and variance 1. Check both "
    "expectations, E[selu(z)] = 0 and E[selu(z)^2] = 1."
)


def _judge(got: object) -> None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mistake(NOT_A_PAIR)
    alpha = expect.number(got[0], name="alpha")
    scale = expect.number(got[1], name="scale")
    want_alpha, want_scale = ref.selu_constants()

    def rel(a: float, b: float) -> float:
        return abs(a - b) / abs(b)

    error = max(rel(alpha, want_alpha), rel(scale, want_scale))
    if error <= RTOL:
        return
    if max(rel(scale, want_alpha), rel(alpha, want_scale)) <= 1e-3:
        raise Mistake(SWAPPED)
    if math.isclose(alpha, 1.0) and math.isclose(scale, 1.0):
        raise Mistake(ELU)
    if error <= 1e-2:
        raise Mistake(ROUGH.format(error=error))
    mean_residual, second_residual = ref.fixed_point_equations(alpha, scale)
    if abs(mean_residual) < 1e-6 and abs(second_residual) > 1e-3:
        raise Mistake(ONE_EQUATION)
    raise Mistake(OTHERWISE)


@TASK.case(points=2)
def the_constants(answer: Answer, ctx: CaseContext) -> None:
    """alpha and scale, to 1e-9 relative"""
    _judge(answer())


@TASK.case(points=1, hidden=True)
def a_deep_stack(answer: Answer, ctx: CaseContext) -> None:
    """from a random start, 30 layers of the mean-variance map with your constants reach mean 0, variance 1"""
    got = answer()
    _judge(got)
    alpha, scale = (float(v) for v in got)
    rng = ctx.rng()
    mean, variance = float(rng.uniform(-0.5, 0.5)), float(rng.uniform(0.6, 1.6))
    for _ in range(30):
        mean, variance = ref.moment_map(mean, variance, alpha, scale, dps=20)
    expect.true(abs(mean) < 1e-3 and abs(variance - 1) < 1e-3, OTHERWISE)
