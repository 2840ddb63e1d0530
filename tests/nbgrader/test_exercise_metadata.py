"""Lint of the exercise notebooks against the cell conventions in CONTRIBUTING.md.

Fast: reads the notebooks, runs nothing. Every test runs on every assignment found in
``solutions/``. The sources carry full nbgrader metadata, one test cell per task worth
exactly the task's points, and no outputs; the committed release in ``exercises/`` holds
neither solutions nor hidden tests.

Answers in words are markdown cells ``<task_id>_prose`` (grade + solution, points), written
in the source as a model answer followed by the rubric::

    <model answer>

    === BEGIN MARK SCHEME ===
    Looks for: <in one line, what a full answer contains>   (shown in exercises/README.md)
    <the rubric: how the points are given>                  (never released)
    === END MARK SCHEME ===

nbgrader releases the whole cell as the text stub, so neither the model answer nor the
rubric reaches learners.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

import nbformat
import pytest
from exercise_nb import (
    ASSIGNMENTS,
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    REPO,
    TEXT_STUB,
    by_grade_id,
    expected_check_cell,
    expected_released_check_cell,
    generate_exercises,
    long_lines,
    meta,
    prose_cells,
    read,
    release_path,
    solution_bodies,
    source_path,
    tasks_in,
)

from actgrader.grading import conventions
from actgrader.grading.conventions import (
    BEGIN_MARK_SCHEME,
    END_MARK_SCHEME,
    answer_id,
    check_id,
    demo_id,
    is_role,
    task_of,
)
from actgrader.links import DEFAULT_BOOK_URL, section_url

REQUIRED_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution"}
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"


def test_there_are_assignments():
    assert "forward-propagation" in ASSIGNMENTS
    for name in ASSIGNMENTS:
        assert release_path(name).is_file(), f"{name} has no release: run `make exercises`"


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request):
    return request.param


@pytest.fixture
def source(assignment):
    nb = read(source_path(assignment))
    nbformat.validate(nb)
    return nb


def test_every_code_cell_is_an_nbgrader_cell_with_full_metadata(source):
    grade_ids = []
    for cell in source.cells:
        m = meta(cell)
        if cell.cell_type == "code":
            assert m, f"code cell without nbgrader metadata:\n{cell.source[:200]}"
        if not m:
            continue
        assert REQUIRED_KEYS <= m.keys(), f"{m.get('grade_id')}: missing {REQUIRED_KEYS - m.keys()}"
        assert m["schema_version"] == 3
        for key in ("grade", "locked", "solution"):
            assert isinstance(m[key], bool), f"{m['grade_id']}: {key} must be true or false"
        if m["grade"]:
            assert m.get("points", 0) > 0, f"{m['grade_id']}: a graded cell needs points"
        assert cell.id == m["grade_id"], "cell ids follow grade ids (stable diffs)"
        grade_ids.append(m["grade_id"])
    repeated = [g for g, n in Counter(grade_ids).items() if n > 1]
    assert not repeated, f"grade_ids used twice: {repeated}"


def test_each_task_has_answer_check_and_demo_cells_in_order(assignment, source):
    cells = by_grade_id(source)
    order = list(cells)
    tasks = tasks_in(assignment)
    assert tasks, "the notebook checks no task"
    for task in tasks:
        answer, check = cells.get(answer_id(task.id)), cells[check_id(task.id)]
        assert answer is not None, f"no {task.id}_answer cell"
        assert answer.cell_type == "code"
        assert meta(answer) | {"grade_id": None} == {
            "grade": False,
            "grade_id": None,
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
        assert meta(check)["grade"] and meta(check)["locked"] and not meta(check)["solution"]
        assert order.index(answer_id(task.id)) < order.index(check_id(task.id))
        demo = demo_id(task.id)
        if demo in cells:
            assert order.index(check_id(task.id)) < order.index(demo), "a demo follows its task's test cell"


def test_check_cells_call_check_and_grade_and_are_worth_the_task(assignment, source):
    cells = by_grade_id(source)
    graded = [g for g, c in cells.items() if meta(c)["grade"] and not is_role(g, "prose")]
    tasks = tasks_in(assignment)
    assert sorted(graded) == sorted(check_id(t.id) for t in tasks), "only test and prose cells are graded"
    for task in tasks:
        cell = cells[check_id(task.id)]
        assert cell.source == expected_check_cell(task)
        assert meta(cell)["points"] == task.points, f"{task.id}: cell points must equal the task's total"


def test_prose_cells_are_manually_graded_markdown_of_a_task_with_a_mark_scheme(assignment, source):
    """``<task>_prose``: a markdown answer (grade + solution) worth points, its rubric in a mark-scheme region."""
    task_ids = {t.id for t in tasks_in(assignment)}
    order = list(by_grade_id(source))
    for grade_id, cell in prose_cells(source).items():
        m = meta(cell)
        assert cell.cell_type == "markdown", f"{grade_id}: a prose answer is a markdown cell"
        assert m["grade"] and m["solution"] and not m["locked"] and not m.get("task"), f"{grade_id}: {m}"
        assert m.get("points", 0) > 0, f"{grade_id}: a prose answer is worth points"
        task_id = task_of(grade_id, "prose")
        assert task_id in task_ids, f"{grade_id} belongs to no task of the notebook"
        assert order.index(check_id(task_id)) < order.index(grade_id), f"{grade_id} comes after its task's test cell"
        assert cell.source.count(BEGIN_MARK_SCHEME) == 1 and cell.source.count(END_MARK_SCHEME) == 1
        assert cell.source.index(BEGIN_MARK_SCHEME) < cell.source.index(END_MARK_SCHEME)
        assert BEGIN_SOLUTION not in cell.source, "the whole cell is the solution: no solution region"


def test_mark_schemes_open_with_a_one_line_summary_and_follow_a_model_answer(assignment, source):
    for grade_id, cell in prose_cells(source).items():
        summary = conventions.looks_for(cell.source, grade_id)  # raises with what to write
        scheme = conventions.mark_scheme(cell.source)
        rubric = scheme.split(summary, 1)[1]
        assert rubric.strip(), f"{grade_id}: the mark scheme has a summary but no rubric under it"
        model_answer = cell.source.split(BEGIN_MARK_SCHEME)[0] + cell.source.split(END_MARK_SCHEME)[1]
        assert len(model_answer.strip()) > 100, f"{grade_id}: write a model answer around the mark scheme"


def test_only_prose_answers_are_markdown_cells_with_nbgrader_metadata(source):
    for cell in source.cells:
        if cell.cell_type == "markdown" and meta(cell):
            assert is_role(meta(cell)["grade_id"], "prose"), f"{meta(cell)['grade_id']}: not a prose cell"


def test_answer_cells_define_the_function_around_one_solution_region(assignment, source):
    cells = by_grade_id(source)
    for task in tasks_in(assignment):
        text = cells[answer_id(task.id)].source
        assert text.count(BEGIN_SOLUTION) == 1 and text.count(END_SOLUTION) == 1
        assert len(solution_bodies(text)) == 1
        kept = text.split(BEGIN_SOLUTION)[0]
        (fn,) = ast.parse(text).body
        assert isinstance(fn, ast.FunctionDef) and fn.name == task.answer
        assert ast.get_docstring(fn), f"{task.answer} keeps a docstring in the release"
        assert kept.lstrip().startswith(f"def {task.answer}("), "the def line stays in the release"
        assert text.rstrip().endswith(END_SOLUTION), "nothing after the solution region"


def test_locked_cells_are_setup_or_demo_and_tagged(assignment, source):
    task_ids = {t.id for t in tasks_in(assignment)}
    code_cells = [c for c in source.cells if c.cell_type == "code"]
    assert meta(code_cells[0])["grade_id"] == "setup", "the setup cell is the first code cell"
    for cell in code_cells:
        m = meta(cell)
        if not m["locked"] or m["grade"]:
            continue
        tags = cell.metadata.get("tags", [])
        if m["grade_id"] == "setup":
            assert tags == ["setup"]
            assert "import torch" in cell.source
            assert "from actgrader.notebook import check" in cell.source
        else:
            assert is_role(m["grade_id"], "demo"), f"locked cell {m['grade_id']} is neither setup nor demo"
            assert task_of(m["grade_id"], "demo") in task_ids
            assert tags == ["demo"]
            assert "check(" not in cell.source and "grade(" not in cell.source, "demos are not part of grading"


def test_hidden_tests_only_in_test_cells(source):
    for cell in source.cells:
        if BEGIN_HIDDEN in cell.source or END_HIDDEN in cell.source:
            assert meta(cell).get("grade"), "a hidden-tests region outside a graded cell"
        if BEGIN_SOLUTION in cell.source:
            assert meta(cell).get("solution")


def test_markdown_links_each_task_to_its_book_section(assignment, source):
    prose = "\n".join(c.source for c in source.cells if c.cell_type == "markdown")
    for task in tasks_in(assignment):
        assert f"]({section_url(task.section)})" in prose, f"{task.id}: no link to {task.section}"


def test_every_book_link_in_the_text_names_a_chapter_and_one_of_its_labels(monkeypatch, source):
    """Links typed into a notebook's markdown are checked as the task's own links are: no dead anchors."""
    monkeypatch.delenv("ACTGRADER_BOOK_URL", raising=False)
    prose = "\n".join(c.source for c in source.cells if c.cell_type == "markdown")
    pattern = re.escape(f"{DEFAULT_BOOK_URL}/book/") + r"([\w-]+)\.html(?:#([\w-]+))?"
    for page, label in re.findall(pattern, prose):
        chapter = REPO / "book" / f"{page}.md"
        assert chapter.is_file(), f"a link to book/{page}.md, which does not exist"
        if label:
            assert f"({label})=" in chapter.read_text(encoding="utf-8"), f"book/{page}.md has no label {label}"


def test_sources_are_stored_without_outputs_and_canonical(assignment, source):
    for cell in source.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    text = source_path(assignment).read_text(encoding="utf-8")
    assert text == generate_exercises.normalise_notebook(text), "not stored in canonical JSON"


def test_release_keeps_neither_solutions_nor_hidden_tests(assignment, source):
    release = read(release_path(assignment))
    everything = "\n".join(c.source for c in release.cells)
    markers = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN, BEGIN_MARK_SCHEME, END_MARK_SCHEME, "grade(")
    for marker in markers:
        assert marker not in everything
    src_cells, rel_cells = by_grade_id(source), by_grade_id(release)
    assert list(rel_cells) == list(src_cells)
    for task in tasks_in(assignment):
        answer = src_cells[answer_id(task.id)].source
        kept = answer.split(BEGIN_SOLUTION)[0].rstrip(" ")
        assert rel_cells[answer_id(task.id)].source == kept + STUB
        assert rel_cells[check_id(task.id)].source == expected_released_check_cell(task)
    for cell in release.cells:
        m = meta(cell)
        if m.get("locked") or m.get("solution"):
            assert m.get("checksum"), f"{m['grade_id']}: the release lost its checksum"
        if cell.cell_type == "code":
            assert cell.outputs == []


def test_release_markdown_and_locked_cells_match_the_source(assignment, source):
    release = read(release_path(assignment))
    assert len(release.cells) == len(source.cells)
    for src, rel in zip(source.cells, release.cells, strict=True):
        m = meta(src)
        if src.cell_type == "markdown" and m.get("solution"):
            assert rel.source == TEXT_STUB, "a prose answer (model answer and mark scheme) is not released"
        elif src.cell_type == "markdown" or (m.get("locked") and not m.get("grade")):
            assert rel.source == src.source


def test_release_shows_no_line_of_a_model_answer_or_rubric(assignment, source):
    everything = "\n".join(c.source for c in read(release_path(assignment)).cells)
    for grade_id, cell in prose_cells(source).items():
        leaked = {line for line in long_lines(cell.source) if line in everything}
        assert not leaked, f"{grade_id}: released {sorted(leaked)[:2]}"
        assert (
            prose_cells(read(release_path(assignment)))[grade_id].metadata["nbgrader"]["points"] == meta(cell)["points"]
        )
