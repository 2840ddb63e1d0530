"""Gradient underflow: none in float32; float16 loses gradients that scaling restores; overflow is reported."""

from __future__ import annotations

import torch

from actgrader.experiments.precision import gradient_underflow, late_training_problem, running_sum


def test_float32_gradients_have_no_zeros():
    problem = late_training_problem(seed=1)
    count = gradient_underflow(problem, torch.float32)
    assert count.zero_signal_fraction == 0 and count.zero_weight_gradient_fraction == 0
    assert not count.overflowed


def test_scaling_restores_float16_gradients_until_it_overflows():
    problem = late_training_problem(seed=1)
    plain = gradient_underflow(problem, torch.float16)
    scaled = gradient_underflow(problem, torch.float16, 2.0**24)
    assert plain.zero_signal_fraction > 0.05
    assert scaled.zero_signal_fraction == scaled.saturated_fraction < plain.zero_signal_fraction / 100
    assert gradient_underflow(problem, torch.float16, 2.0**40).overflowed


def test_scaled_gradients_are_returned_unscaled():
    # a power-of-two scale commutes with rounding where nothing under- or overflows: bfloat16
    problem = late_training_problem(seed=2)
    one = gradient_underflow(problem, torch.bfloat16, 1.0).weight_gradients
    many = gradient_underflow(problem, torch.bfloat16, 2.0**10).weight_gradients
    for a, b in zip(one, many, strict=True):
        assert torch.equal(a, b)


def test_the_problem_does_not_share_weights_between_runs():
    problem = late_training_problem(seed=0)
    gradient_underflow(problem, torch.float32)
    assert all(not w.requires_grad for w in problem.weights)


def test_running_sum_rounds_after_every_addition():
    assert running_sum(torch.ones(3000, dtype=torch.float16)).item() == 2048
    assert running_sum(torch.ones(3000, dtype=torch.float32)).item() == 3000
