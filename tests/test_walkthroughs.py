"""CONTRIBUTING's walkthroughs ("add an activation", "add a task"), followed literally.

Each code block of a walkthrough opens with ``# <file>: <where>``. The test copies the package,
``tools/`` and one solution notebook to a temporary folder, applies every block to the file it
names, and then, in a fresh interpreter that imports the copy, finds the new activation in the
comparison table (its properties measured) and its colour, the new task passing with its
reference, and the task's row in the exercise README that ``tools/exercise_readme.py`` writes.
Every repository path a walkthrough names must exist (or be one the walkthrough creates).
No book build, no nbgrader run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from actgrader.grading import conventions

REPO = Path(__file__).resolve().parents[1]
CONTRIBUTING = REPO / "CONTRIBUTING.md"
TITLES = ("## Walkthrough: add an activation", "## Walkthrough: add a task")
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.M | re.S)
HEADER = re.compile(r"^# (\S+): (.+)$")
ASSIGNMENT = "forward-propagation"


def _section(title: str) -> str:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    assert title in text, f"CONTRIBUTING.md has no section {title!r}"
    body = text.split(title, 1)[1]
    return body.split("\n## ", 1)[0]


def _blocks(title: str) -> list[tuple[str, str, str]]:
    """(file, where, code) for each code block of a walkthrough, in order."""
    found = []
    for _indent, body in BLOCK.findall(_section(title)):
        code = textwrap.dedent(body)
        first, _, rest = code.partition("\n")
        header = HEADER.match(first)
        assert header, f"a walkthrough block must open with '# <file>: <where>', not {first!r}"
        found.append((header[1], header[2], rest))
    assert found, f"{title}: no code block"
    return found


def _insert_before_closing(text: str, name: str, code: str, closing: str) -> str:
    """``code`` inserted before the first ``closing`` line after the definition of ``name``."""
    start = re.search(rf"^{name}\b.*=", text, re.M)
    assert start, f"no definition of {name}"
    end = text.index(closing, start.end())
    return text[:end] + textwrap.indent(code, " " * (len(closing) - len(closing.lstrip(" ")) + 4)) + text[end:]


def _apply(root: Path, path: str, where: str, code: str) -> None:
    target = root / path.replace("<assignment>", ASSIGNMENT)
    if where == "new file":
        assert not target.exists(), f"{path} exists already"
        target.write_text(code, encoding="utf-8")
    elif where == "append":
        target.write_text(target.read_text(encoding="utf-8") + "\n\n" + code, encoding="utf-8")
    elif where == "imports":
        text = target.read_text(encoding="utf-8")
        marker = "from __future__ import annotations\n"
        target.write_text(text.replace(marker, marker + "\n" + code, 1), encoding="utf-8")
    elif where.startswith("in "):
        name = where.removeprefix("in ")
        closing = {"ACTIVATIONS": "\n    ]\n}", "ACTIVATION_COLORS": "\n}"}[name]
        text = target.read_text(encoding="utf-8")
        target.write_text(_insert_before_closing(text, name, "\n" + code.rstrip("\n"), closing), encoding="utf-8")
    elif where.startswith("cell "):
        grade_id = where.removeprefix("cell ")
        nb = nbformat.read(target, as_version=4)
        cell = nbformat.v4.new_code_cell(code.rstrip("\n"))
        if conventions.is_role(grade_id, "answer"):
            flags = {"grade": False, "locked": False, "solution": True}
        else:
            assert conventions.is_role(grade_id, "check"), f"no rule for cell {grade_id}"
            flags = {"grade": True, "locked": True, "solution": False, "points": 0}
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "task": False, **flags}
        nb.cells.append(cell)
        nbformat.write(nb, target)
    else:
        raise AssertionError(f"{path}: unknown place {where!r}")


@pytest.mark.parametrize("title", TITLES)
def test_every_path_a_walkthrough_names_exists(title):
    created = {path for path, where, _ in _blocks(title) if where == "new file"}
    named = set(re.findall(r"`((?:grader|tests|tools|solutions|exercises|book|bench)/[^`\s]+)`", _section(title)))
    assert named, f"{title} names no file"
    for path in sorted(named - created):
        if "<" in path:  # a pattern such as tests/grader/tasks/test_<task_id>.py: its folder exists
            path = path.split("<", 1)[0].rsplit("/", 1)[0]
        assert (REPO / path).exists(), f"{title} names {path}, which does not exist"


def test_the_walkthroughs_add_an_activation_and_a_task_that_show_up(tmp_path):
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    shutil.copytree(REPO / "grader" / "src", root / "grader" / "src", ignore=ignore)
    shutil.copytree(REPO / "tools", root / "tools", ignore=ignore)
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, root / "solutions" / ASSIGNMENT, ignore=ignore)
    blocks = [b for title in TITLES for b in _blocks(title)]
    for path, where, code in blocks:
        _apply(root, path, where, code)

    (task_file,) = [root / p for p, where, _ in blocks if where == "new file" and "/tasks/" in p]
    task_id = task_file.stem
    (record,) = re.findall(r'name="(\w+)"', "".join(c for _, where, c in blocks if where == "in ACTIVATIONS"))
    probe = f"""
import json, sys
from pathlib import Path
import actgrader
assert Path(actgrader.__file__).is_relative_to({str(root)!r}), actgrader.__file__
sys.path.insert(0, {str(root / "tools")!r})
import exercise_readme
from actgrader.grading import LocalAnswer, run_task
from actgrader.grading.secret import Secret
from actgrader.reference.registry import ACTIVATIONS, comparison_rows, resolve
from actgrader.tasks import get_task
from actgrader.viz import ACTIVATION_COLORS

(row,) = [r for r in comparison_rows() if r["name"] == {record!r}]
info = ACTIVATIONS[{record!r}]
resolve(info.torch_module)()
task = get_task({task_id!r})
result = run_task(task, LocalAnswer(task.reference, task.answer), secret=Secret(b"w", "t"), include_hidden=True)
print(json.dumps({{
    "row": {{"label": row["label"], "monotone": row["monotone"], "bounded": info.bounded}},
    "color": ACTIVATION_COLORS.get({record!r}),
    "earned": result.earned, "max": result.max_points, "task_points": task.points,
    "readme": exercise_readme.render(Path({str(root / "solutions")!r})),
}}))
"""
    env = {**os.environ, "PYTHONPATH": str(root / "grader" / "src")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["row"]["monotone"] and not seen["row"]["bounded"], seen["row"]  # measured, as the walkthrough says
    assert seen["color"], "the activation has no colour"
    assert seen["earned"] == seen["max"] == seen["task_points"] > 0, seen
    readme_rows = [line for line in seen["readme"].splitlines() if line.startswith(f"| `{task_id}`")]
    assert len(readme_rows) == 1, "the exercise README does not list the new task"
    assert f"| {seen['task_points']:g} (" in readme_rows[0]
