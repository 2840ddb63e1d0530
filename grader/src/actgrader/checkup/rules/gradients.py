"""Gradients that cannot train: inf or nan, all zero, vanishing or exploding across layers; saturated units.

Explained in the chapters "The model check-up" (``book/model-checkup.md``), "Vanishing
gradients" (``book/vanishing-gradients.md``) and "Exploding gradients"
(``book/exploding-gradients.md``).
"""

from __future__ import annotations

import math

import torch

from actgrader.checkup.analysis import Analysis
from actgrader.checkup.thresholds import GRADIENT_RATIO, SATURATED_SHARE, SATURATED_SLOPE


def check_gradients(analysis: Analysis) -> None:
    rec = analysis.rec
    if rec.loss is not None and not math.isfinite(rec.loss):
        analysis.add(
            "error",
            "non-finite",
            [],
            f"The loss is {rec.loss}.",
            "Nothing can be learned from a loss that is inf or nan: look for a log of 0 (BCE on "
            "rounded probabilities), a division by 0, or weights that have already overflowed.",
            "bce",
        )
        return
    grads = {n: g for n, g in rec.gradients.items()}
    bad = [n for n, g in grads.items() if g is not None and not bool(torch.isfinite(g).all())]
    if bad:
        analysis.add(
            "error",
            "non-finite",
            bad[:5],
            f"{len(bad)} parameter gradient(s) contain inf or nan.",
            "One step would destroy those weights. Find the operation that overflows (often a loss "
            "computed from rounded probabilities, or exploding activations).",
            "codes",
        )
        return
    if grads and all(g is None or not bool(g.any()) for g in grads.values()):
        analysis.add(
            "error",
            "no-gradient",
            [],
            "Every parameter's gradient is exactly zero on this batch.",
            "No weight can change. Typical causes: an output ReLU that is off for every example, "
            "every unit of a layer dead, or a loss that does not depend on the model's output.",
            "codes",
        )
        return
    # Layers with a fan-in (Linear, Conv) carry an init_scale: compare those, like with like.
    measured = [r for r in analysis.rows if r.grad_rms is not None and r.init_scale is not None]
    if len(measured) < 2:
        return
    values = [r.grad_rms or 0.0 for r in measured]
    hi = max(range(len(values)), key=values.__getitem__)
    lo = min(range(len(values)), key=values.__getitem__)
    if values[hi] == 0 or values[lo] >= GRADIENT_RATIO * values[hi]:
        return
    ratio = values[lo] / values[hi]
    vanishing = lo < hi
    names = [measured[lo].name, measured[hi].name]
    if vanishing:
        analysis.add(
            "warning",
            "vanishing-gradients",
            names,
            f"The gradient per weight of {measured[lo].name} is {ratio:.1e} times that of "
            f"{measured[hi].name} (threshold {GRADIENT_RATIO:g}).",
            "Layers near the input get far smaller updates than layers near the output, so they "
            "barely learn. The usual cause is a product of small slopes through depth (sigmoid or "
            "tanh hidden layers, saturated units) or dead units; ReLU-family activations with "
            "matched initialization, or normalization, keep the gradients comparable.",
            "gradients",
        )
    else:
        analysis.add(
            "warning",
            "exploding-gradients",
            names,
            f"The gradient per weight of {measured[hi].name} (input side) is {1 / ratio:.1e} times that "
            f"of {measured[lo].name} (threshold {1 / GRADIENT_RATIO:g}).",
            "Gradients grow from the output towards the input, so the first layers take steps far "
            "larger than the last: check the initialization scale (too large for the activation), "
            "or clip the gradient norm.",
            "exploding",
        )


def check_saturation(analysis: Analysis) -> None:
    rows = [r for r in analysis.hidden_rows if r.saturated is not None and r.saturated > SATURATED_SHARE]
    rows += [
        r
        for r in analysis.rows
        if r.kind == "—" and r is not analysis.output_row and r.saturated is not None and r.saturated > SATURATED_SHARE
    ]
    if not rows:
        return
    parts = ", ".join(f"{r.name}: {100 * (r.saturated or 0):.0f}%" for r in rows)
    analysis.add(
        "warning",
        "saturated",
        [r.name for r in rows],
        f"Pre-activations where the activation's slope is under {SATURATED_SLOPE:g} of its peak: {parts}.",
        "A saturated unit passes almost no gradient back, and a stack of them multiplies those small "
        "slopes. Pre-activations are too large: scale the initialization down (Xavier/LeCun for "
        "tanh and sigmoid), normalize, or use a non-saturating activation.",
        "saturation",
    )
