"""The gradient-flow notebook's own answer cells, graded as nbgrader's hidden-tests region grades them.

The solution's code earns every task's points, the release's stubs earn none, and grading the
same code twice gives the same score (hidden cases included, with an instructor secret).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import torch

from actgrader.grading.conventions import is_role, task_of
from actgrader.grading.secret import SECRET_ENV, SECRET_FILE_ENV
from actgrader.notebook import grade
from actgrader.tasks import get_task

REPO = Path(__file__).resolve().parents[3]
ASSIGNMENT = "gradient-flow"
_SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.M)


def _cells(path: Path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if "nbgrader" in c.metadata}


def _namespace(path: Path) -> dict[str, object]:
    """Run the setup cell and every answer cell, as the batch grader does, and return what they define."""
    cells = _cells(path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    threads = torch.get_num_threads()
    exec(cells["setup"], namespace)
    torch.set_num_threads(threads)  # the setup cell makes the kernel single-threaded; leave pytest as it was
    for grade_id, text in cells.items():
        if is_role(grade_id, "answer"):
            exec(_SOLUTION_MARKERS.sub("", text), namespace)
    return namespace


def _task_ids() -> list[str]:
    return [t for g in _cells(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb") if (t := task_of(g, "check"))]


@pytest.fixture(autouse=True)
def instructor_secret(monkeypatch):
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    monkeypatch.setenv(SECRET_ENV, "gradient-flow notebook test secret")


@pytest.fixture(scope="module")
def solution() -> dict[str, object]:
    return _namespace(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


@pytest.fixture(scope="module")
def untouched() -> dict[str, object]:
    return _namespace(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def test_the_notebook_checks_the_seven_tasks():
    assert _task_ids() == [
        "weight_gradient_norms",
        "saturated_sigmoid",
        "tanh_n_thresholds",
        "dead_fraction",
        "dead_relus_learning_rate",
        "leaky_relu_recovery",
        "init_for_activation",
    ]


@pytest.mark.parametrize("task_id", _task_ids())
def test_the_solution_earns_every_point_twice_over(task_id, solution, capsys):
    task = get_task(task_id)
    first = grade(task_id, solution[task.answer])
    second = grade(task_id, solution[task.answer])
    assert float(first) == float(second) == task.points, capsys.readouterr().out
    assert "hidden cases" in capsys.readouterr().out


@pytest.mark.parametrize("task_id", _task_ids())
def test_the_untouched_release_earns_nothing(task_id, untouched, capsys):
    task = get_task(task_id)
    assert float(grade(task_id, untouched[task.answer])) == 0.0
    assert f"{task_id}: 0 of {task.points:g} points" in capsys.readouterr().out
