"""The gradebook and feedback an instructor hands out, through ``actgrade grade`` on real notebooks.

One batch in nbgrader's layout: a student with two assignments, students whose folder names
a spreadsheet would read as formulas, a truncated notebook, an untouched one, and a
``collapse_linear_stack`` written for four layers only (right on every public case, wrong on
the hidden ones). The run without the secret is test_batch_cli's.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path
from typing import Any

import pytest
from batch_nb import (
    ASSIGNMENT,
    FAST,
    Exercise,
    correct_submission,
    grades,
    load,
    max_row,
    records,
    release_path,
    run_actgrade,
    with_answers,
    write,
)

from actgrader.batch.gradebook import FORMULA_STARTS, spreadsheet_safe
from actgrader.batch.summary import HIDDEN_HINT
from actgrader.tasks import get_task

OTHER = "activations"  # alice's second assignment (handed in untouched)
# Folder names a spreadsheet would run ("=" never reaches a student id: submissions.safe_id).
FORMULA_STUDENTS = ["+1+2", "@sum", "-2"]
# Right for the public cases (four layers each), wrong for the hidden stacks of other depths.
FOUR_LAYERS_ONLY = "def collapse_linear_stack(weights):\n    return weights[3] @ weights[2] @ weights[1] @ weights[0]\n"
# A fixed secret: the hidden stacks it draws are not all four layers deep (the test would say so).
SECRET = "gradebook-test-secret"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("gradebook")
    submitted = root / "submitted"

    def hand_in(student: str, assignment: str, nb: dict[str, Any]) -> Path:
        return write(submitted / student / assignment / f"{assignment}.ipynb", nb)

    hand_in("alice", ASSIGNMENT, correct_submission())
    hand_in("alice", OTHER, Exercise(OTHER).untouched())
    for student in FORMULA_STUDENTS:
        hand_in(student, ASSIGNMENT, load(release_path(ASSIGNMENT)))
    hand_in("four", ASSIGNMENT, with_answers(correct_submission(), linear_collapse_answer=FOUR_LAYERS_ONLY))
    text = release_path(ASSIGNMENT).read_text(encoding="utf-8")
    truncated = submitted / "trunc" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    truncated.parent.mkdir(parents=True)
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    proc = run_actgrade([submitted], root / "out", *FAST, env={"ACTGRADER_SECRET": SECRET})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = root / "out"
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        cells = list(csv.reader(f))
    by_file = records(out)
    by_student = {(r.student, r.assignment): r for r in by_file.values()}
    return {"out": out, "proc": proc, "cells": cells, "records": by_student, "rows": grades(out)}


def _row(batch: dict[str, Any], student: str, assignment: str = ASSIGNMENT) -> dict[str, str]:
    """The student's row in grades.csv (``student`` as handed in: the cell may be escaped)."""
    (row,) = [r for r in batch["rows"] if r["student"] == spreadsheet_safe(student) and r["assignment"] == assignment]
    return row


def _page_text(batch: dict[str, Any], student: str, assignment: str = ASSIGNMENT) -> tuple[str, str]:
    """(the page's HTML, its text) for the submission's feedback page."""
    record = batch["records"][(student, assignment)]
    page = (batch["out"] / "feedback" / f"{record.file_id}.html").read_text(encoding="utf-8")
    return page, html.unescape(re.sub(r"<[^>]+>", "", page))


