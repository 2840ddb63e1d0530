"""Every assignment in exercises/ and solutions/, graded by ``actgrade grade`` in one batch.

For each assignment (discovered, not listed): the solution earns every auto-graded point and
the untouched release none; the same notebook graded twice (in two sandboxes) gets the same
outcome for every case, right or partly wrong; an endless loop in one task's answer cell
costs that task only; the written answers show up as hand-graded columns. Expected points
come from the task modules.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from batch_nb import (
    FAST,
    Exercise,
    assignment_names,
    exercises,
    fresh_secret,
    grades,
    learner_solution,
    max_row,
    records,
    release_path,
    run_actgrade,
    solution_path,
    write,
)

from actgrader.batch.gradebook import by_hand_column
from actgrader.grading.conventions import answer_id

EXERCISES = exercises()
NAMES = [e.name for e in EXERCISES]
LOOP = "\nwhile True:  # never ends\n    pass\n"


def _student(assignment: str, variant: str) -> str:
    return f"{assignment}--{variant}"


def _variants(exercise: Exercise) -> dict[str, dict[str, Any]]:
    broken = exercise.standalone_task()
    looping = learner_solution(answer_id(broken.id), exercise.name) + LOOP
    return {
        "solution": exercise.solved(),
        "solution-again": exercise.solved(),
        "untouched": exercise.untouched(),
        "perturbed": exercise.perturbed(),
        "perturbed-again": exercise.perturbed(),
        "loop": exercise.with_sources(exercise.solved(), **{answer_id(broken.id): looping}),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("assignments")
    for exercise in EXERCISES:
        for variant, nb in _variants(exercise).items():
            student = _student(exercise.name, variant)
            write(root / "submitted" / student / exercise.name / f"{exercise.name}.ipynb", nb)
    proc = run_actgrade([root / "submitted"], root / "out", *FAST, env={"ACTGRADER_SECRET": fresh_secret()})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["student"]: r for r in grades(root / "out")}
    return {"out": root / "out", "records": records(root / "out"), "rows": rows}


def test_every_assignment_has_a_solution_and_a_release():
    assert "forward-propagation" in assignment_names()
    for name in assignment_names():
        assert solution_path(name).is_file(), f"{name}: no solution notebook"
        assert release_path(name).is_file(), f"{name}: no release (run make exercises)"


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_earns_every_auto_graded_point(batch, name):
    exercise = Exercise(name)
    record = batch["records"][_student(name, "solution")]
    assert (record.status, record.assignment) == ("ok", name)
    assert record.hidden_ran
    assert record.total == record.max_total == exercise.full > 0
    assert all(o.status == "passed" for t in record.tasks for o in t.outcomes)
    row = batch["rows"][_student(name, "solution")]
    for task in exercise.tasks:
        assert float(row[task.id]) == task.points
    gradescope = json.loads((batch["out"] / "gradescope" / f"{_student(name, 'solution')}.json").read_text())
    assert gradescope["score"] == exercise.full
    assert sum(t["score"] for t in gradescope["tests"]) == exercise.full
    assert sum(t["max_score"] for t in gradescope["tests"]) == exercise.full


@pytest.mark.parametrize("name", NAMES)
def test_the_untouched_release_earns_nothing(batch, name):
    exercise = Exercise(name)
    record = batch["records"][_student(name, "untouched")]
    assert record.assignment == name
    assert record.total == 0 and record.max_total == exercise.full
    assert float(batch["rows"][_student(name, "untouched")]["auto_graded_points"]) == 0
    assert all(not o.passed for t in record.tasks for o in t.outcomes)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("variant", ["solution", "perturbed"])
def test_the_same_notebook_gets_the_same_outcome_for_every_case(batch, name, variant):
    def outcomes(student: str) -> list[tuple[str, str, str, float]]:
        record = batch["records"][student]
        return [(t.task_id, o.name, o.status, o.earned) for t in record.tasks for o in t.outcomes]

    first = outcomes(_student(name, variant))
    assert first == outcomes(_student(name, f"{variant}-again"))
    assert sum(earned for *_, earned in first) <= Exercise(name).full


@pytest.mark.parametrize("name", NAMES)
def test_an_endless_loop_in_one_task_costs_that_task_only(batch, name):
    exercise = Exercise(name)
    broken = exercise.standalone_task()
    record = batch["records"][_student(name, "loop")]
    assert record.status == "timeout"
    assert record.total == exercise.full - broken.points
    for task in record.tasks:
        kinds = {o.status for o in task.outcomes}
        assert kinds == ({"timeout"} if task.task_id == broken.id else {"passed"}), task.task_id
    (cell,) = [c for c in record.cells if c["grade_id"] == answer_id(broken.id)]
    assert cell["status"] == "timeout"
    page = (batch["out"] / "feedback" / f"{_student(name, 'loop')}.html").read_text(encoding="utf-8")
    assert "did not finish within 4 s" in page


@pytest.mark.parametrize("name", NAMES)
def test_feedback_pages_name_every_task_and_count_hidden_cases_only(batch, name):
    exercise = Exercise(name)
    public_titles = {c.title for t in exercise.tasks for c in t.cases if not c.hidden}
    hidden_titles = {c.title for t in exercise.tasks for c in t.cases if c.hidden} - public_titles
    for variant in ("solution", "untouched"):
        page = (batch["out"] / "feedback" / f"{_student(name, variant)}.html").read_text(encoding="utf-8")
        for task in exercise.tasks:
            assert f"({task.id})" in page
        assert page.count("Hidden cases: ") == sum(1 for t in exercise.tasks if t.hidden_points)
        assert not [title for title in hidden_titles if title in page]


@pytest.mark.parametrize("name", NAMES)
def test_written_answers_are_columns_to_grade_by_hand(batch, name):
    exercise = Exercise(name)
    questions = exercise.release.prose
    maxima = max_row(batch["out"], name)
    solution = batch["records"][_student(name, "solution")]
    untouched = batch["records"][_student(name, "untouched")]
    assert solution.manual_max == sum(q.points for q in questions)
    for question in questions:
        column = by_hand_column(question.grade_id)
        assert float(maxima[column]) == question.points
        assert batch["rows"][_student(name, "solution")][column] == ""
    assert [p["answered"] for p in solution.prose] == [True] * len(questions)
    assert [p["answered"] for p in untouched.prose] == [False] * len(questions)
