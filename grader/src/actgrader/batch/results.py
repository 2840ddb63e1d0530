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

RECORD_FORMAT = 2  # 2: prose answers and hand-graded maximum
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
    total: float = 0.0  # auto-graded points earned (prose questions are graded by hand, not here)
    max_total: float = 0.0  # auto-graded points available
    manual_max: float = 0.0  # points of the prose questions an instructor grades by hand
    hidden_ran: bool = False
    secret_tag: str = ""  # which secret seeded the hidden cases (a digest, never the secret): see engine
    tasks: list[TaskResult] = field(default_factory=list)
    feedback: dict[str, str] = field(default_factory=dict)  # task id -> text (hidden cases as counts)
    prose: list[dict[str, Any]] = field(default_factory=list)  # see notebooks.prose_answers
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


# The gradebook's fixed columns: the totals count auto-graded points only, and say so.
AUTO_POINTS = "auto_graded_points"
AUTO_MAX = "auto_graded_max"
BY_HAND_MAX = "graded_by_hand_max"
# The first row under the header: each column's maximum (no student id can take this form,
# see submissions.safe_id).
MAX_ROW = "(max points)"


def by_hand_column(grade_id: str) -> str:
    """The gradebook column of a prose question: left empty for the instructor to fill in."""
    return f"{grade_id} (graded by hand)"


@dataclass(frozen=True)
class Gradebook:
    """The columns of ``grades.csv``: auto-graded tasks, then prose questions, with their maxima."""

    tasks: dict[str, float]  # task id -> points available
    prose: dict[str, float]  # prose grade_id -> points available

    def header(self) -> list[str]:
        prose = [by_hand_column(g) for g in self.prose]
        return ["student", "assignment", *self.tasks, *prose, AUTO_POINTS, AUTO_MAX, BY_HAND_MAX, "status"]

    def max_row(self, results: list[SubmissionResult]) -> list[str]:
        assignments = {r.assignment for r in results if r.assignment}
        auto = {r.max_total for r in results if r.assignment}
        manual = {r.manual_max for r in results if r.assignment}
        single = len(assignments) == 1
        return [
            MAX_ROW,
            next(iter(assignments)) if single else "",
            *(_points(p) for p in self.tasks.values()),
            *(_points(p) for p in self.prose.values()),
            "",
            _points(auto.pop()) if len(auto) == 1 else "",
            _points(manual.pop()) if len(manual) == 1 else "",
            "",
        ]


def grades_csv(results: Iterable[SubmissionResult], gradebook: Gradebook) -> str:
    """The class's gradebook: a header, a row of maxima, then one row per student (sorted).

    A column per auto-graded task (points earned), a column per prose question (empty: an
    instructor grades it by hand), the auto-graded total and maximum, the hand-graded
    maximum, and the submission's status.
    """
    ordered = sorted(results, key=lambda r: r.student)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(gradebook.header())
    writer.writerow(gradebook.max_row(ordered))
    for result in ordered:
        points = result.task_points()
        writer.writerow(
            [
                result.student,
                result.assignment or "",
                *(_points(points[t]) if t in points else "" for t in gradebook.tasks),
                *("" for _ in gradebook.prose),
                _points(result.total),
                _points(result.max_total),
                _points(result.manual_max),
                result.status,
            ]
        )
    return out.getvalue()


def worst(statuses: Iterable[str]) -> Status:
    found = set(statuses) | {"ok"}
    return next(s for s in STATUS_ORDER if s in found)  # type: ignore[return-value]
