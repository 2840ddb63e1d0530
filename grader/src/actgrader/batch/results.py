"""Grading records: one JSON file per submission, written so that a killed run loses none.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``),
so a run killed at any moment leaves each record either complete or absent, and ``--resume``
can trust what it finds. ``grades.csv`` (:mod:`~actgrader.batch.gradebook`) is always rebuilt
from the records, never appended to: nothing is lost and nothing counted twice.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from actgrader.grading.cases import TaskResult

RECORD_FORMAT = 2  # 2: prose answers and hand-graded maximum
Status = Literal["ok", "untouched", "errors", "timeout", "crashed", "wrong-assignment", "invalid", "internal-error"]
# Worst first: the status of a submission is the worst thing that happened to it.
# "untouched": every answer is still the release's stub (nothing else went wrong).
STATUS_ORDER: tuple[str, ...] = (
    "internal-error",
    "invalid",
    "wrong-assignment",
    "crashed",
    "timeout",
    "errors",
    "untouched",
    "ok",
)


@dataclass
class SubmissionResult:
    """Everything the grader found for one submission (learner-facing text and instructor detail)."""

    student: str  # the student id (see submissions.find_submissions)
    source: str
    status: Status
    key: str = ""  # names this submission's files; unique in a batch (the student id when empty)
    assignment: str | None = None
    release: str | None = None
    sha256: str = ""
    total: float = 0.0  # auto-graded points earned (prose questions are graded by hand, not here)
    max_total: float = 0.0  # auto-graded points available
    manual_max: float = 0.0  # points of the prose questions an instructor grades by hand
    hidden_ran: bool = False
    secret_tag: str = ""  # which secret seeded the hidden cases (a digest, never the secret): secret.resume_tag
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

    @property
    def file_id(self) -> str:
        return self.key or self.student

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


# The output folder's layout (``actgrade grade -o OUT``): one place for every path in it.


def record_path(output: Path, file_id: str) -> Path:
    return output / "results" / f"{file_id}.json"


def feedback_path(output: Path, file_id: str) -> Path:
    return output / "feedback" / f"{file_id}.html"


def gradescope_path(output: Path, file_id: str) -> Path:
    return output / "gradescope" / f"{file_id}.json"


def gradebook_path(output: Path) -> Path:
    return output / "grades.csv"


def save_record(output: Path, result: SubmissionResult) -> Path:
    path = record_path(output, result.file_id)
    write_atomic(path, json.dumps(result.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def load_record(output: Path, file_id: str) -> SubmissionResult | None:
    """The submission's record if it exists, parses and is complete; None otherwise."""
    path = record_path(output, file_id)
    try:
        result = SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return result if result.complete else None


def worst(statuses: Iterable[str]) -> Status:
    found = set(statuses) | {"ok"}
    return next(s for s in STATUS_ORDER if s in found)  # type: ignore[return-value]
