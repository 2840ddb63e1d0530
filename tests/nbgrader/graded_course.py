"""One nbgrader course, graded once per test session, for every test that needs executed notebooks.

A throwaway course directory (a copy of ``solutions/`` and the course config, its own
gradebook) and one nbgrader run per step for all assignments at once (``"*"``):
``generate_assignment``; then, for every assignment, two submissions copied into
``submitted/<student>/<assignment>/``, the solution notebook and the untouched release, plus
one submission with known mistakes for ``forward-propagation``; ``autograde`` with an
instructor secret so that hidden cases run (through actgrade's sandbox, as the course's
``nbgrader_config.py`` says); ``export``; ``generate_feedback``.

Then the learner's side, without the secret: every assignment's untouched release and its
solved copy (the release with the solution's answer cells) executed top to bottom in a Jupyter
kernel by ``jupyter nbconvert --execute``, as "Run All" in JupyterLab would; and one
``nbgrader validate`` of forward-propagation untouched, with the mistakes, and solved.

Executing notebooks is what makes these tests slow, so each is executed once and every test
reads the result. (Not named ``conftest``: this folder is on ``sys.path`` while the tests run.)
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from exercise_nb import ASSIGNMENTS, by_grade_id, generate_exercises, read, source_path

from actgrader.grading.conventions import answer_id, is_role

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


# The notebooks `nbgrader validate` checks, in this order (forward-propagation).
VALIDATED = ("untouched", "mistakes", "solution")
LEARNER_STUDENTS = ("untouched", "solution")


@dataclass
class Course:
    root: Path
    secret: str
    timings: dict[str, float]
    validate_output: dict[str, str] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def release(self, assignment: str) -> Path:
        return self.root / "exercises" / assignment / f"{assignment}.ipynb"

    def notebook(self, stage: str, student: str, assignment: str) -> nbformat.NotebookNode:
        return read(self.root / stage / student / assignment / f"{assignment}.ipynb")

    def executed(self, student: str, assignment: str) -> nbformat.NotebookNode:
        """A learner's notebook ("untouched" or "solution") as a Jupyter kernel left it."""
        return read(self.root / "learner" / student / f"{assignment}.ipynb")


def submissions() -> list[tuple[str, str]]:
    """Every (student, assignment) handed in."""
    return [(s, a) for a in ASSIGNMENTS for s in STUDENTS] + [("mistakes", MISTAKES_ASSIGNMENT)]


def solved(release: Path, assignment: str) -> nbformat.NotebookNode:
    """The release with the solution's answer cells: what a learner who got everything right holds."""
    nb = read(release)
    answers = by_grade_id(read(source_path(assignment)))
    for grade_id, cell in by_grade_id(nb).items():
        if is_role(grade_id, "answer"):
            cell.source = answers[grade_id].source
    return nb


def learner_env() -> dict[str, str]:
    """The learner's environment: no instructor secret."""
    env = generate_exercises.nbgrader_env()
    return {k: v for k, v in env.items() if not k.startswith("ACTGRADER_SECRET")}


def split_validate_output(stdout: str, count: int) -> list[str]:
    """``nbgrader validate a b c`` prints one report per notebook, each starting with a verdict line."""
    starts = [i for i, line in enumerate(stdout.splitlines()) if line.startswith(("Success!", "VALIDATION FAILED"))]
    lines = stdout.splitlines()
    assert len(starts) == count, stdout
    return ["\n".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


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

    learner = root / "learner"
    paths = []
    for student in LEARNER_STUDENTS:
        (learner / student).mkdir(parents=True)
        for assignment in ASSIGNMENTS:
            release = course.release(assignment)
            nb = read(release) if student == "untouched" else solved(release, assignment)
            paths.append(learner / student / f"{assignment}.ipynb")
            nbformat.write(nb, paths[-1])
    (learner / "mistakes").mkdir()
    nbformat.write(submission_with_mistakes(course.release(MISTAKES_ASSIGNMENT)), learner / "mistakes" / "nb.ipynb")
    start = time.perf_counter()
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace"]
    command += ["--allow-errors", "--ExecutePreprocessor.timeout=600", *map(str, paths)]
    subprocess.run(command, cwd=learner, env=learner_env(), check=True, capture_output=True, timeout=1800)
    course.timings["execute the learner's notebooks"] = time.perf_counter() - start

    validated = [
        course.release(MISTAKES_ASSIGNMENT),
        learner / "mistakes" / "nb.ipynb",
        learner / "solution" / f"{MISTAKES_ASSIGNMENT}.ipynb",
    ]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", *map(str, validated)],
        cwd=root,
        env=learner_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    course.timings["validate"] = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-3000:]
    course.validate_output = dict(zip(VALIDATED, split_validate_output(done.stdout, len(VALIDATED)), strict=True))
    print("\nnbgrader timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in course.timings.items()))
    _COURSE = course
    return course
