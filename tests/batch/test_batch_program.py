"""What runs for a submission: the program built from the release and the learner's answer cells."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from batch_nb import RELEASE, SOLUTION, cell, correct_submission, load, released, source, write

from actgrader.batch import notebooks as nbs
from actgrader.batch.submissions import find_submissions, safe_id, submission_roots


def _cells(nb: dict) -> tuple[nbs.NotebookCell, ...]:
    return nbs.parse_notebook(json.dumps(nb).encode())


def _program(nb: dict) -> nbs.Program:
    return nbs.build_program(nbs.load_release(RELEASE), _cells(nb))


def test_release_lists_tasks_and_answers_in_order():
    release = nbs.load_release(RELEASE)
    assert release.assignment == "forward-propagation"
    assert release.task_ids == ("forward_pass", "linear_collapse")
    assert release.answer_ids == ("forward_pass_answer", "linear_collapse_answer")


def test_program_is_release_setup_then_the_learners_answer_cells():
    nb = correct_submission()
    program = _program(nb)
    assert [(c.grade_id, c.origin) for c in program.cells] == [
        ("setup", "release"),
        ("forward_pass_answer", "submission"),
        ("linear_collapse_answer", "submission"),
    ]
    assert program.cells[0].source == source(released(), "setup")
    assert program.cells[1].source == source(nb, "forward_pass_answer")
    assert program.notes == ()


def test_test_demo_and_setup_cells_never_come_from_the_submission():
    nb = correct_submission()
    for grade_id in ("setup", "forward_pass_check", "forward_pass_demo", "linear_collapse_check"):
        cell(nb, grade_id)["source"] = "raise SystemExit('edited by the learner')"
    program = _program(nb)
    assert all("edited by the learner" not in c.source for c in program.cells)
    assert [c.grade_id for c in program.cells] == ["setup", "forward_pass_answer", "linear_collapse_answer"]


def test_cells_are_matched_on_grade_id_not_cell_id_and_reordering_is_harmless():
    nb = correct_submission()
    for c in nb["cells"]:
        c["id"] = "x" + c.get("id", "")[::-1]
    fp = cell(nb, "forward_pass_answer")
    lc = cell(nb, "linear_collapse_answer")
    i, j = nb["cells"].index(fp), nb["cells"].index(lc)
    nb["cells"][i], nb["cells"][j] = lc, fp
    program = _program(nb)
    # Release order decides: forward_pass's answer still runs before linear_collapse's.
    assert [c.grade_id for c in program.cells] == ["setup", "forward_pass_answer", "linear_collapse_answer"]
    assert program.cells[1].source == source(nb, "forward_pass_answer")


def test_duplicated_answer_cell_runs_every_copy_in_document_order():
    nb = correct_submission()
    original = cell(nb, "forward_pass_answer")
    first = copy.deepcopy(original)
    first["source"] = "def forward_pass(x, weights, activation):\n    return None\n"
    nb["cells"].insert(nb["cells"].index(original), first)
    program = _program(nb)
    copies = program.cells_for("forward_pass_answer")
    assert [c.source for c in copies] == [first["source"], "".join(original["source"])]
    assert any("2 copies" in note for note in program.notes)


def test_deleted_answer_cell_runs_nothing_and_says_so():
    nb = correct_submission()
    nb["cells"].remove(cell(nb, "linear_collapse_answer"))
    program = _program(nb)
    assert program.cells_for("linear_collapse_answer") == ()
    assert any("linear_collapse_answer" in note and "deleted" in note for note in program.notes)


def test_cells_added_without_grade_id_are_ignored_with_a_note():
    nb = correct_submission()
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "helper = 1", "outputs": []})
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "   ", "outputs": []})
    program = _program(nb)
    assert all("helper = 1" not in c.source for c in program.cells)
    assert any("1 code cell(s) you added were not run" in note for note in program.notes)


def test_foreign_answer_cells_are_ignored_and_named():
    nb = correct_submission()
    extra = copy.deepcopy(cell(nb, "forward_pass_answer"))
    extra["metadata"]["nbgrader"]["grade_id"] = "sigmoid_answer"
    nb["cells"].append(extra)
    program = _program(nb)
    assert program.cells_for("sigmoid_answer") == ()
    assert any("sigmoid_answer" in note for note in program.notes)


def test_match_release_by_answer_cells():
    release = nbs.load_release(RELEASE)
    assert nbs.match_release(_cells(correct_submission()), [release]) is release
    other = correct_submission()
    for c in other["cells"]:
        grade_id = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            c["metadata"]["nbgrader"]["grade_id"] = "other_" + grade_id
    assert nbs.match_release(_cells(other), [release]) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not a notebook", "not valid JSON"),
        (b"[1, 2, 3]", "no list of cells"),
        (json.dumps({"cells": [], "nbformat": 3}).encode(), "unsupported notebook format"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
def test_unreadable_notebooks_raise_a_clear_error(data, message):
    with pytest.raises(nbs.NotebookError, match=message):
        nbs.parse_notebook(data)


def test_odd_cell_fields_are_tolerated():
    nb = load(SOLUTION)
    nb["cells"].append("not a cell")
    nb["cells"].append({"cell_type": "code", "metadata": {"nbgrader": "nope", "tags": "x"}, "source": ["a", 1]})
    cells = nbs.parse_notebook(json.dumps(nb).encode())
    assert cells[-1].grade_id is None and cells[-1].source == "a"


def test_nbgrader_layout_names_students_by_folder(tmp_path: Path):
    nb = correct_submission()
    write(tmp_path / "submitted" / "alice" / "forward-propagation" / "forward-propagation.ipynb", nb)
    write(tmp_path / "submitted" / "bob" / "forward-propagation" / "forward-propagation.ipynb", nb)
    write(tmp_path / "loose" / "carol.ipynb", nb)
    write(tmp_path / "loose" / ".ipynb_checkpoints" / "carol-checkpoint.ipynb", nb)
    write(tmp_path / "other" / "carol.ipynb", nb)
    write(tmp_path / "submitted" / "bob" / "activations" / "activations.ipynb", nb)
    subs = find_submissions([tmp_path / "submitted", tmp_path / "loose", tmp_path / "other"])
    # The id is the folder's (or the notebook's) name, never changed; the files' names are unique.
    assert [(s.student, s.assignment_hint, s.file_id) for s in subs] == [
        ("alice", "forward-propagation", "alice"),
        ("bob", "activations", "bob--activations"),
        ("bob", "forward-propagation", "bob--forward-propagation"),
        ("carol", None, "carol"),
        ("carol", None, "carol-2"),
    ]
    roots = submission_roots([tmp_path / "submitted" / "alice" / "forward-propagation" / "forward-propagation.ipynb"])
    assert roots == [(tmp_path / "submitted").resolve()]


def test_student_ids_are_safe_file_names():
    assert safe_id("../../etc/passwd") == "_.._etc_passwd"
    assert safe_id("..") == "student"
    assert safe_id("Zoë Smith") == "Zo__Smith"


def test_missing_path_is_an_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        find_submissions([tmp_path / "nope"])


def test_only_regular_files_are_read(tmp_path: Path):
    fifo = tmp_path / "pipe.ipynb"
    os.mkfifo(fifo)  # reading it would block the grader forever
    with pytest.raises(nbs.NotebookError, match="not a regular file"):
        nbs.read_notebook(fifo)


def _md(index: int, source: str, grade_id: str | None = None, points: float | None = None) -> nbs.NotebookCell:
    return nbs.NotebookCell(index, "markdown", source, grade_id, (), points)


def test_prose_questions_are_titled_by_their_task_heading():
    release = nbs.load_release(RELEASE)
    cells = (
        *release.cells,
        _md(100, "## Part 3: where each activation is found\n\nSome text."),
        _md(101, "### Task 6: GELU in transformers"),
        _md(102, "YOUR ANSWER HERE", "gelu_prose", 4),
        _md(103, "## Task 7: a multi-label head"),
        _md(104, "Intro.\n\n### In words (marked by hand)"),
        _md(105, "YOUR ANSWER HERE", "head_prose", 3),
        _md(106, "## Closing remarks"),
        _md(107, "YOUR ANSWER HERE", "closing_prose"),
    )
    prose = nbs.ReleaseNotebook("x", RELEASE, cells).prose
    assert [(q.grade_id, q.title, q.points) for q in prose] == [
        ("gelu_prose", "Task 6: GELU in transformers", 4.0),
        ("head_prose", "Task 7: a multi-label head — In words (marked by hand)", 3.0),
        ("closing_prose", "Closing remarks", 0.0),
    ]
