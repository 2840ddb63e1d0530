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

from actgrader.batch.options import GRADESCOPE_VISIBILITIES as VISIBILITIES
from actgrader.batch.results import SubmissionResult
from actgrader.batch.summary import BY_HAND, PUBLIC_ONLY, SubmissionSummary, summarize
from actgrader.links import section_url

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


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


def _overview(summary: SubmissionSummary) -> str:
    lines = [summary.score_text() or ""] if summary.max_total else []
    if summary.public_only:
        lines.append(PUBLIC_ONLY)
    lines += summary.messages
    lines += summary.notes
    lines += [p.text() for p in summary.cell_problems]
    return "\n".join(lines)


def results_json(
    result: SubmissionResult,
    *,
    hidden_visibility: Visibility = "visible",
    summary: SubmissionSummary | None = None,
) -> dict[str, Any]:
    """The ``results.json`` Gradescope reads for ``result`` (see the module docstring);
    ``summary`` is ``summarize(result)`` when the caller has it already."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    summary = summary or summarize(result)
    tests: list[dict[str, Any]] = []
    for number, task in enumerate(summary.tasks, start=1):
        why = {group.message: group for group in task.failures}
        for sub, outcome in enumerate(task.public, start=1):
            if outcome.passed:
                output = "Passed."
            else:
                group = why[outcome.message or "failed"]
                output = "\n".join([group.message, *(f"Read: {section_url(s)}" for s in group.sections)])
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
        if task.hidden is not None:
            hidden = task.hidden
            tests.append(
                _test(
                    f"{task.title}: hidden cases",
                    hidden.earned,
                    hidden.worth,
                    hidden.text(),
                    hidden_visibility,
                    number=f"{number}.{len(task.public) + 1}",
                    status="passed" if hidden.earned == hidden.worth else "failed",
                    tags=[task.task_id, "hidden"],
                )
            )
    for answer in summary.written:
        text = f"{answer.worth_text()}\n{answer.state_text()}"
        if answer.answered:
            text += "\n\n" + answer.text
        tests.append(_test(f"{answer.title} ({BY_HAND})", 0, 0, text, "visible", tags=["graded-by-hand"]))
    return {
        "score": summary.total,
        "execution_time": round(result.seconds),
        "output": _overview(summary),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "student": summary.student,
            "assignment": summary.assignment,
            "status": summary.status,
            "auto_graded_max": summary.max_total,
            "graded_by_hand_max": summary.manual_max,
            "hidden_cases_ran": summary.hidden == "graded",
        },
    }
