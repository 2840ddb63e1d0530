"""The committed ``exercises/`` is exactly what ``make exercises`` makes from ``solutions/``.

Also: the README is generated from the task modules, the nbgrader configuration points
nbgrader where the course expects, and the gradebook never lands in the repository.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from exercise_nb import ASSIGNMENTS, CONFIG, EXERCISES, REPO, SOLUTIONS, exercise_readme, generate_exercises, tasks_in
from traitlets.config.loader import PyFileConfigLoader

from actgrader.links import section_url


@pytest.mark.slow
def test_committed_exercises_match_a_fresh_generation(tmp_path):
    start = time.perf_counter()
    written = generate_exercises.generate(tmp_path / "exercises")
    print(f"\ngenerate_exercises.generate (nbgrader generate_assignment + copy): {time.perf_counter() - start:.1f} s")
    assert {p.relative_to(tmp_path / "exercises").parts[0] for p in written} == {*ASSIGNMENTS, "README.md"}
    drift = generate_exercises.compare_trees(tmp_path / "exercises", EXERCISES)
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


def _load_config(root: Path = REPO):
    return PyFileConfigLoader(CONFIG.name, path=str(root)).load_config()


def test_config_uses_solutions_as_source_and_exercises_as_release():
    config = _load_config()
    course = config.CourseDirectory
    assert Path(course.root) == REPO
    assert (Path(course.root) / course.source_directory) == SOLUTIONS
    assert (Path(course.root) / course.release_directory) == EXERCISES


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
def test_check_command_reports_drift(tmp_path, capsys):
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES, copy)
    readme = copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nedited by hand\n", encoding="utf-8")
    assert generate_exercises.main(["--check", "--dest", str(copy)]) == 1
    assert "README.md" in capsys.readouterr().out
