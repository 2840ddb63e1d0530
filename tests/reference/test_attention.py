"""Attention references: the logits' variance with and without sqrt(d), entropy, soft-capping, the online softmax."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from actgrader.reference.attention import (
    attention_logits,
    logit_variance,
    online_attention,
    online_softmax,
    random_queries_keys,
    softcap,
    softmax_entropy,
)


def test_queries_and_keys_are_seeded_standard_normal():
    q, k = random_queries_keys(256, 64, 64, seed=4)
    again, _ = random_queries_keys(256, 64, 64, seed=4)
    other, _ = random_queries_keys(256, 64, 64, seed=5)
    assert torch.equal(q, again) and not torch.equal(q, other)
    assert q.shape == (64, 256) and k.shape == (64, 256)
    assert abs(q.mean().item()) < 0.02 and abs(q.var().item() - 1) < 0.03


@pytest.mark.parametrize("d", [8, 64, 512])
def test_logit_variance_is_d_unscaled_and_one_scaled(d):
    samples = [logit_variance(d, scaled=False, seed=s) / d for s in range(5)]
    assert abs(sum(samples) / len(samples) - 1) < 0.1
    scaled = [logit_variance(d, scaled=True, seed=s) for s in range(5)]
    assert abs(sum(scaled) / len(scaled) - 1) < 0.1


def test_scaled_logits_are_the_unscaled_divided_by_sqrt_d():
    q, k = random_queries_keys(49, 3, 5, seed=0)
    assert torch.allclose(attention_logits(q, k, scaled=True) * 7, attention_logits(q, k, scaled=False))
    assert torch.allclose(attention_logits(q, k, scaled=False), q @ k.T)


def test_entropy_is_log_n_for_uniform_and_zero_for_one_hot():
    assert softmax_entropy(torch.full((8,), 1 / 8)).item() == pytest.approx(math.log(8))
    assert softmax_entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0
    p = torch.tensor([[0.2, 0.3, 0.5]])
    assert softmax_entropy(p).shape == (1,)


def test_softcap_is_bounded_near_identity_for_small_logits_and_odd():
    x = torch.linspace(-500, 500, 2001, dtype=torch.float64)
    capped = softcap(x, 30.0)
    assert capped.abs().max() <= 30.0
    assert torch.allclose(softcap(-x, 30.0), -capped)
    small = torch.tensor([0.01, 0.1, 1.0], dtype=torch.float64)
    assert torch.allclose(softcap(small, 30.0), small, rtol=1e-3)
    with pytest.raises(ValueError):
        softcap(x, 0.0)


@pytest.mark.parametrize("block", [1, 3, 16, 100])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_online_softmax_matches_torch_even_for_huge_logits(block, dtype):
    logits = 400 * torch.randn(3, 5, 37, generator=torch.Generator().manual_seed(0), dtype=dtype)
    expected = torch.softmax(logits, dim=-1)
    got = online_softmax(logits, block)
    assert got.isfinite().all()
    assert (got - expected).abs().max() <= 4 * torch.finfo(dtype).eps


def test_online_softmax_sends_back_the_softmax_slope():
    logits = torch.randn(2, 9, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(2, 9, dtype=torch.float64)
    (grad,) = torch.autograd.grad((online_softmax(logits, 4) * upstream).sum(), logits)
    (expected,) = torch.autograd.grad((torch.softmax(logits, -1) * upstream).sum(), logits)
    assert torch.allclose(grad, expected)


@pytest.mark.parametrize("block", [1, 5, 64])
def test_online_attention_matches_scaled_dot_product_attention(block):
    generator = torch.Generator().manual_seed(1)
    q = torch.randn(2, 6, 16, generator=generator, dtype=torch.float64)
    k = torch.randn(2, 23, 16, generator=generator, dtype=torch.float64)
    v = torch.randn(2, 23, 8, generator=generator, dtype=torch.float64)
    expected = F.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(online_attention(q, k, v, block=block), expected, atol=1e-12)
    # an explicit scale is used as given
    expected_scaled = F.scaled_dot_product_attention(q, k, v, scale=0.5)
    assert torch.allclose(online_attention(q, k, v, block=block, scale=0.5), expected_scaled, atol=1e-12)


def test_block_must_be_positive():
    with pytest.raises(ValueError):
        online_softmax(torch.zeros(3), 0)
    with pytest.raises(ValueError):
        online_attention(torch.zeros(1, 2), torch.zeros(3, 2), torch.zeros(3, 2), block=0)
