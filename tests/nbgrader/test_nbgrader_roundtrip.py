"""A real nbgrader round trip for every assignment, driven through nbgrader's own commands.

The course is graded once per session (``graded_course.py``): the solution notebook and the
untouched release of every assignment, and a submission with known mistakes for
``forward-propagation``, autograded with an instructor secret, exported, fed back.

Expected scores come from the task modules and the notebooks: the solution earns every
auto-graded point and the untouched release nothing; answers in words are left for the
instructor (nbgrader records them as needing manual grading, worth the cell's points, and
scores an unanswered one 0 by itself); the mistaken submission earns what the checks give it
when run directly with the same secret.
"""

from __future__ import annotations

import csv
import html
import re

import pytest
from exercise_nb import (
    ASSIGNMENTS,
    auto_points,
    by_grade_id,
    long_lines,
    manual_points,
    meta,
    output_text,
    prose_cells,
    read,
    solution_bodies,
    source_path,
    tasks_in,
)
from graded_course import MISTAKES_ASSIGNMENT, STUDENTS, graded_course, submission_with_mistakes, submissions
from nbgrader.api import Gradebook

from actgrader.grading.answer import LocalAnswer
from actgrader.grading.cases import run_task
from actgrader.grading.conventions import answer_id, check_id
from actgrader.grading.secret import Secret
from actgrader.tasks import get_task

pytestmark = pytest.mark.slow


def _mistaken_functions(release) -> dict[str, object]:
    """The functions in the mistaken submission, defined here to score them directly."""
    nb = submission_with_mistakes(release)
    namespace: dict[str, object] = {}
    for task in tasks_in(MISTAKES_ASSIGNMENT):
        exec(by_grade_id(nb)[answer_id(task.id)].source, namespace)
    return namespace


