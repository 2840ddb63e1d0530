"""The course's activations in one table: each one's function, derivative, PyTorch names and measured properties.

Taught in the chapters "Choosing an activation" (``book/comparison.md``: the comparison table) and
"The rest of the family" (``book/activation-family.md``: its table);
every chapter of the part "The activation functions" reads its activation's record, and the
exercise on derivatives is checked through :func:`derivative`.

Adding an activation: follow CONTRIBUTING.md, "Walkthrough: add an activation" (every file it
touches, in order; ``tests/test_walkthroughs.py`` follows it literally).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch
from torch import Tensor

from actgrader.reference.analysis import (
    Extremum,
    OutputRange,
    Side,
    has_continuous_slope,
    is_monotone,
    max_slope,
    mean_output,
    output_range,
    saturating_sides,
    saturation_point,
    slope_at,
)
from actgrader.reference.formulas import (
    LECUN_GAIN,
    LECUN_SCALE,
    PRELU_INIT,
    RRELU_LOWER,
    RRELU_UPPER,
    Fn,
    celu,
    d_celu,
    d_elu,
    d_gelu,
    d_gelu_tanh,
    d_hard_sigmoid,
    d_hard_swish,
    d_leaky_relu,
    d_lecun_tanh,
    d_mish,
    d_prelu,
    d_relu,
    d_relu6,
    d_rrelu,
    d_sigmoid,
    d_silu,
    d_softmax_one_logit,
    d_softplus,
    d_softsign,
    d_tanh,
    elu,
    gelu,
    gelu_tanh,
    hard_sigmoid,
    hard_swish,
    leaky_relu,
    lecun_tanh,
    mish,
    prelu,
    relu,
    relu6,
    rrelu,
    rrelu_eval_slope,
    sigmoid,
    silu,
    softmax_one_logit,
    softplus,
    softsign,
    tanh,
)


def resolve(dotted: str) -> Any:
    """The object named by a dotted path such as ``"torch.nn.functional.gelu"``."""
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


@dataclass(frozen=True)
class ActivationInfo:
    """One activation: its from-scratch function and derivative, PyTorch's names, and its measured properties.

    ``fn`` and ``derivative`` are scalar (element-wise) functions. ``torch_reference`` computes
    the same values with PyTorch's own implementation, and ``torch_module(**torch_kwargs)``
    / ``torch_functional(x, **torch_kwargs)`` are how a model would use it. The properties
    (``output_range``, ``slope_at_zero``, ``max_slope``, ``zero_centred``, ...) are measured
    from ``fn`` and ``derivative`` the first time they are read.
    """

    name: str
    label: str
    fn: Fn
    derivative: Fn
    formula: str
    derivative_formula: str
    torch_module: str
    torch_functional: str
    torch_reference: Fn
    page: str
    torch_kwargs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    def module(self) -> torch.nn.Module:
        """A fresh instance of PyTorch's module for this activation."""
        return resolve(self.torch_module)(**self.torch_kwargs)

    @cached_property
    def output_range(self) -> OutputRange:
        return output_range(self.fn)

    @property
    def bounded(self) -> bool:
        return self.output_range.bounded

    @cached_property
    def slope_at_zero(self) -> float:
        return slope_at(self.derivative, 0.0)

    @cached_property
    def max_slope(self) -> Extremum:
        return max_slope(self.derivative)

    @cached_property
    def mean_output(self) -> float:
        return mean_output(self.fn)

    @property
    def zero_centred(self) -> bool:
        return abs(self.mean_output) < 1e-9

    @cached_property
    def monotone(self) -> bool:
        return is_monotone(self.derivative)

    @cached_property
    def smooth(self) -> bool:
        """Continuously differentiable (C¹): no kink. ELU with ``alpha = 1`` is, though its ``f''`` jumps."""
        return has_continuous_slope(self.derivative)

    @cached_property
    def saturates(self) -> tuple[bool, bool]:
        """``(left, right)``: whether the slope vanishes as ``x -> -inf`` / ``x -> +inf``."""
        return saturating_sides(self.derivative)

    @property
    def saturating(self) -> bool:
        return any(self.saturates)

    def saturation_point(self, side: Side = "right", threshold: float = 0.01) -> float:
        return saturation_point(self.derivative, side, threshold)


