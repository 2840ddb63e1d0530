"""What runs for a submission: the program built from the release and the learner's answer cells."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from batch_nb import RELEASE, SOLUTION, cell, correct_submission, load, released, source, write

from actgrader.batch import notebooks as nbs
from actgrader.batch.submissions import (
    SubmissionRefused,
    find_submissions,
    read_submission,
    safe_id,
    submission_roots,
)
from actgrader.grading.conventions import answer_id, check_id, demo_id, prose_id


def _cells(nb: dict) -> tuple[nbs.NotebookCell, ...]:
    return nbs.parse_notebook(json.dumps(nb).encode())


def _program(nb: dict) -> nbs.Program:
    return nbs.build_program(nbs.load_release(RELEASE), _cells(nb))


def test_release_lists_tasks_and_answers_in_order():
    release = nbs.load_release(RELEASE)
    assert release.assignment == "forward-propagation"
    assert release.task_ids == ("forward_pass", "linear_collapse")
    assert release.answer_ids == (answer_id("forward_pass"), answer_id("linear_collapse"))


def test_program_is_release_setup_then_the_learners_answer_cells():
    nb = correct_submission()
    program = _program(nb)
    assert [(c.grade_id, c.origin) for c in program.cells] == [
        ("setup", "release"),
        (answer_id("forward_pass"), "submission"),
        (answer_id("linear_collapse"), "submission"),
    ]
    assert program.cells[0].source == source(released(), "setup")
    assert program.cells[1].source == source(nb, answer_id("forward_pass"))
    assert program.notes == ()


def test_test_demo_and_setup_cells_never_come_from_the_submission():
    nb = correct_submission()
    for grade_id in ("setup", check_id("forward_pass"), demo_id("forward_pass"), check_id("linear_collapse")):
        cell(nb, grade_id)["source"] = "raise SystemExit('edited by the learner')"
    program = _program(nb)
    assert all("edited by the learner" not in c.source for c in program.cells)
    assert [c.grade_id for c in program.cells] == ["setup", answer_id("forward_pass"), answer_id("linear_collapse")]


def test_cells_are_matched_on_grade_id_not_cell_id_and_reordering_is_harmless():
    nb = correct_submission()
    for c in nb["cells"]:
        c["id"] = "x" + c.get("id", "")[::-1]
    fp = cell(nb, answer_id("forward_pass"))
    lc = cell(nb, answer_id("linear_collapse"))
    i, j = nb["cells"].index(fp), nb["cells"].index(lc)
    nb["cells"][i], nb["cells"][j] = lc, fp
    program = _program(nb)
    # Release order decides: forward_pass's answer still runs before linear_collapse's.
    assert [c.grade_id for c in program.cells] == ["setup", answer_id("forward_pass"), answer_id("linear_collapse")]
    assert program.cells[1].source == source(nb, answer_id("forward_pass"))


def test_duplicated_answer_cell_runs_every_copy_in_document_order():
    nb = correct_submission()
    original = cell(nb, answer_id("forward_pass"))
    first = copy.deepcopy(original)
    first["source"] = "def forward_pass(x, weights, activation):\n    return None\n"
    nb["cells"].insert(nb["cells"].index(original), first)
    program = _program(nb)
    copies = program.cells_for(answer_id("forward_pass"))
    assert [c.source for c in copies] == [first["source"], "".join(original["source"])]
    assert any("2 copies" in note for note in program.notes)


def test_deleted_answer_cell_runs_nothing_and_says_so():
    nb = correct_submission()
    nb["cells"].remove(cell(nb, answer_id("linear_collapse")))
    program = _program(nb)
    assert program.cells_for(answer_id("linear_collapse")) == ()
    assert any(answer_id("linear_collapse") in note and "deleted" in note for note in program.notes)


def test_cells_added_without_grade_id_are_ignored_with_a_note():
    nb = correct_submission()
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "helper = 1", "outputs": []})
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "   ", "outputs": []})
    program = _program(nb)
    assert all("helper = 1" not in c.source for c in program.cells)
    assert any("1 code cell(s) you added were not run" in note for note in program.notes)


def test_foreign_answer_cells_are_ignored_and_named():
    nb = correct_submission()
    extra = copy.deepcopy(cell(nb, answer_id("forward_pass")))
    extra["metadata"]["nbgrader"]["grade_id"] = answer_id("sigmoid")
    nb["cells"].append(extra)
    program = _program(nb)
    assert program.cells_for(answer_id("sigmoid")) == ()
    assert any(answer_id("sigmoid") in note for note in program.notes)


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


def _layout(root: Path, student: str) -> Path:
    return root / "submitted" / student / "forward-propagation" / "forward-propagation.ipynb"


def test_links_are_refused_and_never_read(tmp_path: Path):
    """Every link out of a submission is listed (so it gets a record) but never opened."""
    instructor = tmp_path / "instructor" / "forward-propagation.ipynb"
    write(instructor, load(SOLUTION))
    write(_layout(tmp_path, "alice"), correct_submission())
    for student in ("mallory", "oscar"):
        _layout(tmp_path, student).parent.mkdir(parents=True)
    _layout(tmp_path, "mallory").symlink_to(instructor)
    _layout(tmp_path, "oscar").hardlink_to(instructor)
    (tmp_path / "submitted" / "trudy").symlink_to(instructor.parent.parent, target_is_directory=True)
    (instructor.parent.parent / "forward-propagation").symlink_to(instructor.parent, target_is_directory=True)
    subs = {s.student: s for s in find_submissions([tmp_path / "submitted"])}
    assert sorted(subs) == ["alice", "mallory", "oscar", "trudy"]
    assert subs["mallory"].path == _layout(tmp_path, "mallory")  # as submitted, not where it points
    assert read_submission(subs["alice"]) == _layout(tmp_path, "alice").read_bytes()
    expected = {
        "mallory": "it is a symbolic link (forward-propagation.ipynb -> " + str(instructor),
        "oscar": "it is a hard link: the same file has 2 names on disk",
        "trudy": "it is inside a folder that is a symbolic link (trudy -> ",
    }
    for student, message in expected.items():
        with pytest.raises(SubmissionRefused) as refused:
            read_submission(subs[student])
        assert str(refused.value).startswith(message), (student, refused.value)


def test_a_link_swapped_in_after_the_search_is_refused(tmp_path: Path):
    write(_layout(tmp_path, "eve"), correct_submission())
    write(tmp_path / "elsewhere" / "forward-propagation" / "forward-propagation.ipynb", load(SOLUTION))
    (sub,) = find_submissions([tmp_path / "submitted"])
    _layout(tmp_path, "eve").unlink()
    _layout(tmp_path, "eve").symlink_to(SOLUTION)
    with pytest.raises(SubmissionRefused, match="it is a symbolic link"):
        read_submission(sub)
    folder = _layout(tmp_path, "eve").parent
    folder.rename(tmp_path / "moved")
    folder.symlink_to(tmp_path / "elsewhere" / "forward-propagation", target_is_directory=True)
    with pytest.raises(SubmissionRefused, match="inside a folder that is a symbolic link"):
        read_submission(sub)


def test_a_file_given_as_a_link_or_through_dotdot_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path / "loose" / "dan.ipynb", correct_submission())
    (tmp_path / "loose" / "sub").mkdir()
    (tmp_path / "loose" / "link.ipynb").symlink_to(SOLUTION)
    dotdot, link = tmp_path / "loose" / "sub" / ".." / "dan.ipynb", tmp_path / "loose" / "link.ipynb"
    subs = find_submissions([dotdot, link])
    assert [(s.student, s.refused) for s in subs] == [
        ("dan", f"its path climbs back out of a folder with '..' ({dotdot})"),
        ("link", f"it is a symbolic link (link.ipynb -> {SOLUTION})"),
    ]
    for sub in subs:
        with pytest.raises(SubmissionRefused):
            read_submission(sub)
    # Where the instructor stands is not part of the submission: a leading '..' is fine.
    monkeypatch.chdir(tmp_path / "loose" / "sub")
    (given,) = find_submissions(["../dan.ipynb"])
    assert (given.student, given.refused) == ("dan", None)
    assert read_submission(given) == (tmp_path / "loose" / "dan.ipynb").read_bytes()


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
        _md(102, "YOUR ANSWER HERE", prose_id("gelu"), 4),
        _md(103, "## Task 7: a multi-label head"),
        _md(104, "Intro.\n\n### In words (marked by hand)"),
        _md(105, "YOUR ANSWER HERE", prose_id("head"), 3),
        _md(106, "## Closing remarks"),
        _md(107, "YOUR ANSWER HERE", prose_id("closing")),
    )
    prose = nbs.ReleaseNotebook("x", RELEASE, cells).prose
    assert [(q.grade_id, q.title, q.points) for q in prose] == [
        (prose_id("gelu"), "Task 6: GELU in transformers", 4.0),
        (prose_id("head"), "Task 7: a multi-label head — In words (marked by hand)", 3.0),
        (prose_id("closing"), "Closing remarks", 0.0),
    ]
