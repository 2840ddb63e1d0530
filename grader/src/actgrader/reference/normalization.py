"""Residual connections and normalization in deep networks: gradient profiles and what the activation sees.

Taught in the chapter "Residual connections and normalization" (``book/residual-normalization.md``).

Every network here is ``head(block_depth(... block_1(embed(x))))``: a linear embedding from
the input to ``width`` units, ``depth`` blocks of one ``width x width`` linear layer each,
and a linear head. Only the block differs (:data:`BLOCKS`):

==========  =====================================  ==================================
kind        block                                  known as
==========  =====================================  ==================================
plain       ``f(W h)``                             the MLP of the earlier chapters
batchnorm   ``f(BN(W h))``                         Ioffe & Szegedy (2015)
residual    ``h + f(W h)``                         He et al. (2016)
post_ln     ``LN(h + f(W h))``                     the original transformer
pre_ln      ``h + f(W LN(h))``                     GPT-2 and later (Xiong et al., 2020)
rmsnorm     ``h + f(W RMSNorm(h))``                LLaMA (Zhang & Sennrich, 2019)
==========  =====================================  ==================================

:func:`block_gradient_profile` measures the norm of each block's weight gradient (the
deep-network profile of the chapter "Vanishing gradients", ``book/vanishing-gradients.md``,
at any depth); :func:`activation_inputs` records what each block's activation receives, from
which :func:`active_fraction`, :func:`dead_unit_fraction` and :func:`tanh_saturated_fraction`
follow; :func:`stream_spread` follows the size of what flows from block to block.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from actgrader import datasets
from actgrader.reference.initialization import Scheme, run_hooked, weight_variance
from actgrader.reference.models import activation_module
from actgrader.reference.training import single_thread

BlockKind = Literal["plain", "batchnorm", "residual", "post_ln", "pre_ln", "rmsnorm"]
BLOCKS: tuple[BlockKind, ...] = ("plain", "batchnorm", "residual", "post_ln", "pre_ln", "rmsnorm")


class Block(nn.Module):
    """One block of :data:`BLOCKS`: a ``width x width`` linear layer, the activation, and the block's wiring."""

    def __init__(self, kind: BlockKind, width: int, activation: str) -> None:
        super().__init__()
        if kind not in BLOCKS:
            raise ValueError(f"unknown block {kind!r}; choose from {BLOCKS}")
        self.kind = kind
        self.linear = nn.Linear(width, width)
        self.activation = activation_module(activation)
        self.norm: nn.Module = nn.Identity()
        if kind == "batchnorm":
            self.norm = nn.BatchNorm1d(width)
        elif kind in ("post_ln", "pre_ln"):
            self.norm = nn.LayerNorm(width)
        elif kind == "rmsnorm":
            self.norm = nn.RMSNorm(width)

    def forward(self, h: Tensor) -> Tensor:
        f, linear, norm = self.activation, self.linear, self.norm
        if self.kind == "plain":
            return f(linear(h))
        if self.kind == "batchnorm":
            return f(norm(linear(h)))
        if self.kind == "residual":
            return h + f(linear(h))
        if self.kind == "post_ln":
            return norm(h + f(linear(h)))
        return h + f(linear(norm(h)))  # pre_ln, rmsnorm

    def extra_repr(self) -> str:
        return f"kind={self.kind}"


