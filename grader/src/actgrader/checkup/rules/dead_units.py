"""Dead ReLU units: more than a set share of a layer's units zero on every example of the batch.

Explained in the chapters "The model check-up" (``book/model-checkup.md``) and "Dead ReLUs"
(``book/dead-relus.md``).
"""

from __future__ import annotations

from actgrader.checkup.analysis import Analysis
from actgrader.checkup.thresholds import DEAD_FRACTION, MIN_BATCH_FOR_DEAD


def check_dead(analysis: Analysis) -> None:
    if analysis.batch is None:
        analysis.not_analysed.append("dead units: the batch is not a tensor, so its size is unknown; not counted")
        return
    if analysis.batch < MIN_BATCH_FOR_DEAD:
        analysis.not_analysed.append(
            f"dead units: a batch of {analysis.batch} is too small to tell a dead unit from chance "
            f"(use at least {MIN_BATCH_FOR_DEAD} examples)"
        )
        return
    dead = [r for r in analysis.rows if r.dead is not None and r.dead > DEAD_FRACTION]
    if not dead:
        return
    parts = ", ".join(f"{r.name}: {100 * r.dead:.0f}%" for r in dead if r.dead is not None)
    analysis.add(
        "warning",
        "dead-relu",
        [r.name for r in dead],
        f"ReLU units that are zero on every example of the batch: {parts} (threshold {100 * DEAD_FRACTION:.0f}%).",
        "A unit that is never positive passes no gradient to its weights and cannot recover; that "
        "capacity is lost. Usual causes: a too-large learning rate, a badly scaled initialization. "
        "Try a smaller learning rate, Kaiming initialization, or Leaky ReLU/GELU.",
        "dead",
    )
