"""run_task turns every way a learner's code can fail into a scored, explained outcome."""

from __future__ import annotations

import pytest

from actgrader.grading import LocalAnswer, Mistake, Task, run_task
from actgrader.grading.answer import LearnerCrashed, LearnerTimeout, MissingAnswer
from actgrader.grading.secret import Secret, public_seed
from actgrader.tasks._draws import redraw_until

SECRET = Secret(b"a test secret", "test")


def _task() -> Task:
    task = Task("demo_task", "Demo", answer="double", section="forward-propagation#sec-collapse")

    @task.case(points=1)
    def doubles_two(answer, ctx):
        """doubles 2"""
        if answer(2) - 4 != 0:  # arithmetic on an unusable value raises TypeError
            raise Mistake("double(2) should be 4")

    @task.case(points=2, hidden=True)
    def doubles_seeded(answer, ctx):
        """doubles a seeded number"""
        n = int(ctx.rng().integers(100))
        if answer(n) != 2 * n:
            raise Mistake("wrong for a hidden number")

    return task


def test_a_correct_answer_earns_every_point_when_hidden_cases_run():
    result = run_task(_task(), LocalAnswer(lambda n: 2 * n, "double"), secret=SECRET, include_hidden=True)
    assert [o.status for o in result.outcomes] == ["passed", "passed"]
    assert result.earned == result.max_points == 3
    assert result.hidden_ran


def test_self_check_leaves_hidden_cases_out_entirely():
    result = run_task(_task(), LocalAnswer(lambda n: 2 * n, "double"), secret=SECRET, include_hidden=False)
    assert [o.name for o in result.outcomes] == ["doubles_two"]


def test_without_a_secret_hidden_cases_are_skipped_and_worth_nothing():
    result = run_task(_task(), LocalAnswer(lambda n: 2 * n, "double"), secret=None, include_hidden=True)
    hidden = result.outcomes[1]
    assert hidden.status == "skipped" and hidden.earned == 0
    assert result.earned == 1 and result.max_points == 3 and not result.hidden_ran


def test_a_mistake_reports_its_message_and_the_section():
    result = run_task(_task(), LocalAnswer(lambda n: n + 2, "double"), secret=SECRET, include_hidden=True)
    first = result.outcomes[0]
    # n + 2 happens to be right for n = 2: the public case passes, the hidden one catches it
    assert first.passed
    assert result.outcomes[1].status == "failed"
    assert result.outcomes[1].message == "wrong for a hidden number"
    assert result.outcomes[1].section == "forward-propagation#sec-collapse"


def _raises(exc):
    def answer(*args):
        raise exc

    return answer


@pytest.mark.parametrize(
    ("learner", "status", "fragment"),
    [
        (_raises(NotImplementedError()), "unanswered", "still raises NotImplementedError"),
        (_raises(ZeroDivisionError("division by zero")), "error", "raised ZeroDivisionError: division by zero"),
        (lambda n: object(), "failed", "The check could not use"),
        (42, "failed", "should be a function"),
    ],
)
def test_learner_side_failures_become_messages(learner, status, fragment):
    result = run_task(_task(), LocalAnswer(learner, "double"), secret=SECRET, include_hidden=False)
    outcome = result.outcomes[0]
    assert outcome.status == status and outcome.earned == 0
    assert fragment in outcome.message


class _ProblemAnswer:
    """An Answer whose every call ends in the given problem, as a remote one can."""

    name = "double"
    is_callable = True

    def __init__(self, problem):
        self.problem = problem

    def __call__(self, *args, **kwargs):
        raise self.problem

    @property
    def value(self):
        raise self.problem


@pytest.mark.parametrize(
    ("problem", "status", "fragment"),
    [
        (LearnerTimeout("30 s"), "timeout", "did not finish in time"),
        (LearnerCrashed("exit code 1"), "crashed", "ended the process"),
        (MissingAnswer(), "missing", "is not defined"),
    ],
)
def test_timeouts_crashes_and_missing_names_become_messages(problem, status, fragment):
    result = run_task(_task(), _ProblemAnswer(problem), secret=SECRET, include_hidden=True)
    assert {o.status for o in result.outcomes} == {status}
    assert all(fragment in o.message for o in result.outcomes)
    assert result.earned == 0


def test_public_seeds_are_fixed_and_hidden_seeds_follow_the_secret():
    assert public_seed("t", "c") == public_seed("t", "c") != public_seed("t", "d")
    other = Secret(b"another secret", "test")
    assert SECRET.seed("t", "c") == Secret(b"a test secret", "x").seed("t", "c")
    assert SECRET.seed("t", "c") != other.seed("t", "c")
    assert SECRET.seed("t", "c") != public_seed("t", "c")


def test_cases_must_have_unique_names_and_positive_points():
    task = _task()
    with pytest.raises(ValueError):

        @task.case(points=1)
        def doubles_two(answer, ctx):
            pass

    with pytest.raises(ValueError):
        task.case(points=0)


def test_results_survive_a_json_round_trip():
    import json

    from actgrader.grading import TaskResult

    result = run_task(_task(), LocalAnswer(lambda n: n, "double"), secret=SECRET, include_hidden=True)
    again = TaskResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_a_fault_of_the_check_is_reported_as_the_grader_s_not_the_answer_s():
    task = Task("demo_task", "Demo", answer="double", section="forward-propagation#sec-collapse")

    @task.case(points=2, hidden=True)
    def never_separates(answer, ctx):
        """a hidden draw no input satisfies (a bug of the check)"""
        rng = ctx.rng()
        redraw_until(lambda: int(rng.integers(100)), lambda n: n > 100, case=ctx.label, limit=20)

    result = run_task(task, LocalAnswer(lambda n: 2 * n, "double"), secret=SECRET, include_hidden=True)
    (outcome,) = result.outcomes
    assert outcome.status == "error" and outcome.earned == 0
    assert "failed on the grader's side, not because of `double`" in outcome.message
    assert "demo_task.never_separates: none of 20 draws" in outcome.message
    assert "Tell your instructor" in outcome.message
    assert "could not use what" not in outcome.message
