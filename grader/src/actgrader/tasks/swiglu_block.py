"""Task ``swiglu_block``: the SwiGLU feed-forward block of today's language models.

The learner writes ``swiglu_feed_forward(x, w_gate, w_value, w_out)``, compared with
:func:`actgrader.reference.gated.swiglu_feed_forward` on the same weights. The widths are
chosen so that the hidden width, the model width and the batch all differ: a missing
transpose cannot be multiplied, and is named from the shapes it fails on. The other variants
of the gated unit (a GELU, sigmoid or absent gate), the SiLU on the wrong branch and an
activation in the wrong place are each recognised by the value they give.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from actgrader.grading import CaseContext, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import gated as ref

TASK = Task(
    "swiglu_block",
    "The SwiGLU feed-forward block",
    answer="swiglu_feed_forward",
    reference=ref.swiglu_feed_forward,
    section="gated-units#sec-swiglu-block",
)

GEGLU = "That is GeGLU: the gate went through GELU. SwiGLU's gate goes through SiLU, silu(z) = z * sigmoid(z)."
GLU = "That is the original GLU: the gate went through the sigmoid. SwiGLU's gate goes through SiLU, z * sigmoid(z)."
BILINEAR = "The gate has no activation (a bilinear unit): apply SiLU to x @ w_gate.T before multiplying."
REGLU = "That is ReGLU: the gate went through ReLU. SwiGLU's gate goes through SiLU, z * sigmoid(z)."
SWAPPED = (
    "SiLU went on the value branch: silu(x @ w_value.T) * (x @ w_gate.T). The activation belongs to the gate, "
    "silu(x @ w_gate.T), which multiplies the plain value x @ w_value.T."
)
SILU_OF_PRODUCT = (
    "SiLU was applied to the product of the two branches. The gate alone goes through SiLU, and then "
    "multiplies the value: silu(x @ w_gate.T) * (x @ w_value.T)."
)
OUTPUT_ACTIVATED = (
    "An activation follows the output projection. The block ends with the linear map w_out: "
    "(silu(x @ w_gate.T) * (x @ w_value.T)) @ w_out.T, with nothing after it."
)
UNGATED = (
    "The value branch is missing: that is an ungated block, silu(x @ w_gate.T) @ w_out.T. "
    "A gated unit multiplies the gate by a second projection, x @ w_value.T."
)
TRANSPOSES = (
    "The weights follow nn.Linear's layout, (outputs, inputs): w_gate and w_value are (hidden, d) and w_out is "
    "(d, hidden). Multiply by their transposes: x @ w_gate.T, x @ w_value.T, then @ w_out.T."
)


def _variant(x: Tensor, w_gate: Tensor, w_value: Tensor, w_out: Tensor, gate, value=lambda z: z) -> Tensor:
    return (gate(x @ w_gate.T) * value(x @ w_value.T)) @ w_out.T


def _mistakes(x: Tensor, w_gate: Tensor, w_value: Tensor, w_out: Tensor) -> list[tuple[str, Tensor]]:
    want = ref.swiglu_feed_forward(x, w_gate, w_value, w_out)
    return [
        (GEGLU, _variant(x, w_gate, w_value, w_out, F.gelu)),
        (GEGLU, _variant(x, w_gate, w_value, w_out, lambda z: F.gelu(z, approximate="tanh"))),
        (GLU, _variant(x, w_gate, w_value, w_out, torch.sigmoid)),
        (REGLU, _variant(x, w_gate, w_value, w_out, torch.relu)),
        (BILINEAR, _variant(x, w_gate, w_value, w_out, lambda z: z)),
        (SWAPPED, _variant(x, w_gate, w_value, w_out, lambda z: z, F.silu)),
        (SILU_OF_PRODUCT, F.silu((x @ w_gate.T) * (x @ w_value.T)) @ w_out.T),
        (OUTPUT_ACTIVATED, F.silu(want)),
        (UNGATED, F.silu(x @ w_gate.T) @ w_out.T),
    ]


def _known_errors(x: Tensor, w_gate: Tensor, w_out: Tensor) -> list[expect.KnownError]:
    batch_shape, d = tuple(x.shape[:-1]), x.shape[-1]
    hidden = w_gate.shape[0]
    rows = (int(torch.tensor(batch_shape).prod().item()) if batch_shape else 1, d)
    return [
        (
            expect.failed_matmul(
                (rows, (hidden, d)),
                ((rows[0], hidden), (d, hidden)),
                ((*batch_shape, d), (hidden, d)),
                ((*batch_shape, hidden), (d, hidden)),
            ),
            TRANSPOSES,
        ),
    ]


def _weights(seed: int, d: int, hidden: int, batch_shape: tuple[int, ...], dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(*batch_shape, d, generator=generator, dtype=dtype)
    w_gate = torch.randn(hidden, d, generator=generator, dtype=dtype) / d**0.5
    w_value = torch.randn(hidden, d, generator=generator, dtype=dtype) / d**0.5
    w_out = torch.randn(d, hidden, generator=generator, dtype=dtype) / hidden**0.5
    return x, w_gate, w_value, w_out


def _judge(answer: Answer, x: Tensor, w_gate: Tensor, w_value: Tensor, w_out: Tensor) -> None:
    with expect.known_errors(_known_errors(x, w_gate, w_out)):
        got = answer(x, w_gate, w_value, w_out)
    want = ref.swiglu_feed_forward(x, w_gate, w_value, w_out)
    tight = x.dtype == torch.float64
    expect.close(
        got,
        want,
        name="the block's output",
        rtol=1e-9 if tight else 1e-4,
        atol=1e-10 if tight else 1e-5,
        mistakes=_mistakes(x, w_gate, w_value, w_out),
        otherwise=(
            "The output is not (silu(x @ w_gate.T) * (x @ w_value.T)) @ w_out.T: the gate through SiLU, "
            "times the value, then the output projection."
        ),
    )
    expect.tensor(got, name="the block's output", dtype=x.dtype)


@TASK.case(points=2)
def one_batch(answer: Answer, ctx: CaseContext) -> None:
    """a batch of 5 vectors of width d = 6, hidden width 16 (float64)"""
    _judge(answer, *_weights(ctx.small_seed(), 6, 16, (5,)))


@TASK.case(points=1)
def sequences(answer: Answer, ctx: CaseContext) -> None:
    """a batch of 2 sequences of 7 tokens (shape (2, 7, d)), float32"""
    _judge(answer, *_weights(ctx.small_seed(), 8, 20, (2, 7), dtype=torch.float32))


@TASK.case(points=2, hidden=True)
def random_blocks(answer: Answer, ctx: CaseContext) -> None:
    """blocks of random widths"""
    rng = ctx.rng()
    for _ in range(3):
        d = int(rng.integers(2, 24))
        hidden = int(rng.integers(2, 48))
        batch = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 3))))
        _judge(answer, *_weights(int(rng.integers(2**31)), d, hidden, batch))