def test_formulas_in_text_cells_stay_text(batch):
    for start in FORMULA_STARTS:
        assert spreadsheet_safe(f"{start}cmd") == f"'{start}cmd"
    assert spreadsheet_safe("alice") == "alice"
    cells = [cell for row in batch["cells"] for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    students = {row["student"] for row in batch["rows"]}
    assert {f"'{name}" for name in FORMULA_STUDENTS} <= students


def test_one_student_with_two_assignments_is_one_student(batch):
    alice = [r for r in batch["rows"] if r["student"] == "alice"]
    assert sorted(r["assignment"] for r in alice) == sorted([ASSIGNMENT, OTHER])
    assert not [r for r in batch["rows"] if r["student"].startswith("alice-")]
    files = {r.file_id for r in batch["records"].values() if r.student == "alice"}
    assert len(files) == 2 and all((batch["out"] / "feedback" / f"{f}.html").is_file() for f in files)
    # The columns are those of the two assignments handed in, each with its own row of maxima.
    header = batch["cells"][0]
    for name in (ASSIGNMENT, OTHER):
        exercise = Exercise(name)
        maxima = max_row(batch["out"], name)
        assert float(maxima["auto_graded_max"]) == exercise.full
        for task in exercise.tasks:
            assert task.id in header and float(maxima[task.id]) == task.points
    graded = {t for name in (ASSIGNMENT, OTHER) for t in Exercise(name).release.task_ids}
    tasks_in_header = {c for c in header if _is_task(c)}
    assert tasks_in_header == graded


def _is_task(column: str) -> bool:
    try:
        get_task(column)
    except (KeyError, ValueError, ModuleNotFoundError):
        return False
    return True


def test_the_maxima_are_not_a_student(batch):
    maxima = max_row(batch["out"])
    assert maxima["student"] == ""
    assert not [r for r in batch["rows"] if r["student"] == ""]


def test_a_truncated_notebook_keeps_its_assignment_and_maximum(batch):
    row = _row(batch, "trunc")
    assert row["status"] == "invalid"
    assert float(row["auto_graded_max"]) == Exercise(ASSIGNMENT).full
    assert float(row["auto_graded_points"]) == 0
    assert row["hidden_cases"] == ""  # nothing ran


def test_an_untouched_notebook_is_called_untouched(batch):
    for student, assignment in [*((s, ASSIGNMENT) for s in FORMULA_STUDENTS), ("alice", OTHER)]:
        assert _row(batch, student, assignment)["status"] == "untouched"
    assert f"{len(FORMULA_STUDENTS) + 1} untouched (no answer written)" in batch["proc"].stdout
    assert _row(batch, "alice")["status"] == "ok"


def test_the_summary_counts_submissions_that_lost_points(batch):
    # forward-propagation: four untouched, the truncated one (no task ran), alice and "four".
    graded = sum(1 for r in batch["rows"] if r["assignment"] == ASSIGNMENT and r["linear_collapse"] != "")
    full = f"{get_task('linear_collapse').points:g}"
    lost = sum(1 for r in batch["rows"] if r["assignment"] == ASSIGNMENT and r["linear_collapse"] not in ("", full))
    assert f"linear_collapse: {lost} of {graded} submissions lost points" in batch["proc"].stdout
    assert lost == len(FORMULA_STUDENTS) + 1


def test_the_hidden_case_hint_only_for_functions_written(batch):
    record = batch["records"][("four", ASSIGNMENT)]
    (collapse,) = [t for t in record.tasks if t.task_id == "linear_collapse"]
    assert all(o.passed for o in collapse.outcomes if not o.hidden)
    assert not all(o.passed for o in collapse.outcomes if o.hidden), "the secret drew four-layer stacks only"
    _, text = _page_text(batch, "four")
    assert text.count(HIDDEN_HINT) == 1  # linear_collapse only: forward_pass passes every case
    assert HIDDEN_HINT in record.feedback["linear_collapse"]
    for student, assignment in [("alice", OTHER), (FORMULA_STUDENTS[0], ASSIGNMENT)]:
        _, text = _page_text(batch, student, assignment)
        assert "Hidden cases: 0 of" in text and HIDDEN_HINT not in text


def test_the_feedback_page_shows_code_as_code(batch):
    page, text = _page_text(batch, FORMULA_STUDENTS[0])
    assert "<code>forward_pass</code> still raises NotImplementedError" in page
    assert "`" not in text
