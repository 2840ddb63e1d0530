"""Task ``forward_pass``: propagate a batch through a stack of layers with an activation between them.

The learner writes ``forward_pass(x, weights, activation)``; it is compared with
:func:`actgrader.reference.forward.forward_pass`. Wrong answers that come from a known
misconception are recognised and named.
"""

from __future__ import annotations

import torch

from actgrader.grading import CaseContext, Ref, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import forward as ref

TASK = Task(
    "forward_pass",
    "Forward propagation through a stack of layers",
    answer="forward_pass",
    reference=ref.forward_pass,
    section="forward-propagation#sec-forward-equations",
)

_ACTIVATIONS = {"torch.relu": torch.relu, "torch.tanh": torch.tanh, "torch.sigmoid": torch.sigmoid}


def _example(seed: int, widths: tuple[int, ...], batch: int, dtype: torch.dtype = torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, widths[0], generator=gen, dtype=dtype)
    return x, ref.random_weights(widths, gen, dtype)


OUTPUT_ACTIVATION = (
    "The activation was applied after the output layer too. The last layer is linear: "
    "the activation goes between layers, and the output is W_K h_{K-1}."
)
NO_ACTIVATION = (
    "No activation was applied between the layers, so your network is one linear map "
    "(W_K ... W_1 x). Apply `activation` after every layer but the last."
)
INPUT_ACTIVATION = (
    "The activation was applied to the input x as well. It belongs after each hidden layer's "
    "matrix product, not before the first one."
)
ALWAYS_RELU = "Your function used ReLU whatever `activation` it was given. Call the `activation` argument."
NOT_TRANSPOSED = (
    "Each layer computes h @ W.T: W_k has shape (n_k, n_{k-1}) as in nn.Linear, and x holds one example per "
    "row, so the product with h @ W (without .T) is the wrong one, or cannot be taken at all."
)
WEIGHTS_ON_THE_LEFT = "W @ h treats the columns of h as the examples, but x holds one example per row: compute h @ W.T."
OUTPUT_LAYER_MISSING = (
    "The output layer is missing: your loop stopped before the last matrix W_K (or the activation runs after "
    "every layer and the last product is never taken). The output is W_K h_{K-1}, with no activation after it."
)
FIRST_ACTIVATION_ONLY = (
    "The activation was applied after the first layer only. It follows every hidden layer: "
    "h_k = f(W_k h_{k-1}) for k < K."
)
OTHERWISE = (
    "The output differs from W_K f(... f(W_1 x)). Check each layer computes h @ W.T "
    "(one example per row) and that the activation sits between layers."
)


def _first_activation_only(x: torch.Tensor, weights: list[torch.Tensor], act) -> torch.Tensor:
    h = x
    for k, w in enumerate(weights):
        h = h @ w.T
        if k == 0 and len(weights) > 1:
            h = act(h)
    return h


def _failing_products(x: torch.Tensor, weights: list[torch.Tensor], *, weights_left: bool):
    """The shapes at which ``h @ W`` (or ``W @ h``) first fails, layer after layer: the misconception's signature."""
    rows, cols = x.shape
    for w in weights:
        a, b = (tuple(w.shape), (rows, cols)) if weights_left else ((rows, cols), tuple(w.shape))
        if a[1] != b[0]:
            return [(a, b)]
        rows, cols = a[0], b[1]
    return []


def known_errors(x: torch.Tensor, weights: list[torch.Tensor]) -> list[expect.KnownError]:
    return [
        (expect.failed_matmul(*_failing_products(x, weights, weights_left=False)), NOT_TRANSPOSED),
        (expect.failed_matmul(*_failing_products(x, weights, weights_left=True)), WEIGHTS_ON_THE_LEFT),
    ]