def _softmax_reference(x: Tensor, classes: int) -> Tensor:
    logits = torch.cat([x.unsqueeze(-1), x.new_zeros((*x.shape, classes - 1))], dim=-1)
    return torch.softmax(logits, dim=-1)[..., 0]


#: The number of classes of the softmax slice in the comparison table.
TABLE_CLASSES = 10

_F = torch.nn.functional

ACTIVATIONS: dict[str, ActivationInfo] = {
    info.name: info
    for info in [
        ActivationInfo(
            name="sigmoid",
            label="sigmoid",
            fn=sigmoid,
            derivative=d_sigmoid,
            formula=r"\sigma(x) = \frac{1}{1 + e^{-x}}",
            derivative_formula=r"\sigma(x)\,(1 - \sigma(x))",
            torch_module="torch.nn.Sigmoid",
            torch_functional="torch.sigmoid",
            torch_reference=torch.sigmoid,
            page="sigmoid",
        ),
        ActivationInfo(
            name="tanh",
            label="tanh",
            fn=tanh,
            derivative=d_tanh,
            formula=r"\tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
            derivative_formula=r"1 - \tanh^2 x",
            torch_module="torch.nn.Tanh",
            torch_functional="torch.tanh",
            torch_reference=torch.tanh,
            page="tanh",
        ),
        ActivationInfo(
            name="lecun_tanh",
            label="LeCun tanh",
            fn=lecun_tanh,
            derivative=d_lecun_tanh,
            formula=r"1.7159 \tanh(2x/3)",
            derivative_formula=r"1.7159 \cdot \tfrac{2}{3} \left(1 - \tanh^2(2x/3)\right)",
            torch_module="actgrader.reference.models.ScaledTanh",
            torch_functional="actgrader.reference.formulas.lecun_tanh",
            torch_reference=lambda x: LECUN_SCALE * torch.tanh(LECUN_GAIN * x),
            page="tanh",
            note="PyTorch has no module for it; the course's ScaledTanh is one.",
        ),
        ActivationInfo(
            name="relu",
            label="ReLU",
            fn=relu,
            derivative=d_relu,
            formula=r"\max(0, x)",
            derivative_formula=r"[x > 0]",
            torch_module="torch.nn.ReLU",
            torch_functional="torch.relu",
            torch_reference=torch.relu,
            page="relu-family",
        ),
        ActivationInfo(
            name="leaky_relu",
            label="Leaky ReLU",
            fn=leaky_relu,
            derivative=d_leaky_relu,
            formula=r"x \text{ if } x > 0 \text{ else } \alpha x",
            derivative_formula=r"1 \text{ if } x > 0 \text{ else } \alpha",
            torch_module="torch.nn.LeakyReLU",
            torch_functional="torch.nn.functional.leaky_relu",
            torch_reference=lambda x: _F.leaky_relu(x, 0.01),
            page="relu-family",
            torch_kwargs={"negative_slope": 0.01},
            note="α = 0.01",
        ),
        ActivationInfo(
            name="elu",
            label="ELU",
            fn=elu,
            derivative=d_elu,
            formula=r"x \text{ if } x > 0 \text{ else } \alpha (e^{x} - 1)",
            derivative_formula=r"1 \text{ if } x > 0 \text{ else } f(x) + \alpha",
            torch_module="torch.nn.ELU",
            torch_functional="torch.nn.functional.elu",
            torch_reference=lambda x: _F.elu(x, 1.0),
            page="relu-family",
            torch_kwargs={"alpha": 1.0},
            note="α = 1",
        ),
        ActivationInfo(
            name="gelu",
            label="GELU",
            fn=gelu,
            derivative=d_gelu,
            formula=r"x\,\Phi(x)",
            derivative_formula=r"\Phi(x) + x\,\varphi(x)",
            torch_module="torch.nn.GELU",
            torch_functional="torch.nn.functional.gelu",
            torch_reference=_F.gelu,
            page="gelu-silu",
        ),
        ActivationInfo(
            name="gelu_tanh",
            label="GELU (tanh approx.)",
            fn=gelu_tanh,
            derivative=d_gelu_tanh,
            formula=r"\tfrac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715 x^3)\right)\right)",
            derivative_formula=r"\text{(see the GELU chapter)}",
            torch_module="torch.nn.GELU",
            torch_functional="torch.nn.functional.gelu",
            torch_reference=lambda x: _F.gelu(x, approximate="tanh"),
            page="gelu-silu",
            torch_kwargs={"approximate": "tanh"},
        ),
        ActivationInfo(
            name="silu",
            label="SiLU / Swish",
            fn=silu,
            derivative=d_silu,
            formula=r"x\,\sigma(x)",
            derivative_formula=r"f(x) + \sigma(x)\,(1 - f(x))",
            torch_module="torch.nn.SiLU",
            torch_functional="torch.nn.functional.silu",
            torch_reference=_F.silu,
            page="gelu-silu",
        ),
        ActivationInfo(
            name="softmax",
            label="softmax",
            fn=softmax_one_logit,
            derivative=d_softmax_one_logit,
            formula=r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
            derivative_formula=r"s_i\,(1 - s_i) \text{ on the diagonal}",
            torch_module="torch.nn.Softmax",
            torch_functional="torch.softmax",
            torch_reference=lambda x: _softmax_reference(x, TABLE_CLASSES),
            page="softmax",
            torch_kwargs={"dim": -1},
            note=f"one output against its own logit, the other {TABLE_CLASSES - 1} logits at 0",
        ),
        ActivationInfo(
            name="softsign",
            label="softsign",
            fn=softsign,
            derivative=d_softsign,
            formula=r"\frac{x}{1 + |x|}",
            derivative_formula=r"(1 - |f(x)|)^2",
            torch_module="torch.nn.Softsign",
            torch_functional="torch.nn.functional.softsign",
            torch_reference=_F.softsign,
            page="softsign-softplus",
        ),
        ActivationInfo(
            name="softplus",
            label="softplus",
            fn=softplus,
            derivative=d_softplus,
            formula=r"\log(1 + e^{x})",
            derivative_formula=r"\sigma(x) = 1 - e^{-f(x)}",
            torch_module="torch.nn.Softplus",
            torch_functional="torch.nn.functional.softplus",
            torch_reference=_F.softplus,
            page="softsign-softplus",
        ),
        ActivationInfo(
            name="prelu",
            label="PReLU",
            fn=prelu,
            derivative=d_prelu,
            formula=r"x \text{ if } x > 0 \text{ else } a x,\ a \text{ learned}",
            derivative_formula=r"1 \text{ if } x > 0 \text{ else } a",
            torch_module="torch.nn.PReLU",
            torch_functional="torch.nn.functional.prelu",
            torch_reference=lambda x: _F.prelu(x, x.new_full((1,), PRELU_INIT)),
            page="activation-family",
            torch_kwargs={"init": PRELU_INIT},
            note=f"a = {PRELU_INIT:g}, PyTorch's initial value; training moves it",
        ),
        ActivationInfo(
            name="rrelu",
            label="RReLU",
            fn=rrelu,
            derivative=d_rrelu,
            formula=r"x \text{ if } x > 0 \text{ else } a x,\ a \sim U(l, u) \text{ in training}",
            derivative_formula=r"1 \text{ if } x > 0 \text{ else } \tfrac{l + u}{2} \text{ (eval)}",
            torch_module="torch.nn.RReLU",
            torch_functional="torch.nn.functional.rrelu",
            torch_reference=lambda x: _F.rrelu(x, RRELU_LOWER, RRELU_UPPER, training=False),
            page="activation-family",
            torch_kwargs={"lower": RRELU_LOWER, "upper": RRELU_UPPER},
            note=f"evaluation mode: slope (l + u)/2 = {rrelu_eval_slope():.4f}",
        ),
        ActivationInfo(
            name="celu",
            label="CELU",
            fn=celu,
            derivative=d_celu,
            formula=r"x \text{ if } x > 0 \text{ else } \alpha (e^{x/\alpha} - 1)",
            derivative_formula=r"1 \text{ if } x > 0 \text{ else } e^{x/\alpha}",
            torch_module="torch.nn.CELU",
            torch_functional="torch.nn.functional.celu",
            torch_reference=lambda x: _F.celu(x, 1.0),
            page="activation-family",
            torch_kwargs={"alpha": 1.0},
            note="α = 1, where it equals ELU",
        ),
        ActivationInfo(
            name="mish",
            label="Mish",
            fn=mish,
            derivative=d_mish,
            formula=r"x \tanh(\operatorname{softplus}(x))",
            derivative_formula=r"\tanh(s) + x\,\sigma(x)\,(1 - \tanh^2 s),\ s = \operatorname{softplus}(x)",
            torch_module="torch.nn.Mish",
            torch_functional="torch.nn.functional.mish",
            torch_reference=_F.mish,
            page="activation-family",
        ),
        ActivationInfo(
            name="relu6",
            label="ReLU6",
            fn=relu6,
            derivative=d_relu6,
            formula=r"\min(\max(0, x), 6)",
            derivative_formula=r"[0 < x < 6]",
            torch_module="torch.nn.ReLU6",
            torch_functional="torch.nn.functional.relu6",
            torch_reference=_F.relu6,
            page="activation-family",
        ),
        ActivationInfo(
            name="hard_sigmoid",
            label="hard-sigmoid",
            fn=hard_sigmoid,
            derivative=d_hard_sigmoid,
            formula=r"\operatorname{ReLU6}(x + 3) / 6",
            derivative_formula=r"\tfrac{1}{6} [-3 < x < 3]",
            torch_module="torch.nn.Hardsigmoid",
            torch_functional="torch.nn.functional.hardsigmoid",
            torch_reference=_F.hardsigmoid,
            page="activation-family",
        ),
        ActivationInfo(
            name="hard_swish",
            label="hard-swish",
            fn=hard_swish,
            derivative=d_hard_swish,
            formula=r"x \operatorname{ReLU6}(x + 3) / 6",
            derivative_formula=r"0,\ \tfrac{2x + 3}{6},\ 1 \text{ for } x \le -3,\ |x| < 3,\ x \ge 3",
            torch_module="torch.nn.Hardswish",
            torch_functional="torch.nn.functional.hardswish",
            torch_reference=_F.hardswish,
            page="activation-family",
        ),
    ]
}

