"""The class's gradebook, ``grades.csv``: one row per submission, rebuilt from the records.

Columns: ``student`` (the id ``actgrade`` gives: nbgrader's folder name, else the notebook's
name), ``assignment``, a column per auto-graded task and per written answer of the assignments
graded (never of the others), the auto-graded total and maximum, the hand-graded maximum,
``hidden_cases`` (graded, or not graded without the instructor secret) and ``status``.
Each assignment's maxima come first, in a row of their own whose ``student`` is empty and
whose ``status`` is ``(max points)``, so that no maxima pass for a student.

Every cell is safe to open in a spreadsheet: a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return (a student folder named ``=HYPERLINK(...)`` or ``+1+2``)
is prefixed with ``'``, so it stays text instead of running as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actgrader.batch.notebooks import ReleaseNotebook
from actgrader.batch.results import SubmissionResult
from actgrader.batch.summary import SubmissionSummary, points, summarize
from actgrader.grading.cases import Task

AUTO_POINTS = "auto_graded_points"
AUTO_MAX = "auto_graded_max"
BY_HAND_MAX = "graded_by_hand_max"
HIDDEN = "hidden_cases"
# The ``status`` of an assignment's row of maxima (its ``student`` cell is empty).
MAX_ROW = "(max points)"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def by_hand_column(grade_id: str) -> str:
    """The gradebook column of a prose question: left empty for the instructor to fill in."""
    return f"{grade_id} (graded by hand)"


def spreadsheet_safe(text: str) -> str:
    """``text`` as a cell no spreadsheet runs as a formula (see the module docstring)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class AssignmentColumns:
    """One assignment's columns in the gradebook, with their maxima."""

    assignment: str
    tasks: dict[str, float]  # task id -> points available
    prose: dict[str, float]  # prose grade_id -> points available


@dataclass(frozen=True)
class Gradebook:
    """The columns of ``grades.csv``: the graded assignments' tasks, then their prose questions."""

    assignments: tuple[AssignmentColumns, ...]

    @classmethod
    def of(cls, releases: Sequence[ReleaseNotebook], tasks: dict[str, Task]) -> Gradebook:
        return cls(
            tuple(
                AssignmentColumns(
                    r.assignment, {t: tasks[t].points for t in r.task_ids}, {q.grade_id: q.points for q in r.prose}
                )
                for r in releases
            )
        )

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(t for a in self.assignments for t in a.tasks))

    @property
    def prose(self) -> list[str]:
        return list(dict.fromkeys(q for a in self.assignments for q in a.prose))

    def header(self) -> list[str]:
        prose = [by_hand_column(g) for g in self.prose]
        return ["student", "assignment", *self.tasks, *prose, AUTO_POINTS, AUTO_MAX, BY_HAND_MAX, HIDDEN, "status"]

    def max_rows(self) -> list[list[str]]:
        return [
            [
                "",
                columns.assignment,
                *(points(columns.tasks[t]) if t in columns.tasks else "" for t in self.tasks),
                *(points(columns.prose[q]) if q in columns.prose else "" for q in self.prose),
                "",
                points(sum(columns.tasks.values())),
                points(sum(columns.prose.values())),
                "",
                MAX_ROW,
            ]
            for columns in self.assignments
        ]

    def row(self, summary: SubmissionSummary) -> list[str]:
        earned = {t.task_id: t.earned for t in summary.tasks}
        graded = bool(summary.tasks or summary.max_total)
        return [
            summary.student,
            summary.assignment or "",
            *(points(earned[t]) if t in earned else "" for t in self.tasks),
            *("" for _ in self.prose),
            points(summary.total),
            points(summary.max_total) if graded else "",
            points(summary.manual_max) if graded else "",
            summary.hidden if summary.tasks else "",
            summary.status,
        ]


def grades_csv(results: Iterable[SubmissionResult], gradebook: Gradebook) -> str:
    """The gradebook: a header, each assignment's row of maxima, then a row per submission
    (sorted by student, then assignment)."""
    ordered = sorted(results, key=lambda r: (r.student, r.assignment or "", r.source))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = [gradebook.header(), *gradebook.max_rows(), *(gradebook.row(summarize(r)) for r in ordered)]
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return out.getvalue()
