"""Zero-centring: why all-positive inputs make gradient descent zig-zag, on a unit with two weights.

Taught in the chapter "Zero-centred activations" (``book/zero-centring.md``).

The unit computes ``w . x`` and is trained on the squared error ``(w . x - y)^2 / 2``. For one
example the gradient is ``(w . x - y) x``: the residual times the input. When every input is
positive (as a sigmoid's outputs are), both entries of the gradient have the residual's
sign, so a step moves both weights up or both down, never one up and one down. Reaching
``w* = (1, -1)`` then takes a zig-zag.

Over a batch, the mean gradient can have mixed signs, but the inputs' non-zero mean shows up
in the Hessian ``H = x^T x / n``: it adds ``mu mu^T``, a steep direction along the mean, and
gradient descent oscillates across it (:func:`condition_number`, :func:`gd_path`).

The inputs are ``x = sigmoid(g) - 0.5 + offset`` with ``g`` standard normal: ``offset = 0.5``
gives sigmoid outputs, ``offset = 0`` the same points shifted to mean zero (which is
``tanh(g / 2) / 2``, a scaled tanh's outputs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from actgrader.reference.models import linear_layers

W_STAR: tuple[float, float] = (1.0, -1.0)


def two_weight_problem(
    n: int = 200, *, offset: float = 0.5, w_star: Sequence[float] = W_STAR, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Inputs ``x`` of shape ``(n, 2)`` and targets ``y = x @ w_star`` (float64, no noise).

    ``x = sigmoid(g) - 0.5 + offset`` with ``g`` drawn from a standard normal law by a
    generator seeded with ``seed``: all positive for ``offset >= 0.5``, centred for 0.
    """
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    x = torch.sigmoid(g) - 0.5 + offset
    return x, x @ torch.tensor(w_star, dtype=torch.float64)


