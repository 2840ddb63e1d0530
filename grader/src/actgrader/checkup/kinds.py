"""What the check-up knows about standard modules and losses, by type.

Modules are recognised by their class, never by their name: a layer called ``relu`` that
computes something else is judged by what it is. Anything not listed here is "unknown" and
the report says so instead of guessing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from torch import nn

from actgrader.reference.initialization import weight_variance
from actgrader.reference.models import ScaledTanh
from actgrader.reference.outputs import FUNCTIONAL_LOSSES, LOSS_EXPECTS, LossInput

Role = Literal["layer", "activation", "squash", "log-squash", "transparent", "unknown"]

# Layers whose weight has a fan-in the initialization schemes are defined for.
WEIGHTED_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
# Other layers with parameters: their gradients are measured, their initialization is not judged.
OTHER_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Bilinear,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Embedding,
)

# ReLU and ReLU6 output exactly 0, with slope exactly 0, on their whole negative side: a unit
# that is off for every input gets no gradient and cannot come back ("dead").
DEAD_CAPABLE: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6)
# The rest of the ReLU family keeps a slope on the negative side.
RELU_FAMILY: tuple[type[nn.Module], ...] = (*DEAD_CAPABLE, nn.LeakyReLU, nn.PReLU, nn.RReLU)
# Smooth ReLU relatives: their variance-preserving weight scale lies between LeCun and Kaiming.
SMOOTH_RELU_FAMILY: tuple[type[nn.Module], ...] = (
    nn.ELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Softplus,
    nn.Hardswish,
)
SELU_FAMILY: tuple[type[nn.Module], ...] = (nn.SELU,)
# Bounded, saturating activations: slope near 0 far from the origin.
SATURATING: tuple[type[nn.Module], ...] = (
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardsigmoid,
    nn.Hardtanh,
    nn.Softsign,
    ScaledTanh,
)
# Element-wise squashing that turns logits into probabilities, and their log forms.
SQUASH: tuple[type[nn.Module], ...] = (nn.Softmax, nn.Softmin, nn.Softmax2d)
LOG_SQUASH: tuple[type[nn.Module], ...] = (nn.LogSoftmax, nn.LogSigmoid)
# Modules that pass the signal on without being an activation (for pairing a layer with
# the activation that follows it).
NORMALIZATION: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
    nn.RMSNorm,
)
TRANSPARENT: tuple[type[nn.Module], ...] = (
    *NORMALIZATION,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.Identity,
    nn.Flatten,
    nn.Unflatten,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.MaxPool3d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AvgPool3d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
)


def role(module: nn.Module) -> Role:
    """What part ``module`` plays, judged by its type."""
    if isinstance(module, WEIGHTED_LAYERS + OTHER_LAYERS):
        return "layer"
    if is_activation(module):
        return "activation"
    if isinstance(module, SQUASH):
        return "squash"
    if isinstance(module, LOG_SQUASH):
        return "log-squash"
    if isinstance(module, TRANSPARENT):
        return "transparent"
    return "unknown"


def is_activation(module: nn.Module) -> bool:
    """An element-wise activation that may follow a hidden layer (the sigmoid included)."""
    return isinstance(module, RELU_FAMILY + SMOOTH_RELU_FAMILY + SELU_FAMILY + SATURATING)


def unit_dim(module: nn.Module | None, ndim: int) -> int:
    """The dimension that indexes units in a layer's output: features for ``Linear``, channels for convolutions."""
    if isinstance(module, nn.Linear | nn.Bilinear) or ndim <= 2:
        return ndim - 1
    return 1


def fans(layer: nn.Module) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a ``Linear`` or ``Conv`` weight, as the initialization schemes define them."""
    weight = layer.weight
    receptive = 1
    for size in weight.shape[2:]:
        receptive *= int(size)
    return int(weight.shape[1]) * receptive, int(weight.shape[0]) * receptive


@dataclass(frozen=True)
class SuitedInit:
    """The weight variances that suit an activation: ``low`` to ``high`` (in absolute terms), and why."""

    low: float
    high: float
    schemes: str


def suited_init(activation: nn.Module | None, fan_in: int, fan_out: int) -> SuitedInit | None:
    """The range of weight variances suited to the ``activation`` that follows a layer (``None``: a linear layer).

    ReLU family: Kaiming (``2/fan_in``, divided by ``1 + slope**2`` for a leaky slope).
    Smooth ReLU relatives: from LeCun (``1/fan_in``) to Kaiming. SELU: LeCun. tanh, sigmoid
    and other saturating functions, and a linear layer: Xavier or LeCun. Unknown: ``None``.
    """
    kaiming = weight_variance("kaiming", fan_in, fan_out)
    lecun = weight_variance("lecun", fan_in, fan_out)
    xavier = weight_variance("xavier", fan_in, fan_out)
    if activation is None or isinstance(activation, SATURATING):
        return SuitedInit(min(xavier, lecun), max(xavier, lecun), "Xavier or LeCun")
    if isinstance(activation, nn.LeakyReLU):
        v = kaiming / (1 + activation.negative_slope**2)
        return SuitedInit(v, v, "Kaiming")
    if isinstance(activation, RELU_FAMILY):
        return SuitedInit(kaiming, kaiming, "Kaiming")
    if isinstance(activation, SMOOTH_RELU_FAMILY):
        return SuitedInit(lecun, kaiming, "LeCun to Kaiming")
    if isinstance(activation, SELU_FAMILY):
        return SuitedInit(lecun, lecun, "LeCun")
    return None


# --- losses -----------------------------------------------------------------------------------


def loss_name(loss_fn: Callable[..., Any]) -> str | None:
    """The ``torch.nn`` class name of a standard loss, given as a module or as a ``torch.nn.functional`` function."""
    while isinstance(loss_fn, functools.partial):
        loss_fn = loss_fn.func
    if isinstance(loss_fn, nn.Module):
        name = type(loss_fn).__name__
        return name if name in LOSS_EXPECTS else None
    for fn, name in FUNCTIONAL_LOSSES.items():
        if loss_fn is fn:
            return name
    return None


def loss_expects(loss_fn: Callable[..., Any]) -> LossInput | None:
    """What a standard loss expects from the model (see :data:`~actgrader.reference.outputs.LOSS_EXPECTS`)."""
    name = loss_name(loss_fn)
    return LOSS_EXPECTS[name] if name is not None else None
