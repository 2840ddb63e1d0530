"""Gated linear units: F.glu, the SwiGLU block in both forms, the matched hidden width, the two slopes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from actgrader.reference.gated import (
    GATES,
    FeedForward,
    GatedFeedForward,
    feed_forward_block,
    feed_forward_parameters,
    gated_unit,
    gated_unit_slopes,
    matched_hidden_width,
    swiglu_feed_forward,
)


def _data(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_glu_variant_is_torch_glu_with_value_first():
    value, gate = _data((6, 5), 0), _data((6, 5), 1)
    by_torch = F.glu(torch.cat([value, gate], dim=-1), dim=-1)
    assert torch.allclose(gated_unit(gate, value, "glu"), by_torch, rtol=1e-15, atol=0)
    # the halves the other way round are a different function
    assert not torch.allclose(gated_unit(value, gate, "glu"), gated_unit(gate, value, "glu"))


@pytest.mark.parametrize(
    ("variant", "gate_fn"),
    [("glu", torch.sigmoid), ("reglu", torch.relu), ("geglu", F.gelu), ("swiglu", F.silu), ("bilinear", None)],
)
def test_each_variant_gates_with_its_activation(variant, gate_fn):
    a, b = _data((4, 7), 2), _data((4, 7), 3)
    expected = (a if gate_fn is None else gate_fn(a)) * b
    assert torch.equal(gated_unit(a, b, variant), expected)


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown gated variant"):
        gated_unit(torch.zeros(1), torch.zeros(1), "swish")
    with pytest.raises(ValueError, match="unknown gated variant"):
        GatedFeedForward(4, 8, "swish")


def test_module_and_function_agree_on_the_same_weights():
    block = GatedFeedForward(6, 16, "swiglu", generator=torch.Generator().manual_seed(0)).double()
    x = _data((10, 6), 1)
    by_function = swiglu_feed_forward(x, block.w_gate.weight, block.w_value.weight, block.w_out.weight)
    assert torch.allclose(block(x), by_function, rtol=0, atol=1e-14)
    # written out entry by entry for one example
    g = block.w_gate.weight @ x[0]
    v = block.w_value.weight @ x[0]
    hidden = g * torch.sigmoid(g) * v
    assert torch.allclose(block(x)[0], block.w_out.weight @ hidden, atol=1e-14)


def test_swiglu_function_shapes_follow_nn_linear():
    x = _data((3, 4, 8), 0)
    w_gate, w_value, w_out = _data((20, 8), 1), _data((20, 8), 2), _data((8, 20), 3)
    assert swiglu_feed_forward(x, w_gate, w_value, w_out).shape == (3, 4, 8)


def test_a_generator_fixes_the_block():
    one = GatedFeedForward(8, 12, generator=torch.Generator().manual_seed(5))
    two = GatedFeedForward(8, 12, generator=torch.Generator().manual_seed(5))
    three = GatedFeedForward(8, 12, generator=torch.Generator().manual_seed(6))
    for p, q, r in zip(one.parameters(), two.parameters(), three.parameters(), strict=True):
        assert torch.equal(p, q)
        assert not torch.equal(p, r)


@pytest.mark.parametrize("d", [1, 3, 64, 512, 768, 4096, 5120])
def test_matched_width_keeps_the_weights_of_the_ungated_block(d):
    h = matched_hidden_width(d)
    ungated = feed_forward_parameters(d, 4 * d, gated=False)
    assert feed_forward_parameters(d, h, gated=True) <= ungated
    assert feed_forward_parameters(d, h + 1, gated=True) > ungated  # the largest width that fits


@pytest.mark.parametrize(("d", "multiple"), [(4096, 256), (5120, 256), (768, 64), (100, 7)])
def test_rounded_width_is_the_next_multiple(d, multiple):
    h = matched_hidden_width(d, multiple_of=multiple)
    assert h % multiple == 0
    assert matched_hidden_width(d) <= h < matched_hidden_width(d) + multiple


def test_matched_width_refuses_nonsense():
    with pytest.raises(ValueError):
        matched_hidden_width(0)
    with pytest.raises(ValueError):
        matched_hidden_width(8, multiple_of=0)


def test_blocks_of_a_budget_hold_nearly_the_same_weights():
    counts = {kind: sum(p.numel() for p in feed_forward_block(kind, 48).parameters()) for kind in ("relu", *GATES)}
    assert counts["relu"] == feed_forward_parameters(48, 4 * 48, gated=False)
    for kind in GATES:
        assert 0.99 < counts[kind] / counts["relu"] <= 1.0
    assert isinstance(feed_forward_block("gelu", 8), FeedForward)


@pytest.mark.parametrize("variant", sorted(GATES))
def test_the_two_slopes_are_gate_slope_times_value_and_the_gate(variant):
    a = torch.linspace(-5, 5, 101, dtype=torch.float64)
    b = _data((101,), 4)
    to_gate, to_value = gated_unit_slopes(a, b, variant)
    assert torch.allclose(to_value, GATES[variant](a))
    eps = 1e-6
    numeric = (GATES[variant](a + eps) - GATES[variant](a - eps)) / (2 * eps) * b
    keep = a.abs() > 1e-3  # ReLU's kink
    assert torch.allclose(to_gate[keep], numeric[keep], atol=1e-8)
