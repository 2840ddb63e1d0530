"""The equal-budget race of feed-forward blocks: data, model sizes, determinism."""

from __future__ import annotations

import torch

from actgrader.experiments.gated_comparison import KINDS, OneBlockModel, block_parameters, make_task, train_one


def test_task_is_standardized_and_seeded():
    x, y = make_task(500, seed=3)
    assert x.shape == (500, 8) and y.shape == (500, 1)
    assert abs(float(y.mean())) < 1e-5 and abs(float(y.std()) - 1) < 1e-5
    assert torch.equal(make_task(500, seed=3)[0], x)
    assert not torch.equal(make_task(500, seed=4)[0], x)


def test_blocks_hold_equal_budgets_within_a_percent():
    counts = [block_parameters(kind, 32) for kind in KINDS]
    assert max(counts) / min(counts) < 1.01


def test_models_differ_only_in_the_block():
    a = OneBlockModel("relu", 8, 16, 1, torch.Generator().manual_seed(0))
    b = OneBlockModel("swiglu", 8, 16, 1, torch.Generator().manual_seed(0))
    assert a.embed.weight.shape == b.embed.weight.shape and a.head.weight.shape == b.head.weight.shape


def test_training_lowers_the_error_and_is_deterministic():
    one = train_one("swiglu", 0, steps=60, eval_every=20, n_train=256, n_test=128)
    two = train_one("swiglu", 0, steps=60, eval_every=20, n_train=256, n_test=128)
    assert one == two
    assert len(one.curve) == 4 and one.test_error == one.curve[-1]
    assert one.curve[-1] < one.curve[0]
    other = train_one("swiglu", 1, steps=60, eval_every=20, n_train=256, n_test=128)
    assert other.curve != one.curve
