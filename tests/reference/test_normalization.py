"""Deep networks of plain, residual and normalized blocks: wiring, gradient profiles, what the activation sees."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from actgrader.reference.initialization import weight_variance
from actgrader.reference.normalization import (
    BLOCKS,
    Block,
    activation_inputs,
    active_fraction,
    block_gradient_profile,
    blocks_of,
    dead_unit_fraction,
    deep_network,
    probe_batch,
    stream_spread,
    tanh_saturated_fraction,
)


def _input(n: int = 16, width: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, width, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kind", BLOCKS)
def test_each_block_computes_its_formula(kind):
    torch.manual_seed(0)
    block = Block(kind, 8, "tanh").train()
    h = _input()
    z = block.linear
    f = torch.tanh
    expected = {
        "plain": lambda: f(z(h)),
        "batchnorm": lambda: f(nn.functional.batch_norm(z(h), None, None, training=True)),
        "residual": lambda: h + f(z(h)),
        "post_ln": lambda: nn.functional.layer_norm(h + f(z(h)), (8,)),
        "pre_ln": lambda: h + f(z(nn.functional.layer_norm(h, (8,)))),
        "rmsnorm": lambda: h + f(z(nn.functional.rms_norm(h, (8,)))),
    }[kind]()
    assert torch.allclose(block(h), expected, atol=1e-6)


def test_unknown_block_is_refused():
    with pytest.raises(ValueError, match="unknown block"):
        Block("densenet", 4, "relu")


def test_one_seed_gives_the_same_matrices_whatever_the_kind():
    a = deep_network("plain", depth=4, width=8, seed=3)
    b = deep_network("pre_ln", depth=4, width=8, activation="tanh", seed=3)
    c = deep_network("plain", depth=4, width=8, seed=4)
    la = [m.weight for m in a.modules() if isinstance(m, nn.Linear)]
    lb = [m.weight for m in b.modules() if isinstance(m, nn.Linear)]
    lc = [m.weight for m in c.modules() if isinstance(m, nn.Linear)]
    assert all(torch.equal(p, q) for p, q in zip(la, lb, strict=True))
    assert not torch.equal(la[1], lc[1])


def test_weight_scale_multiplies_the_block_matrices_only():
    one = deep_network("plain", depth=3, width=8, weight_scale=1.0)
    three = deep_network("plain", depth=3, width=8, weight_scale=3.0)
    assert torch.equal(one[0].weight, three[0].weight) and torch.equal(one[-1].weight, three[-1].weight)
    for b1, b3 in zip(blocks_of(one), blocks_of(three), strict=True):
        assert torch.allclose(3 * b1.linear.weight, b3.linear.weight)


@pytest.mark.parametrize("init", ["kaiming", "xavier", "lecun", "default"])
def test_block_weights_have_the_scheme_variance(init):
    net = deep_network("plain", depth=6, width=128, init=init)
    w = torch.cat([b.linear.weight.detach().flatten() for b in blocks_of(net)])
    expected = weight_variance(init, 128, 128)
    assert float(w.var()) == pytest.approx(expected, rel=0.05)


def test_profile_has_one_norm_per_block_and_matches_autograd_by_hand():
    batch = probe_batch(64)
    profile = block_gradient_profile("residual", depth=5, width=16, batch=batch, seed=1)
    assert len(profile) == 5
    net = deep_network("residual", depth=5, width=16, seed=1)
    nn.functional.cross_entropy(net(batch[0]), batch[1]).backward()
    by_hand = [float(b.linear.weight.grad.norm()) for b in blocks_of(net)]
    assert profile == pytest.approx(by_hand, rel=1e-6)


def test_plain_vanishes_and_residual_does_not_at_depth():
    batch = probe_batch(128)
    plain = block_gradient_profile("plain", depth=40, width=32, init="default", batch=batch)
    residual = block_gradient_profile("residual", depth=40, width=32, init="default", batch=batch)
    pre_ln = block_gradient_profile("pre_ln", depth=40, width=32, init="default", batch=batch)
    assert plain[0] < 1e-10 < 1e-2 < residual[0]
    assert pre_ln[0] > 1e-2


def test_batch_norm_fixes_what_the_relus_see():
    x = probe_batch(256)[0]
    bn = deep_network("batchnorm", depth=20, width=32).train()
    plain = deep_network("plain", depth=20, width=32).train()
    assert all(abs(a - 0.5) < 0.06 for a in active_fraction(bn, x))
    assert max(dead_unit_fraction(bn, x)) == 0
    assert max(dead_unit_fraction(plain, x)) > 0


def test_batch_norm_keeps_tanh_out_of_saturation_and_pre_ln_does_not():
    x = probe_batch(256)[0]
    kw = dict(depth=10, width=32, activation="tanh", init="xavier", weight_scale=3.0)
    bn = tanh_saturated_fraction(deep_network("batchnorm", **kw).train(), x)
    pre = tanh_saturated_fraction(deep_network("pre_ln", **kw).train(), x)
    assert max(bn) < 0.03 < 0.2 < min(pre[1:])


def test_activation_inputs_are_the_preactivations():
    net = deep_network("plain", depth=3, width=8, activation="relu")
    x = probe_batch(10)[0]
    seen = activation_inputs(net, x)
    assert len(seen) == 3
    assert torch.allclose(seen[0], net[1].linear(net[0](x)))
    assert len(net[1].activation._forward_hooks) == 0  # hooks removed


def test_stream_grows_without_normalization_and_post_ln_pins_it():
    x = probe_batch(128)[0]
    residual = stream_spread(deep_network("residual", depth=20, width=32), x)
    post = stream_spread(deep_network("post_ln", depth=20, width=32), x)
    assert residual[-1] > 100 * residual[0]
    assert all(abs(s - 1) < 1e-2 for s in post)
