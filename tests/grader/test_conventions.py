"""The exercise-cell conventions: names built and parsed by one module agree with each other."""

from __future__ import annotations

import pytest

from actgrader.grading import conventions as cv
from actgrader.tasks import task_ids

ROLES = {"answer": cv.answer_id, "check": cv.check_id, "demo": cv.demo_id, "prose": cv.prose_id}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_task_id_round_trips_through_each_role(role):
    assert task_ids(), "no task registered"
    for task_id in task_ids():
        grade_id = ROLES[role](task_id)
        assert cv.task_of(grade_id, role) == task_id
        assert [r for r in ROLES if cv.is_role(grade_id, r)] == [role]


def test_names_that_are_not_a_role_cell_parse_to_none():
    assert cv.task_of(None, "check") is None
    assert cv.task_of(cv.CHECK_SUFFIX, "check") is None  # a suffix alone names no task
    assert cv.task_of(cv.SETUP_ID, "answer") is None
    assert cv.task_of(cv.check_id("x") + "_old", "check") is None


def test_looks_for_reads_the_first_line_of_the_mark_scheme_and_explains_a_bad_one():
    cell = f"A model answer.\n\n{cv.BEGIN_MARK_SCHEME}\n{cv.LOOKS_FOR} the point\nrubric\n{cv.END_MARK_SCHEME}\n"
    assert cv.looks_for(cell) == "the point"
    assert cv.mark_scheme(cell) == f"{cv.LOOKS_FOR} the point\nrubric\n"
    with pytest.raises(cv.ProseFormatError, match="must open with one line"):
        cv.looks_for(cell.replace(cv.LOOKS_FOR, "Wants:"), "x_prose")
    with pytest.raises(cv.ProseFormatError, match=r"no .* region"):
        cv.looks_for("no scheme", "x_prose")
