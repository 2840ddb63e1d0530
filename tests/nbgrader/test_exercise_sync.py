"""The committed ``exercises/`` is exactly what ``make exercises`` makes from ``solutions/``.

Also: the README is generated from the task modules and the notebooks (prose answers with
their points and one-line summary, never the rubric; totals split into auto-graded and
manual), the nbgrader configuration points nbgrader where the course expects, and the
gradebook never lands in the repository.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from exercise_nb import (
    ASSIGNMENTS,
    CONFIG,
    EXERCISES,
    REPO,
    SOLUTIONS,
    TEXT_STUB,
    auto_points,
    exercise_readme,
    generate_exercises,
    long_lines,
    manual_points,
    prose_cells,
    read,
    source_path,
    tasks_in,
)
from traitlets.config.loader import PyFileConfigLoader

from actgrader.grading import conventions
from actgrader.links import section_url


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """``exercises/`` generated afresh from ``solutions/`` (once for the module: it takes a while)."""
    dest = tmp_path_factory.mktemp("fresh") / "exercises"
    start = time.perf_counter()
    written = generate_exercises.generate(dest)
    print(f"\ngenerate_exercises.generate (nbgrader generate_assignment + copy): {time.perf_counter() - start:.1f} s")
    assert {p.relative_to(dest).parts[0] for p in written} == {*ASSIGNMENTS, "README.md"}
    return dest


@pytest.mark.slow
def test_committed_exercises_match_a_fresh_generation(fresh):
    drift = generate_exercises.compare_trees(fresh, EXERCISES)
    assert not drift, f"exercises/ differs from solutions/ (run `make exercises`): {drift}"


def test_compare_trees_reports_changed_missing_and_extra_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "x").mkdir(parents=True)
        (root / "x" / "same.ipynb").write_text("{}\n")
        (root / "x" / "changed.ipynb").write_text("{}\n")
    (b / "x" / "changed.ipynb").write_text("{ }\n")
    (a / "only-a.md").write_text("a")
    (b / "x" / "only-b.ipynb").write_text("b")
    assert generate_exercises.compare_trees(a, b) == ["only-a.md", "x/changed.ipynb", "x/only-b.ipynb"]
    assert generate_exercises.compare_trees(a, a) == []


def _notebook_text(*cells) -> str:
    return nbformat.writes(nbformat.v4.new_notebook(cells=list(cells)))


def test_the_leak_guard_finds_markers_left_in_a_release():
    rubric = nbformat.v4.new_markdown_cell("answer\n=== BEGIN MARK SCHEME ===\nLooks for: x\n=== END MARK SCHEME ===")
    hidden = nbformat.v4.new_code_cell('check("t", f)\n### BEGIN HIDDEN TESTS\ngrade("t", f)\n### END HIDDEN TESTS')
    assert generate_exercises.leaks(_notebook_text(rubric, hidden)) == [
        "BEGIN HIDDEN TESTS",
        "END HIDDEN TESTS",
        "MARK SCHEME",
    ]
    for name in ASSIGNMENTS:
        released = (EXERCISES / name / f"{name}.ipynb").read_text(encoding="utf-8")
        assert generate_exercises.leaks(released) == [], name


def test_normalise_notebook_drops_outputs_and_is_idempotent():
    text = (SOLUTIONS / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    code.execution_count = 7
    code.metadata["execution"] = {"iopub.status.idle": "2026-11-22T13:00:00Z"}
    dirty = nbformat.writes(nb, indent=2)
    clean = generate_exercises.normalise_notebook(dirty)
    assert clean == text
    assert generate_exercises.normalise_notebook(clean) == clean


def test_readme_is_generated_from_the_task_modules():
    committed = (EXERCISES / "README.md").read_text(encoding="utf-8")
    assert committed == exercise_readme.render(SOLUTIONS), "exercises/README.md is stale: run `make exercises`"
    for name in ASSIGNMENTS:
        for task in tasks_in(name):
            row = next(line for line in committed.splitlines() if line.startswith(f"| `{task.id}`"))
            points = f"{task.points:g} ({task.public_points:g} / {task.hidden_points:g})"
            assert f"| {points} |" in row
            assert f"`{task.answer}`" in row
            assert section_url(task.section) in row
            for case in task.cases:
                assert (case.title in row) != case.hidden, "public cases are listed, hidden ones only counted"


def test_readme_lists_prose_answers_with_points_and_summary_but_no_rubric():
    committed = (EXERCISES / "README.md").read_text(encoding="utf-8")
    for name in ASSIGNMENTS:
        for grade_id, cell in prose_cells(read(source_path(name))).items():
            row = next(line for line in committed.splitlines() if line.startswith(f"| `{grade_id}`"))
            assert f"| {cell.metadata['nbgrader']['points']:g} |" in row
            scheme = conventions.mark_scheme(cell.source) or ""
            summary = conventions.looks_for(cell.source, grade_id)
            assert summary.replace("|", "\\|") in row
            rubric = scheme.split(summary, 1)[1]
            leaked = {
                line for line in long_lines(rubric) | long_lines(cell.source.split("===")[0]) if line in committed
            }
            assert not leaked, f"{grade_id}: the README shows rubric or model-answer text: {sorted(leaked)[:2]}"


def test_readme_splits_each_notebooks_points_into_auto_and_manual():
    committed = (EXERCISES / "README.md").read_text(encoding="utf-8")
    auto_total = manual_total = 0.0
    for name in ASSIGNMENTS:
        auto, manual = auto_points(name), manual_points(name)
        auto_total, manual_total = auto_total + auto, manual_total + manual
        line = next(line for line in committed.splitlines() if line.startswith(f"Notebook: [`{name}/"))
        if manual:
            assert line.endswith(f", {auto + manual:g} points: {auto:g} auto-graded, {manual:g} marked by hand.")
        else:
            assert line.endswith(f", {auto:g} points, all auto-graded.")
    assert f"All exercises together: {auto_total + manual_total:g} points" in committed


def _load_config(root: Path = REPO):
    return PyFileConfigLoader(CONFIG.name, path=str(root)).load_config()


def test_config_uses_solutions_as_source_and_exercises_as_release():
    config = _load_config()
    course = config.CourseDirectory
    assert Path(course.root) == REPO
    assert (Path(course.root) / course.source_directory) == SOLUTIONS
    assert (Path(course.root) / course.release_directory) == EXERCISES


def test_the_text_stub_is_the_one_the_tests_expect():
    assert _load_config().ClearSolutions.text_stub == TEXT_STUB


def test_gradebook_is_outside_the_repository(monkeypatch):
    monkeypatch.delenv("NBGRADER_DB_URL", raising=False)
    db_url = _load_config().CourseDirectory.db_url
    assert db_url.startswith("sqlite:///")
    db_path = Path(db_url.removeprefix("sqlite:///")).resolve()
    assert not db_path.is_relative_to(REPO), db_url


def test_cell_timeout_reaches_nbgraders_executor():
    from nbgrader.preprocessors import Execute

    config = _load_config()
    timeout = config.ExecutePreprocessor.timeout
    assert isinstance(timeout, int) and timeout > 0
    assert Execute(config=config).timeout == timeout
    assert Execute().timeout != timeout, "the configured value must differ from nbgrader's default to be seen"


@pytest.mark.slow
def test_check_command_reports_drift(fresh, tmp_path, capsys, monkeypatch):
    """``--check`` exits 1 and names the file that differs (generation itself reused from ``fresh``)."""
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES, copy)
    readme = copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nedited by hand\n", encoding="utf-8")
    monkeypatch.setattr(generate_exercises, "generate", lambda dest: shutil.copytree(fresh, dest, dirs_exist_ok=True))
    assert generate_exercises.main(["--check", "--dest", str(copy)]) == 1
    assert "README.md" in capsys.readouterr().out


def test_autograde_grades_through_actgrades_sandbox_and_never_in_nbgraders_kernel():
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from actgrader.batch.nbgrader_door import ActgradeExecute, ActgradeSanitize

    autograde = Autograde(config=_load_config())
    assert ActgradeSanitize in autograde.sanitize_preprocessors
    assert ActgradeExecute in autograde.autograde_preprocessors
    assert Execute not in autograde.autograde_preprocessors
    assert Execute in Autograde().autograde_preprocessors, "nbgrader's default, replaced by the course's config"


def test_test_cell_points_are_generated_from_the_tasks_cases(tmp_path):
    """The task's cases are the one source of points: make exercises writes their total into each test cell."""
    name = ASSIGNMENTS[0]
    notebook = tmp_path / f"{name}.ipynb"
    shutil.copyfile(source_path(name), notebook)
    assert generate_exercises.sync_points(notebook) == [], f"{name}: run `make exercises` (points out of sync)"
    nb = read(notebook)
    task = tasks_in(name)[0]
    (check,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == conventions.check_id(task.id)]
    check.metadata["nbgrader"]["points"] = task.points + 7
    notebook.write_text(nbformat.writes(nb), encoding="utf-8")
    assert generate_exercises.sync_points(notebook, write=False) == [
        f"{conventions.check_id(task.id)}: {task.points + 7:g} -> {task.points:g}"
    ]
    assert len(generate_exercises.sync_points(notebook)) == 1
    assert generate_exercises.sync_points(notebook) == []
    assert read(notebook).cells == read(source_path(name)).cells
