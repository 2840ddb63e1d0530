"""The timing harness: rounds, per-round ratios, the A/A noise floor. No timing targets here."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from actgrader.experiments import cost


class FakeClock:
    """A clock that advances only when a candidate runs, by the cost the candidate declares."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def work(self, seconds_by_round: list[float]):
        rounds = iter(seconds_by_round)

        def run() -> None:
            self.now += next(rounds)

        return run


def test_ratios_are_taken_within_each_round():
    clock = FakeClock()
    # round r is "slow" for everyone when r is odd: the ratio must not see it
    base = [1.0, 3.0, 1.0, 3.0]
    candidates = {
        "base": clock.work(base),
        "double": clock.work([2 * b for b in base]),
    }
    timings = cost.time_rounds(candidates, baseline="base", rounds=4, warmup=0, clock=clock)
    assert timings["base"].ratios == (1.0, 1.0, 1.0, 1.0)
    assert timings["double"].ratios == (2.0, 2.0, 2.0, 2.0)
    assert timings["double"].seconds == (2.0, 6.0, 2.0, 6.0)
    assert timings["double"].median_seconds == 4.0


def test_warmup_rounds_are_discarded():
    clock = FakeClock()
    candidates = {"base": clock.work([100.0, 1.0, 1.0]), "other": clock.work([100.0, 2.0, 4.0])}
    timings = cost.time_rounds(candidates, baseline="base", rounds=2, warmup=1, clock=clock)
    assert timings["other"].seconds == (2.0, 4.0)
    assert timings["other"].ratios == (2.0, 4.0)


def test_the_a_a_copy_measures_the_noise_floor():
    clock = FakeClock()
    calls = itertools.count()
    noise = [1.0, 1.5, 0.5, 1.2, 0.8, 1.0, 1.3, 0.7, 1.1, 0.9, 1.0, 1.0]

    def noisy_base() -> None:
        clock.now += noise[next(calls) % len(noise)]

    candidates = {"base": noisy_base, "slow": clock.work([5.0] * 6), "same": clock.work([1.0] * 6)}
    timings = cost.time_rounds(
        candidates, baseline="base", rounds=6, warmup=0, repeat_baseline="base (again)", clock=clock
    )
    again = timings["base (again)"]
    assert len(again.ratios) == 6
    assert len(set(again.ratios)) > 1  # the copy of the baseline does not reproduce its times exactly
    assert not timings["slow"].within_noise(again)
    assert timings["same"].within_noise(again)


def test_order_is_shuffled_but_reproducible():
    seen: list[list[str]] = []

    def recorder(name: str, log: list[str]):
        return lambda: log.append(name)

    for _ in range(2):
        log: list[str] = []
        candidates = {name: recorder(name, log) for name in "abcdef"}
        cost.time_rounds(candidates, baseline="a", rounds=5, warmup=0, seed=3)
        seen.append(log)
    assert seen[0] == seen[1]
    rounds = [seen[0][i : i + 6] for i in range(0, 30, 6)]
    assert len({tuple(r) for r in rounds}) > 1
    assert all(sorted(r) == list("abcdef") for r in rounds)


def test_bad_arguments():
    with pytest.raises(ValueError, match="baseline"):
        cost.time_rounds({"a": lambda: None}, baseline="b")
    with pytest.raises(ValueError, match="already"):
        cost.time_rounds({"a": lambda: None, "b": lambda: None}, baseline="a", repeat_baseline="b")
    with pytest.raises(ValueError, match="round"):
        cost.time_rounds({"a": lambda: None}, baseline="a", rounds=0)
    with pytest.raises(ValueError, match="require"):
        cost.forward_backward(torch.relu, torch.zeros(3))


def test_forward_backward_fills_the_gradient_of_the_activation():
    x = torch.linspace(-2, 2, 9).requires_grad_()
    grad = torch.arange(9.0)
    cost.forward_backward(torch.relu, x, grad)()
    torch.testing.assert_close(x.grad, grad * (x.detach() > 0))
    cost.forward_backward(torch.relu, x, grad)()  # a second run replaces, not accumulates
    torch.testing.assert_close(x.grad, grad * (x.detach() > 0))


def test_with_zeros_sets_the_requested_fraction():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(200, 200, generator=gen) + 10  # no zeros to begin with
    for fraction in (0.0, 0.5, 0.9, 1.0):
        zeroed = cost.with_zeros(x, fraction, gen)
        assert (zeroed == 0).float().mean().item() == pytest.approx(fraction, abs=0.01)
        kept = zeroed != 0
        torch.testing.assert_close(zeroed[kept], x[kept])
    with pytest.raises(ValueError):
        cost.with_zeros(x, 1.5, gen)


def test_small_real_measurements_have_every_candidate_and_restore_threads():
    before = torch.get_num_threads()
    timings = cost.activation_costs(
        {"ReLU": torch.relu, "tanh": torch.tanh}, numel=1 << 12, rounds=3, warmup=1, thread_count=1
    )
    assert set(timings) == {"ReLU", "tanh", "ReLU (again)"}
    assert all(len(t.seconds) == 3 and min(t.seconds) > 0 for t in timings.values())
    assert torch.get_num_threads() == before

    matmul = cost.matmul_costs([0.0, 0.9], size=64, sparse_fractions=[0.99], rounds=2, warmup=1)
    assert set(matmul) == {"dense, 0% zeros", "dense, 90% zeros", "sparse kernel, 99% zeros", "dense, 0% zeros (again)"}

    layers = cost.layer_costs({"linear": nn.Identity, "ReLU": nn.ReLU}, baseline="linear", batch=8, width=16, rounds=2)
    assert set(layers) == {"linear", "ReLU", "linear (again)"}
    assert torch.get_num_threads() == before
