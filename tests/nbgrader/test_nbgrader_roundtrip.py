"""A real nbgrader round trip, driven through nbgrader's own commands.

One throwaway course directory per module (a copy of ``solutions/`` and the course config,
its own gradebook): ``nbgrader generate_assignment``, three submissions copied into
``submitted/<student>/<assignment>/``, ``nbgrader autograde`` with an instructor secret so
hidden cases run, ``nbgrader export`` and ``nbgrader generate_feedback``. Expected scores come
from the task modules: the solution earns every task's points, the untouched release earns
nothing, and a submission with known mistakes earns what the checks give it when run
directly with the same secret.
"""

from __future__ import annotations

import csv
import html
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from exercise_nb import (
    ASSIGNMENTS,
    by_grade_id,
    generate_exercises,
    meta,
    output_text,
    read,
    solution_bodies,
    source_path,
    tasks_in,
)

from actgrader.grading.answer import LocalAnswer
from actgrader.grading.cases import run_task
from actgrader.grading.secret import Secret
from actgrader.tasks import get_task

pytestmark = pytest.mark.slow

ASSIGNMENT = "forward-propagation"

# A submission as a learner might hand it in: `forward_pass` with a classic mistake (the
# activation applied after the output layer too), `collapse_linear_stack` right.
MISTAKES = {
    "forward_pass": """\
    h = x
    for weight in weights:
        h = activation(h @ weight.T)
    return h
""",
    "linear_collapse": """\
    product = weights[0]
    for weight in weights[1:]:
        product = weight @ product
    return product
""",
}


@dataclass
class Course:
    root: Path
    secret: str
    timings: dict[str, float]

    def notebook(self, stage: str, student: str) -> nbformat.NotebookNode:
        return read(self.root / stage / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")


def _submission_with_mistakes(release: Path) -> nbformat.NotebookNode:
    nb = read(release)
    cells = by_grade_id(nb)
    for task_id, body in MISTAKES.items():
        cell = cells[f"{task_id}_answer"]
        cell.source = cell.source.split("# YOUR CODE HERE")[0].rstrip(" ") + body
    return nb


def _mistaken_functions(release: Path) -> dict[str, object]:
    """The functions in the mistaken submission, defined here to score them directly."""
    nb = _submission_with_mistakes(release)
    namespace: dict[str, object] = {}
    for task in tasks_in(ASSIGNMENT):
        exec(by_grade_id(nb)[f"{task.id}_answer"].source, namespace)
    return namespace


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    assert ASSIGNMENT in ASSIGNMENTS
    root = generate_exercises.make_course(tmp_path_factory.mktemp("nbgrader") / "course")
    secret = secrets.token_hex(16)
    env = {"ACTGRADER_SECRET": secret}
    timings: dict[str, float] = {}

    def timed(label: str, args: list[str]) -> None:
        start = time.perf_counter()
        generate_exercises.run_nbgrader(args, root, env=env)
        timings[label] = time.perf_counter() - start

    timed("generate_assignment", ["generate_assignment", ASSIGNMENT])
    release = root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    submissions = {
        "solution": source_path(ASSIGNMENT).read_text(encoding="utf-8"),
        "untouched": release.read_text(encoding="utf-8"),
        "mistakes": nbformat.writes(_submission_with_mistakes(release)),
    }
    for student, text in submissions.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-11-22 12:00:00.000000 UTC")
    timed("autograde (3 submissions)", ["autograde", ASSIGNMENT])
    timed("export", ["export"])
    timed("generate_feedback (3 submissions)", ["generate_feedback", ASSIGNMENT])
    print("\nnbgrader timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    yield Course(root, secret, timings)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def grades(course) -> dict[str, dict[str, str]]:
    with open(course.root / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["assignment"] == ASSIGNMENT for r in rows)
    return {r["student_id"]: r for r in rows}


def _total_points() -> float:
    return sum(t.points for t in tasks_in(ASSIGNMENT))


def test_the_exported_maximum_is_the_tasks_total(grades):
    assert set(grades) == {"solution", "untouched", "mistakes"}
    for row in grades.values():
        assert float(row["max_score"]) == _total_points()


def test_the_solution_earns_full_marks(grades):
    assert float(grades["solution"]["score"]) == _total_points()
    assert float(grades["solution"]["raw_score"]) == _total_points()


def test_the_untouched_release_earns_nothing(grades):
    assert float(grades["untouched"]["score"]) == 0.0


def test_partial_credit_is_what_the_checks_give(course, grades):
    functions = _mistaken_functions(course.root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    secret = Secret(course.secret.encode(), "test")
    expected = 0.0
    for task in tasks_in(ASSIGNMENT):
        result = run_task(task, LocalAnswer(functions[task.answer], task.answer), secret=secret, include_hidden=True)
        assert result.hidden_ran
        expected += result.earned
    assert 0 < expected < _total_points(), "the submission should earn some points, not all"
    assert float(grades["mistakes"]["score"]) == pytest.approx(expected)


def test_hidden_cases_ran_and_are_only_counted(course):
    for student in ("solution", "untouched", "mistakes"):
        cells = by_grade_id(course.notebook("autograded", student))
        for task in tasks_in(ASSIGNMENT):
            shown = output_text(cells[f"{task.id}_check"])
            hidden = [c for c in task.cases if c.hidden]
            passed = len(hidden) if student == "solution" else None
            if passed is not None:
                assert f"hidden cases {passed}/{len(hidden)} pass" in shown, shown
            else:
                assert re.search(rf"hidden cases \d+/{len(hidden)} pass", shown), shown
            for case in hidden:
                assert case.title not in shown, f"{student}: hidden case {case.name} described"
                assert case.name not in shown
            assert course.secret not in shown


def test_autograded_test_cells_write_nothing_to_stderr(course):
    for student in ("solution", "untouched", "mistakes"):
        nb = course.notebook("autograded", student)
        for cell in nb.cells:
            if meta(cell).get("grade"):
                kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
                assert ("stream", "stderr") not in kinds and all(k != "error" for k, _ in kinds)


def test_the_mistake_is_named_in_the_feedback(course):
    cells = by_grade_id(course.notebook("autograded", "mistakes"))
    assert "applied after the output layer too" in output_text(cells["forward_pass_check"])
    public = sum(not c.hidden for c in get_task("linear_collapse").cases)
    assert f"all {public} public cases pass" in output_text(cells["linear_collapse_check"])


def _visible_text(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_shows_neither_hidden_tests_nor_hidden_case_details(course):
    for student in ("solution", "untouched", "mistakes"):
        text = _visible_text(
            (course.root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
        )
        assert "BEGIN HIDDEN TESTS" not in text and "grade(" not in text
        for task in tasks_in(ASSIGNMENT):
            assert f'check("{task.id}", {task.answer})' in text
            for case in task.cases:
                if case.hidden:
                    assert case.title not in text
        assert course.secret not in text


def test_the_code_in_the_feedback_is_the_learners_own(course):
    """Feedback for the untouched release shows the stub, not the instructor's solution."""

    def feedback_lines(student: str) -> set[str]:
        page = course.root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        return set(_visible_text(page.read_text(encoding="utf-8")).splitlines())

    source = read(source_path(ASSIGNMENT))
    solution_lines = {
        line
        for task in tasks_in(ASSIGNMENT)
        for body in solution_bodies(by_grade_id(source)[f"{task.id}_answer"].source)
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith("return")
    }
    assert solution_lines <= feedback_lines("solution"), "the solution's own feedback shows its code"
    assert not solution_lines & feedback_lines("untouched"), "the instructor's solution leaked into feedback"
