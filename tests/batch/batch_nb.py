"""Helpers for the batch grader's tests: the real exercise, edited submissions, running actgrade."""

from __future__ import annotations

import copy
import csv
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actgrader.batch.notebooks import ReleaseNotebook, load_release
from actgrader.batch.results import MAX_ROW, SubmissionResult
from actgrader.grading.cases import Task
from actgrader.tasks import get_task

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "forward-propagation"
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


SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"


def _notebook_folders(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file()}


def assignment_names() -> list[str]:
    """Every assignment found in exercises/ or solutions/ (a test checks each has both)."""
    return sorted(_notebook_folders(SOLUTIONS) | _notebook_folders(EXERCISES))


def solution_path(assignment: str) -> Path:
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def release_path(assignment: str) -> Path:
    return EXERCISES / assignment / f"{assignment}.ipynb"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, nb: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def cell(nb: dict[str, Any], grade_id: str) -> dict[str, Any]:
    found = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(found) == 1, f"{grade_id}: {len(found)} cells"
    return found[0]


def source(nb: dict[str, Any], grade_id: str) -> str:
    text = cell(nb, grade_id)["source"]
    return "".join(text) if isinstance(text, list) else text


def learner_solution(grade_id: str, assignment: str = ASSIGNMENT) -> str:
    """The solution's answer cell as a learner would submit it (solution markers removed)."""
    lines = source(load(solution_path(assignment)), grade_id).splitlines()
    return "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def with_answers(base: dict[str, Any], **sources: str) -> dict[str, Any]:
    """A copy of ``base`` whose answer cells (by grade_id) hold the given sources."""
    nb = copy.deepcopy(base)
    for grade_id, text in sources.items():
        cell(nb, grade_id)["source"] = text
    return nb


def released() -> dict[str, Any]:
    return load(RELEASE)


def correct_submission() -> dict[str, Any]:
    """The release with both answers filled in correctly, as a learner would hand it in."""
    return with_answers(
        released(),
        forward_pass_answer=learner_solution("forward_pass_answer"),
        linear_collapse_answer=learner_solution("linear_collapse_answer"),
    )


def task_points() -> dict[str, float]:
    return {t: get_task(t).points for t in load_release(RELEASE).task_ids}


def fresh_secret() -> str:
    return "test-" + secrets.token_hex(16)


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
    found = {}
    for path in sorted((out / "results").glob("*.json")):
        result = SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        found[result.student] = result
    return found


def grades(out: Path) -> list[dict[str, str]]:
    """The students' rows of grades.csv (the row of maxima left out: see :func:`max_row`)."""
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["student"] != MAX_ROW]


def max_row(out: Path) -> dict[str, str]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    assert first["student"] == MAX_ROW
    return first


# ----------------------------------------------------------------------------- any assignment


@dataclass(frozen=True)
class Exercise:
    """One assignment's release and solution, and the submissions the tests build from them."""

    name: str

    @property
    def release(self) -> ReleaseNotebook:
        return load_release(release_path(self.name))

    @property
    def tasks(self) -> list[Task]:
        return [get_task(t) for t in self.release.task_ids]

    @property
    def full(self) -> float:
        return sum(t.points for t in self.tasks)

    def answer_name(self, task_id: str) -> str:
        return get_task(task_id).answer

    def untouched(self) -> dict[str, Any]:
        return load(release_path(self.name))

    def solved(self) -> dict[str, Any]:
        """The release with every answer cell holding the solution and every prose cell some text."""
        nb = self.untouched()
        for grade_id in self.release.answer_ids:
            cell(nb, grade_id)["source"] = learner_solution(grade_id, self.name)
        for question in self.release.prose:
            cell(nb, question.grade_id)["source"] = f"My written answer to {question.title}."
        return nb

    def with_sources(self, base: dict[str, Any], **sources: str) -> dict[str, Any]:
        return with_answers(base, **sources)

    def perturbed(self, task_ids: list[str] | None = None) -> dict[str, Any]:
        """The solution with these tasks' answers made partly wrong (see :data:`PERTURB`)."""
        nb = self.solved()
        for task in self.tasks:
            if task_ids is None or task.id in task_ids:
                grade_id = f"{task.id}_answer"
                cell(nb, grade_id)["source"] = learner_solution(grade_id, self.name) + "\n" + perturbation(task)
        return nb

    def standalone_task(self) -> Task:
        """A task no other answer cell uses (breaking it must leave the others their points)."""
        answers = {t.id: learner_solution(f"{t.id}_answer", self.name) for t in self.tasks}
        for task in self.tasks:
            if not any(task.answer in text for other, text in answers.items() if other != task.id):
                return task
        raise AssertionError(f"{self.name}: every task's answer is used by another answer cell")


# Appended to an answer cell: the learner's object stays, but the numbers it returns (or
# holds) are scaled and shifted: every float, and every tensor or array of 10 elements or
# more. Small tensors, shapes, dtypes and strings are left alone, so some cases still pass
# and the task earns partial credit.
PERTURB = """
def _perturb_{id}(value):
    import numpy as _np
    import torch as _torch
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value * 1.5 + 0.25
    if isinstance(value, _torch.Tensor) and value.is_floating_point() and value.numel() >= 10:
        return value * 1.5 + 0.25
    if isinstance(value, _np.ndarray) and value.dtype.kind == "f" and value.size >= 10:
        return value * 1.5 + 0.25
    if isinstance(value, (list, tuple)):
        items = [_perturb_{id}(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {{k: _perturb_{id}(v) for k, v in value.items()}}
    return value
"""


def perturbation(task: Task) -> str:
    code = PERTURB.format(id=task.id)
    if task.kind == "value":
        return code + f"{task.answer} = _perturb_{task.id}({task.answer})\n"
    return code + (
        f"_original_{task.id} = {task.answer}\n"
        f"def {task.answer}(*args, **kwargs):\n"
        f"    return _perturb_{task.id}(_original_{task.id}(*args, **kwargs))\n"
    )


def exercises() -> list[Exercise]:
    """The assignments with both a solution and a release (a test fails for any other)."""
    return [Exercise(n) for n in assignment_names() if solution_path(n).is_file() and release_path(n).is_file()]
