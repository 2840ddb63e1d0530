"""One graded submission, summarised once for all of its renderings.

The terminal summary (:mod:`~actgrader.batch.report`), the feedback page
(:mod:`~actgrader.batch.feedback_page`), Gradescope's ``results.json``
(:mod:`~actgrader.batch.gradescope`) and ``grades.csv`` (:mod:`~actgrader.batch.gradebook`)
show the same result. :func:`summarize` works out, once, what they show: the scores, the
public failures grouped by message, the hidden cases as counts (and whether the hint about
them applies), the problems with the notebook, the written answers. Every sentence they
share is written here once; the formatters only lay it out as text, HTML, JSON or CSV.

Hidden cases are never described to a learner, only counted: :class:`TaskSummary` keeps
their messages apart (``instructor_messages``), for the instructor's terminal summary only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from actgrader.batch.results import SubmissionResult
from actgrader.grading.cases import CaseOutcome, Task, TaskResult
from actgrader.grading.secret import SECRET_ENV, SECRET_FILE_ENV
from actgrader.grading.verdict import FailureGroup, failure_groups, failure_lines, grade_text

BY_HAND = "graded by your instructor"
PUBLIC_ONLY = (
    "Only the public cases ran: the grader had no instructor secret, so the hidden cases were not graded "
    "and count 0 for now. This is not your final grade."
)
NO_SECRET = (
    f"NO INSTRUCTOR SECRET: only the public cases ran; hidden cases were not graded and count 0 "
    f"(set {SECRET_ENV} or {SECRET_FILE_ENV}, or use --secret-file)."
)
HIDDEN_HINT = "They use other sizes and seeds than the public ones: check that your code works for any shapes."

# What grades.csv says of a submission's hidden cases (column ``hidden_cases``).
HiddenState = Literal["graded", "not graded (no instructor secret)", "none"]

# How the instructor's summary names each status (``ok`` and ``errors`` are counted by task instead).
STATUS_PROBLEMS: dict[str, str] = {
    "untouched": "untouched (no answer written)",
    "timeout": "timed out",
    "crashed": "crashed",
    "wrong-assignment": "wrong assignment",
    "invalid": "not a readable notebook",
    "internal-error": "grader error (see the JSON records)",
}


def points(value: float) -> str:
    """A number of points as every output writes it (``5``, ``2.5``)."""
    return f"{value:g}"


@dataclass(frozen=True)
class HiddenCases:
    """A task's hidden cases, as a learner may see them: counts only."""

    count: int
    graded: bool  # False: no instructor secret, so they did not run
    passed: int
    earned: float
    worth: float
    hint: bool  # the learner's function ran and passed in public, yet hidden cases failed

    def text(self) -> str:
        if not self.graded:
            return f"Hidden cases: {self.count} not graded (no instructor secret: public cases only)."
        score = f"{points(self.earned)} of {points(self.worth)} points"
        text = f"Hidden cases: {self.passed} of {self.count} pass ({score})."
        return f"{text} {HIDDEN_HINT}" if self.hint else text


@dataclass(frozen=True)
class TaskSummary:
    """One task of a submission: its score, public cases, grouped failures and hidden counts."""

    task_id: str
    title: str
    earned: float
    max_points: float
    answered: bool
    public: tuple[CaseOutcome, ...]
    failures: tuple[FailureGroup, ...]  # the public cases that failed, one group per message
    hidden: HiddenCases | None  # None: the task has no hidden cases
    instructor_messages: tuple[str, ...]  # every failed case's message, hidden ones too

    @property
    def lost_points(self) -> bool:
        return self.earned < self.max_points


def summarize_task(result: TaskResult) -> TaskSummary:
    public = tuple(o for o in result.outcomes if not o.hidden)
    hidden = [o for o in result.outcomes if o.hidden]
    graded_failures = [o for o in result.outcomes if not o.passed and o.status != "skipped"]
    hidden_cases = None
    if hidden:
        ran = [o for o in hidden if o.status != "skipped"]
        graded = result.hidden_ran and bool(ran)
        passed = sum(o.passed for o in ran)
        hidden_cases = HiddenCases(
            count=len(hidden),
            graded=graded,
            passed=passed,
            earned=sum(o.earned for o in hidden),
            worth=sum(o.points for o in hidden),
            hint=graded and result.answered and passed < len(ran) and all(o.passed for o in public),
        )
    return TaskSummary(
        task_id=result.task_id,
        title=result.title,
        earned=result.earned,
        max_points=result.max_points,
        answered=result.answered,
        public=public,
        failures=tuple(failure_groups(o for o in public if not o.passed and o.status != "skipped")),
        hidden=hidden_cases,
        instructor_messages=tuple(dict.fromkeys(o.message for o in graded_failures if o.message)),
    )


