"""`lstm_step`: right answers earn full marks, classic slips fail naming their mistake."""

from __future__ import annotations

import pytest
import torch

from actgrader.tasks import lstm_tanh as task

from .helpers import assert_named, first_public_failure, grade_locally


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
    recurrent=True,
    transposed=True,
):
    def lstm_step(x, h, c, weights):
        w_ih = weights["weight_ih"].T if transposed else weights["weight_ih"]
        z = x @ w_ih + weights["bias_ih"] + (h @ weights["weight_hh"].T if recurrent else 0)
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
    ("answer", "message"),
    [
        (_slip(gate=torch.tanh), task.GATES),
        (_slip(candidate=torch.sigmoid), task.CANDIDATE),
        (_slip(output=lambda v: v), task.OUTPUT),
        (_slip(order="ifog"), task.ORDER),
        (_slip(order="igfo"), task.ORDER),
        (_slip(order="figo"), task.ORDER),
        (_slip(both_biases=False), task.BIASES),
        (_slip(input_gate=False), task.INPUT_GATE),
        (_slip(new_cell=False), task.NEW_CELL),
        (_slip(swap_return=True), task.RETURN_ORDER),
        (_slip(recurrent=False), task.NO_RECURRENCE),
        (_slip(recurrent=False, both_biases=False), task.NO_RECURRENCE),
        (
            only_h,
            (
                "lstm_step returns the pair (h, c): the new hidden state and the new cell state, "
                "each of shape (batch, hidden) = (3, 5)."
            ),
        ),
    ],
)
def test_wrong_answer_is_named(answer, message):
    assert_named("lstm_tanh", answer, message)


def test_untransposed_weights_are_named_before_pytorchs_words():
    _, outcome = first_public_failure("lstm_tanh", _slip(transposed=False))
    error = "mat1 and mat2 shapes cannot be multiplied (3x4 and 20x4)"
    assert outcome.message == f"{task.NOT_TRANSPOSED} (Your code raised RuntimeError: {error}.)"
