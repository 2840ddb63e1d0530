"""The self-check as a learner meets it: the release notebook run top to bottom in a kernel.

Untouched, every cell runs (the answer cells only define functions that raise
NotImplementedError when called) and each test cell's verdict says what failed without ever
claiming that everything passed. With the solution code filled in (the release with its stubs
replaced, so without the hidden tests) every public case passes. No instructor secret is set:
a learner does not have one.
"""

from __future__ import annotations

import nbclient
import pytest
from exercise_nb import (
    ASSIGNMENTS,
    by_grade_id,
    meta,
    output_text,
    read,
    release_path,
    source_path,
    tasks_in,
    with_solutions_unwrapped,
)

from actgrader.grading.secret import SECRET_ENV, SECRET_FILE_ENV

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def no_instructor_secret(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)


def _execute(nb, cwd):
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def _check_outputs(nb):
    for cell in nb.cells:
        m = meta(cell)
        if cell.cell_type == "code":
            kinds = {(o.output_type, o.get("name")) for o in cell.outputs}
            assert ("stream", "stderr") not in kinds, f"{m.get('grade_id')} wrote to stderr: {output_text(cell)}"
    return by_grade_id(nb)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def assignment(request):
    return request.param


@pytest.fixture(scope="module")
def untouched(assignment, tmp_path_factory):
    nb = read(release_path(assignment))
    return _execute(nb, tmp_path_factory.mktemp("untouched"))


@pytest.fixture(scope="module")
def solved(assignment, tmp_path_factory):
    """The release with each stub replaced by the solution's code: what a learner who got it right runs."""
    nb = read(release_path(assignment))
    source = by_grade_id(read(source_path(assignment)))
    for grade_id, cell in by_grade_id(nb).items():
        if meta(cell)["solution"]:
            cell.source = with_solutions_unwrapped(source[grade_id].source)
    assert "### BEGIN HIDDEN TESTS" not in "\n".join(c.source for c in nb.cells)
    return _execute(nb, tmp_path_factory.mktemp("solved"))


def test_untouched_release_says_what_failed(assignment, untouched):
    cells = _check_outputs(untouched)
    for task in tasks_in(assignment):
        verdict = output_text(cells[f"{task.id}_check"])
        public = [c for c in task.cases if not c.hidden]
        assert verdict.startswith(f"{task.id}: 0 of {len(public)} public cases pass."), verdict
        assert f"`{task.answer}` still raises NotImplementedError" in verdict
        for case in public:
            assert case.title in verdict
        assert "✓" not in verdict
        assert not any(line.startswith(f"{task.id}: all") for line in verdict.splitlines())
        assert "all tests passed" not in verdict.lower()
        for case in task.cases:
            if case.hidden:
                assert case.title not in verdict


def test_untouched_release_demos_ask_for_the_function_first(assignment, untouched):
    cells = by_grade_id(untouched)
    for task in tasks_in(assignment):
        demo = cells.get(f"{task.id}_demo")
        if demo is not None:
            assert f"Write {task.answer} above" in output_text(demo)


def test_solution_passes_every_public_case(assignment, solved):
    cells = _check_outputs(solved)
    for task in tasks_in(assignment):
        verdict = output_text(cells[f"{task.id}_check"])
        public = [c for c in task.cases if not c.hidden]
        assert verdict.startswith(f"{task.id}: all {len(public)} public cases pass."), verdict
        for case in public:
            assert f"✓ {case.title}" in verdict
        assert "✗" not in verdict
        if task.hidden_points:
            assert "passing the public cases does not guarantee them" in verdict
        demo = cells.get(f"{task.id}_demo")
        if demo is not None:
            shown = output_text(demo)
            assert shown.strip() and f"Write {task.answer} above" not in shown