def deep_network(
    kind: BlockKind,
    *,
    depth: int = 50,
    width: int = 64,
    n_in: int = 2,
    n_out: int = 2,
    activation: str = "relu",
    init: Scheme = "kaiming",
    weight_scale: float = 1.0,
    seed: int = 0,
) -> nn.Sequential:
    """``embed -> depth blocks of kind -> head``, every linear layer drawn from ``seed`` (biases zero).

    Weights are normal with the variance of ``init`` (:func:`~actgrader.reference.initialization.weight_variance`;
    ``default`` is drawn here as ``nn.Linear``'s uniform law), from one generator in layer
    order, so one seed gives the same matrices whatever the block kind or the activation.
    ``weight_scale`` multiplies the blocks' weights (not the embedding's or the head's) after
    drawing: the same matrices, larger. Normalization layers start as PyTorch makes them
    (scale 1, shift 0).
    """
    generator = torch.Generator().manual_seed(seed)
    embed = nn.Linear(n_in, width)
    blocks = [Block(kind, width, activation) for _ in range(depth)]
    head = nn.Linear(width, n_out)
    linears = [embed, *(b.linear for b in blocks), head]
    with torch.no_grad():
        for layer in linears:
            fan_out, fan_in = layer.weight.shape
            if init == "default":
                bound = 1.0 / math.sqrt(fan_in)
                layer.weight.uniform_(-bound, bound, generator=generator)
            else:
                layer.weight.normal_(0.0, math.sqrt(weight_variance(init, fan_in, fan_out)), generator=generator)
            layer.bias.zero_()
        for block in blocks:
            block.linear.weight.mul_(weight_scale)
    return nn.Sequential(embed, *blocks, head)


def blocks_of(model: nn.Module) -> list[Block]:
    """The :class:`Block` modules of ``model``, input side first."""
    return [m for m in model.modules() if isinstance(m, Block)]


def probe_batch(n: int = 256, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The batch the chapter measures on: ``n`` two-spirals points, as in the chapter "Vanishing gradients"."""
    return datasets.two_spirals(n, seed=seed)


def block_gradient_profile(
    kind: BlockKind,
    *,
    depth: int = 50,
    width: int = 64,
    activation: str = "relu",
    init: Scheme = "kaiming",
    weight_scale: float = 1.0,
    seed: int = 0,
    batch: tuple[Tensor, Tensor] | None = None,
) -> list[float]:
    """The norm of the cross-entropy's gradient with respect to each block's weight matrix, input side first.

    ``depth`` numbers, one per block (the embedding and the head are left out). The network is
    :func:`deep_network` in training mode (batch norm uses the batch's statistics); ``batch``
    defaults to :func:`probe_batch`. Computed on one thread, so the same arguments give the
    same numbers.
    """
    x, y = batch if batch is not None else probe_batch()
    with single_thread():
        model = deep_network(
            kind, depth=depth, width=width, n_in=x.shape[1], n_out=int(y.max()) + 1,
            activation=activation, init=init, weight_scale=weight_scale, seed=seed,
        )  # fmt: skip
        model.train()
        weights = [b.linear.weight for b in blocks_of(model)]
        loss = nn.functional.cross_entropy(model(x), y)
        return [float(g.norm()) for g in torch.autograd.grad(loss, weights)]


def activation_inputs(model: nn.Module, x: Tensor) -> list[Tensor]:
    """What each block's activation receives on the batch ``x`` (the pre-activations), input side first.

    Recorded with forward hooks on the blocks' activation modules, without gradients, in the
    model's current mode; the hooks are removed afterwards.
    """
    seen: list[Tensor] = []
    run_hooked(model, x, [b.activation for b in blocks_of(model)], lambda _m, args, _out: seen.append(args[0].detach()))
    return seen


def active_fraction(model: nn.Module, x: Tensor) -> list[float]:
    """For each block, the fraction of its activation's inputs that are positive (the active ReLUs)."""
    return [float((z > 0).float().mean()) for z in activation_inputs(model, x)]


def dead_unit_fraction(model: nn.Module, x: Tensor) -> list[float]:
    """For each block, the fraction of its ReLUs dead on the batch: input ``<= 0`` for every example of ``x``."""
    return [float(((z > 0).sum(dim=0) == 0).float().mean()) for z in activation_inputs(model, x)]


def tanh_saturated_fraction(model: nn.Module, x: Tensor, level: float = 0.99) -> list[float]:
    """For each block, the fraction of inputs ``z`` with ``|tanh(z)| > level`` (slope below ``1 - level**2``)."""
    threshold = math.atanh(level)
    return [float((z.abs() > threshold).float().mean()) for z in activation_inputs(model, x)]


def stream_spread(model: nn.Module, x: Tensor) -> list[float]:
    """The standard deviation of each block's output (the residual stream, for residual kinds) on ``x``."""
    spreads: list[float] = []
    run_hooked(model, x, blocks_of(model), lambda _m, _args, out: spreads.append(float(out.std())))
    return spreads