def _feedback(course, student: str, assignment: str) -> str:
    page = course.root / "feedback" / student / assignment / f"{assignment}.html"
    return _visible_text(page.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    return graded_course(tmp_path_factory)


@pytest.fixture(scope="module")
def grades(course) -> dict[tuple[str, str], dict[str, str]]:
    with open(course.root / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return {(r["student_id"], r["assignment"]): r for r in rows}


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request):
    return request.param


def test_every_submission_was_graded_against_the_notebooks_total(grades, assignment):
    for student in STUDENTS:
        row = grades[student, assignment]
        assert row["timestamp"], f"{student}/{assignment} has no submission"
        assert float(row["max_score"]) == auto_points(assignment) + manual_points(assignment)


def test_the_solution_earns_every_auto_graded_point(grades, assignment):
    """The answers in words are not graded yet, so the solution has exactly the checks' points."""
    assert float(grades["solution", assignment]["score"]) == auto_points(assignment)
    assert float(grades["solution", assignment]["raw_score"]) == auto_points(assignment)


def test_the_untouched_release_earns_nothing(grades, assignment):
    assert float(grades["untouched", assignment]["score"]) == 0.0


def test_answers_in_words_are_left_for_the_instructor(course, assignment):
    prose = prose_cells(read(source_path(assignment)))
    with Gradebook(course.db_url) as gb:
        for grade_id, cell in prose.items():
            answered = gb.find_grade(grade_id, assignment, assignment, "solution")
            assert answered.needs_manual_grade, f"{grade_id}: nbgrader must leave a written answer to the instructor"
            assert answered.auto_score is None and answered.manual_score is None
            assert answered.max_score == float(meta(cell)["points"])
            blank = gb.find_grade(grade_id, assignment, assignment, "untouched")
            assert blank.auto_score == 0 and not blank.needs_manual_grade, "an unanswered prose cell scores 0 by itself"
            assert blank.max_score == float(meta(cell)["points"])
        for task in tasks_in(assignment):
            check = gb.find_grade(check_id(task.id), assignment, assignment, "solution")
            assert not check.needs_manual_grade and check.auto_score == task.points


def test_partial_credit_is_what_the_checks_give(course, grades):
    functions = _mistaken_functions(course.release(MISTAKES_ASSIGNMENT))
    secret = Secret(course.secret.encode(), "test")
    expected = 0.0
    for task in tasks_in(MISTAKES_ASSIGNMENT):
        result = run_task(task, LocalAnswer(functions[task.answer], task.answer), secret=secret, include_hidden=True)
        assert result.hidden_ran
        expected += result.earned
    assert 0 < expected < auto_points(MISTAKES_ASSIGNMENT), "the submission should earn some points, not all"
    assert float(grades["mistakes", MISTAKES_ASSIGNMENT]["score"]) == pytest.approx(expected)


def test_hidden_cases_ran_and_are_only_counted(course):
    for student, assignment in submissions():
        cells = by_grade_id(course.notebook("autograded", student, assignment))
        for task in tasks_in(assignment):
            shown = output_text(cells[check_id(task.id)])
            hidden = [c for c in task.cases if c.hidden]
            if student == "solution":
                assert f"hidden cases {len(hidden)}/{len(hidden)} pass" in shown, shown
            else:
                assert re.search(rf"hidden cases \d+/{len(hidden)} pass", shown), shown
            for case in hidden:
                assert case.title not in shown, f"{student}: hidden case {case.name} described"
                assert case.name not in shown
            assert course.secret not in shown


def test_autograded_test_cells_write_nothing_to_stderr(course):
    for student, assignment in submissions():
        for cell in course.notebook("autograded", student, assignment).cells:
            if meta(cell).get("grade") and cell.cell_type == "code":
                kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
                assert ("stream", "stderr") not in kinds and all(k != "error" for k, _ in kinds), (student, assignment)


def test_the_mistake_is_named_in_the_feedback(course):
    cells = by_grade_id(course.notebook("autograded", "mistakes", MISTAKES_ASSIGNMENT))
    assert "applied after the output layer too" in " ".join(output_text(cells[check_id("forward_pass")]).split())
    public = sum(not c.hidden for c in get_task("linear_collapse").cases)
    assert f"all {public} public cases pass" in output_text(cells[check_id("linear_collapse")])


def _visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_shows_neither_hidden_tests_nor_hidden_case_details(course):
    for student, assignment in submissions():
        text = _feedback(course, student, assignment)
        assert "BEGIN HIDDEN TESTS" not in text and "grade(" not in text
        for task in tasks_in(assignment):
            assert f'check("{task.id}", {task.answer})' in text
            for case in task.cases:
                if case.hidden:
                    assert case.title not in text
        assert course.secret not in text


def test_feedback_on_a_blank_answer_shows_no_model_answer_or_rubric(course, assignment):
    text = _feedback(course, "untouched", assignment)
    assert "MARK SCHEME" not in text
    for grade_id, cell in prose_cells(read(source_path(assignment))).items():
        leaked = {line for line in long_lines(cell.source) if line in text}
        assert not leaked, f"{grade_id}: {sorted(leaked)[:2]}"


def test_the_code_in_the_feedback_is_the_learners_own(course, assignment):
    """Feedback for the untouched release shows the stub, not the instructor's solution.

    Lines the release shows anyway (``with torch.no_grad():`` in a demo cell) prove nothing
    and are left out.
    """

    def feedback_lines(student: str) -> set[str]:
        return set(_feedback(course, student, assignment).splitlines())

    source = read(source_path(assignment))
    released = {line for cell in read(course.release(assignment)).cells for line in cell.source.splitlines()}
    solution_lines = {
        line
        for task in tasks_in(assignment)
        for body in solution_bodies(by_grade_id(source)[answer_id(task.id)].source)
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith("return") and line not in released
    }
    assert solution_lines <= feedback_lines("solution"), "the solution's own feedback shows its code"
    assert not solution_lines & feedback_lines("untouched"), "the instructor's solution leaked into feedback"
