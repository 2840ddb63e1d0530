"""Shared helpers for the exercise-notebook tests: where the notebooks are, and how to read them.

(Not named ``conftest``/``helpers``: this folder is on ``sys.path`` while the tests run and
the name must not shadow another module.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import nbformat

from actgrader.grading.cases import Task
from actgrader.grading.conventions import is_role
from actgrader.tasks import get_task

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
CONFIG = REPO / "nbgrader_config.py"

sys.path.insert(0, str(REPO / "tools"))
import exercise_readme  # noqa: E402
import generate_exercises  # noqa: E402

ASSIGNMENTS = generate_exercises.assignments(SOLUTIONS)

TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader_config.py: ClearSolutions.text_stub (a test checks they agree)

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION[ \t]*(?:\n|$)", re.M | re.S)


def source_path(assignment: str) -> Path:
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def release_path(assignment: str, root: Path = EXERCISES) -> Path:
    return root / assignment / f"{assignment}.ipynb"


def read(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def meta(cell: Any) -> dict[str, Any]:
    """The cell's nbgrader metadata ({} when it has none)."""
    return dict(cell.metadata.get("nbgrader", {}))


def by_grade_id(nb: Any) -> dict[str, Any]:
    return {meta(c)["grade_id"]: c for c in nb.cells if meta(c).get("grade_id")}


def tasks_in(assignment: str) -> list[Task]:
    """The tasks an assignment checks, found from its source notebook's test cells."""
    return [get_task(t) for t in exercise_readme.task_ids_in(source_path(assignment))]


def prose_cells(nb: Any) -> dict[str, Any]:
    """The answers in words (``<task_id>_prose`` cells, marked by hand), by grade id."""
    return {g: c for g, c in by_grade_id(nb).items() if is_role(g, "prose")}


def auto_points(assignment: str) -> float:
    """The points the checks award (every task's total)."""
    return sum(t.points for t in tasks_in(assignment))


def manual_points(assignment: str) -> float:
    """The points an instructor awards by hand (every prose cell's)."""
    return sum(float(meta(c)["points"]) for c in prose_cells(read(source_path(assignment))).values())


def long_lines(text: str, at_least: int = 30) -> set[str]:
    """The stripped lines of ``text`` of at least ``at_least`` characters: specific enough to look for elsewhere."""
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= at_least}


def expected_check_cell(task: Task) -> str:
    """What a task's test cell holds in the source: the self-check, then the hidden grading call."""
    return (
        f'check("{task.id}", {task.answer})\n'
        f"{BEGIN_HIDDEN}\n"
        "from actgrader.notebook import grade\n"
        f'grade("{task.id}", {task.answer})\n'
        f"{END_HIDDEN}"
    )


def expected_released_check_cell(task: Task) -> str:
    return f'check("{task.id}", {task.answer})'


def solution_bodies(source: str) -> list[str]:
    """The code inside each ``### BEGIN SOLUTION`` region of a cell."""
    return _SOLUTION_REGION.findall(source)


def code_text(nb: Any) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def output_text(cell: Any) -> str:
    """Everything a code cell displayed: streams, results and errors, as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(str(out.data.get("text/plain", "")))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)
