"""Grading records: one JSON file per student and the class's ``grades.csv``.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``),
so a run killed at any moment leaves each record either complete or absent, and ``--resume``
can trust what it finds. The CSV is always rebuilt from the JSON records, never appended to:
nothing is lost and nothing counted twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from actgrader.grading.cases import TaskResult

RECORD_FORMAT = 1
Status = Literal["ok", "errors", "timeout", "crashed", "wrong-assignment", "invalid", "internal-error"]
# Worst first: the status of a submission is the worst thing that happened to it.
STATUS_ORDER: tuple[str, ...] = ("internal-error", "invalid", "wrong-assignment", "crashed", "timeout", "errors", "ok")


@dataclass
class SubmissionResult:
    """Everything the grader found for one submission (learner-facing text and instructor detail)."""

    student: str
    source: str
    status: Status
    assignment: str | None = None
    release: str | None = None
    sha256: str = ""
    total: float = 0.0
    max_total: float = 0.0
    hidden_ran: bool = False
    tasks: list[TaskResult] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # task id -> text (hidden cases as counts)
    cells: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # learner-facing remarks on the notebook
    messages: list[str] = field(default_factory=list)  # learner-facing: why points were lost wholesale
    internal: str = ""  # instructor-facing detail of a grader problem
    sandbox: list[str] = field(default_factory=list)
    seconds: float = 0.0
    check_seconds: float = 0.0
    children: int = 0
    peak_rss: int = 0
    complete: bool = True

    def task_points(self) -> dict[str, float]:
        return {t.task_id: t.earned for t in self.tasks}

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "tasks"}
        data["tasks"] = [t.to_dict() for t in self.tasks]
        data["format"] = RECORD_FORMAT
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        if data.get("format") != RECORD_FORMAT:
            raise ValueError(f"unknown record format {data.get('format')!r}")
        values = {k: v for k, v in data.items() if k not in ("format", "tasks")}
        return cls(tasks=[TaskResult.from_dict(t) for t in data.get("tasks", [])], **values)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def record_path(output: Path, student: str) -> Path:
    return output / "results" / f"{student}.json"


def save_record(output: Path, result: SubmissionResult) -> Path:
    path = record_path(output, result.student)
    write_atomic(path, json.dumps(result.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def load_record(output: Path, student: str) -> SubmissionResult | None:
    """The student's record if it exists, parses and is complete; None otherwise."""
    path = record_path(output, student)
    try:
        result = SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return result if result.complete else None


def _points(x: float) -> str:
    return f"{x:g}"


def grades_csv(results: Iterable[SubmissionResult], task_columns: list[str]) -> str:
    """One row per student (sorted), one column per task with the points earned, total, status."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "assignment", *task_columns, "total", "max_total", "status"])
    for result in sorted(results, key=lambda r: r.student):
        points = result.task_points()
        writer.writerow(
            [
                result.student,
                result.assignment or "",
                *(_points(points[t]) if t in points else "" for t in task_columns),
                _points(result.total),
                _points(result.max_total),
                result.status,
            ]
        )
    return out.getvalue()


def worst(statuses: Iterable[str]) -> Status:
    found = set(statuses) | {"ok"}
    return next(s for s in STATUS_ORDER if s in found)  # type: ignore[return-value]
