"""`lstm_step`: right answers earn full marks, classic slips fail naming their mistake."""

from __future__ import annotations

import pytest
import torch

from .helpers import assert_fails_with, grade_locally


def _slip(
    *,
    gate=torch.sigmoid,
    candidate=torch.tanh,
    output=torch.tanh,
    order="ifgo",
    both_biases=True,
    input_gate=True,
    new_cell=True,
    swap_return=False,
):
    def lstm_step(x, h, c, weights):
        z = x @ weights["weight_ih"].T + weights["bias_ih"] + h @ weights["weight_hh"].T
        if both_biases:
            z = z + weights["bias_hh"]
        blocks = dict(zip(order, z.chunk(4, dim=1), strict=True))
        i, f, g, o = blocks["i"], blocks["f"], blocks["g"], blocks["o"]
        c_new = gate(f) * c + (gate(i) if input_gate else 1) * candidate(g)
        h_new = gate(o) * output(c_new if new_cell else c)
        return (c_new, h_new) if swap_return else (h_new, c_new)

    return lstm_step


def with_lstmcell(x, h, c, weights):
    cell = torch.nn.LSTMCell(weights["weight_ih"].shape[1], weights["weight_hh"].shape[1], dtype=x.dtype)
    with torch.no_grad():
        for name, value in weights.items():
            getattr(cell, name).copy_(value)
        return cell(x, (h, c))


@pytest.mark.parametrize("answer", [_slip(), with_lstmcell])
def test_right_answers_earn_full_marks(answer):
    result = grade_locally("lstm_tanh", answer)
    assert result.earned == result.max_points, [o.message for o in result.outcomes if not o.passed]


def only_h(x, h, c, weights):
    return _slip()(x, h, c, weights)[0]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (_slip(gate=torch.tanh), "A gate must lie between 0 and 1"),
        (_slip(candidate=torch.sigmoid), "could only be added to, never decreased"),
        (_slip(output=lambda v: v), "the tanh on the new cell state is missing"),
        (_slip(order="ifog"), "input gate i, the forget gate f, the candidate g and the output gate o"),
        (_slip(order="igfo"), "input gate i, the forget gate f, the candidate g and the output gate o"),
        (_slip(order="figo"), "input gate i, the forget gate f, the candidate g and the output gate o"),
        (_slip(both_biases=False), "adds both biases"),
        (_slip(input_gate=False), "scaled by the input gate"),
        (_slip(new_cell=False), "from the new cell state"),
        (_slip(swap_return=True), "in the order (h, c)"),
        (only_h, "returns the pair (h, c)"),
    ],
)
def test_wrong_answer_is_named(answer, fragment):
    assert_fails_with("lstm_tanh", answer, fragment)
