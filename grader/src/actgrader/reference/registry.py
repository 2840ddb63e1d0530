"""The course's activations in one table: each one's function, derivative, PyTorch names and measured properties.

Taught in the chapter "Choosing an activation" (``book/comparison.md``: the comparison table);
every chapter of the part "The activation functions" reads its activation's record, and the
exercise on derivatives is checked through :func:`derivative`.

Adding an activation
--------------------
1. Write ``<name>`` and ``d_<name>`` in :mod:`actgrader.reference.formulas` (stable for any
   finite input; a naive form to show failing, if any, in :mod:`actgrader.reference.naive`).
2. Add an :class:`ActivationInfo` record to :data:`ACTIVATIONS` below (and its name to
   :data:`CORE_SET` if the core-set table should show it). Its properties are measured, never
   typed.
3. Give it a colour in :data:`actgrader.viz.style.ACTIVATION_COLORS`.
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
    Fn,
    d_elu,
    d_gelu,
    d_gelu_tanh,
    d_leaky_relu,
    d_lecun_tanh,
    d_relu,
    d_sigmoid,
    d_silu,
    d_softmax_one_logit,
    d_softplus,
    d_softsign,
    d_tanh,
    elu,
    gelu,
    gelu_tanh,
    leaky_relu,
    lecun_tanh,
    relu,
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
            "sigmoid",
            "sigmoid",
            sigmoid,
            d_sigmoid,
            r"\sigma(x) = \frac{1}{1 + e^{-x}}",
            r"\sigma(x)\,(1 - \sigma(x))",
            "torch.nn.Sigmoid",
            "torch.sigmoid",
            torch.sigmoid,
            "sigmoid",
        ),
        ActivationInfo(
            "tanh",
            "tanh",
            tanh,
            d_tanh,
            r"\tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
            r"1 - \tanh^2 x",
            "torch.nn.Tanh",
            "torch.tanh",
            torch.tanh,
            "tanh",
        ),
        ActivationInfo(
            "lecun_tanh",
            "LeCun tanh",
            lecun_tanh,
            d_lecun_tanh,
            r"1.7159 \tanh(2x/3)",
            r"1.7159 \cdot \tfrac{2}{3} \left(1 - \tanh^2(2x/3)\right)",
            "actgrader.reference.models.ScaledTanh",
            "actgrader.reference.formulas.lecun_tanh",
            lambda x: LECUN_SCALE * torch.tanh(LECUN_GAIN * x),
            "tanh",
            note="PyTorch has no module for it; the course's ScaledTanh is one.",
        ),
        ActivationInfo(
            "relu",
            "ReLU",
            relu,
            d_relu,
            r"\max(0, x)",
            r"[x > 0]",
            "torch.nn.ReLU",
            "torch.relu",
            torch.relu,
            "relu-family",
        ),
        ActivationInfo(
            "leaky_relu",
            "Leaky ReLU",
            leaky_relu,
            d_leaky_relu,
            r"x \text{ if } x > 0 \text{ else } \alpha x",
            r"1 \text{ if } x > 0 \text{ else } \alpha",
            "torch.nn.LeakyReLU",
            "torch.nn.functional.leaky_relu",
            lambda x: _F.leaky_relu(x, 0.01),
            "relu-family",
            {"negative_slope": 0.01},
            note="α = 0.01",
        ),
        ActivationInfo(
            "elu",
            "ELU",
            elu,
            d_elu,
            r"x \text{ if } x > 0 \text{ else } \alpha (e^{x} - 1)",
            r"1 \text{ if } x > 0 \text{ else } f(x) + \alpha",
            "torch.nn.ELU",
            "torch.nn.functional.elu",
            lambda x: _F.elu(x, 1.0),
            "relu-family",
            {"alpha": 1.0},
            note="α = 1",
        ),
        ActivationInfo(
            "gelu",
            "GELU",
            gelu,
            d_gelu,
            r"x\,\Phi(x)",
            r"\Phi(x) + x\,\varphi(x)",
            "torch.nn.GELU",
            "torch.nn.functional.gelu",
            _F.gelu,
            "gelu-silu",
        ),
        ActivationInfo(
            "gelu_tanh",
            "GELU (tanh approx.)",
            gelu_tanh,
            d_gelu_tanh,
            r"\tfrac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715 x^3)\right)\right)",
            r"\text{(see the GELU chapter)}",
            "torch.nn.GELU",
            "torch.nn.functional.gelu",
            lambda x: _F.gelu(x, approximate="tanh"),
            "gelu-silu",
            {"approximate": "tanh"},
        ),
        ActivationInfo(
            "silu",
            "SiLU / Swish",
            silu,
            d_silu,
            r"x\,\sigma(x)",
            r"f(x) + \sigma(x)\,(1 - f(x))",
            "torch.nn.SiLU",
            "torch.nn.functional.silu",
            _F.silu,
            "gelu-silu",
        ),
        ActivationInfo(
            "softmax",
            "softmax",
            softmax_one_logit,
            d_softmax_one_logit,
            r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
            r"s_i\,(1 - s_i) \text{ on the diagonal}",
            "torch.nn.Softmax",
            "torch.softmax",
            lambda x: _softmax_reference(x, TABLE_CLASSES),
            "softmax",
            {"dim": -1},
            note=f"one output against its own logit, the other {TABLE_CLASSES - 1} logits at 0",
        ),
        ActivationInfo(
            "softsign",
            "softsign",
            softsign,
            d_softsign,
            r"\frac{x}{1 + |x|}",
            r"(1 - |f(x)|)^2",
            "torch.nn.Softsign",
            "torch.nn.functional.softsign",
            _F.softsign,
            "softsign-softplus",
        ),
        ActivationInfo(
            "softplus",
            "softplus",
            softplus,
            d_softplus,
            r"\log(1 + e^{x})",
            r"\sigma(x) = 1 - e^{-f(x)}",
            "torch.nn.Softplus",
            "torch.nn.functional.softplus",
            _F.softplus,
            "softsign-softplus",
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
