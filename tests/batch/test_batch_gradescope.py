"""``actgrade gradescope``: the autograder zip, unpacked and run the way Gradescope runs it.

Each run lays out a Gradescope-like tree under a temporary root, points the zip's scripts at
it with ``ACTGRADE_AUTOGRADER_ROOT`` (and at this virtualenv's Python, standing in for the one
``setup.sh`` installs), runs ``run_autograder`` with no secret in its environment (a plain
upload) and reads ``results/results.json`` (``grading_support.run_autograder``, which
``tools/doors.py`` uses too).
``setup.sh`` itself runs with stand-ins for apt-get and Python that record what it asks for.
"""

from __future__ import annotations

import json
import math
import shutil
import stat
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from batch_nb import ACTGRADE, Exercise, exercises, fresh_secret, learner_solution, solution_path, write
from grading_support import GRADESCOPE_USERS, clean_env, run_autograder, unpack_zip

import actgrader
from actgrader.batch import GradingOptions
from actgrader.batch.autograder import (
    CONFIG_NAME,
    KEEP_PRIVATE,
    NO_SECRET,
    ROOT_ENV,
    SECRET_NAME,
    ZIP_SECRET_MISSING,
    build_zip,
    choose_notebook,
    submitter,
)
from actgrader.batch.summary import PUBLIC_ONLY
from actgrader.grading.secret import Secret

EXERCISES = exercises()
# The zip that is run for real: the lightest notebook.
RUN = next((e for e in EXERCISES if e.name == "forward-propagation"), EXERCISES[0])
SECRET = fresh_secret()
RUN_SOLUTION = solution_path(RUN.name)  # in the course repository, next to which the zips run here


