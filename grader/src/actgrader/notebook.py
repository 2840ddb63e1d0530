"""The grader as a learner meets it in a notebook.

Exercise notebooks start with ``from actgrader.notebook import check, unwritten`` and each
task's test cell calls ``check("<task id>", <your object>)``: it runs the task's public cases
on the spot and prints a short verdict, on stdout when every public case passes and on stderr
when one fails. nbgrader's Validate (command and button) fails a test cell that writes to
stderr and shows what it wrote, so Validate fails untouched and wrong work with the check's
own message, while "Run All" still runs every cell.

Demo cells ask :func:`unwritten` whether the learner's function is still the release's stub
before calling it, rather than catching ``NotImplementedError`` around the call: a traceback
from inside a ``try`` block points at its ``except`` line in Jupyter, not at the learner's.

The instructor's copy of a test cell (the nbgrader source in ``solutions/``) also calls
:func:`grade` inside a hidden-tests region. ``nbgrader autograde`` never runs it: the course's
``nbgrader_config.py`` grades through actgrade's sandbox (:mod:`actgrader.batch.nbgrader_door`).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from actgrader.grading.answer import LocalAnswer
from actgrader.grading.cases import CaseOutcome, Task, TaskResult, run_task
from actgrader.grading.secret import load_secret
from actgrader.grading.verdict import grade_text, self_check_text
from actgrader.stubs import unwritten
from actgrader.tasks import get_task

__all__ = ["Score", "check", "grade", "unwritten"]

_REFERENCE_MESSAGE = (
    "This is the course's reference implementation, not your own code: write the function "
    "yourself. Importing it earns no points when your work is graded."
)


class Score(float):
    """A task's points; displayed as a bare number so nbgrader reads it as partial credit."""

    def __repr__(self) -> str:
        return f"{float(self):g}"


def _is_reference(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == "actgrader" or module.startswith("actgrader.")


def _zero_result(task: Task, include_hidden: bool) -> TaskResult:
    outcomes = tuple(
        CaseOutcome(c.name, c.title, c.points, 0.0, c.hidden, "failed", _REFERENCE_MESSAGE, task.section)
        for c in task.cases
        if include_hidden or not c.hidden
    )
    return TaskResult(task.id, task.title, task.answer, outcomes, hidden_ran=include_hidden)


def check(task_id: str, answer: Any) -> None:
    """Run the public cases of ``task_id`` on ``answer`` and print what passed and what did not.

    The verdict goes to stdout when every public case passes, to stderr otherwise (see the
    module docstring: that is what fails nbgrader's Validate).
    """
    task = get_task(task_id)
    if _is_reference(answer):
        result = _zero_result(task, include_hidden=False)
    else:
        result = run_task(task, LocalAnswer(answer, task.answer), secret=None, include_hidden=False)
    passed = all(o.passed for o in result.outcomes if not o.hidden)
    sys.stdout.flush()
    print(self_check_text(task, result), file=sys.stdout if passed else sys.stderr, flush=True)


def grade(task_id: str, answer: Any) -> Score:
    """Run every case of ``task_id`` (hidden ones need the instructor secret) and return the points.

    Never inside ``nbgrader autograde``: there the learner's code runs in the same process,
    and the course grades through actgrade's sandbox instead (nbgrader_config.py).
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise RuntimeError(
            "This nbgrader is not configured to grade through actgrade's sandbox, so it runs learner code "
            "next to the checks: use the course's nbgrader_config.py (actgrader.batch.nbgrader_door)."
        )
    task = get_task(task_id)
    secret = load_secret()
    if _is_reference(answer):
        result = _zero_result(task, include_hidden=True)
        print(_REFERENCE_MESSAGE)
    else:
        result = run_task(task, LocalAnswer(answer, task.answer), secret=secret, include_hidden=True)
    print(grade_text(task, result))
    sys.stdout.flush()
    return Score(result.earned)
