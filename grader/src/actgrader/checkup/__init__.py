"""The model check-up: the "what to inspect" list of the course's sources, run on a model and one batch.

Explained in the chapter "The model check-up" (``book/model-checkup.md``); the reasons behind
each finding are in the chapters its link points to.

::

    from actgrader.checkup import inspect_model

    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    report            # an HTML table in a notebook; print(report) for text
    report.findings   # structured: severity, code, layers, message, meaning, section/url

One forward and one backward pass on ``(x, y)`` measure, layer by layer: the share of dead
ReLU units, the gradient per weight, the mean and spread of pre-activations, the
saturation of tanh/sigmoid units, and the weight scale against the initialization suited
to the activation; and whether the model's last module suits the loss. The model is left as
it was (parameters, buffers, train/eval flags, ``.grad``, the global random state). What the
check-up cannot judge (custom modules, activations called as functions inside ``forward``,
unknown losses) is listed under "Not analysed" instead of guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

from actgrader.checkup.record import Mode, record
from actgrader.checkup.report import SEVERITIES, Finding, LayerRow, Report, Severity
from actgrader.checkup.rules import analyse
from actgrader.checkup.thresholds import (
    DEAD_FRACTION,
    GRADIENT_RATIO,
    INIT_COMPOUND,
    INIT_TOLERANCE,
    MIN_BATCH_FOR_DEAD,
    SATURATED_SHARE,
    SATURATED_SLOPE,
    SPREAD_CHANGE,
)

__all__ = [
    "DEAD_FRACTION",
    "GRADIENT_RATIO",
    "INIT_COMPOUND",
    "INIT_TOLERANCE",
    "MIN_BATCH_FOR_DEAD",
    "SATURATED_SHARE",
    "SATURATED_SLOPE",
    "SEVERITIES",
    "SPREAD_CHANGE",
    "Finding",
    "LayerRow",
    "Report",
    "Severity",
    "inspect_model",
]


def inspect_model(
    model: nn.Module,
    x: Any,
    y: Any,
    loss_fn: Callable[[Any, Any], Tensor],
    *,
    mode: Mode = "train",
) -> Report:
    """Check ``model`` on one batch ``(x, y)`` with ``loss_fn`` and report per layer and per finding.

    ``loss_fn`` is a loss module (``nn.CrossEntropyLoss()``) or function
    (``F.cross_entropy``). ``mode="train"`` (default) measures what a training step sees
    (batch-norm batch statistics, dropout with a fixed seed); ``"eval"`` what inference sees.
    Never raises because of the model: a forward or loss failure becomes an error finding.
    """
    recording = record(model, x, y, loss_fn, mode=mode)
    return analyse(recording, x, y, loss_fn, mode)
