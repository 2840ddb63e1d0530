"""The check-up's rules, one module per family; :func:`analyse` builds the rows and runs them in order.

Explained in the chapter "The model check-up" (``book/model-checkup.md``). The families:

* :mod:`~actgrader.checkup.rules.output_loss`: the model's last module against the loss;
* :mod:`~actgrader.checkup.rules.dead_units`: ReLU units zero on the whole batch;
* :mod:`~actgrader.checkup.rules.gradients`: non-finite, zero, vanishing or exploding gradients,
  and saturated units;
* :mod:`~actgrader.checkup.rules.initialization`: the spread of pre-activations through depth,
  and weight scales that do not suit the activation.

Each rule reads the rows of :mod:`actgrader.checkup.rows` and adds findings to the
:class:`~actgrader.checkup.analysis.Analysis`; the thresholds are in
:mod:`actgrader.checkup.thresholds`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actgrader.checkup.analysis import Analysis
from actgrader.checkup.record import Recording
from actgrader.checkup.report import Report
from actgrader.checkup.rows import build_rows
from actgrader.checkup.rules.dead_units import check_dead
from actgrader.checkup.rules.gradients import check_gradients, check_saturation
from actgrader.checkup.rules.initialization import check_init, check_spread
from actgrader.checkup.rules.output_loss import check_output


def analyse(rec: Recording, x: Any, y: Any, loss_fn: Callable[..., Any], mode: str) -> Report:
    """Rows and findings for one recorded pass."""
    analysis = Analysis(rec, x, y, loss_fn)
    if rec.forward_error is not None:
        analysis.add(
            "error",
            "forward-failed",
            [],
            f"The model could not run on this batch: {rec.forward_error}",
            "Nothing could be measured. Check that the batch has the shape and dtype the first layer expects.",
            "limits",
        )
        return analysis.report(loss_fn, mode)
    build_rows(analysis)
    check_output(analysis)
    check_dead(analysis)
    if rec.backward_error is not None:
        analysis.not_analysed.append(f"the backward pass failed ({rec.backward_error}): no gradients were measured")
    elif rec.loss is not None:
        check_gradients(analysis)
    check_saturation(analysis)
    check_spread(analysis)
    check_init(analysis)
    for name in rec.parents_with_parameters:
        analysis.not_analysed.append(
            f"{name} holds parameters of its own besides its submodules: they enter the gradients but no row"
        )
    if not rec.loss_was_scalar:
        analysis.not_analysed.append("the loss was not a scalar (reduction='none'?): its mean was differentiated")
    return analysis.report(loss_fn, mode)
