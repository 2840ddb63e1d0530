"""``actgrade gradescope``: the autograder zip, unpacked and run the way Gradescope runs it.

Each run lays out a Gradescope-like tree under a temporary root (``source/`` = the unpacked
zip, ``run_autograder`` copied next to it, ``submission/``, ``results/``), points the zip's
scripts at it with ``ACTGRADE_AUTOGRADER_ROOT`` (and at this virtualenv's Python, standing in
for the one ``setup.sh`` installs), runs ``run_autograder`` and reads ``results/results.json``.
``setup.sh`` itself runs with stand-ins for apt-get and Python that record what it asks for.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from batch_nb import ACTGRADE, Exercise, exercises, fresh_secret, write

import actgrader
from actgrader.batch import GradingOptions
from actgrader.batch.autograder import CONFIG_NAME, NO_SECRET, PYTHON_ENV, ROOT_ENV, build_zip, choose_notebook
from actgrader.batch.summary import PUBLIC_ONLY

EXERCISES = exercises()
# The zip that is run for real: the lightest notebook.
RUN = next((e for e in EXERCISES if e.name == "forward-propagation"), EXERCISES[0])
SECRET = fresh_secret()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTGRADER_SECRET", "ACTGRADE_AUTOGRADER"))}
    return env | extra


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zips")
    proc = subprocess.run(
        [str(ACTGRADE), "gradescope", "-o", str(root / "strict"), "--cell-timeout", "20"],
        env=_clean_env(ACTGRADER_SECRET=SECRET),  # present while building: it must not end up in a zip
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "The instructor secret is not in the zips" in proc.stdout
    assert sorted(p.name for p in (root / "strict").iterdir()) == sorted(f"{e.name}.zip" for e in EXERCISES)
    build_zip(RUN.release, root / "public" / f"{RUN.name}.zip", public_only=True)
    return {"strict": root / "strict", "public": root / "public"}


def _unpack(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)


def run_autograder(
    archive: Path, root: Path, files: dict[str, dict[str, Any] | str], secret: str | None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """Unpack ``archive`` as Gradescope does, submit ``files`` (notebooks or text) and run the autograder once."""
    _unpack(archive, root / "source")
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "results").mkdir()
    (root / "submission").mkdir()
    for name, content in files.items():
        if isinstance(content, str):
            (root / "submission" / name).write_text(content)
        else:
            write(root / "submission" / name, content)
    env = _clean_env(**{ROOT_ENV: str(root), PYTHON_ENV: sys.executable})
    if secret is not None:
        env["ACTGRADER_SECRET"] = secret
    proc = subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    results = root / "results" / "results.json"
    return proc, (json.loads(results.read_text(encoding="utf-8")) if results.exists() else None)


@pytest.mark.parametrize("name", [e.name for e in EXERCISES])
def test_the_zip_holds_what_gradescope_needs_and_no_secret(zips, name):
    archive = zips["strict"] / f"{name}.zip"
    exercise = Exercise(name)
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        contents = b"".join(z.read(n) for n in names)
        config = json.loads(z.read(CONFIG_NAME))
        release = z.read(f"release/{name}/{name}.ipynb")
    assert {"setup.sh", "run_autograder", "README.txt", CONFIG_NAME, "constraints.txt"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "grader/pyproject.toml" in names and "grader/src/actgrader/batch/engine.py" in names
    for task in exercise.tasks:
        assert f"grader/src/actgrader/tasks/{task.id}.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("solutions/")]
    assert release == exercise.release.path.read_bytes()
    assert (config["assignment"], config["public_only"], config["cell_timeout"]) == (name, False, 20.0)
    assert SECRET.encode() not in contents
    assert b"### BEGIN SOLUTION" not in contents and b"BEGIN HIDDEN TESTS" not in release


def test_the_zip_is_the_same_when_built_again(zips, tmp_path):
    for exercise in EXERCISES:
        again = build_zip(exercise.release, tmp_path / f"{exercise.name}.zip", options=GradingOptions(cell_timeout=20))
        assert again.read_bytes() == (zips["strict"] / f"{exercise.name}.zip").read_bytes()


@pytest.fixture(scope="module")
def runs(zips, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """run_autograder on one assignment's zip, five ways, two at a time.

    One assignment: the other zips differ only in their notebook and configuration (checked
    above), and test_batch_assignments grades every assignment with the same engine.
    """
    name = RUN.name
    strict, public = zips["strict"] / f"{name}.zip", zips["public"] / f"{name}.zip"
    plans = {
        "solution": (strict, {f"{name}.ipynb": RUN.solved()}, SECRET),
        "untouched": (strict, {"anything.ipynb": RUN.untouched()}, SECRET),
        "no-secret": (strict, {f"{name}.ipynb": RUN.solved()}, None),
        "public-only": (public, {f"{name}.ipynb": RUN.solved()}, None),
        "no-notebook": (strict, {"answers.py": "def forward_pass(): ..."}, SECRET),
    }
    root = tmp_path_factory.mktemp("gradescope-runs")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            label: pool.submit(run_autograder, archive, root / label, files, secret)
            for label, (archive, files, secret) in plans.items()
        }
        return {"root": root} | {label: future.result() for label, future in futures.items()}


def test_run_autograder_grades_a_solution_with_the_grader_in_the_zip(runs):
    proc, results = runs["solution"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None
    shipped = (runs["root"] / "solution" / "source" / "grader" / "src" / "actgrader").resolve()
    assert f"actgrade: grader {shipped}" in proc.stdout, "run_autograder must run the grader shipped in the zip"
    assert results["score"] == RUN.full
    assert sum(t["max_score"] for t in results["tests"]) == RUN.full
    assert all(t["status"] == "passed" for t in results["tests"] if t["max_score"])
    assert PUBLIC_ONLY not in results["output"]
    assert SECRET not in json.dumps(results) + proc.stdout + proc.stderr


def test_run_autograder_gives_an_untouched_notebook_zero(runs):
    proc, results = runs["untouched"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None and results["score"] == 0
    assert sum(t["max_score"] for t in results["tests"]) == RUN.full
    hidden = [t for t in results["tests"] if "hidden" in t.get("tags", [])]
    assert hidden and all("Hidden cases: 0 of" in t["output"] for t in hidden)


def test_without_the_secret_run_autograder_fails_loudly_and_writes_nothing(runs):
    proc, results = runs["no-secret"]
    assert proc.returncode == 1
    assert NO_SECRET in proc.stdout and NO_SECRET in proc.stderr
    assert results is None


def test_a_public_only_zip_grades_the_public_cases_and_says_so(runs):
    proc, results = runs["public-only"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None
    assert results["score"] == sum(t.public_points for t in RUN.tasks) < RUN.full
    assert PUBLIC_ONLY in results["output"]
    assert "did NOT run (public cases only)" in proc.stdout


def test_a_submission_without_a_notebook_gets_zero_and_a_message(runs):
    proc, results = runs["no-notebook"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None and results["score"] == 0 and results["tests"] == []
    assert "No notebook (.ipynb file) was found" in results["output"]


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_sh_installs_torch_cpu_and_the_shipped_grader(zips, tmp_path):
    """setup.sh with apt-get and python3 replaced by stand-ins that log their arguments."""
    root = tmp_path / "autograder"
    _unpack(zips["strict"] / f"{RUN.name}.zip", root / "source")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    record = f'echo "$(basename "$0") $*" >> {log}\n'
    _stub(bin_dir / "apt-get", record)
    # python3 -m venv DIR creates DIR/bin/python3, itself a logging stand-in.
    _stub(
        bin_dir / "python3",
        record + 'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; '
        'cp "$0" "$3/bin/python3"; fi\nexit 0\n',
    )
    env = _clean_env(**{ROOT_ENV: str(root), "PATH": f"{bin_dir}:/usr/bin:/bin"})
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    torch = next(line for line in (Path(actgrader.__file__).parents[3] / "constraints.txt").read_text().splitlines()
                 if line.startswith("torch=="))  # fmt: skip
    assert calls[0].startswith("apt-get install -y") and "python3-venv" in calls[0]
    assert f"python3 -m venv {root}/venv" in calls
    assert f"python3 -m pip install --index-url https://download.pytorch.org/whl/cpu {torch}" in calls
    assert f"python3 -m pip install -c {root}/source/constraints.txt {root}/source/grader" in calls
    assert calls[-1] == "python3 -c import actgrader.batch.engine"


def test_the_notebook_graded_is_the_one_named_like_the_release_else_one_that_matches(tmp_path):
    release = RUN.release
    folder = tmp_path / "submission"
    write(folder / "notes.ipynb", {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    write(folder / "my-work.ipynb", RUN.solved())
    write(folder / ".ipynb_checkpoints" / f"{RUN.name}-checkpoint.ipynb", RUN.solved())
    chosen, ignored = choose_notebook(folder, release)
    assert chosen == folder / "my-work.ipynb"  # its answer cells are the release's
    assert ignored == [folder / "notes.ipynb"]
    write(folder / "sub" / release.path.name, RUN.untouched())
    chosen, ignored = choose_notebook(folder, release)
    assert chosen == folder / "sub" / release.path.name
    assert sorted(ignored) == [folder / "my-work.ipynb", folder / "notes.ipynb"]
    (tmp_path / "empty").mkdir()
    assert choose_notebook(tmp_path / "empty", release) == (None, [])
