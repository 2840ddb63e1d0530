"""Run a task's cases on a candidate answer and read the messages, for wrong-answer tests."""

from __future__ import annotations

from typing import Any

from actgrader.grading import CaseOutcome, LocalAnswer, TaskResult, run_task
from actgrader.grading.secret import Secret
from actgrader.tasks import get_task

TEST_SECRET = Secret(b"wrong-answer tests", "tests")


def grade_locally(task_id: str, answer: Any) -> TaskResult:
    task = get_task(task_id)
    return run_task(task, LocalAnswer(answer, task.answer), secret=TEST_SECRET, include_hidden=True)


def assert_fails_with(task_id: str, answer: Any, fragment: str) -> TaskResult:
    """The answer loses points, and the first public failure's message contains ``fragment``."""
    result = grade_locally(task_id, answer)
    assert result.earned < result.max_points, "a wrong answer earned full marks"
    public_failures = [o for o in result.outcomes if not o.hidden and not o.passed]
    assert public_failures, "only hidden cases caught this mistake; the learner gets no hint"
    messages = [o.message for o in public_failures]
    assert any(fragment in m for m in messages), messages
    return result


def first_public_failure(task_id: str, answer: Any) -> tuple[TaskResult, CaseOutcome]:
    """The task's result on ``answer`` and the first public case it fails (what a learner reads first)."""
    result = grade_locally(task_id, answer)
    assert result.earned < result.max_points, "a wrong answer earned full marks"
    failures = [o for o in result.outcomes if not o.hidden and not o.passed]
    assert failures, "only hidden cases caught this mistake; the learner gets no hint"
    return result, failures[0]


def assert_named(task_id: str, answer: Any, message: str, *, section: str | None = None) -> TaskResult:
    """The answer loses points, and the first public case it fails shows exactly ``message``.

    The message links the book: ``section`` when given, otherwise the failing case's own section
    (or the task's).
    """
    result, outcome = first_public_failure(task_id, answer)
    assert outcome.message == message, f"{outcome.name}: {outcome.message!r}"
    task = get_task(task_id)
    case = next(c for c in task.cases if c.name == outcome.name)
    assert outcome.section == (section or case.section or task.section)
    return result
