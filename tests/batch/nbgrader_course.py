"""Driving ``nbgrader autograde`` on the same notebooks as ``actgrade`` (tests and the benchmark).

One throwaway course directory per assignment (``tools/generate_exercises.py`` makes it: the
course config, a copy of ``solutions/``, a gradebook inside it), so that several assignments
can be autograded at the same time without sharing a SQLite gradebook. nbgrader shells out
to ``alembic``, which ``generate_exercises.nbgrader_env`` puts on ``PATH``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import generate_exercises  # noqa: E402 - tools/ is not a package

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
                f.write(f"\nc.ExecutePreprocessor.timeout = {int(cell_timeout)}\n")
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

    def task_scores(self) -> dict[str, dict[str, float]]:
        """student -> task id -> the points nbgrader gave the task's test cell (``<task>_check``)."""
        from nbgrader.api import Gradebook

        scores: dict[str, dict[str, float]] = {}
        with Gradebook(self.db_url) as gradebook:
            for student_dir in sorted((self.root / "submitted").iterdir()):
                notebook = gradebook.find_submission_notebook(self.assignment, self.assignment, student_dir.name)
                scores[student_dir.name] = {
                    grade.name.removesuffix("_check"): float(grade.auto_score or 0.0)
                    for grade in notebook.grades
                    if grade.name.endswith("_check")
                }
        return scores


def nbgrader_version() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    return (done.stdout or done.stderr).strip().splitlines()[-1] if done.returncode == 0 else "unknown"