def _mistakes(x: torch.Tensor, weights: list[torch.Tensor], act, act_name: str, want: torch.Tensor):
    identity = lambda h: h
    mistakes = [
        (OUTPUT_ACTIVATION, act(want)),
        (NO_ACTIVATION, ref.forward_pass(x, weights, identity)),
        (INPUT_ACTIVATION, ref.forward_pass(act(x), weights, act)),
        (FIRST_ACTIVATION_ONLY, _first_activation_only(x, weights, act)),
    ]
    if len(weights) > 1:
        mistakes.append((OUTPUT_LAYER_MISSING, act(ref.forward_pass(x, weights[:-1], act))))
    if all(w.shape[0] == w.shape[1] for w in weights) and x.shape[1] == weights[0].shape[0]:
        mistakes.append((NOT_TRANSPOSED, ref.forward_pass(x, [w.T for w in weights], act)))
    if act_name != "torch.relu":
        mistakes.append((ALWAYS_RELU, ref.forward_pass(x, weights, torch.relu)))
    return mistakes


def _judge(answer: Answer, x: torch.Tensor, weights: list[torch.Tensor], act_name: str) -> None:
    act = _ACTIVATIONS[act_name]
    with expect.known_errors(known_errors(x, weights)):
        got = answer(x, weights, Ref(act_name))
    want = ref.forward_pass(x, weights, act)
    # The dtype of x, whatever it is: a network that upcasts float32 to float64 is not the one asked for.
    expect.tensor(got, name="the output", dtype=x.dtype)
    expect.close(
        got,
        want,
        name="the output",
        rtol=1e-4,
        atol=1e-5,
        mistakes=_mistakes(x, weights, act, act_name, want),
        otherwise=OTHERWISE,
    )


@TASK.case(points=1)
def relu_network(answer: Answer, ctx: CaseContext) -> None:
    """a four-layer ReLU network"""
    x, weights = _example(ctx.small_seed(), (3, 5, 4, 6, 2), batch=7)
    _judge(answer, x, weights, "torch.relu")


@TASK.case(points=1)
def uses_the_given_activation(answer: Answer, ctx: CaseContext) -> None:
    """the same network with tanh, then sigmoid"""
    x, weights = _example(ctx.small_seed(), (4, 6, 6, 3), batch=5)
    _judge(answer, x, weights, "torch.tanh")
    _judge(answer, x, weights, "torch.sigmoid")


@TASK.case(points=1)
def keeps_dtype_and_single_example(answer: Answer, ctx: CaseContext) -> None:
    """a float64 batch of one example keeps its dtype"""
    # tanh, not ReLU: tanh changes every nonzero output, so an extra activation on the
    # output layer cannot slip through as it would when a ReLU output happens to be positive.
    x, weights = _example(ctx.small_seed(), (2, 3, 3, 2), batch=1, dtype=torch.float64)
    _judge(answer, x, weights, "torch.tanh")


@TASK.case(points=2, hidden=True)
def random_networks(answer: Answer, ctx: CaseContext) -> None:
    """networks of random depth (three layers or more), widths and batch size, one per activation"""
    rng = ctx.rng()
    # Each activation once (three ReLU networks would let an answer that ignores `activation`
    # pass), and two hidden layers or more (with one, an activation after the first layer only
    # is the right answer).
    for drawn in rng.permutation(sorted(_ACTIVATIONS)):
        act_name = str(drawn)
        depth = int(rng.integers(3, 7))
        widths = tuple(int(n) for n in rng.integers(1, 17, size=depth + 1))
        batch = int(rng.integers(1, 33))
        x, weights = _example(int(rng.integers(2**31)), widths, batch)
        _judge(answer, x, weights, act_name)


@TASK.case(points=1, hidden=True)
def single_layer(answer: Answer, ctx: CaseContext) -> None:
    """one layer: no activation at all"""
    rng = ctx.rng()
    # Inputs other than outputs, and a batch other than the outputs: with a 1x1 matrix h @ W is
    # h @ W.T, and with one example of one output W @ x.T is x @ W.T, so forgetting the transpose
    # or putting the weights on the left would pass by an accident of the draw.
    n_in, n_out, batch = (int(n) for n in rng.integers(1, 9, size=3))
    while n_in == n_out or batch == n_out:
        n_in, n_out, batch = (int(n) for n in rng.integers(1, 9, size=3))
    x, weights = _example(ctx.small_seed(), (n_in, n_out), batch=batch)
    _judge(answer, x, weights, "torch.tanh")
