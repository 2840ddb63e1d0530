"""The signal's scale through depth: pre-activations whose spread fades or grows, weights scaled for another activation.

Explained in the chapters "The model check-up" (``book/model-checkup.md``) and "Initialization
matched to the activation" (``book/initialization.md``).
"""

from __future__ import annotations

import math

from actgrader.checkup.analysis import Analysis
from actgrader.checkup.thresholds import INIT_COMPOUND, SPREAD_CHANGE


def check_spread(analysis: Analysis) -> None:
    rows = [r for r in analysis.hidden_rows if r.preact_std is not None and r.preact_std > 0]
    if len(rows) < 3:
        return
    first, last = rows[0], rows[-1]
    change = (last.preact_std or 0.0) / (first.preact_std or 1.0)
    if 1 / SPREAD_CHANGE <= change <= SPREAD_CHANGE:
        return
    direction = "shrinks" if change < 1 else "grows"
    analysis.add(
        "warning",
        "signal-scale",
        [first.name, last.name],
        f"The spread of pre-activations {direction} from {first.preact_std:.3g} ({first.name}) to "
        f"{last.preact_std:.3g} ({last.name}), a factor of {change:.2g}.",
        "The forward signal fades or blows up with depth: the weight scale does not suit the "
        "activation. Initialize each layer with the scheme for its activation (Kaiming for "
        "ReLU, Xavier or LeCun for tanh), or add normalization.",
        "spread",
    )


def check_init(analysis: Analysis) -> None:
    for direction in ("large", "small"):
        flagged = {name: r for name, r in analysis.init_ratios.items() if (r > 1) == (direction == "large")}
        if not flagged:
            continue
        compound = math.prod(flagged.values())
        severity = "warning" if not 1 / INIT_COMPOUND <= compound <= INIT_COMPOUND else "info"
        parts = []
        for name in flagged:
            act, suited, variance, fan_in = analysis.init_detail[name]
            act_name = type(act).__name__ if act is not None else "no activation"
            low, high = suited.low * fan_in, suited.high * fan_in
            want = f"{low:.3g}" if math.isclose(low, high) else f"{low:.3g} to {high:.3g}"
            parts.append(f"{name} ({act_name}): {variance * fan_in:.3g}, suited {want} ({suited.schemes})")
        analysis.add(
            severity,
            "init-mismatch",
            list(flagged),
            f"Weight variance × fan-in {'above' if direction == 'large' else 'below'} what the activation "
            f"suits: {'; '.join(parts)}. Over these layers the signal's variance is scaled by about "
            f"{compound:.2g}.",
            "Each layer multiplies the variance of the signal by its mismatch, so the error compounds "
            "with depth: too large saturates tanh and sigmoid or blows up ReLU networks, too small "
            "fades the signal. Initialize with the scheme that suits the activation. (After training, "
            "this compares the weights' current scale.)",
            "init",
        )
