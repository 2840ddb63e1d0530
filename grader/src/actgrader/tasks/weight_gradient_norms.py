"""Task ``weight_gradient_norms``: the gradient norm of each layer's weights in a 20-layer network.

The learner writes ``weight_gradient_norms(x, y, weights, biases, activation)``: the network
of the tensors ``weights``/``biases`` with ``activation`` after every layer but the last,
cross-entropy against the labels ``y``, and the Frobenius norm of ``d loss / d W_k`` for each
layer, input side first. It is compared with
:func:`actgrader.reference.gradient_flow.weight_gradient_norms` on the same tensors, and the
chapter's finding is checked as a property over seeds: with the sigmoid the first layer's
norm is orders of magnitude below the last layer's, with ReLU it is not (on norms that match
the reference's for those seeds, so that numbers made up to have the property earn nothing).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from actgrader.grading import CaseContext, Mistake, Ref, Task, expect
from actgrader.grading.answer import Answer
from actgrader.reference import gradient_flow as ref
from actgrader.reference.forward import Activation
from actgrader.reference.models import Elementwise, linear_layers, mlp_from_weights
from actgrader.tasks import _gradient_flow as common

TASK = Task(
    "weight_gradient_norms",
    "Gradient norms per layer in a 20-layer network",
    answer="weight_gradient_norms",
    reference=ref.weight_gradient_norms,
    section="vanishing-gradients#sec-deep-profile",
)

DEPTH = 20
_ACTIVATIONS = {"torch.sigmoid": torch.sigmoid, "torch.relu": torch.relu}
#: Sigmoid: the first layer's norm is below this fraction of the last layer's (measured on the
#: reference over 200 seeds: at most 1.4e-8, so three orders of magnitude of margin).
SIGMOID_RATIO_BELOW = 1e-5
#: ReLU: the first layer's norm stays within this factor of the last layer's either way
#: (measured: between 0.023 and 2.1 over the same 200 seeds).
RELU_RATIO_WITHIN = 1e3

REVERSED = (
    "Your norms grow toward the input: check the order of your layers. The list starts with "
    "layer 1, the one next to the input, and ends with the output layer."
)
READ_BEFORE_BACKWARD = (
    "The gradients were read before they existed: a tensor's .grad is None (or, if you replaced None by 0, "
    "zero) until loss.backward() has run. Compute the loss, call loss.backward(), then read each weight's "
    ".grad (or take them all at once with torch.autograd.grad(loss, weights))."
)
NO_REQUIRES_GRAD = (
    "The weights do not require gradients, so autograd has nothing to differentiate: make copies that do, "
    "w.clone().requires_grad_(True), and build the network from them."
)
DOUBLE_SOFTMAX = (
    "A softmax was applied before the cross-entropy: F.cross_entropy takes the raw logits and applies "
    "log-softmax itself, so the softmax ran twice and the gradients shrank."
)
L1_NORM = "These are sums of absolute values (L1 norms); the Frobenius norm is the square root of the sum of squares."
ACCUMULATED = (
    "Two calls with the same tensors gave different norms: gradients from an earlier call are "
    "being added to this one's. Zero them before each backward pass (or take fresh tensors with "
    "requires_grad in every call, or use torch.autograd.grad)."
)


def _problem(seed: int, width: int, batch: int) -> tuple[Tensor, Tensor, list[Tensor], list[Tensor]]:
    """A batch of spirals and a 20-layer network with Kaiming-scale weights and small random biases."""
    x, y = common.spirals(batch, seed)
    weights, biases = common.network([2, *[width] * (DEPTH - 1), 2], seed, bias_std=0.1)
    return x, y, weights, biases


def _read(got: object, depth: int) -> Tensor:
    value = common.numbers(got, name="the result", length=depth, what="one norm per weight matrix, layer 1 first")
    expect.finite(value, name="the result")
    return value


def _forward_values(x: Tensor, weights: list[Tensor], biases: list[Tensor], act: Activation) -> list[Tensor]:
    """Each layer's output (after its activation; the last layer's logits), for a wrong answer."""
    h, outs = x, []
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w.T + b
        if k < len(weights) - 1:
            h = act(h)
        outs.append(h)
    return outs


def _bias_gradient_norms(x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], act: Activation) -> Tensor:
    model = mlp_from_weights(weights, biases, lambda: Elementwise(act))
    loss = nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, [layer.bias for layer in linear_layers(model)])
    return torch.tensor([float(g.norm()) for g in grads], dtype=torch.float64)


def _activation_on_output_too(
    x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], act: Activation
) -> Tensor:
    model = mlp_from_weights(weights, biases, lambda: Elementwise(act))
    model.append(Elementwise(act))
    return torch.tensor(ref.layer_gradient_norms(model, x, y, nn.functional.cross_entropy), dtype=torch.float64)


def _gradient_norms(
    x: Tensor,
    y: Tensor,
    weights: list[Tensor],
    biases: list[Tensor],
    act: Activation,
    *,
    softmax_first: bool = False,
    norm=torch.linalg.norm,
) -> Tensor:
    """The weights' gradient norms with a softmax before the loss, or another norm (misconceptions' values)."""
    model = mlp_from_weights(weights, biases, lambda: Elementwise(act))
    logits = model(x)
    loss = nn.functional.cross_entropy(torch.softmax(logits, dim=1) if softmax_first else logits, y)
    grads = torch.autograd.grad(loss, [layer.weight for layer in linear_layers(model)])
    return torch.tensor([float(norm(g)) for g in grads], dtype=torch.float64)


KNOWN_ERRORS: list[expect.KnownError] = [
    (expect.error_mentions("AttributeError", "'NoneType' object has no attribute"), READ_BEFORE_BACKWARD),
    (expect.error_mentions("TypeError", "NoneType"), READ_BEFORE_BACKWARD),
    (expect.error_mentions("RuntimeError", "does not require grad"), NO_REQUIRES_GRAD),
]


NO_BIASES = (
    "The biases were left out of the forward pass. Each layer computes h @ W.T + b; the "
    "gradients depend on the biases even though you report only the weights'."
)
OUTPUT_ACTIVATION = (
    "The activation was applied after the output layer too. The last layer is linear: "
    "cross-entropy takes the raw outputs (logits)."
)
BIAS_GRADIENTS = "These are the norms of the biases' gradients. The task asks for the weights': d loss / d W_k."
OUTPUT_NORMS = (
    "These are the norms of the layers' outputs (the activations), not of gradients. "
    "Backpropagate the loss and take the norm of each weight matrix's gradient."
)
WEIGHT_NORMS = (
    "These are the norms of the weight matrices themselves. The task asks for the norms of "
    "their gradients, d loss / d W_k."
)
SQUARED = "These are the squared norms. Take the square root (Tensor.norm() does)."


def summed_loss(batch: int) -> str:
    """The message for norms ``batch`` times too large."""
    return (
        f"Every norm is {batch} times too large: the loss was summed over the batch. "
        "Use the mean cross-entropy (F.cross_entropy's default)."
    )


def _mistakes(
    want: Tensor, x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], act: Activation
) -> list[tuple[str, Tensor]]:
    outputs = _forward_values(x, weights, biases, act)
    no_biases = [torch.zeros_like(b) for b in biases]
    return [
        (REVERSED, want.flip(0)),
        (NO_BIASES, torch.tensor(ref.weight_gradient_norms(x, y, weights, no_biases, act), dtype=torch.float64)),
        (OUTPUT_ACTIVATION, _activation_on_output_too(x, y, weights, biases, act)),
        (BIAS_GRADIENTS, _bias_gradient_norms(x, y, weights, biases, act)),
        (OUTPUT_NORMS, torch.tensor([float(h.norm()) for h in outputs], dtype=torch.float64)),
        (WEIGHT_NORMS, torch.tensor([float(w.norm()) for w in weights], dtype=torch.float64)),
        (summed_loss(len(x)), want * len(x)),
        (SQUARED, want**2),
        (READ_BEFORE_BACKWARD, torch.zeros_like(want)),
        (DOUBLE_SOFTMAX, _gradient_norms(x, y, weights, biases, act, softmax_first=True)),
        (L1_NORM, _gradient_norms(x, y, weights, biases, act, norm=lambda g: g.abs().sum())),
    ]


def _judge(answer: Answer, x: Tensor, y: Tensor, weights: list[Tensor], biases: list[Tensor], act_name: str) -> Tensor:
    act = _ACTIVATIONS[act_name]
    with expect.known_errors(KNOWN_ERRORS):
        got_raw = answer(x, y, weights, biases, Ref(act_name))
    got = _read(got_raw, len(weights))
    want = torch.tensor(ref.weight_gradient_norms(x, y, weights, biases, act), dtype=torch.float64)
    try:
        expect.close(
            got,
            want,
            name="the norms",
            rtol=1e-4,
            atol=0.0,
            mistakes=_mistakes(want, x, y, weights, biases, act),
            otherwise="Your norms differ from those of d loss / d W_k. Check the network (h @ W.T + b, "
            "the activation after every layer but the last), the loss (mean cross-entropy of the "
            "logits against y) and that you take each weight matrix's gradient, layer 1 first.",
        )
    except Mistake:
        again = _read(answer(x, y, weights, biases, Ref(act_name)), len(weights))
        if not torch.allclose(again, got, rtol=1e-6, atol=0.0):
            raise Mistake(ACCUMULATED) from None
        raise
    return got


@TASK.case(points=1)
def sigmoid_network(answer: Answer, ctx: CaseContext) -> None:
    """twenty sigmoid layers of 32 units: the norms match"""
    _judge(answer, *_problem(ctx.small_seed(), width=32, batch=64), "torch.sigmoid")


@TASK.case(points=1)
def relu_network(answer: Answer, ctx: CaseContext) -> None:
    """the same kind of network with ReLU"""
    _judge(answer, *_problem(ctx.small_seed(), width=32, batch=64), "torch.relu")


def _check_vanishing(answer: Answer, seeds: list[int], width: int, batch: int) -> None:
    """The chapter's finding on each seed's networks, read from norms that must first be the right ones.

    (Judging the property alone would credit numbers made up to have it.)
    """
    for seed in seeds:
        x, y, weights, biases = _problem(seed, width, batch)
        sig = _judge(answer, x, y, weights, biases, "torch.sigmoid")
        relu = _judge(answer, x, y, weights, biases, "torch.relu")
        sig_ratio, relu_ratio = float(sig[0] / sig[-1]), float(relu[0] / relu[-1])
        if not sig_ratio < SIGMOID_RATIO_BELOW:
            raise Mistake(
                f"With the sigmoid your first layer's gradient is {sig_ratio:.1e} times the last layer's; "
                f"the chain of slopes (each at most 0.25) should make it orders of magnitude smaller "
                f"(below {SIGMOID_RATIO_BELOW:g}). Check that the gradient really flows through every layer."
            )
        if not 1 / RELU_RATIO_WITHIN < relu_ratio < RELU_RATIO_WITHIN:
            raise Mistake(
                f"With ReLU your first layer's gradient is {relu_ratio:.1e} times the last layer's; ReLU's slope "
                "is 1 where units are active, so with these Kaiming-scale weights the norms should stay "
                f"within a factor {RELU_RATIO_WITHIN:g} of each other."
            )


@TASK.case(points=1)
def sigmoid_vanishes_relu_does_not(answer: Answer, ctx: CaseContext) -> None:
    """three seeds: the sigmoid's first layer gets far less gradient, ReLU's does not"""
    rng = ctx.rng()
    _check_vanishing(answer, [int(s) for s in rng.integers(2**31, size=3)], width=32, batch=64)


@TASK.case(points=1, hidden=True)
def other_networks(answer: Answer, ctx: CaseContext) -> None:
    """other seeds, widths and batch sizes, both activations (one width for both)"""
    rng = ctx.rng()
    # One width for both networks: a second network of the same shape is what shows gradients
    # never zeroed in a model kept across calls (with two widths it would pass by the draw).
    width = int(rng.integers(16, 49))
    for act_name in ("torch.sigmoid", "torch.relu"):
        batch = int(rng.integers(16, 129))
        _judge(answer, *_problem(int(rng.integers(2**31)), width, batch), act_name)


@TASK.case(points=1, hidden=True)
def vanishing_over_other_seeds(answer: Answer, ctx: CaseContext) -> None:
    """the vanishing property over other seeds"""
    rng = ctx.rng()
    _check_vanishing(answer, [int(s) for s in rng.integers(2**31, size=3)], width=int(rng.integers(24, 49)), batch=64)
