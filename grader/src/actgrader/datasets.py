"""Synthetic data made in code: the course never downloads anything.

Every function takes a ``seed`` and returns the same tensors on every run.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def two_spirals(n: int = 400, *, noise: float = 0.05, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two interleaved spirals in 2-D: ``x`` of shape (n, 2), labels ``y`` in {0, 1} (long)."""
    gen = _generator(seed)
    half = n // 2
    t = torch.sqrt(torch.rand(half, generator=gen)) * 3 * math.pi
    arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3 * math.pi)
    x = torch.cat([arm, -arm]) + noise * torch.randn(2 * half, 2, generator=gen)
    y = torch.cat([torch.zeros(half, dtype=torch.long), torch.ones(half, dtype=torch.long)])
    perm = torch.randperm(2 * half, generator=gen)
    return x[perm], y[perm]


def gaussian_blobs(
    n: int = 600, *, classes: int = 3, dim: int = 2, spread: float = 0.6, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """``classes`` Gaussian clusters on a circle: ``x`` (n, dim), ``y`` in {0..classes-1} (long)."""
    gen = _generator(seed)
    angles = torch.arange(classes) * (2 * math.pi / classes)
    centres = torch.zeros(classes, dim)
    centres[:, 0] = 2 * torch.cos(angles)
    centres[:, 1 % dim] = 2 * torch.sin(angles) if dim > 1 else centres[:, 0]
    y = torch.randint(0, classes, (n,), generator=gen)
    x = centres[y] + spread * torch.randn(n, dim, generator=gen)
    return x, y


def sine_regression(n: int = 256, *, noise: float = 0.05, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``y = sin(2 pi x) + noise`` for ``x`` uniform in [-1, 1]; both of shape (n, 1)."""
    gen = _generator(seed)
    x = 2 * torch.rand(n, 1, generator=gen) - 1
    y = torch.sin(2 * math.pi * x) + noise * torch.randn(n, 1, generator=gen)
    return x, y


def multilabel(n: int = 512, *, dim: int = 8, labels: int = 4, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Features and *non-exclusive* binary labels: each label is its own linear rule.

    ``y`` has shape (n, labels) with float entries in {0, 1}; many rows have several ones and
    some have none, which no softmax output can represent.
    """
    gen = _generator(seed)
    x = torch.randn(n, dim, generator=gen)
    rules = torch.randn(dim, labels, generator=gen)
    y = (x @ rules > 0).float()
    return x, y
