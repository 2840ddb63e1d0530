"""A learner with only the site installs the grader in one command and runs the exercises.

Each exercise notebook's introduction gives that command: ``pip install <book URL>/actgrader-
<version>-py3-none-any.whl``, the wheel ``make book`` puts on the site. Here a clean virtual
environment gets only PyTorch and Jupyter's kernel and runner, then exactly that command,
with the book URL pointing at the built site served from 127.0.0.1 (standing in for GitHub
Pages); then a worked notebook (solutions/forward-propagation, every ``check`` call in it)
runs in it, from a folder outside the repository, importing the installed grader.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import nbformat
import pytest
from sitebook import ROOT, Site

from actgrader.links import DEFAULT_BOOK_URL

sys.path.insert(0, str(ROOT / "tools" / "site"))
import page_weight  # tools/site is not a package; its server stands in for GitHub Pages

pytestmark = pytest.mark.slow

VERSION = tomllib.loads((ROOT / "grader" / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
WHEEL = f"actgrader-{VERSION}-py3-none-any.whl"
EXERCISES = sorted((ROOT / "exercises").glob("*/*.ipynb"))
WORKED = ROOT / "solutions" / "forward-propagation" / "forward-propagation.ipynb"
# What the clean environment holds before the grader: PyTorch (the pinned CPU build) and
# Jupyter's kernel and notebook runner.
BASE_PACKAGES = ["torch==2.13.0", "ipykernel", "nbclient"]
HIDDEN_TESTS = re.compile(r"^### BEGIN HIDDEN TESTS$.*?^### END HIDDEN TESTS$\n?", re.M | re.S)


def _install_command(notebook: Path) -> list[str]:
    intro = nbformat.read(notebook, as_version=4).cells[0].source
    commands = [line.strip() for line in intro.splitlines() if line.strip().startswith("pip install")]
    assert len(commands) == 1, f"{notebook.name}: the introduction must give one install command, found {commands}"
    return shlex.split(commands[0])


@pytest.mark.parametrize("notebook", EXERCISES, ids=lambda p: p.stem)
def test_exercise_intro_gives_the_one_line_install(notebook: Path):
    assert _install_command(notebook) == ["pip", "install", f"{DEFAULT_BOOK_URL}/{WHEEL}"]


def test_the_site_carries_the_wheel(site: Site):
    wheels = sorted(path.name for path in site.html.glob("actgrader-*.whl"))
    assert wheels == [WHEEL]


def test_install_from_the_site_in_a_clean_environment(site: Site, tmp_path: Path):
    assert EXERCISES, "no exercise notebook"
    environment = tmp_path / "learner env"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *BASE_PACKAGES], check=True, env=env, timeout=900)

    command = _install_command(EXERCISES[0])
    with page_weight.serve(site.html) as (base_url, _server):
        local = [argument.replace(DEFAULT_BOOK_URL, base_url) for argument in command]
        assert local[:2] == ["pip", "install"] and local[2] != command[2]
        subprocess.run([*pip, *local[2:]], check=True, env=env, timeout=900)

    work = tmp_path / "my exercises"
    work.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import actgrader; print(actgrader.__file__)"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(environment), f"actgrader imported from {where}, not the clean environment"

    # The worked notebook as a learner's finished copy: the instructor's hidden tests taken out.
    worked = nbformat.read(WORKED, as_version=4)
    for cell in worked.cells:
        cell.source = HIDDEN_TESTS.sub("", cell.source)
    notebook = work / WORKED.name
    nbformat.write(worked, notebook)
    result = subprocess.run(
        [str(environment / "bin" / "jupyter-execute"), "--inplace", notebook.name],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    executed = nbformat.read(notebook, as_version=4)
    checks = [cell for cell in executed.cells if cell.cell_type == "code" and re.search(r"\bcheck\(", cell.source)]
    assert checks, "the worked notebook calls no check"
    for cell in checks:
        shown = "".join(output.get("text", "") for output in cell.outputs)
        assert re.search(r"\ball \d+ public cases pass\b", shown), f"{cell.source[:60]!r} printed: {shown[:500]}"


def test_the_readme_gives_the_same_install():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"pip install {DEFAULT_BOOK_URL}/{WHEEL}\n" in readme
