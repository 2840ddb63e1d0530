"""Helpers for the batch grader's tests: the real exercise, edited submissions, running actgrade.

The exercises as learners hand them in are shared with the benchmark: they live in
``tools/grading_support.py`` and are imported from there (and re-exported here for the tests).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from actgrader.batch.gradebook import MAX_ROW
from actgrader.batch.notebooks import load_release
from actgrader.batch.results import SubmissionResult
from actgrader.grading.conventions import answer_id
from actgrader.tasks import get_task

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
from grading_support import (  # noqa: E402 - tools/ is not a package
    ASSIGNMENT,
    Exercise,
    assignment_names,
    cell,
    exercises,
    fresh_secret,
    learner_solution,
    load,
    perturbation,
    release_path,
    solution_path,
    source,
    with_answers,
    write,
)

# Re-exported for the tests (they import every helper from batch_nb).
__all__ = [
    "Exercise",
    "assignment_names",
    "cell",
    "exercises",
    "fresh_secret",
    "learner_solution",
    "load",
    "perturbation",
    "release_path",
    "solution_path",
    "source",
    "with_answers",
    "write",
]

SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
ACTGRADE = Path(sys.executable).parent / "actgrade"

# Short limits so that endless submissions cost seconds, not minutes.
FAST = [
    "--cell-timeout",
    "4",
    "--call-timeout",
    "3",
    "--notebook-timeout",
    "90",
    "--memory-limit",
    "512M",
    "-j",
    "2",
    "--no-progress",
]


def released() -> dict[str, Any]:
    return load(RELEASE)


def correct_submission() -> dict[str, Any]:
    """The release with both answers filled in correctly, as a learner would hand it in."""
    return with_answers(
        released(),
        forward_pass_answer=learner_solution(answer_id("forward_pass")),
        linear_collapse_answer=learner_solution(answer_id("linear_collapse")),
    )


def task_points() -> dict[str, float]:
    return {t: get_task(t).points for t in load_release(RELEASE).task_ids}


def run_actgrade(
    paths: list[Path], out: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ACTGRADER_SECRET")}
    return subprocess.run(
        [str(ACTGRADE), "grade", *map(str, paths), "-o", str(out), *extra],
        env=base_env | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def records(out: Path) -> dict[str, SubmissionResult]:
    """The records by the name of their files (the student id, unless a student handed in several)."""
    found = {}
    for path in sorted((out / "results").glob("*.json")):
        result = SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        assert path.stem == result.file_id
        found[result.file_id] = result
    return found


def grades(out: Path) -> list[dict[str, str]]:
    """The submissions' rows of grades.csv (the rows of maxima left out: see :func:`max_row`)."""
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["status"] != MAX_ROW]


def max_row(out: Path, assignment: str = ASSIGNMENT) -> dict[str, str]:
    """The row of ``assignment``'s maxima (before every submission's row, with no student)."""
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    maxima = [i for i, row in enumerate(rows) if row["status"] == MAX_ROW]
    assert maxima == list(range(len(maxima))), "the rows of maxima come first"
    (found,) = [rows[i] for i in maxima if rows[i]["assignment"] == assignment]
    assert found["student"] == ""
    return found
