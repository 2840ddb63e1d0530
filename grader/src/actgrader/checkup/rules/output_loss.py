"""Whether the model's last module suits the loss: a double softmax, a sigmoid before a loss on logits, and the like.

Explained in the chapters "The model check-up" (``book/model-checkup.md``) and "Outputs and
losses" (``book/output-and-loss.md``); what each loss expects comes from
:data:`actgrader.reference.outputs.LOSS_EXPECTS` (through :mod:`actgrader.checkup.kinds`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from actgrader.checkup import kinds
from actgrader.checkup.analysis import Analysis


def check_output(analysis: Analysis) -> None:
    rec = analysis.rec
    name = kinds.loss_name(analysis.loss_fn)
    if rec.loss_error is not None:
        analysis.add(
            "error",
            "loss-failed",
            [],
            f"The loss could not be computed: {rec.loss_error}",
            "Check the target's shape and dtype for this loss, and that a loss expecting "
            "probabilities (BCELoss) receives values in [0, 1].",
            "table",
        )
    if name is None:
        loss_name = getattr(analysis.loss_fn, "__name__", type(analysis.loss_fn).__name__)
        analysis.not_analysed.append(
            f"the loss function {loss_name} is not one the check-up knows: whether the output suits it was not checked"
        )
        return
    out = rec.output
    if not isinstance(out, Tensor):
        analysis.not_analysed.append("the model's output is not a tensor: the output/loss match was not checked")
        return
    expects = kinds.loss_expects(analysis.loss_fn)
    final = analysis.final_module
    final_name = type(final).__name__ if final is not None else None
    looks_softmax = _looks_like_softmax(out)
    where = [analysis.output_call.label] if analysis.output_call is not None else []
    if final is None or kinds.role(final) not in ("activation", "squash", "log-squash"):
        if final is None:
            analysis.not_analysed.append(
                "the model's output is made inside forward(), not by a module: the output check "
                "relied on the values alone"
            )
        if looks_softmax:
            final_name = "softmax (the outputs are non-negative and sum to 1)"
    if expects == "logits":
        _logits_loss(analysis, name, final, final_name, looks_softmax, where)
    elif expects == "log-probabilities":
        if isinstance(final, nn.LogSoftmax):
            return
        what = "probabilities (Softmax)" if isinstance(final, kinds.SQUASH) or looks_softmax else "raw outputs"
        analysis.add(
            "error",
            "output-loss-mismatch",
            where,
            f"{name} expects log-probabilities, and the model gives it {what}.",
            "NLLLoss only picks -input[target]: on probabilities it minimizes -p instead of -log p, and on "
            "raw outputs it can be driven to minus infinity. Put LogSoftmax last, or better drop it and "
            "use CrossEntropyLoss on the logits.",
            "table",
        )
    elif expects == "probabilities":
        _probabilities_loss(analysis, name, final, out)
    elif expects == "values":
        _values_loss(analysis, name, final, out, where)


def _logits_loss(
    analysis: Analysis,
    name: str,
    final: nn.Module | None,
    final_name: str | None,
    looks_softmax: bool,
    where: list[str],
) -> None:
    if isinstance(final, kinds.SQUASH) or (looks_softmax and not isinstance(final, nn.Sigmoid)):
        analysis.add(
            "error",
            "output-loss-mismatch",
            where,
            f"The model ends with {final_name} and {name} applies its own softmax: a double softmax.",
            "The loss treats probabilities in [0, 1] as logits, so it can never become small and its "
            "gradients are capped and vanish on confidently wrong examples. Remove the softmax from the "
            "model; apply it only to read probabilities.",
            "double-softmax",
        )
    elif isinstance(final, nn.Sigmoid):
        detail = "a sigmoid applied twice" if name == "BCEWithLogitsLoss" else "logits squeezed into (0, 1)"
        analysis.add(
            "error",
            "output-loss-mismatch",
            where,
            f"The model ends with Sigmoid and {name} expects logits: {detail}.",
            "The loss squashes its input itself; given values in (0, 1) its predictions stay near the "
            "middle and the gradients are small. Remove the Sigmoid (BCEWithLogitsLoss computes it, "
            "stably), and apply torch.sigmoid only to read probabilities.",
            "bce" if name == "BCEWithLogitsLoss" else "double-softmax",
        )
    elif isinstance(final, nn.LogSoftmax) and name == "CrossEntropyLoss":
        analysis.add(
            "info",
            "output-loss-redundant",
            where,
            "The model ends with LogSoftmax before CrossEntropyLoss.",
            "Harmless: log-softmax of log-probabilities gives them back unchanged, so this equals "
            "NLLLoss on LogSoftmax. The LogSoftmax module can simply be removed.",
            "table",
        )
    elif final is not None and kinds.role(final) in ("activation", "log-squash"):
        severity = "error" if name == "BCEWithLogitsLoss" else "warning"
        analysis.add(
            severity,
            "output-loss-mismatch",
            where,
            f"The model ends with {type(final).__name__} and {name} expects unbounded logits.",
            "An activation on the output limits the logits the loss can see (a ReLU cannot go "
            "negative, so BCEWithLogitsLoss can never predict a label absent). End with the last "
            "linear layer.",
            "table",
        )


def _probabilities_loss(analysis: Analysis, name: str, final: nn.Module | None, out: Tensor) -> None:
    where = [analysis.output_call.label] if analysis.output_call is not None else []
    if isinstance(final, nn.Sigmoid):
        rounded = int(((out == 0) | (out == 1)).sum())
        if rounded:
            analysis.add(
                "warning",
                "bce-clamped",
                where,
                f"{rounded} of {out.numel()} sigmoid outputs are exactly 0 or 1 in {out.dtype}.",
                "For these, BCELoss clamps log(0) to -100: the loss reads 100 and the gradient is 0 "
                "instead of the largest it should be. Drop the Sigmoid and use BCEWithLogitsLoss.",
                "bce",
            )
        else:
            analysis.add(
                "info",
                "bce-on-sigmoid",
                where,
                "Sigmoid then BCELoss: a correct pair.",
                "It breaks only at large logits (beyond about 17 in float32 the sigmoid rounds to 1); "
                "BCEWithLogitsLoss on the logit computes the same loss without that limit.",
                "bce",
            )
    elif isinstance(final, kinds.SQUASH):
        y = analysis.y
        if isinstance(y, Tensor) and y.ndim >= 2 and bool((y.sum(dim=-1) != 1).any()):
            analysis.add(
                "error",
                "output-loss-mismatch",
                where,
                "Softmax outputs with a per-label BCE, on targets whose rows do not sum to 1.",
                "Softmax outputs always sum to 1, so rows with several labels (or none) cannot be "
                "matched: this is a multi-label problem. Use one logit per label and BCEWithLogitsLoss.",
                "multilabel",
            )


def _values_loss(analysis: Analysis, name: str, final: nn.Module | None, out: Tensor, where: list[str]) -> None:
    y = analysis.y
    if final is None or not isinstance(y, Tensor) or not y.is_floating_point():
        return
    bounds = _output_range(final)
    if bounds is None:
        return
    low, high = bounds
    outside = float(((y < low) | (y > high)).float().mean())
    if outside > 0:
        analysis.add(
            "error",
            "output-range",
            where,
            f"The model ends with {type(final).__name__}, whose outputs lie in [{low:g}, {high:g}], and "
            f"{100 * outside:.0f}% of the targets are outside that range.",
            "Those targets can never be reached, and a ReLU output pushed below 0 stops passing "
            "gradients. Regression normally ends with a linear layer: remove the output activation.",
            "relu-output",
        )
    elif isinstance(final, nn.Sigmoid) and bool(((y == 0) | (y == 1)).all()):
        analysis.add(
            "info",
            "sigmoid-mse",
            where,
            f"Sigmoid with {name} on 0/1 targets.",
            "The gradient carries the sigmoid's slope p(1 - p), tiny when a prediction is confidently "
            "wrong; BCEWithLogitsLoss on the logit cancels it.",
            "saturated-output",
        )


def _looks_like_softmax(out: Tensor) -> bool:
    """Non-negative rows of at least two entries that sum to 1: what a softmax inside ``forward`` leaves."""
    if out.ndim < 2 or out.shape[-1] < 2 or not out.is_floating_point():
        return False
    values = out.detach()
    if not bool((values >= 0).all()):
        return False
    sums = values.double().sum(dim=-1)
    return bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-4))


def _output_range(module: nn.Module) -> tuple[float, float] | None:
    if isinstance(module, nn.ReLU | nn.Softplus):
        return 0.0, math.inf
    if isinstance(module, nn.ReLU6):
        return 0.0, 6.0
    if isinstance(module, nn.Sigmoid | nn.Hardsigmoid | nn.Softmax | nn.Softmin):
        return 0.0, 1.0
    if isinstance(module, nn.Tanh | nn.Softsign):
        return -1.0, 1.0
    if isinstance(module, nn.Hardtanh):
        return float(module.min_val), float(module.max_val)
    if isinstance(module, kinds.ScaledTanh):
        return -abs(module.a), abs(module.a)
    return None
