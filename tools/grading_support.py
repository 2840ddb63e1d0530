"""What the batch tests and the grading benchmark share: the course's exercises as learners
hand them in, and nbgrader driven on the same notebooks.

``tests/batch`` (through ``batch_nb``) and ``bench/grading.py`` both import this module, so
neither imports the other. ``tools/`` is not a package: put it on ``sys.path`` first.

* :class:`Exercise`: one assignment's release and solution, and the submissions built from
  them (solved, untouched, partly wrong: :data:`PERTURB`), for every assignment found in
  ``exercises/`` and ``solutions/`` (:func:`exercises`).
* :class:`NbgraderCourse`: one throwaway course directory per assignment
  (``generate_exercises.make_course``: the course config, a copy of ``solutions/``, a
  gradebook inside it), so that several assignments can be autograded at the same time
  without sharing a SQLite gradebook. nbgrader shells out to ``alembic``, which
  ``generate_exercises.nbgrader_env`` puts on ``PATH``.
* :func:`run_autograder`: an autograder zip (``actgrade gradescope``) unpacked and run once
  the way Gradescope runs it, under a temporary root instead of ``/autograder``.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import generate_exercises

from actgrader.batch.autograder import PYTHON_ENV, ROOT_ENV
from actgrader.batch.notebooks import ReleaseNotebook, load_release
from actgrader.grading.cases import Task
from actgrader.grading.conventions import answer_id, task_of
from actgrader.tasks import get_task

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
ASSIGNMENT = "forward-propagation"  # the assignment most tests use (the quickest to grade)


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


def fresh_secret() -> str:
    return "test-" + secrets.token_hex(16)


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
                grade_id = answer_id(task.id)
                cell(nb, grade_id)["source"] = learner_solution(grade_id, self.name) + "\n" + perturbation(task)
        return nb

    def standalone_task(self) -> Task:
        """A task no other answer cell uses (breaking it must leave the others their points)."""
        answers = {t.id: learner_solution(answer_id(t.id), self.name) for t in self.tasks}
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


# ----------------------------------------------------------------------------- nbgrader

TIMESTAMP = "2026-11-22 12:00:00.000000 UTC"


@dataclass
class NbgraderCourse:
    """A course directory holding one assignment, its submissions and its gradebook."""

    root: Path
    assignment: str
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, assignment: str, *, cell_timeout: float | None = None) -> NbgraderCourse:
        generate_exercises.make_course(root)
        if cell_timeout is not None:
            with open(root / "nbgrader_config.py", "a", encoding="utf-8") as f:
                f.write(f"\nc.ActgradeExecute.cell_timeout = {cell_timeout!r}\n")
        return cls(root, assignment)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def submit(self, student: str, nb: dict[str, Any]) -> Path:
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.assignment}.ipynb"
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
        (folder / "timestamp.txt").write_text(TIMESTAMP)
        return path

    def run(self, label: str, args: list[str], env: dict[str, str]) -> None:
        start = time.perf_counter()
        generate_exercises.run_nbgrader(args, self.root, env=env)
        self.timings[label] = time.perf_counter() - start

    def generate(self, env: dict[str, str]) -> None:
        self.run("generate_assignment", ["generate_assignment", self.assignment, "--force"], env)

    def autograde(self, env: dict[str, str]) -> None:
        self.run("autograde", ["autograde", self.assignment, "--force"], env)

    def students(self) -> list[str]:
        return sorted(p.name for p in (self.root / "submitted").iterdir())

    def autograded(self, student: str) -> Path:
        """The notebook nbgrader wrote for ``student``: the graded cells, with what each printed."""
        return self.root / "autograded" / student / self.assignment / f"{self.assignment}.ipynb"

    def task_scores(self) -> dict[str, dict[str, float]]:
        """student -> task id -> the points nbgrader gave the task's test cell (``<task>_check``)."""
        from nbgrader.api import Gradebook

        scores: dict[str, dict[str, float]] = {}
        with Gradebook(self.db_url) as gradebook:
            for student_dir in sorted((self.root / "submitted").iterdir()):
                notebook = gradebook.find_submission_notebook(self.assignment, self.assignment, student_dir.name)
                scores[student_dir.name] = {
                    task: float(grade.auto_score or 0.0)
                    for grade in notebook.grades
                    if (task := task_of(grade.name, "check"))
                }
        return scores


def nbgrader_version() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    return (done.stdout or done.stderr).strip().splitlines()[-1] if done.returncode == 0 else "unknown"


# ----------------------------------------------------------------------------- Gradescope

# Gradescope's submission_metadata.json, as much of it as the autograder reads.
GRADESCOPE_USERS = [{"email": "ada@example.edu", "id": 1815, "name": "Ada Lovelace"}]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any instructor secret or autograder path, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTGRADER_SECRET", "ACTGRADE_AUTOGRADER"))}
    return env | extra


def unpack_zip(archive: Path, dest: Path) -> None:
    """Unpack ``archive`` into ``dest`` keeping each file's mode, as Gradescope does."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)


def run_autograder(
    archive: Path, root: Path, files: dict[str, dict[str, Any] | str], users: list[dict[str, Any]] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None, float]:
    """Unpack ``archive`` as Gradescope does, submit ``files`` and run the autograder once.

    The tree Gradescope lays out lives under ``root`` (``source/`` = the unpacked zip,
    ``run_autograder`` copied next to it, ``submission/``, ``submission_metadata.json``,
    ``results/``); the zip's scripts find it through ``ACTGRADE_AUTOGRADER_ROOT`` and run this
    interpreter (standing in for the one ``setup.sh`` installs), with no secret in their
    environment: a plain upload. ``files`` maps names to notebooks, text, or ``"->target"`` for
    a symbolic link. Returns the process, results.json (None when not written) and the run's
    wall time in seconds.
    """
    unpack_zip(archive, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "results").mkdir()
    (root / "submission").mkdir()
    metadata = {"id": 4242, "users": GRADESCOPE_USERS if users is None else users}
    (root / "submission_metadata.json").write_text(json.dumps(metadata))
    for name, content in files.items():
        if isinstance(content, str) and content.startswith("->"):
            (root / "submission" / name).symlink_to(content[2:])
        elif isinstance(content, str):
            (root / "submission" / name).write_text(content)
        else:
            write(root / "submission" / name, content)
    env = clean_env(**{ROOT_ENV: str(root), PYTHON_ENV: sys.executable})
    started = time.monotonic()
    proc = subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    wall = time.monotonic() - started
    results = root / "results" / "results.json"
    return proc, (json.loads(results.read_text(encoding="utf-8")) if results.exists() else None), wall
