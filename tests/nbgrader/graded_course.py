"""One nbgrader course, graded once per test session, for every test that needs executed notebooks.

A throwaway course directory (a copy of ``solutions/`` and the course config, its own
gradebook) and one nbgrader run per step for all assignments at once (``"*"``):
``generate_assignment``; then, for every assignment, two submissions copied into
``submitted/<student>/<assignment>/``, the solution notebook and the untouched release, plus
one submission with known mistakes for ``forward-propagation``; ``autograde`` with an
instructor secret so that hidden cases run; ``export``; ``generate_feedback``.

Executing notebooks is what makes these tests slow, so each notebook is executed once, by
nbgrader, and both the round-trip tests and the self-check tests read the result. (Not named
``conftest``: this folder is on ``sys.path`` while the tests run.)
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from exercise_nb import ASSIGNMENTS, by_grade_id, generate_exercises, read, source_path

from actgrader.grading.conventions import answer_id

STUDENTS = ("solution", "untouched")
MISTAKES_ASSIGNMENT = "forward-propagation"

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

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def release(self, assignment: str) -> Path:
        return self.root / "exercises" / assignment / f"{assignment}.ipynb"

    def notebook(self, stage: str, student: str, assignment: str) -> nbformat.NotebookNode:
        return read(self.root / stage / student / assignment / f"{assignment}.ipynb")


def submissions() -> list[tuple[str, str]]:
    """Every (student, assignment) handed in."""
    return [(s, a) for a in ASSIGNMENTS for s in STUDENTS] + [("mistakes", MISTAKES_ASSIGNMENT)]


def submission_with_mistakes(release: Path) -> nbformat.NotebookNode:
    nb = read(release)
    cells = by_grade_id(nb)
    for task_id, body in MISTAKES.items():
        cell = cells[answer_id(task_id)]
        cell.source = cell.source.split("# YOUR CODE HERE")[0].rstrip(" ") + body
    return nb


_COURSE: Course | None = None


def graded_course(factory: pytest.TempPathFactory) -> Course:
    """The graded course of this test session (built on the first call)."""
    global _COURSE
    if _COURSE is not None:
        return _COURSE
    assert MISTAKES_ASSIGNMENT in ASSIGNMENTS
    root = generate_exercises.make_course(factory.mktemp("nbgrader") / "course")
    secret = secrets.token_hex(16)
    env = {"ACTGRADER_SECRET": secret}
    course = Course(root, secret, {})

    def timed(label: str, args: list[str]) -> None:
        start = time.perf_counter()
        generate_exercises.run_nbgrader(args, root, env=env)
        course.timings[label] = time.perf_counter() - start

    timed("generate_assignment", ["generate_assignment", "*"])
    for student, assignment in submissions():
        if student == "solution":
            text = source_path(assignment).read_text(encoding="utf-8")
        elif student == "untouched":
            text = course.release(assignment).read_text(encoding="utf-8")
        else:
            text = nbformat.writes(submission_with_mistakes(course.release(assignment)))
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(text, encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-11-22 12:00:00.000000 UTC")
    timed(f"autograde ({len(submissions())} submissions)", ["autograde", "*"])
    timed("export", ["export"])
    timed("generate_feedback", ["generate_feedback", "*"])
    print("\nnbgrader timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in course.timings.items()))
    _COURSE = course
    return course
