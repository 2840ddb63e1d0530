"""``actgrade`` and ``nbgrader autograde``, same check modules, same secret, same notebooks: same points per task.

nbgrader grades through actgrade's sandbox (``nbgrader_config.py``,
``actgrader/batch/nbgrader_door.py``), driven here by nbgrader's own command. For every
assignment: the solution, the untouched release and two partly wrong notebooks (every answer
perturbed so that some cases pass and some fail; only the first task answered). For the first
assignment also: cells the learner added (a helper the answer uses, a wrong redefinition: both
ignored by both doors), the six attacks that earned full marks in nbgrader's own kernel, a
notebook printing every place the instructor secret could be read from, and a notebook with
duplicated cells and forged metadata (nbgrader_attacks.py).
nbgrader runs in the background from the start of the session (batch_background.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from batch_background import background
from batch_nb import Exercise, cell, exercises, fresh_secret, learner_solution, perturbation, write
from grading_support import SOLUTIONS, NbgraderCourse
from nbgrader_attacks import bad_notebook, cheats, secret_dump

from actgrader.batch import GradingOptions, grade_submissions
from actgrader.grading.conventions import answer_id
from actgrader.grading.secret import Secret

pytestmark = pytest.mark.slow

EXERCISES = exercises()
# The assignment for the differences: the lightest notebook, with at least two tasks.
FIRST = next((e for e in EXERCISES if e.name == "forward-propagation"), EXERCISES[0])
COMPARED = ("solution", "untouched", "perturbed", "first-task-only")
ADDED = "added-cells"
DUMP, BAD = "secret-dump", "bad-notebook"


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


def _submissions(exercise: Exercise, courses: Path) -> dict[str, dict[str, Any]]:
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
        solution = Path(exercise.name) / f"{exercise.name}.ipynb"
        # The attack reads the instructor's solution from the course folder (absolute, and relative
        # to the folder nbgrader's kernel ran in) and from the course repository.
        paths = [courses / exercise.name / "solutions" / solution, Path("../../../solutions") / solution]
        found.update(cheats([*paths, SOLUTIONS / solution]))
        found.update({DUMP: secret_dump(), BAD: bad_notebook()})
    return {f"{exercise.name}--{variant}": copy.deepcopy(nb) for variant, nb in found.items()}


def nbgrader_side(root: Path) -> dict[str, Any]:
    """Every submission autograded by nbgrader (one course per assignment, one after the other).

    Runs in the background from the start of the session (see conftest.py); also writes the
    same notebooks in nbgrader's layout for actgrade.
    """
    secret = fresh_secret()
    scores: dict[str, dict[str, float]] = {}
    autograded: dict[str, str] = {}
    for exercise in EXERCISES:
        course = NbgraderCourse.create(root / "courses" / exercise.name, exercise.name)
        for student, nb in _submissions(exercise, root / "courses").items():
            course.submit(student, nb)
            write(root / "actgrade" / "submitted" / student / exercise.name / f"{exercise.name}.ipynb", nb)
        course.generate({"ACTGRADER_SECRET": secret})
        course.autograde({"ACTGRADER_SECRET": secret})  # fails the test if nbgrader exits with an error
        scores.update(course.task_scores())
        for student in course.students():
            autograded[student] = course.autograded(student).read_text(encoding="utf-8")
    return {
        "secret": secret,
        "scores": scores,
        "autograded": autograded,
        "submitted": root / "actgrade" / "submitted",
        "courses": root / "courses",
    }


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    nbgrader = background("nbgrader", nbgrader_side, tmp_path_factory)
    # actgrade protects the course's solutions as nbgrader's door protects its source folder.
    options = GradingOptions(
        output=tmp_path_factory.mktemp("parity-out"), jobs=2, progress=False, protected=(nbgrader["courses"],)
    )
    key = Secret(nbgrader["secret"].encode(), "test")
    records = grade_submissions([nbgrader["submitted"]], options, secret=key)
    actgrade_scores = {r.student: {t.task_id: t.earned for t in r.tasks} for r in records}
    return {
        "actgrade": actgrade_scores,
        "nbgrader": nbgrader["scores"],
        "records": {r.student: r for r in records},
        "autograded": nbgrader["autograded"],
        "secret": nbgrader["secret"],
    }


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


def test_cells_the_learner_added_count_under_neither_door(both):
    """A helper in an added cell is not run (the task that uses it fails); a wrong redefinition changes nothing."""
    student = f"{FIRST.name}--{ADDED}"
    first, second = FIRST.tasks[:2]
    assert both["nbgrader"][student] == both["actgrade"][student]
    assert both["actgrade"][student][first.id] == 0
    assert both["actgrade"][student][second.id] == second.points
    record = both["records"][student]
    assert any("code cell(s) you added were not run" in note for note in record.notes)
    assert "code cell(s) you added were not run" in both["autograded"][student]


CHEATS = sorted(cheats([]))


@pytest.mark.parametrize("name", CHEATS)
def test_each_attack_scores_nothing_through_either_door(both, name):
    student = f"{FIRST.name}--{name}"
    assert set(both["nbgrader"][student]) == {t.id for t in FIRST.tasks}
    assert sum(both["nbgrader"][student].values()) == 0, both["nbgrader"][student]
    assert both["actgrade"][student] == both["nbgrader"][student]


def test_no_secret_reaches_learner_code_through_nbgrader(both):
    """The dump printed what it read (the honest answers still count) and found no secret anywhere."""
    student = f"{FIRST.name}--{DUMP}"
    text = both["autograded"][student]
    assert "parent environ blocked:" in text and "own environ" in text
    assert sum(both["nbgrader"][student].values()) == FIRST.full
    for name, notebook in both["autograded"].items():
        assert both["secret"] not in notebook, name


def test_a_bad_notebook_is_graded_with_a_message_and_stops_nothing(both):
    """Duplicated cells and forged metadata: nbgrader's run completed (course.autograde checks the exit
    status), the notebook got what actgrade gives it, and the message says which cells were duplicated."""
    student = f"{FIRST.name}--{BAD}"
    assert both["nbgrader"][student] == both["actgrade"][student]
    assert sum(both["nbgrader"][student].values()) == FIRST.full
    assert "2 copies of the answer cell 'forward_pass_answer'" in both["autograded"][student]
    assert all(f"{e.name}--solution" in both["nbgrader"] for e in EXERCISES)
