"""Initialization that does not match the activation: what the first training steps do to it.

Taught in the chapter "Initialization matched to the activation" (``book/initialization.md``),
next to the variance-propagation functions of :mod:`actgrader.reference.initialization`.
"""

from __future__ import annotations

from torch import Tensor

from actgrader import datasets
from actgrader.reference.initialization import Scheme, preactivation_spread, saturated_fraction
from actgrader.reference.models import make_mlp
from actgrader.reference.training import single_thread, train


def drift_data(n: int = 1280, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The data of the drift experiment: four Gaussian clusters in 16 dimensions."""
    return datasets.gaussian_blobs(n, classes=4, dim=16, seed=seed)


def drift(
    activation: str,
    init: Scheme,
    lr: float,
    *,
    steps: int = 40,
    batch_size: int = 32,
    depth: int = 20,
    width: int = 64,
    seed: int = 0,
    data: tuple[Tensor, Tensor] | None = None,
) -> dict[str, dict[str, object]]:
    """Measure a deep MLP before and after ``steps`` minibatch SGD steps.

    The network is ``make_mlp([dim] + [width] * (depth - 1) + [classes], activation,
    init=init, seed=seed)``; it is trained with
    :func:`~actgrader.reference.training.train` for one epoch on the first
    ``steps * batch_size`` examples (so exactly ``steps`` steps, order seeded by ``seed``).
    Returns ``{"before": m, "after": m}`` with ``m = {"saturated": per-layer fraction of
    |h| > 0.99, "spread": per-layer pre-activation std}``, both measured on all of the data.
    """
    x, y = data if data is not None else drift_data()
    with single_thread():
        model = make_mlp([x.shape[1], *[width] * (depth - 1), int(y.max()) + 1], activation, init=init, seed=seed)

        def measure() -> dict[str, object]:
            return {"saturated": saturated_fraction(model, x), "spread": preactivation_spread(model, x)}

        before = measure()
        n = steps * batch_size
        if n > len(x):
            raise ValueError(f"{steps} steps of {batch_size} need {n} examples; the data has {len(x)}")
        train(model, (x[:n], y[:n]), lr, 1, seed, batch_size=batch_size)
        return {"before": before, "after": measure()}