#: The functions of the core-set table, in its order.
CORE_SET: tuple[str, ...] = ("relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax", "silu")


def comparison_rows(names: tuple[str, ...] | None = None, threshold: float = 0.01) -> list[dict[str, Any]]:
    """One dict of measured properties per activation (all of :data:`ACTIVATIONS` by default).

    Keys: ``name``, ``label``, ``range`` (an :class:`OutputRange`), ``slope_at_zero``,
    ``max_slope`` (an :class:`Extremum`), ``mean_output``, ``zero_centred``, ``monotone``,
    ``smooth``, ``saturates`` (``(left, right)``) and ``saturation`` (``(left, right)``
    distances from 0 beyond which ``|f'| < threshold``).
    """
    rows = []
    for name in names if names is not None else tuple(ACTIVATIONS):
        info = ACTIVATIONS[name]
        rows.append(
            {
                "name": info.name,
                "label": info.label,
                "range": info.output_range,
                "slope_at_zero": info.slope_at_zero,
                "max_slope": info.max_slope,
                "mean_output": info.mean_output,
                "zero_centred": info.zero_centred,
                "monotone": info.monotone,
                "smooth": info.smooth,
                "saturates": info.saturates,
                "saturation": (
                    info.saturation_point("left", threshold),
                    info.saturation_point("right", threshold),
                ),
            }
        )
    return rows


def derivative(name: str, x: Tensor) -> Tensor:
    """``f'(x)`` for the activation called ``name`` in :data:`ACTIVATIONS`, with PyTorch's default parameters.

    An adapter with the signature of the exercise on derivatives: ``derivative("elu", x)`` is
    ``d_elu(x)`` with ``alpha = 1``, ``derivative("leaky_relu", x)`` uses ``alpha = 0.01``.
    """
    return ACTIVATIONS[name].derivative(x)
