"""Task ``lstm_tanh`` (auto-graded part): one step of an LSTM cell, sigmoid gates and tanh state.

The learner writes ``lstm_step(x, h, c, weights)`` returning the new ``(h, c)``; ``weights`` is
a dict of tensors in ``torch.nn.LSTMCell``'s layout (``weight_ih``, ``weight_hh``, ``bias_ih``,
``bias_hh``; blocks of rows in the order input gate, forget gate, candidate, output gate). The
result is compared with an ``nn.LSTMCell`` holding the same weights, run in the check's own
process; misconceptions are recognised by computing what they give from
:func:`actgrader.reference.lstm.gate_preactivations`. The prose part of the task (why tanh
survives in LSTM cells) is graded by an instructor with the rubric in the solution notebook.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from actgrader.grading import CaseContext, Mistake, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import lstm as ref
from actgrader.reference.formulas import sigmoid, tanh

TASK = Task(
    "lstm_tanh",
    "One LSTM step: sigmoid gates, tanh candidate and output",
    answer="lstm_step",
    reference=ref.lstm_step,
    section="comparison#sec-comparison-guide",
)

TOLERANCE = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-10, 1e-12)}

GATES = (
    "A gate must lie between 0 and 1: it is the fraction of a signal let through. The input, forget and "
    "output gates use the sigmoid; with tanh a gate can turn negative and flip the sign of what it passes."
)
CANDIDATE = (
    "The candidate g uses tanh, not the sigmoid: with the sigmoid every update i * g is positive, so the "
    "cell state could only be added to, never decreased."
)
OUTPUT = (
    "h = o * tanh(c): the tanh on the new cell state is missing. The cell state is not bounded (it adds up "
    "over the steps); the tanh keeps h in (-1, 1) whatever c does."
)
ORDER = (
    "The four blocks of rows of nn.LSTMCell's weights are, in order, the input gate i, the forget gate f, "
    "the candidate g and the output gate o: split the pre-activations with .chunk(4, dim=1) in that order."
)
BIASES = "nn.LSTMCell adds both biases: x W_ih^T + b_ih + h W_hh^T + b_hh."
INPUT_GATE = "The candidate enters the cell scaled by the input gate: c' = f * c + i * g."
NEW_CELL = "h is computed from the new cell state c', not the old one: h' = o * tanh(c')."
RETURN_ORDER = "Return the pair in the order (h, c), as nn.LSTMCell does."
NO_RECURRENCE = (
    "The previous hidden state h is left out: the gates and the candidate depend on it too, through "
    "h W_hh^T (+ b_hh). Without it the cell sees only the current input and nothing of the sequence before."
)
NOT_TRANSPOSED = (
    "The weights are used untransposed: weight_ih has shape (4 H, inputs) and weight_hh (4 H, H) as in "
    "nn.LSTMCell, and x holds one example per row, so the pre-activations are x @ weight_ih.T + h @ weight_hh.T."
)


def random_weights(inputs: int, hidden: int, gen: torch.Generator, scale: float = 1.0, dtype=torch.float32):
    """Weights in nn.LSTMCell's layout, drawn as nn.LSTMCell draws them (uniform in ±1/sqrt(hidden)) times ``scale``."""
    bound = scale / math.sqrt(hidden)
    shapes = {
        "weight_ih": (4 * hidden, inputs),
        "weight_hh": (4 * hidden, hidden),
        "bias_ih": (4 * hidden,),
        "bias_hh": (4 * hidden,),
    }
    return {name: (2 * torch.rand(shape, generator=gen, dtype=dtype) - 1) * bound for name, shape in shapes.items()}


