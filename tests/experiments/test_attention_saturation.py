"""The attention experiments: saturation without the sqrt(d) division, and correlated keys undoing it."""

from __future__ import annotations

import math

import pytest
import torch

from actgrader.experiments.attention import (
    correlated_logits,
    correlated_queries_keys,
    row_statistics,
    softmax_statistics,
)


def test_unscaled_softmax_saturates_as_d_grows_and_the_scaled_one_does_not():
    low, high = softmax_statistics(16, scaled=False), softmax_statistics(1024, scaled=False)
    assert high.entropy < low.entropy and high.largest_weight > low.largest_weight
    assert high.median_jacobian_norm < low.median_jacobian_norm / 10
    scaled_low, scaled_high = softmax_statistics(16, scaled=True), softmax_statistics(1024, scaled=True)
    assert abs(scaled_high.entropy - scaled_low.entropy) < 0.1
    assert scaled_high.entropy < math.log(64)


def test_row_statistics_of_equal_logits_are_uniform():
    stats = row_statistics(torch.zeros(3, 8, dtype=torch.float64), 8, True)
    assert stats.entropy == pytest.approx(math.log(8))
    assert stats.largest_weight == pytest.approx(1 / 8)


def test_correlated_keys_grow_the_scaled_variance_like_one_plus_rho_squared_d():
    for d in (64, 1024):
        q, k = correlated_queries_keys(d, 0.2, seed=1)
        assert k.shape == (64, 64, d)
        variance = correlated_logits(q, k).var().item()
        assert abs(variance / (1 + 0.04 * d) - 1) < 0.25
    q, k = correlated_queries_keys(256, 0.0, seed=1)
    assert abs(correlated_logits(q, k).var().item() - 1) < 0.1
