"""The output-and-loss notebook states the settings its checks use: each figure in its text is the task's constant."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from actgrader.tasks import double_softmax, multilabel_head

NOTEBOOK = Path(__file__).resolve().parents[3] / "solutions" / "output-and-loss" / "output-and-loss.ipynb"


def _markdown(cell_id: str) -> str:
    cells = {c.id: c for c in nbformat.read(NOTEBOOK, as_version=4).cells}
    return " ".join(cells[cell_id].source.split())


def test_the_double_softmax_text_states_the_checks_settings():
    text = _markdown("double_softmax_task")
    setup = double_softmax.PUBLIC[0]
    widths = " → ".join(str(n) for n in (2, *double_softmax.HIDDEN, setup.classes))
    for stated in (
        f"Gaussian blobs of {setup.classes} classes ({setup.points} points)",
        f"`{widths}`",
        f"`lr={double_softmax.LR:g}`",
        f"`steps={double_softmax.STEPS}`",
        f"on {len(double_softmax.PUBLIC) - 1} more seeds",
        f"**at least {double_softmax.FACTOR:g} times**",
    ):
        assert stated in text, stated


@pytest.mark.parametrize(
    "stated",
    [
        f"one hidden layer of {multilabel_head.HIDDEN} ReLU units",
        f"learning rate {multilabel_head.LR:g}, {multilabel_head.EPOCHS} full-batch steps",
        f"at least {multilabel_head.ACCURACY:.0%} of the label decisions",
        f"within {multilabel_head.DISTANCE:g} of the 0/1 targets",
        *(f'`"{name}"`' for name in (*multilabel_head.OUTPUTS, *multilabel_head.LOSSES)),
    ],
)
def test_the_multilabel_text_states_the_checks_settings_and_every_name(stated):
    assert stated in _markdown("multilabel_head_task")
