"""Gradescope's autograder results format (``results.json``) for one graded submission.

Gradescope shows each entry of ``tests`` as a box with a name, a score out of ``max_score``
and an ``output`` text; the top-level ``score`` is the submission's autograder score.
Here: one entry per public case (its title, its points, the case's message and a link into
the book when it failed); one entry per task for its hidden cases, as a count only; one
entry, worth nothing here, per prose question graded by hand (an instructor adds those points
as manual questions on Gradescope). Every text is plain text (``output_format: text``), so
nothing a learner wrote is rendered as HTML or Markdown.
"""

from __future__ import annotations

from typing import Any, Literal

from actgrader.batch.feedback_page import BY_HAND, PUBLIC_ONLY, hidden_summary
from actgrader.batch.options import GRADESCOPE_VISIBILITIES as VISIBILITIES
from actgrader.batch.results import SubmissionResult
from actgrader.links import section_url

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


def _points(x: float) -> str:
    return f"{x:g}"


def _test(name: str, score: float, max_score: float, output: str, visibility: str, **extra: Any) -> dict[str, Any]:
    entry = {
        "name": name,
        "name_format": "text",
        "score": score,
        "max_score": max_score,
        "output": output,
        "output_format": "text",
        "visibility": visibility,
    }
    entry.update(extra)
    return entry


def _overview(result: SubmissionResult) -> str:
    lines = []
    if result.max_total:
        line = f"Auto-graded points: {_points(result.total)} of {_points(result.max_total)}."
        if result.manual_max:
            line += f" Written answers worth {_points(result.manual_max)} more points are {BY_HAND}."
        lines.append(line)
    if not result.hidden_ran and any(o.hidden for t in result.tasks for o in t.outcomes):
        lines.append(PUBLIC_ONLY)
    lines += result.messages
    lines += result.notes
    for cell in result.cells:
        if cell.get("origin") == "submission" and cell.get("status") not in ("ok", None):
            lines.append(f"Answer cell {cell.get('grade_id')}: {cell.get('message') or cell.get('status')}")
    return "\n".join(lines)


def results_json(result: SubmissionResult, *, hidden_visibility: Visibility = "visible") -> dict[str, Any]:
    """The ``results.json`` Gradescope reads for ``result`` (see the module docstring)."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tests: list[dict[str, Any]] = []
    for number, task in enumerate(result.tasks, start=1):
        public = [o for o in task.outcomes if not o.hidden]
        for sub, outcome in enumerate(public, start=1):
            if outcome.passed:
                output = "Passed."
            else:
                output = outcome.message or "Failed."
                if outcome.section:
                    output += f"\nRead: {section_url(outcome.section)}"
            tests.append(
                _test(
                    f"{task.title}: {outcome.title}",
                    outcome.earned,
                    outcome.points,
                    output,
                    "visible",
                    number=f"{number}.{sub}",
                    status="passed" if outcome.passed else "failed",
                    tags=[task.task_id],
                )
            )
        summary = hidden_summary(task)
        if summary is not None:
            hidden = [o for o in task.outcomes if o.hidden]
            earned = sum(o.earned for o in hidden)
            worth = sum(o.points for o in hidden)
            tests.append(
                _test(
                    f"{task.title}: hidden cases",
                    earned,
                    worth,
                    summary,
                    hidden_visibility,
                    number=f"{number}.{len(public) + 1}",
                    status="passed" if earned == worth else "failed",
                    tags=[task.task_id, "hidden"],
                )
            )
    for answer in result.prose:
        text = f"Worth {_points(float(answer.get('points', 0)))} points, {BY_HAND} (not part of this score)."
        if answer.get("answered"):
            text += "\nYour answer, as submitted:\n\n" + str(answer.get("text", ""))
        else:
            text += "\nYou did not write an answer here."
        tests.append(_test(f"{answer.get('title')} ({BY_HAND})", 0, 0, text, "visible", tags=["graded-by-hand"]))
    return {
        "score": result.total,
        "execution_time": round(result.seconds),
        "output": _overview(result),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "student": result.student,
            "assignment": result.assignment,
            "status": result.status,
            "auto_graded_max": result.max_total,
            "graded_by_hand_max": result.manual_max,
            "hidden_cases_ran": result.hidden_ran,
        },
    }
