"""``actgrade`` and ``nbgrader autograde``, same check modules, same secret, same notebooks: same points per task.

For every assignment: the solution, the untouched release and two partly wrong notebooks
(every answer perturbed so that some cases pass and some fail; only the first task answered).
Where the two legitimately differ (grader/README.md, "Known differences from nbgrader"),
both sides are tested on one notebook of the first assignment: a helper defined in a cell the
learner added counts under nbgrader only; a function redefined in an added cell changes
nbgrader's score only.
nbgrader runs in the background from the start of the session (batch_background.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from batch_background import background
from batch_nb import Exercise, cell, exercises, fresh_secret, learner_solution, perturbation, write
from grading_support import NbgraderCourse

from actgrader.batch import GradingOptions, grade_submissions
from actgrader.grading.conventions import answer_id
from actgrader.grading.secret import Secret

pytestmark = pytest.mark.slow

EXERCISES = exercises()
# The assignment for the differences: the lightest notebook, with at least two tasks.
FIRST = next((e for e in EXERCISES if e.name == "forward-propagation"), EXERCISES[0])
COMPARED = ("solution", "untouched", "perturbed", "first-task-only")
ADDED = "added-cells"


def _added_cell(source: str) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def _differences(exercise: Exercise) -> dict[str, dict[str, Any]]:
    """One notebook on which the graders differ: cells added next to the first two tasks' answers.

    Before the first task's answer cell, a cell holding its solution (the answer cell then only
    refers to it); after the second task's answer cell, a cell redefining its function wrongly.
    """
    first, second = exercise.tasks[:2]
    nb = exercise.solved()
    answer = cell(nb, answer_id(first.id))
    helper = _added_cell(learner_solution(answer_id(first.id), exercise.name))
    nb["cells"].insert(nb["cells"].index(answer), helper)
    answer["source"] = f"{first.answer} = {first.answer}  # written in the cell I added above\n"
    at = nb["cells"].index(cell(nb, answer_id(second.id))) + 1
    nb["cells"].insert(at, _added_cell(perturbation(second)))
    return {ADDED: nb}


def _submissions(exercise: Exercise) -> dict[str, dict[str, Any]]:
    first = exercise.tasks[0]
    only_first = exercise.with_sources(
        exercise.untouched(), **{answer_id(first.id): learner_solution(answer_id(first.id), exercise.name)}
    )
    found = {
        "solution": exercise.solved(),
        "untouched": exercise.untouched(),
        "perturbed": exercise.perturbed(),
        "first-task-only": only_first,
    }
    if exercise.name == FIRST.name:
        found.update(_differences(exercise))
    return {f"{exercise.name}--{variant}": copy.deepcopy(nb) for variant, nb in found.items()}


def nbgrader_side(root: Path) -> dict[str, Any]:
    """Every submission autograded by nbgrader (one course per assignment, one after the other).

    Runs in the background from the start of the session (see conftest.py); also writes the
    same notebooks in nbgrader's layout for actgrade.
    """
    secret = fresh_secret()
    scores: dict[str, dict[str, float]] = {}
    for exercise in EXERCISES:
        course = NbgraderCourse.create(root / "courses" / exercise.name, exercise.name)
        for student, nb in _submissions(exercise).items():
            course.submit(student, nb)
            write(root / "actgrade" / "submitted" / student / exercise.name / f"{exercise.name}.ipynb", nb)
        course.generate({"ACTGRADER_SECRET": secret})
        course.autograde({"ACTGRADER_SECRET": secret})
        scores.update(course.task_scores())
    return {"secret": secret, "scores": scores, "submitted": root / "actgrade" / "submitted"}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    nbgrader = background("nbgrader", nbgrader_side, tmp_path_factory)
    options = GradingOptions(output=tmp_path_factory.mktemp("parity-out"), jobs=2, progress=False)
    key = Secret(nbgrader["secret"].encode(), "test")
    records = grade_submissions([nbgrader["submitted"]], options, secret=key)
    actgrade_scores = {r.student: {t.task_id: t.earned for t in r.tasks} for r in records}
    return {"actgrade": actgrade_scores, "nbgrader": nbgrader["scores"], "records": {r.student: r for r in records}}


@pytest.mark.parametrize("name", [e.name for e in EXERCISES])
@pytest.mark.parametrize("variant", COMPARED)
def test_same_points_per_task(both, name, variant):
    student = f"{name}--{variant}"
    actgrade, nbgrader = both["actgrade"][student], both["nbgrader"][student]
    assert both["records"][student].hidden_ran
    assert set(actgrade) == set(nbgrader) == {t.id for t in Exercise(name).tasks}
    for task_id, points in actgrade.items():
        # nbgrader reads the points from grade()'s printed value (6 significant digits).
        assert nbgrader[task_id] == pytest.approx(points, rel=1e-5, abs=1e-9), task_id


def test_the_comparison_covers_partial_credit(both):
    """The partly wrong notebooks lose points; with more than one task, one of them earns some."""
    for exercise in EXERCISES:
        totals = {v: sum(both["actgrade"][f"{exercise.name}--{v}"].values()) for v in ("perturbed", "first-task-only")}
        assert all(total < exercise.full for total in totals.values()), (exercise.name, totals)
        if len(exercise.tasks) > 1:
            assert totals["first-task-only"] > 0, exercise.name


def test_a_helper_in_an_added_cell_counts_under_nbgrader_only(both):
    student = f"{FIRST.name}--{ADDED}"
    task = FIRST.tasks[0]
    assert both["nbgrader"][student][task.id] == task.points
    assert both["actgrade"][student][task.id] == 0
    record = both["records"][student]
    assert any("code cell(s) you added were not run" in note for note in record.notes)


def test_a_redefinition_in_an_added_cell_changes_nbgraders_score_only(both):
    student = f"{FIRST.name}--{ADDED}"
    task = FIRST.tasks[1]
    assert both["actgrade"][student][task.id] == task.points
    perturbed = both["actgrade"][f"{FIRST.name}--perturbed"][task.id]
    assert perturbed < task.points
    assert both["nbgrader"][student][task.id] == pytest.approx(perturbed, rel=1e-5)
    for other in FIRST.tasks[2:]:
        assert both["actgrade"][student][other.id] == both["nbgrader"][student][other.id] == other.points
