"""The self-check and Validate as a learner meets them, in every assignment's notebook run top to bottom.

The notebooks are the session's learner notebooks (``graded_course.py``), executed in a
Jupyter kernel without the instructor secret: the untouched release, and the release with the
solution's answer cells. A test cell runs ``check()``, which runs public cases only and never
reads the instructor secret; its verdict goes to stdout when every public case passes and to
stderr when one fails, which is what nbgrader's Validate reads.

Untouched, every cell runs (the answer cells only define functions that raise
NotImplementedError when called), each verdict says what failed without ever claiming that
everything passed, and demos ask for the function first. Solved, every public case passes,
every demo shows something and no cell writes to stderr. ``nbgrader validate`` fails the
untouched and the mistaken notebook with the checks' own words and passes the solved one.
"""

from __future__ import annotations

import pytest
from exercise_nb import ASSIGNMENTS, by_grade_id, meta, output_text, tasks_in
from graded_course import MISTAKES, MISTAKES_ASSIGNMENT, graded_course

from actgrader.grading.conventions import check_id, demo_id, is_role
from actgrader.grading.verdict import WIDTH

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    return graded_course(tmp_path_factory)


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request):
    return request.param


def flat(text: str) -> str:
    """``text`` with every run of whitespace (the wrapping of long lines among them) as one space."""
    return " ".join(text.split())


def _stderr(cell) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def _cells(course, student: str, assignment: str):
    """The executed notebook's cells by grade id; no cell raised, and only failed checks wrote to stderr."""
    nb = course.executed(student, assignment)
    for cell in nb.cells:
        if cell.cell_type == "code":
            grade_id = meta(cell).get("grade_id", "")
            assert all(o.output_type != "error" for o in cell.outputs), f"{grade_id}: {output_text(cell)}"
            if _stderr(cell):
                assert student == "untouched" and is_role(grade_id, "check"), f"{grade_id}: {_stderr(cell)}"
    return by_grade_id(nb)


def test_untouched_release_says_what_failed_on_stderr(course, assignment):
    cells = _cells(course, "untouched", assignment)
    for task in tasks_in(assignment):
        raw = _stderr(cells[check_id(task.id)])
        shown = flat(raw)
        public = [c for c in task.cases if not c.hidden]
        assert shown.startswith(f"{task.id}: 0 of {len(public)} public cases pass."), shown
        assert f"`{task.answer}` still raises NotImplementedError" in shown
        for case in public:
            assert flat(case.title) in shown
        assert "✓" not in shown
        assert not any(line.startswith(f"{task.id}: all") for line in raw.splitlines())
        assert "all tests passed" not in shown.lower()
        for case in task.cases:
            if case.hidden:
                assert flat(case.title) not in shown
        assert all(len(line) <= WIDTH or len(line.split()) <= 2 for line in raw.splitlines()), raw


def test_untouched_release_demos_ask_for_the_function_first(course, assignment):
    cells = _cells(course, "untouched", assignment)
    demos = [task for task in tasks_in(assignment) if demo_id(task.id) in cells]
    assert demos, assignment
    for task in demos:
        assert f"Write {task.answer} above" in output_text(cells[demo_id(task.id)])


def test_solution_passes_every_public_case(course, assignment):
    cells = _cells(course, "solution", assignment)
    for task in tasks_in(assignment):
        shown = flat(output_text(cells[check_id(task.id)]))
        public = [c for c in task.cases if not c.hidden]
        assert shown.startswith(f"{task.id}: all {len(public)} public cases pass."), shown
        for case in public:
            assert flat(f"✓ {case.title}") in shown
        assert "✗" not in shown
        if task.hidden_points:
            assert "passing the public cases does not guarantee them" in shown
        demo = cells.get(demo_id(task.id))
        if demo is not None:
            shown = output_text(demo)
            assert shown.strip() and f"Write {task.answer} above" not in shown


def test_validate_fails_the_untouched_notebook_with_the_checks_words(course):
    report = course.validate_output["untouched"]
    tasks = tasks_in(MISTAKES_ASSIGNMENT)
    assert report.startswith(f"VALIDATION FAILED ON {len(tasks)} CELL(S)!"), report
    for task in tasks:
        assert f"{task.id}: 0 of" in report
        assert f"`{task.answer}` still raises NotImplementedError" in flat(report)
    assert "Success!" not in report


def test_validate_fails_wrong_work_and_names_the_mistake(course):
    """forward_pass wrong (the activation after the output layer), collapse_linear_stack right."""
    report = course.validate_output["mistakes"]
    assert set(MISTAKES) == {t.id for t in tasks_in(MISTAKES_ASSIGNMENT)}
    assert report.startswith("VALIDATION FAILED ON 1 CELL(S)!"), report
    assert "applied after the output layer too" in flat(report)
    assert 'check("forward_pass", forward_pass)' in report
    assert 'check("linear_collapse", collapse_linear_stack)' not in report
    assert "Read: https://" in report and "..." not in report.split("Read: ")[1].split()[0]


def test_validate_passes_the_solved_notebook(course):
    assert course.validate_output["solution"].startswith("Success! Your notebook passes all the tests.")