def feedback_text(task: Task, result: TaskResult) -> str:
    """A task's feedback as plain text (kept in the record): the score line, public failures, hidden counts."""
    summary = summarize_task(result)
    lines = [grade_text(task, result).splitlines()[0], *failure_lines(summary.failures)]
    if summary.hidden is not None and summary.hidden.hint:
        lines.append(f"  {summary.hidden.text()}")
    return "\n".join(lines)


@dataclass(frozen=True)
class CellProblem:
    """A learner's answer cell that did not run cleanly."""

    grade_id: str
    position: int  # 1-based, in the learner's notebook
    message: str

    def text(self) -> str:
        return f"Answer cell {self.grade_id} (cell {self.position} of your notebook): {self.message}"


@dataclass(frozen=True)
class WrittenAnswer:
    """A prose question graded by hand, with the learner's text."""

    grade_id: str
    title: str
    points: float
    text: str
    answered: bool
    found: bool
    truncated: bool

    def worth_text(self) -> str:
        return f"Worth {points(self.points)} points, {BY_HAND}: not included in the auto-graded points."

    def state_text(self) -> str:
        if self.answered:
            note = " (It was longer; only its beginning is kept here.)" if self.truncated else ""
            return "Your answer, as submitted:" + note
        if self.found:
            return "You did not write an answer here (the cell still holds the placeholder or is empty)."
        return "Your notebook has no cell for this answer (was it deleted?)."


@dataclass(frozen=True)
class SubmissionSummary:
    """Everything any output shows of one submission (see the module docstring)."""

    student: str
    assignment: str | None
    status: str
    total: float
    max_total: float
    manual_max: float
    hidden: HiddenState
    messages: tuple[str, ...]  # why points were lost wholesale
    notes: tuple[str, ...]  # remarks on the notebook
    cell_problems: tuple[CellProblem, ...]
    tasks: tuple[TaskSummary, ...]
    written: tuple[WrittenAnswer, ...]

    @property
    def public_only(self) -> bool:
        return self.hidden == "not graded (no instructor secret)"

    def score_text(self) -> str | None:
        """The overall score line, or None when nothing was auto-graded."""
        if not (self.tasks or self.max_total):
            return None
        text = f"Auto-graded points: {points(self.total)} of {points(self.max_total)}."
        if self.manual_max:
            text += f" Written answers worth {points(self.manual_max)} more points are {BY_HAND}."
        return text


def _hidden_state(tasks: tuple[TaskSummary, ...]) -> HiddenState:
    hidden = [t.hidden for t in tasks if t.hidden is not None]
    if not hidden:
        return "none"
    return "graded" if all(h.graded for h in hidden) else "not graded (no instructor secret)"


def _cell_problems(cells: list[dict[str, Any]]) -> tuple[CellProblem, ...]:
    return tuple(
        CellProblem(
            str(c.get("grade_id")), int(c.get("notebook_index", 0)) + 1, str(c.get("message") or c.get("status"))
        )
        for c in cells
        if c.get("origin") == "submission" and c.get("status") not in ("ok", None)
    )


def summarize(result: SubmissionResult) -> SubmissionSummary:
    """What every output shows of ``result``."""
    tasks = tuple(summarize_task(t) for t in result.tasks)
    written = tuple(
        WrittenAnswer(
            grade_id=str(a.get("grade_id", "")),
            title=str(a.get("title", "")),
            points=float(a.get("points", 0)),
            text=str(a.get("text", "")),
            answered=bool(a.get("answered")),
            found=bool(a.get("found")),
            truncated=bool(a.get("truncated")),
        )
        for a in result.prose
    )
    return SubmissionSummary(
        student=result.student,
        assignment=result.assignment,
        status=result.status,
        total=result.total,
        max_total=result.max_total,
        manual_max=result.manual_max,
        hidden=_hidden_state(tasks),
        messages=tuple(result.messages),
        notes=tuple(result.notes),
        cell_problems=_cell_problems(result.cells),
        tasks=tasks,
        written=written,
    )
