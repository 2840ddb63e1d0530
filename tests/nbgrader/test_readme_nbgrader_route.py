"""The README's nbgrader route, run exactly as written (parsed from README.md, so the two cannot drift).

The block runs in bash in a throwaway course directory (the course's nbgrader config and a
copy of ``solutions/``, as at the repository's root), with a home folder that has no
``~/.config`` yet and a learner's solved notebook as ``alice.ipynb``. Only the path of the
virtual environment's ``bin`` folder is adapted.
"""

from __future__ import annotations

import csv
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from exercise_nb import REPO, auto_points, by_grade_id, generate_exercises, read, release_path, tasks_in
from graded_course import learner_env, solved

from actgrader.grading.conventions import check_id

pytestmark = pytest.mark.slow

MARKER = "<!-- nbgrader-route:"
ASSIGNMENT = "forward-propagation"


def readme_route() -> str:
    """The bash block that follows the marker comment in README.md, without its indentation."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count(MARKER) == 1
    after = text.split(MARKER, 1)[1].split("\n", 1)[1]
    fence, body = after.split("\n", 1)
    assert fence.strip() == "```bash", fence
    lines = body.split("\n")
    end = next(i for i, line in enumerate(lines) if line.strip() == "```")
    indent = len(fence) - len(fence.lstrip())
    return "\n".join(line[indent:] for line in lines[:end]) + "\n"


def test_the_route_names_every_step():
    route = readme_route()
    for step in ("generate_assignment", "submitted/", "autograde", "generate_feedback", "export", "SECRET"):
        assert step in route, step


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme-route")
    course = generate_exercises.make_course(root / "course")
    home = root / "home"
    home.mkdir()
    nbformat.write(solved(release_path(ASSIGNMENT), ASSIGNMENT), course / "alice.ipynb")
    script = readme_route().replace(".venv/bin/", f"{shlex.quote(str(Path(sys.executable).parent))}/")
    env = learner_env() | {"HOME": str(home)}
    done = subprocess.run(
        ["bash", "-e", "-u", "-o", "pipefail", "-c", script],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return course, home


def test_the_route_grades_the_notebook_with_the_secret_and_writes_feedback_and_grades(ran):
    course, home = ran
    secret = home / ".config" / "actgrader-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    with open(course / "grades.csv", newline="") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    assert float(rows["alice", ASSIGNMENT]["score"]) == auto_points(ASSIGNMENT)
    assert (home / "activations-gradebook.db").is_file()
    graded = by_grade_id(read(course / "autograded" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    for task in tasks_in(ASSIGNMENT):
        hidden = sum(c.hidden for c in task.cases)
        shown = "".join(o.get("text", "") for o in graded[check_id(task.id)].outputs)
        assert f"hidden cases {hidden}/{hidden} pass" in shown
    assert list((course / "feedback" / "alice" / ASSIGNMENT).glob("*.html"))
    assert secret.read_text().strip() not in (course / "grades.csv").read_text()
