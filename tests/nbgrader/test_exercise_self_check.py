"""The self-check as a learner meets it, in every assignment's notebook executed top to bottom.

The notebooks are the ones nbgrader executed for the session's graded course
(``graded_course.py``): the untouched release, and the solution notebook, whose answer cells
are what a learner who got everything right would have written. A test cell runs ``check()``
first, which is what the learner's copy holds and sees; the instructor's hidden ``grade()``
call prints after it, so the learner's verdict is the cell's output up to the grade line.
``check()`` runs public cases only and never reads the instructor secret.

Untouched, every cell runs (the answer cells only define functions that raise
NotImplementedError when called) and each verdict says what failed without ever claiming that
everything passed; demos ask for the function first. Solved, every public case passes and
every demo shows something. No cell writes to stderr.
"""

from __future__ import annotations

import re

import pytest
from exercise_nb import ASSIGNMENTS, by_grade_id, meta, output_text, tasks_in
from graded_course import graded_course

from actgrader.grading.conventions import check_id, demo_id

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    return graded_course(tmp_path_factory)


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request):
    return request.param


def _cells(course, student: str, assignment: str):
    """The executed notebook's cells by grade id, after checking that no code cell wrote to stderr."""
    nb = course.notebook("autograded", student, assignment)
    for cell in nb.cells:
        if cell.cell_type == "code":
            kinds = {(o.output_type, o.get("name")) for o in cell.outputs}
            assert ("stream", "stderr") not in kinds, (
                f"{meta(cell).get('grade_id')} wrote to stderr: {output_text(cell)}"
            )
    return by_grade_id(nb)


def verdict(cell, task_id: str) -> str:
    """What ``check()`` printed: the test cell's output up to the hidden ``grade()`` summary line."""
    text = output_text(cell)
    graded = re.search(rf"^{re.escape(task_id)}: [\d.]+ of [\d.]+ points \(", text, re.M)
    assert graded, f"{task_id}: the hidden grade() line is missing:\n{text}"
    return text[: graded.start()]


def test_untouched_release_says_what_failed(course, assignment):
    cells = _cells(course, "untouched", assignment)
    for task in tasks_in(assignment):
        shown = verdict(cells[check_id(task.id)], task.id)
        public = [c for c in task.cases if not c.hidden]
        assert shown.startswith(f"{task.id}: 0 of {len(public)} public cases pass."), shown
        assert f"`{task.answer}` still raises NotImplementedError" in shown
        for case in public:
            assert case.title in shown
        assert "✓" not in shown
        assert not any(line.startswith(f"{task.id}: all") for line in shown.splitlines())
        assert "all tests passed" not in shown.lower()
        for case in task.cases:
            if case.hidden:
                assert case.title not in shown


def test_untouched_release_demos_ask_for_the_function_first(course, assignment):
    cells = _cells(course, "untouched", assignment)
    for task in tasks_in(assignment):
        demo = cells.get(demo_id(task.id))
        if demo is not None:
            assert f"Write {task.answer} above" in output_text(demo)


def test_solution_passes_every_public_case(course, assignment):
    cells = _cells(course, "solution", assignment)
    for task in tasks_in(assignment):
        shown = verdict(cells[check_id(task.id)], task.id)
        public = [c for c in task.cases if not c.hidden]
        assert shown.startswith(f"{task.id}: all {len(public)} public cases pass."), shown
        for case in public:
            assert f"✓ {case.title}" in shown
        assert "✗" not in shown
        if task.hidden_points:
            assert "passing the public cases does not guarantee them" in shown
        demo = cells.get(demo_id(task.id))
        if demo is not None:
            shown = output_text(demo)
            assert shown.strip() and f"Write {task.answer} above" not in shown
