"""The experiments of the chapter "The rest of the family": properties, not accidents."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actgrader.experiments import family


def test_one_prelu_unit_learns_the_slope_its_target_needs():
    assert family.fit_one_unit(torch.abs) == pytest.approx(-1.0, abs=1e-3)
    assert family.fit_one_unit(lambda x: torch.where(x > 0, x, 0.3 * x)) == pytest.approx(0.3, abs=1e-3)


def test_training_records_one_parameter_per_activation_layer_and_moves_them():
    run = family.train_spirals("prelu", seed=0, hidden=(8, 8), steps=20, record_every=10)
    assert run.steps == [0, 10, 20]
    assert run.history[0] == pytest.approx([0.25, 0.25])
    assert run.history[-1] != run.history[0]
    assert 0.0 <= run.test_accuracy <= 1.0
    swish = family.train_spirals(family.swish_factory(1.0), seed=0, hidden=(8,), steps=10, record_every=10)
    assert swish.history[0] == [1.0] and swish.history[-1] != [1.0]
    plain = family.train_spirals("relu", seed=0, hidden=(8,), steps=5)
    assert plain.history[0] == []


def test_the_same_seed_gives_the_same_run():
    a = family.train_spirals("mish", seed=3, hidden=(8,), steps=15)
    b = family.train_spirals(lambda: nn.Mish(), seed=3, hidden=(8,), steps=15)
    assert a == b


def test_quantize_rounds_to_the_levels_of_the_interval_and_clamps():
    x = torch.linspace(-1, 7, 8001, dtype=torch.float64)
    q = family.quantize(x, 0.0, 6.0)
    step = 6.0 / 255
    assert q.min().item() == 0.0 and q.max().item() == pytest.approx(6.0)
    levels = torch.round(q / step)
    torch.testing.assert_close(levels * step, q)
    inside = (x >= 0) & (x <= 6)
    assert (q[inside] - x[inside]).abs().max().item() <= step / 2 + 1e-12
    assert family.quantization_error(q, 0.0, 6.0) == pytest.approx(0.0, abs=1e-12)


def test_outliers_are_rare_and_large():
    z = family.heavy_tailed_preactivations(200_000, seed=1, outlier_scale=40.0)
    large = (z.abs() > 10).double().mean().item()
    assert 2e-4 < large < 2e-3
    assert z.max().item() > 40
