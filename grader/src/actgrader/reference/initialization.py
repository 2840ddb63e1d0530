"""Weight initialization schemes, matched to the activation.

Taught in the chapter "Initialization matched to the activation" (``book/initialization.md``).

Each scheme draws weights with mean 0 and a standard deviation set by the layer's fan-in
and fan-out:

=========  ==========================  =============================
scheme     variance of a weight        meant for
=========  ==========================  =============================
kaiming    2 / fan_in                  ReLU family (He et al., 2015)
xavier     2 / (fan_in + fan_out)      tanh, sigmoid (Glorot & Bengio, 2010)
lecun      1 / fan_in                  tanh, SELU (LeCun et al., 1998)
default    1 / (3 fan_in)              what ``nn.Linear`` does when left alone
=========  ==========================  =============================

``default`` is ``nn.Linear``'s own scheme, ``kaiming_uniform_(a=sqrt(5))``: a uniform law on
``[-b, b]`` with ``b = gain * sqrt(3 / fan_in)`` and ``gain = sqrt(2 / (1 + 5)) = sqrt(1/3)``, so
``b = 1/sqrt(fan_in)`` and the variance is ``b**2 / 3 = 1 / (3 fan_in)``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Scheme = Literal["kaiming", "xavier", "lecun", "default"]
SCHEMES: tuple[Scheme, ...] = ("kaiming", "xavier", "lecun", "default")


def weight_variance(scheme: Scheme, fan_in: int, fan_out: int) -> float:
    """The variance of one weight under ``scheme`` for a layer with the given fans."""
    if scheme == "kaiming":
        return 2.0 / fan_in
    if scheme == "xavier":
        return 2.0 / (fan_in + fan_out)
    if scheme == "lecun":
        return 1.0 / fan_in
    if scheme == "default":
        return 1.0 / (3.0 * fan_in)
    raise ValueError(f"unknown initialization scheme {scheme!r}; choose from {SCHEMES}")


def initialize_(layer: nn.Linear, scheme: Scheme, generator: torch.Generator | None = None) -> nn.Linear:
    """Re-draw ``layer``'s weights from a normal law with the scheme's variance; zero its bias.

    ``default`` leaves the layer as ``nn.Linear`` made it.
    """
    if scheme == "default":
        return layer
    fan_out, fan_in = layer.weight.shape
    std = math.sqrt(weight_variance(scheme, fan_in, fan_out))
    with torch.no_grad():
        layer.weight.normal_(0.0, std, generator=generator)
        if layer.bias is not None:
            layer.bias.zero_()
    return layer
