"""Format limits; thresholds against an exhaustive scan and the paper values; a float16-safe softmax and loss."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from actgrader.reference.naive import naive_softmax
from actgrader.reference.precision import (
    ACTIVATION_FUNCTIONS,
    HALF_FORMATS,
    THRESHOLD_EVENTS,
    analytic_thresholds,
    boundary,
    every_finite_value,
    first_representable_past,
    format_limits,
    half_safe_cross_entropy,
    half_safe_log_softmax,
    half_safe_softmax,
    threshold,
)


@pytest.mark.parametrize("dtype", [*HALF_FORMATS, torch.float32])
def test_limits_are_finfo_and_the_smallest_subnormal_is_representable(dtype):
    limits = format_limits(dtype)
    info = torch.finfo(dtype)
    assert (limits.max, limits.eps, limits.smallest_normal) == (info.max, info.eps, info.smallest_normal)
    sub = torch.tensor(limits.smallest_subnormal, dtype=dtype)
    assert float(sub) == limits.smallest_subnormal > 0
    assert float(sub / 2) == 0  # half of it rounds (to even) to zero
    assert 1 + limits.eps > 1 and float(torch.tensor(1 + limits.eps / 4, dtype=dtype)) == 1
    assert float(torch.tensor(limits.max, dtype=dtype) * 1) == limits.max
    assert torch.tensor(limits.overflow_boundary * (1 + 1e-6), dtype=torch.float64).to(dtype).isinf()
    assert not torch.tensor(limits.overflow_boundary * (1 - 1e-6), dtype=torch.float64).to(dtype).isinf()


def test_every_finite_value_covers_the_format():
    values = every_finite_value(torch.float16)
    assert values[0].item() == -65504 and values[-1].item() == 65504
    assert (values.diff() > 0).all()


def _event(function: str, event: str, values: torch.Tensor) -> torch.Tensor:
    fn = ACTIVATION_FUNCTIONS[function]
    if event == "slope is 0":
        x = values.clone().requires_grad_(True)
        fn(x).sum().backward()
        return x.grad == 0
    if event == "overflows to inf":
        return fn(values).isinf()
    return fn(values) == (1 if event == "rounds to 1" else 0)


@pytest.mark.parametrize("dtype", HALF_FORMATS)
@pytest.mark.parametrize(("function", "event"), THRESHOLD_EVENTS)
def test_the_event_holds_from_the_threshold_outwards_and_not_one_number_inside(dtype, function, event):
    found = threshold(function, event, dtype)
    values = every_finite_value(dtype)
    beyond = values[values >= found] if found > 0 else values[values <= found]
    assert _event(function, event, beyond).all()
    inside = torch.nextafter(torch.tensor(found, dtype=dtype), torch.tensor(0.0, dtype=dtype))
    assert not _event(function, event, inside.repeat(64)).any()


MONOTONE_EVENTS = [key for key in THRESHOLD_EVENTS if key[0] in ("exp", "sigmoid", "tanh")]


@pytest.mark.parametrize("dtype", HALF_FORMATS)
@pytest.mark.parametrize(("function", "event"), MONOTONE_EVENTS)
def test_bisection_agrees_with_the_exhaustive_scan_where_the_event_is_monotone(dtype, function, event):
    fn = ACTIVATION_FUNCTIONS[function]
    if event == "overflows to inf":
        found = boundary(lambda x: bool(fn(x).isinf()), 0.0, float(torch.finfo(dtype).max), dtype)
    elif event == "rounds to 1":
        found = boundary(lambda x: bool(fn(x) == 1), 0.0, 1e4, dtype)
    else:
        found = boundary(lambda x: bool(fn(x) == 0), -1.0, -1e4, dtype)
    assert found == threshold(function, event, dtype)


def test_wider_formats_are_bisected():
    assert threshold("exp", "overflows to inf", torch.float32) == first_representable_past(
        math.log(format_limits(torch.float32).overflow_boundary), torch.float32
    )
    with pytest.raises(ValueError, match="16-bit"):
        every_finite_value(torch.float32)


@pytest.mark.parametrize("dtype", HALF_FORMATS)
def test_float16_and_bfloat16_saturation_lands_on_the_first_number_past_the_paper_value(dtype):
    paper = analytic_thresholds(dtype)
    keys = [
        ("exp", "overflows to inf"),
        ("exp", "underflows to 0"),
        ("sigmoid", "rounds to 1"),
        ("tanh", "rounds to 1"),
    ]
    for key in keys:
        assert threshold(*key, dtype) == first_representable_past(paper[key], dtype), key


def test_paper_values_are_the_textbook_formulas():
    paper = analytic_thresholds(torch.float16)
    assert paper["exp", "overflows to inf"] == pytest.approx(math.log(65520))
    assert paper["exp", "underflows to 0"] == pytest.approx(-25 * math.log(2))
    assert paper["sigmoid", "rounds to 1"] == pytest.approx(math.log(2**12 - 1))
    # the GELU root: |x Phi(x)| equals half the smallest subnormal there
    x = paper["GELU", "underflows to 0"]
    assert abs(x) * 0.5 * math.erfc(-x / math.sqrt(2)) == pytest.approx(2.0**-25, rel=1e-9)


def test_boundary_rejects_a_predicate_that_does_not_change():
    with pytest.raises(ValueError, match="false at"):
        boundary(lambda x: bool(x > 0), 1.0, 2.0, torch.float16)


def test_first_representable_past_moves_away_from_zero():
    assert first_representable_past(1.0, torch.float16) == 1.0
    assert first_representable_past(1.0001, torch.float16) == 1 + 2**-10
    assert first_representable_past(-1.0001, torch.float16) == -(1 + 2**-10)


LOGITS = torch.tensor([[12.0, 0.0, -3.0], [4.0, -16.0, 2.0], [30.0, 29.0, -40.0]])


@pytest.mark.parametrize("dtype", HALF_FORMATS)
def test_half_safe_softmax_is_right_where_the_naive_one_overflows(dtype):
    logits = LOGITS.to(dtype)
    if dtype == torch.float16:
        assert naive_softmax(logits).isnan().any()
    safe = half_safe_softmax(logits)
    assert safe.dtype == dtype
    exact = torch.softmax(logits.double(), -1)
    assert (safe.double() - exact).abs().max() <= torch.finfo(dtype).eps
    assert half_safe_log_softmax(logits).dtype == torch.float32
    assert torch.allclose(half_safe_log_softmax(logits).double(), torch.log_softmax(logits.double(), -1), atol=1e-5)


def test_half_safe_cross_entropy_matches_float64_where_log_softmax_in_float16_is_infinite():
    logits = LOGITS.to(torch.float16)
    labels = torch.tensor([0, 1, 2])
    assert torch.log(torch.softmax(logits, -1))[1, 1].isinf()
    loss = half_safe_cross_entropy(logits, labels)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(F.cross_entropy(logits.double(), labels).item(), rel=1e-6)


def test_half_safe_softmax_sends_back_the_softmax_slope():
    logits = LOGITS.to(torch.float16).requires_grad_(True)
    upstream = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    (half_safe_softmax(logits).float() * upstream).sum().backward()
    exact = LOGITS.double().requires_grad_(True)
    (torch.softmax(exact, -1) * upstream).sum().backward()
    assert logits.grad.isfinite().all()
    assert torch.allclose(logits.grad.double(), exact.grad, atol=2e-3)
