"""Run a task's cases on a candidate answer and read the messages, for wrong-answer tests."""

from __future__ import annotations

from collections.abc import Callable
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


def property_secret(i: int) -> Secret:
    """The ``i``-th of the secrets property tests draw hidden cases from."""
    return Secret(f"prop-{i}".encode(), "tests")


def hidden_passes_over_secrets(
    task_id: str, answer: Any, n: int, *, fresh: Callable[[], None] | None = None
) -> dict[str, list[int]]:
    """For each hidden case of the task, the secrets ``property_secret(i)``, i < n, under which it passes.

    A wrong answer must pass no hidden case under any secret: a draw where it does (a single
    layer, a width of 1, a tie...) is an accident of the data, and it would earn hidden points
    in roughly that fraction of real secrets. ``fresh``, when given, runs before each secret
    (to forget what an answer keeps between calls, as a new grading process would).
    """
    task = get_task(task_id)
    hidden = [c.name for c in task.cases if c.hidden]
    passes: dict[str, list[int]] = {name: [] for name in hidden}
    local = LocalAnswer(answer, task.answer)
    for i in range(n):
        if fresh is not None:
            fresh()
        result = run_task(task, local, secret=property_secret(i), include_hidden=True, only=hidden)
        for outcome in result.outcomes:
            if outcome.passed:
                passes[outcome.name].append(i)
    return passes
