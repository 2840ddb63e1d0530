"""Every task: its reference passes every case, under several secrets; its metadata is sound."""

from __future__ import annotations

import pytest

from actgrader.grading import LocalAnswer, run_task
from actgrader.grading.secret import Secret
from actgrader.tasks import all_tasks, task_ids

SECRETS = [Secret(f"secret number {i}".encode(), "test") for i in range(3)]


@pytest.mark.parametrize("task_id", task_ids())
def test_reference_passes_every_case_under_several_secrets(task_id):
    from actgrader.tasks import get_task

    task = get_task(task_id)
    assert task.reference is not None, f"{task_id} names no reference answer"
    for secret in SECRETS:
        result = run_task(task, LocalAnswer(task.reference, task.answer), secret=secret, include_hidden=True)
        failures = [(o.name, o.message) for o in result.outcomes if not o.passed]
        assert not failures, failures
        assert result.earned == task.points


@pytest.mark.parametrize("task_id", task_ids())
def test_every_task_has_public_and_hidden_cases_with_titles(task_id):
    from actgrader.tasks import get_task

    task = get_task(task_id)
    assert task.public_points > 0 and task.hidden_points > 0
    assert all(case.title and case.title[0].islower() for case in task.cases)
    assert task.section and "#" in task.section


def test_task_ids_match_their_modules():
    assert [t.id for t in all_tasks()] == task_ids()