def torch_step(x: Tensor, h: Tensor, c: Tensor, weights: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """The same step by ``nn.LSTMCell`` itself, loaded with ``weights``."""
    hidden, inputs = weights["weight_hh"].shape[1], weights["weight_ih"].shape[1]
    cell = nn.LSTMCell(inputs, hidden, dtype=x.dtype)
    with torch.no_grad():
        for name, value in weights.items():
            getattr(cell, name).copy_(value)
        h_new, c_new = cell(x, (h, c))
    return h_new, c_new


def _variant(
    z: dict[str, Tensor],
    c: Tensor,
    *,
    gate: Callable[[Tensor], Tensor] = sigmoid,
    candidate: Callable[[Tensor], Tensor] = tanh,
    output: Callable[[Tensor], Tensor] = tanh,
    input_gate: bool = True,
    new_cell: bool = True,
) -> tuple[Tensor, Tensor]:
    c_new = gate(z["f"]) * c + (gate(z["i"]) if input_gate else 1) * candidate(z["g"])
    h_new = gate(z["o"]) * output(c_new if new_cell else c)
    return h_new, c_new


def _known(x: Tensor, h: Tensor, c: Tensor, weights: dict[str, Tensor]) -> list[tuple[str, tuple[Tensor, Tensor]]]:
    z = ref.gate_preactivations(x, h, weights)
    one_bias = ref.gate_preactivations(x, h, {**weights, "bias_hh": torch.zeros_like(weights["bias_hh"])})
    no_h = ref.gate_preactivations(x, torch.zeros_like(h), weights)
    no_h_no_bias = ref.gate_preactivations(
        x, torch.zeros_like(h), {**weights, "bias_hh": torch.zeros_like(weights["bias_hh"])}
    )
    i_f_o_g = {"i": z["i"], "f": z["f"], "g": z["o"], "o": z["g"]}  # blocks read as i, f, o, g
    i_g_f_o = {"i": z["i"], "f": z["g"], "g": z["f"], "o": z["o"]}  # blocks read as i, g, f, o
    f_i_g_o = {"i": z["f"], "f": z["i"], "g": z["g"], "o": z["o"]}  # input and forget gates swapped
    h_new, c_new = ref.lstm_step(x, h, c, weights)
    return [
        (GATES, _variant(z, c, gate=tanh)),
        (CANDIDATE, _variant(z, c, candidate=sigmoid)),
        (OUTPUT, _variant(z, c, output=lambda v: v)),
        (ORDER, _variant(i_f_o_g, c)),
        (ORDER, _variant(i_g_f_o, c)),
        (ORDER, _variant(f_i_g_o, c)),
        (BIASES, _variant(one_bias, c)),
        (INPUT_GATE, _variant(z, c, input_gate=False)),
        (NEW_CELL, _variant(z, c, new_cell=False)),
        (RETURN_ORDER, (c_new, h_new)),
        (NO_RECURRENCE, _variant(no_h, c)),
        (NO_RECURRENCE, _variant(no_h_no_bias, c)),
    ]


def known_errors(x: Tensor, h: Tensor, weights: dict[str, Tensor]) -> list[expect.KnownError]:
    """x @ weight_ih (or h @ weight_hh) without .T: the shapes it fails on are the signature."""
    pairs = [(tuple(x.shape), tuple(weights["weight_ih"].shape)), (tuple(h.shape), tuple(weights["weight_hh"].shape))]
    return [(expect.failed_matmul(*[(a, b) for a, b in pairs if a[1] != b[0]]), NOT_TRANSPOSED)]


def _pair(got: Any, shape: tuple[int, ...], dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    if isinstance(got, Tensor) or not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mistake(
            "lstm_step returns the pair (h, c): the new hidden state and the new cell state, each of shape "
            f"(batch, hidden) = {shape}."
        )
    h_new = expect.tensor(got[0], name="the new h", shape=shape, dtype=dtype)
    c_new = expect.tensor(got[1], name="the new c", shape=shape, dtype=dtype)
    return h_new, c_new


def _close(got: tuple[Tensor, Tensor], want: tuple[Tensor, Tensor], dtype: torch.dtype, loose: bool = False) -> bool:
    rtol, atol = TOLERANCE[dtype]
    if loose:
        rtol, atol = 100 * rtol, 100 * atol
    return all(
        a.shape == b.shape and bool(torch.isclose(a.double(), b.double(), rtol=rtol, atol=atol).all())
        for a, b in zip(got, want, strict=True)
    )


def judge_step(answer: Answer, x: Tensor, h: Tensor, c: Tensor, weights: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """One call of the learner's step, compared with nn.LSTMCell; returns the learner's (h, c)."""
    with expect.known_errors(known_errors(x, h, weights)):
        returned = answer(x, h, c, weights)
    got = _pair(returned, tuple(h.shape), h.dtype)
    want = torch_step(x, h, c, weights)
    if _close(got, want, h.dtype):
        return got
    for message, wrong in _known(x, h, c, weights):
        if _close(got, wrong, h.dtype, loose=True):
            raise Mistake(message)
    for name, value in zip(("h", "c"), got, strict=True):
        expect.finite(value, name=f"the new {name}")
    worst = [(a.double() - b.double()).abs().max().item() for a, b in zip(got, want, strict=True)]
    raise Mistake(
        f"The new (h, c) differ from nn.LSTMCell's with the same weights (largest differences {worst[0]:.3g} in h, "
        f"{worst[1]:.3g} in c). Check: pre-activations x W_ih^T + b_ih + h W_hh^T + b_hh split into i, f, g, o; "
        "c' = sigmoid(f) c + sigmoid(i) tanh(g); h' = sigmoid(o) tanh(c')."
    )


def _state(gen: torch.Generator, batch: int, hidden: int, dtype=torch.float32) -> tuple[Tensor, Tensor]:
    h = torch.tanh(torch.randn(batch, hidden, generator=gen, dtype=dtype))
    c = 2 * torch.randn(batch, hidden, generator=gen, dtype=dtype)
    return h, c


@TASK.case(points=1)
def one_step(answer: Answer, ctx: CaseContext) -> None:
    """one step on a batch of 3, 4 inputs, 5 hidden units"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    weights = random_weights(4, 5, gen, scale=3.0)
    h, c = _state(gen, 3, 5)
    judge_step(answer, torch.randn(3, 4, generator=gen), h, c, weights)


@TASK.case(points=1)
def a_sequence(answer: Answer, ctx: CaseContext) -> None:
    """six steps, each from the state your previous step returned"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    weights = random_weights(3, 4, gen, scale=3.0)
    h, c = torch.zeros(2, 4), torch.zeros(2, 4)
    for _ in range(6):
        h, c = judge_step(answer, 3 * torch.randn(2, 3, generator=gen), h, c, weights)


@TASK.case(points=1)
def float64_single_unit(answer: Answer, ctx: CaseContext) -> None:
    """float64, one hidden unit, one example"""
    gen = torch.Generator().manual_seed(ctx.small_seed())
    weights = random_weights(2, 1, gen, scale=3.0, dtype=torch.float64)
    h, c = _state(gen, 1, 1, torch.float64)
    judge_step(answer, torch.randn(1, 2, generator=gen, dtype=torch.float64), h, c, weights)


@TASK.case(points=1, hidden=True)
def random_cells(answer: Answer, ctx: CaseContext) -> None:
    """cells of random size, scale and dtype"""
    rng = ctx.rng()
    for _ in range(3):
        inputs, hidden, batch = (int(n) for n in rng.integers(1, 9, size=3))
        dtype = (torch.float32, torch.float64)[int(rng.integers(2))]
        gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
        weights = random_weights(inputs, hidden, gen, scale=float(rng.uniform(0.5, 4.0)), dtype=dtype)
        h, c = _state(gen, batch, hidden, dtype)
        judge_step(answer, torch.randn(batch, inputs, generator=gen, dtype=dtype), h, c, weights)


@TASK.case(points=1, hidden=True)
def long_sequence(answer: Answer, ctx: CaseContext) -> None:
    """a long sequence of large inputs"""
    rng = ctx.rng()
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    inputs, hidden = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    weights = random_weights(inputs, hidden, gen, scale=2.0)
    h, c = torch.zeros(3, hidden), torch.zeros(3, hidden)
    for _ in range(20):
        h, c = judge_step(answer, 5 * torch.randn(3, inputs, generator=gen), h, c, weights)
