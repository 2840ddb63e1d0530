"""Plausible wrong answers to `collapse_linear_stack` fail with the message that names their mistake."""

from __future__ import annotations

import functools

import pytest
import torch

from .helpers import assert_fails_with


def wrong_order(weights):
    return functools.reduce(lambda a, b: a @ b, weights)


def transposed(weights):
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    return product.T


def elementwise(weights):
    product = weights[0]
    for w in weights[1:]:
        product = product * w
    return product


def last_matrix_only(weights):
    return weights[-1]


def complex_matrix(weights):
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    return product.to(torch.complex64) + 5j  # .double() would drop the 5j


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (wrong_order, "wrong order"),
        (transposed, "transposed"),
        (elementwise, "raised RuntimeError"),
        (last_matrix_only, "shape"),
        (complex_matrix, "holds complex numbers"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("linear_collapse", answer, fragment)