@pytest.fixture(scope="module")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("zips")
    proc = subprocess.run(
        [str(ACTGRADE), "gradescope", "-o", str(root / "strict"), "--cell-timeout", "20"],
        env=clean_env(ACTGRADER_SECRET=SECRET),  # present while building: it must not end up in a zip
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert KEEP_PRIVATE in proc.stdout
    assert sorted(p.name for p in (root / "strict").iterdir()) == sorted(f"{e.name}.zip" for e in EXERCISES)
    build_zip(RUN.release, root / "public" / f"{RUN.name}.zip", public_only=True)
    return {"strict": root / "strict", "public": root / "public"}


@pytest.mark.parametrize("name", [e.name for e in EXERCISES])
def test_the_zip_holds_what_gradescope_needs_and_no_secret(zips, name):
    archive = zips["strict"] / f"{name}.zip"
    exercise = Exercise(name)
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
        contents = b"".join(z.read(n) for n in names if n != SECRET_NAME)
        secret = z.read(SECRET_NAME)
        readme = z.read("README.txt").decode()
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
    # The secret is in the zip once, in its own file readable by its owner only; nowhere else.
    assert (secret, modes[SECRET_NAME], config["secret"]) == (SECRET.encode() + b"\n", 0o600, SECRET_NAME)
    assert SECRET.encode() not in contents
    assert "KEEP THIS ZIP PRIVATE" in readme and "upload it to Gradescope and nowhere else" in readme
    assert b"### BEGIN SOLUTION" not in contents and b"BEGIN HIDDEN TESTS" not in release


def test_the_zip_is_the_same_when_built_again(zips, tmp_path):
    secret = Secret(SECRET.encode(), "test")
    for exercise in EXERCISES:
        again = build_zip(
            exercise.release, tmp_path / f"{exercise.name}.zip", options=GradingOptions(cell_timeout=20), secret=secret
        )
        assert again.read_bytes() == (zips["strict"] / f"{exercise.name}.zip").read_bytes()


def test_without_a_secret_only_public_only_zips_are_built(tmp_path):
    proc = subprocess.run(
        [str(ACTGRADE), "gradescope", "-o", str(tmp_path / "zips")], env=clean_env(), capture_output=True, text=True
    )
    assert (proc.returncode, proc.stderr) == (2, f"actgrade: {ZIP_SECRET_MISSING}\n")
    assert not (tmp_path / "zips").exists()
    with pytest.raises(ValueError, match="no instructor secret"):
        build_zip(RUN.release, tmp_path / "strict.zip")
    with zipfile.ZipFile(build_zip(RUN.release, tmp_path / "public.zip", public_only=True)) as z:
        assert SECRET_NAME not in z.namelist()


def test_the_student_is_named_from_gradescopes_metadata(tmp_path):
    metadata = tmp_path / "submission_metadata.json"
    cases = [
        ({"id": 7, "users": GRADESCOPE_USERS}, "ada@example.edu"),
        ({"id": 7, "users": [*GRADESCOPE_USERS, {"email": "", "id": 99, "name": "Bo"}]}, "ada@example.edu+99"),
        ({"id": 7, "users": []}, "submission-7"),
        ({"id": 7, "users": [{"email": "../../etc/x y", "id": 1}]}, "_.._etc_x_y"),
        ("not json {", "submission"),
    ]
    for data, student in cases:
        metadata.write_text(data if isinstance(data, str) else json.dumps(data))
        assert submitter(metadata) == student, data
    assert submitter(tmp_path / "missing.json") == submitter(None) == "submission"


# Every way learner code might reach the secret in Gradescope's container: the zip's file
# (directly, through /proc/self/root, by a low-level read, by searching for it), the folder
# holding it, the environment (its own, its parent's, init's) and command lines. And the course
# repository's solution, for when the zip runs next to a clone of the course (as here, or on an
# instructor's machine reproducing a Gradescope result). Whatever it gets back, the first
# characters end up in its error message, which results.json shows it.
HOSTILE = """
import glob, os
_report = []
def _try(name, action):
    try:
        got = repr(action())
    except BaseException as exc:
        got = "refused " + type(exc).__name__
    _report.append(f"{{name}}: {{got[:80]}}")
_secret = {secret!r}
_try("file", lambda: open(_secret).read())
_try("proc_root", lambda: open("/proc/self/root" + _secret).read())
_try("raw", lambda: os.read(os.open(_secret, os.O_RDONLY), 4096))
_try("folder", lambda: os.listdir(os.path.dirname(_secret)))
_root = os.path.dirname(os.path.dirname(_secret))  # /autograder on Gradescope
_try("search", lambda: [open(p).read() for base in (_root, "/tmp", "/autograder")
                        for p in glob.glob(base + "/**/" + os.path.basename(_secret), recursive=True)])
_try("env", lambda: {{k: v for k, v in os.environ.items() if "SECRET" in k.upper()}})
_try("own_environ", lambda: open("/proc/self/environ", "rb").read())
_try("parent_environ", lambda: open(f"/proc/{{os.getppid()}}/environ", "rb").read())
_try("parent_cmdline", lambda: open(f"/proc/{{os.getppid()}}/cmdline", "rb").read())
_try("init_environ", lambda: open("/proc/1/environ", "rb").read())
_try("solution", lambda: open({solution!r}).read())
raise RuntimeError(" | ".join(_report))
"""


@pytest.fixture(scope="module")
def runs(zips, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """run_autograder on one assignment's zip, uploaded as built (no secret in the environment), two at a time.

    One assignment: the other zips differ only in their notebook and configuration (checked
    above), and test_batch_assignments grades every assignment with the same engine.
    """
    name = RUN.name
    strict, public = zips["strict"] / f"{name}.zip", zips["public"] / f"{name}.zip"
    root = tmp_path_factory.mktemp("gradescope-runs")
    secret_file = root / "hostile" / "source" / SECRET_NAME
    answer = RUN.release.answer_ids[0]
    probes = HOSTILE.format(secret=str(secret_file), solution=str(RUN_SOLUTION))
    attack = learner_solution(answer, RUN.name) + "\n" + probes
    hostile = RUN.with_sources(RUN.solved(), **{answer: attack})
    plans = {
        "solution": (strict, {f"{name}.ipynb": RUN.solved()}),
        "wrong": (strict, {"anything.ipynb": RUN.untouched()}),
        "hostile": (strict, {f"{name}.ipynb": hostile, "extra.ipynb": f"->{secret_file}"}),
        "link": (strict, {f"{name}.ipynb": f"->{root / 'link' / 'source' / SECRET_NAME}"}),
        "no-secret": (strict, {f"{name}.ipynb": RUN.solved()}),
        "public-only": (public, {f"{name}.ipynb": RUN.solved()}),
        "no-notebook": (strict, {"answers.py": "def forward_pass(): ..."}),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for label, (archive, files) in plans.items():
            if label == "no-secret":  # the zip without its secret file and no secret in the environment
                unpack_zip(archive, root / label / "source")
                (root / label / "source" / SECRET_NAME).unlink()
                archive = _repack(root / label / "source", root / f"{label}.zip")
                shutil.rmtree(root / label / "source")
            futures[label] = pool.submit(run_autograder, archive, root / label, files)
        return {"root": root} | {label: future.result() for label, future in futures.items()}


def _repack(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix())
                info.external_attr = (0o100000 | (path.stat().st_mode & 0o777)) << 16
                z.writestr(info, path.read_bytes())
    return archive


def test_a_plain_upload_grades_a_solution_hidden_cases_included(runs):
    proc, results, wall = runs["solution"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None
    shipped = (runs["root"] / "solution" / "source" / "grader" / "src" / "actgrader").resolve()
    assert f"actgrade: grader {shipped}" in proc.stdout, "run_autograder must run the grader shipped in the zip"
    assert results["score"] == RUN.full
    assert sum(t["max_score"] for t in results["tests"]) == RUN.full
    hidden = [t for t in results["tests"] if "hidden" in t.get("tags", [])]
    assert hidden and all(t["status"] == "passed" and t["score"] == t["max_score"] > 0 for t in hidden)
    assert all(t["status"] == "passed" for t in results["tests"] if t["max_score"])
    assert PUBLIC_ONLY not in results["output"] and "hidden cases ran" in proc.stdout
    assert results["extra_data"]["student"] == "ada@example.edu"  # Gradescope's metadata, not the notebook
    # The whole run (interpreter, sandbox, checks) in whole seconds, within the time it really took.
    assert isinstance(results["execution_time"], int) and 1 <= results["execution_time"] <= math.ceil(wall)
    assert SECRET not in json.dumps(results) + proc.stdout + proc.stderr


def test_a_plain_upload_gives_an_untouched_notebook_zero(runs):
    proc, results, _ = runs["wrong"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None and results["score"] == 0
    assert sum(t["max_score"] for t in results["tests"]) == RUN.full
    hidden = [t for t in results["tests"] if "hidden" in t.get("tags", [])]
    assert hidden and all("Hidden cases: 0 of" in t["output"] for t in hidden)


def test_learner_code_never_reaches_the_secret_in_the_container(runs):
    """The hostile notebook's every attempt fails or finds nothing, and it still earns its points."""
    proc, results, _ = runs["hostile"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None
    assert SECRET not in json.dumps(results) + proc.stdout + proc.stderr
    report = next(line for line in results["output"].splitlines() if "RuntimeError: file:" in line)
    for attempt in ("file", "proc_root", "raw", "parent_environ", "init_environ", "solution"):
        assert f"{attempt}: refused " in report, report
    assert "search: []" in report or "search: refused " in report, report
    assert results["score"] == RUN.full  # its answers are right: the attempts cost it nothing
    assert "ignored: extra.ipynb" in results["output"]  # the link next to it was never opened


def test_a_submission_that_links_to_the_secret_is_refused(runs):
    proc, results, _ = runs["link"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None and results["score"] == 0 and results["tests"] == []
    assert f"This file could not be graded: it is a symbolic link ({RUN.name}.ipynb -> " in results["output"]
    assert SECRET not in json.dumps(results) + proc.stdout + proc.stderr


def test_without_the_secret_run_autograder_fails_loudly_and_writes_nothing(runs):
    proc, results, _ = runs["no-secret"]
    assert proc.returncode == 1
    assert NO_SECRET in proc.stdout and NO_SECRET in proc.stderr
    assert results is None


def test_a_public_only_zip_grades_the_public_cases_and_says_so(runs):
    proc, results, _ = runs["public-only"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None
    assert results["score"] == sum(t.public_points for t in RUN.tasks) < RUN.full
    assert PUBLIC_ONLY in results["output"]
    assert "did NOT run (public cases only)" in proc.stdout


def test_a_submission_without_a_notebook_gets_zero_and_a_message(runs):
    proc, results, _ = runs["no-notebook"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert results is not None and results["score"] == 0 and results["tests"] == []
    assert "No notebook (.ipynb file) was found" in results["output"]


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_sh_installs_torch_cpu_and_the_shipped_grader(zips, tmp_path):
    """setup.sh with apt-get and python3 replaced by stand-ins that log their arguments."""
    root = tmp_path / "autograder"
    unpack_zip(zips["strict"] / f"{RUN.name}.zip", root / "source")
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
    env = clean_env(**{ROOT_ENV: str(root), "PATH": f"{bin_dir}:/usr/bin:/bin"})
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