def loss(w: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """The mean of ``(x @ w - y)^2 / 2``; ``w`` may carry leading batch dimensions (for contour plots)."""
    residual = torch.einsum("...j,ij->...i", w, x) - y
    return (residual**2).mean(dim=-1) / 2


def per_example_gradients(w: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``(x_i . w - y_i) x_i`` for every example: shape ``(n, 2)``."""
    return (x @ w - y).unsqueeze(1) * x


def same_sign_fraction(gradients: Tensor) -> float:
    """The fraction of rows whose entries all have the same (strict) sign."""
    positive = (gradients > 0).all(dim=1)
    negative = (gradients < 0).all(dim=1)
    return float((positive | negative).float().mean())


def hessian(x: Tensor) -> Tensor:
    """The Hessian of :func:`loss` in ``w``: ``x^T x / n`` (constant: the loss is quadratic)."""
    return x.T @ x / x.shape[0]


def condition_number(x: Tensor) -> float:
    """Largest over smallest eigenvalue of :func:`hessian`: how elongated the loss valley is."""
    eigenvalues = torch.linalg.eigvalsh(hessian(x))
    return float(eigenvalues[-1] / eigenvalues[0])


def optimal_lr(x: Tensor) -> float:
    """``2 / (lambda_min + lambda_max)``: the fixed learning rate that makes gradient descent fastest here.

    With it, the error along both eigenvectors of the Hessian shrinks by the same factor
    ``(kappa - 1) / (kappa + 1)`` per step (``kappa`` the condition number), and the one
    along the steep eigenvector flips sign every step: the zig-zag.
    """
    eigenvalues = torch.linalg.eigvalsh(hessian(x))
    return float(2 / (eigenvalues[0] + eigenvalues[-1]))


def gd_path(x: Tensor, y: Tensor, w0: Sequence[float], lr: float, steps: int) -> Tensor:
    """Full-batch gradient descent from ``w0``: the ``steps + 1`` weights visited, shape ``(steps + 1, 2)``."""
    w = torch.tensor(w0, dtype=x.dtype)
    path = [w]
    for _ in range(steps):
        w = w - lr * per_example_gradients(w, x, y).mean(dim=0)
        path.append(w)
    return torch.stack(path)


def sgd_path(x: Tensor, y: Tensor, w0: Sequence[float], lr: float, steps: int, seed: int = 0) -> Tensor:
    """Gradient descent on one example per step, examples drawn in the order of ``torch.randperm`` (seeded).

    Returns the ``steps + 1`` weights visited. Each step is ``-lr`` times one row of
    :func:`per_example_gradients`, so with positive inputs every step points into the first
    or the third quadrant.
    """
    gen = torch.Generator().manual_seed(seed)
    order = torch.cat([torch.randperm(len(x), generator=gen) for _ in range(steps // len(x) + 1)])[:steps]
    w = torch.tensor(w0, dtype=x.dtype)
    path = [w]
    for i in order.tolist():
        w = w - lr * per_example_gradients(w, x[i : i + 1], y[i : i + 1])[0]
        path.append(w)
    return torch.stack(path)


def steps_to_reach(path: Tensor, w_star: Sequence[float] = W_STAR, tol: float = 1e-2) -> int | None:
    """The first step at which ``|w - w_star| < tol`` (``None`` if the path never gets there)."""
    distance = (path - torch.tensor(w_star, dtype=path.dtype)).norm(dim=1)
    hits = torch.nonzero(distance < tol)
    return int(hits[0]) if len(hits) else None


def predicted_gd_steps(x: Tensor, w0: Sequence[float], w_star: Sequence[float] = W_STAR, tol: float = 1e-2) -> int:
    """Steps that :func:`gd_path` with :func:`optimal_lr` needs to get within ``tol`` of ``w_star``.

    With that rate the error's norm shrinks by exactly ``r = (kappa - 1) / (kappa + 1)`` per
    step, so the answer is the smallest ``t`` with ``r^t |w0 - w*| < tol``.
    """
    kappa = condition_number(x)
    r = (kappa - 1) / (kappa + 1)
    start = math.dist(w0, w_star)
    if start < tol:
        return 0
    if r == 0:
        return 1
    t = math.floor(math.log(tol / start) / math.log(r)) + 1
    # guard the floor against rounding at an exact power
    while t > 0 and r ** (t - 1) * start < tol:
        t -= 1
    return t


def mixed_direction_steps(path: Tensor) -> float:
    """The fraction of steps of a path that move one weight up and the other down."""
    steps = path[1:] - path[:-1]
    return float(((steps[:, 0] * steps[:, 1]) < 0).float().mean())


def path_length(path: Tensor) -> float:
    """The total distance travelled along a path."""
    return float((path[1:] - path[:-1]).norm(dim=1).sum())


# --- the same argument in a real layer ------------------------------------------------------------


def _single_sign(g: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return (g > 0).all() | (g < 0).all()
    return (g > 0).all(dim=dim) | (g < 0).all(dim=dim)


def sign_agreement(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    layer: int,
    batch_size: int = 1,
) -> dict[str, float]:
    """How often the weight gradient of ``linear_layers(model)[layer]`` has a single sign.

    ``x`` is cut into consecutive batches of ``batch_size`` examples; for each batch the
    gradient of that layer's weight matrix is computed. Returns two fractions over the
    batches: ``"rows"``, of (batch, unit) pairs whose row (the unit's incoming weights) has
    entries all positive or all negative, and ``"matrix"``, of batches whose whole matrix does.
    For one example and all-positive inputs to the layer, every row has one sign.
    """
    weight = linear_layers(model)[layer].weight
    rows: list[Tensor] = []
    whole: list[bool] = []
    for start in range(0, len(x), batch_size):
        loss = loss_fn(model(x[start : start + batch_size]), y[start : start + batch_size])
        (grad,) = torch.autograd.grad(loss, weight)
        rows.append(_single_sign(grad, dim=1))
        whole.append(bool(_single_sign(grad)))
    return {
        "rows": float(torch.cat(rows).float().mean()),
        "matrix": sum(whole) / len(whole),
    }
