"""Run a task's cases on a candidate answer and read the messages, for wrong-answer tests."""

from __future__ import annotations

from typing import Any

from actgrader.grading import LocalAnswer, TaskResult, run_task
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
