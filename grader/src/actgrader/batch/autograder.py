"""Grading on Gradescope: the autograder zip (``actgrade gradescope``) and what runs inside it.

A Gradescope programming assignment takes a zip holding ``setup.sh`` (run once, as root, when
Gradescope builds the autograder image) and ``run_autograder`` (run once per submission; it
must write ``/autograder/results/results.json``). The zip built here holds:

* ``setup.sh``: installs Python's venv, torch's CPU build and the grader (with the course's
  pinned versions, ``constraints.txt``) into ``/autograder/venv``;
* ``run_autograder``: runs ``actgrade gradescope-run`` with the zip's own copy of the grader;
* ``actgrade-autograder.json``: the assignment, the limits and the ``--public-only`` choice;
* ``release/<assignment>/<assignment>.ipynb``: the release notebook (setup cells, answer cells);
* ``grader/``: the grader package's source (``pyproject.toml``, ``src/actgrader``);
* ``README.txt``: how to give the autograder the instructor secret.

The instructor secret is never put in the zip. ``run_autograder`` reads it from
``ACTGRADER_SECRET`` (or the file named by ``ACTGRADER_SECRET_FILE``) and, unless the zip was
built with ``--public-only``, stops with an error and writes no results without it: a
Gradescope run that silently skipped the hidden cases would hand out wrong grades.

Every Gradescope path can be moved with an environment variable (for testing the zip outside
Gradescope): ``ACTGRADE_AUTOGRADER_ROOT`` (default ``/autograder``; ``source``, ``submission``,
``results`` and ``venv`` live under it) and ``ACTGRADE_AUTOGRADER_PYTHON`` (default
``$ROOT/venv/bin/python3``).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import actgrader
from actgrader.batch import notebooks as nbs
from actgrader.batch.gradescope import VISIBILITIES, Visibility, results_json
from actgrader.batch.options import GradingOptions, repository_root
from actgrader.batch.results import SubmissionResult, write_atomic
from actgrader.grading.secret import SECRET_ENV, SECRET_FILE_ENV, SecretError, load_secret

CONFIG_NAME = "actgrade-autograder.json"
CONFIG_FORMAT = 1
ROOT_ENV = "ACTGRADE_AUTOGRADER_ROOT"
PYTHON_ENV = "ACTGRADE_AUTOGRADER_PYTHON"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so that the same sources give the same zip

NO_SECRET = (
    f"actgrade: NO INSTRUCTOR SECRET. This autograder needs {SECRET_ENV} (or {SECRET_FILE_ENV}) to run the "
    "hidden cases, and neither is set, so it stops here and writes no results (no grade is better than a "
    "wrong one). Provide the secret as README.txt in the autograder zip describes, or build the zip with "
    "`actgrade gradescope --public-only` to grade the public cases only."
)

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (actgrade {version}).
# It installs Python's venv, torch's CPU build and the course's grader, with the course's
# pinned versions, into $ROOT/venv. It never sees the instructor secret.
set -euxo pipefail
ROOT="${{{root_env}:-/autograder}}"
SOURCE="$ROOT/source"
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "actgrade needs Python 3.11 or newer: \
choose a newer Ubuntu base image in the autograder settings")'
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python3" -m pip install --upgrade pip
# torch from its CPU index: the default one would pull gigabytes of CUDA packages.
"$ROOT/venv/bin/python3" -m pip install --index-url {torch_index} "torch=={torch}"
"$ROOT/venv/bin/python3" -m pip install -c "$SOURCE/constraints.txt" "$SOURCE/grader"
"$ROOT/venv/bin/python3" -c "import actgrader.batch.engine"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission (actgrade {version}, assignment {assignment}).
# It grades the notebook in $ROOT/submission and writes $ROOT/results/results.json, using the
# grader shipped in this zip. The instructor secret comes from ${secret_env} or ${secret_file_env}
# (see README.txt); without it this exits with an error unless the zip was built --public-only.
set -euo pipefail
ROOT="${{{root_env}:-/autograder}}"
PYTHON="${{{python_env}:-$ROOT/venv/bin/python3}}"
export PYTHONPATH="$ROOT/source/grader/src${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$PYTHON" -P -m actgrader.cli gradescope-run \\
    --config "$ROOT/source/{config}" \\
    --submission "$ROOT/submission" \\
    --results "$ROOT/results/results.json"
"""

README_TXT = """\
Autograder for the assignment {assignment!r} of the activation-functions course
(built by `actgrade gradescope`, actgrade {version}).

Upload this zip as the autograder of a Gradescope programming assignment. Learners submit
their notebook ({notebook}). Choose a base image with Python 3.11 or newer (Ubuntu 24.04).

THE INSTRUCTOR SECRET
The hidden cases take their parameters from the instructor secret, which is NOT in this
zip (the course repository is public). {secret_mode}
run_autograder reads it from the environment variable {secret_env} (the secret itself) or
{secret_file_env} (the path of a file holding it). Ways to provide it:
  * if your Gradescope autograder settings let you set environment variables, set
    {secret_env} there;
  * with "Manual Docker configuration", build your own image from this zip and Gradescope's
    base image, with the secret in a file and {secret_file_env} pointing at it
    (ENV {secret_file_env}=/autograder/secret); keep that image private.
Test it with a submission before learners submit: without the secret, every run fails with
"NO INSTRUCTOR SECRET" in the autograder output.

WHAT RUNS
For each submission: the release's setup cells and the learner's answer cells, in a sandbox;
the checks call the learner's functions from outside it. results.json lists every public case,
a count of the hidden cases per task, and the written answers that you grade by hand (add
those as manually graded questions on Gradescope: they are worth 0 in the autograder score).
Limits: {limits}.
"""


@dataclass(frozen=True)
class AutograderConfig:
    """What ``run_autograder`` needs to know besides the secret (``actgrade-autograder.json``)."""

    assignment: str
    release: str  # path of the release notebook, relative to the source folder
    public_only: bool = False
    hidden_visibility: Visibility = "visible"
    cell_timeout: float = 60.0
    call_timeout: float = 30.0
    notebook_timeout: float = 600.0
    memory_limit: int = 3 * 2**30
    format: int = CONFIG_FORMAT

    @classmethod
    def load(cls, path: Path) -> AutograderConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != CONFIG_FORMAT:
            raise ValueError(f"{path}: unknown autograder configuration format {data.get('format')!r}")
        return cls(**data)


def _source_files(package: Path) -> list[tuple[str, Path]]:
    files = []
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files.append((f"grader/src/actgrader/{path.relative_to(package).as_posix()}", path))
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes | str, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data.encode() if isinstance(data, str) else data)


def _torch_pin(constraints: str) -> str:
    match = re.search(r"^torch==([^\s#;]+)", constraints, re.M)
    if not match:
        raise ValueError("constraints.txt pins no torch version (torch==...)")
    return match.group(1)


def build_zip(
    release: nbs.ReleaseNotebook,
    dest: Path,
    *,
    public_only: bool = False,
    hidden_visibility: Visibility = "visible",
    options: GradingOptions | None = None,
    repo: Path | None = None,
) -> Path:
    """Write the Gradescope autograder zip for ``release`` to ``dest`` (see the module docstring)."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden visibility must be one of {', '.join(VISIBILITIES)}")
    options = options or GradingOptions()
    repo = repo or repository_root()
    if repo is None:
        raise FileNotFoundError("the autograder zip is built from the course repository (grader/, constraints.txt)")
    constraints = (repo / "constraints.txt").read_text(encoding="utf-8")
    version = getattr(actgrader, "__version__", "?")
    notebook = f"release/{release.assignment}/{release.path.name}"
    config = AutograderConfig(
        assignment=release.assignment,
        release=notebook,
        public_only=public_only,
        hidden_visibility=hidden_visibility,
        cell_timeout=float(options.cell_timeout),
        call_timeout=float(options.call_timeout),
        notebook_timeout=float(options.notebook_timeout),
        memory_limit=int(options.memory_limit),
    )
    names = {"secret_env": SECRET_ENV, "secret_file_env": SECRET_FILE_ENV, "version": version}
    secret_mode = (
        "This zip was built with --public-only: without a secret it grades the public cases only, "
        "and says so in every result."
        if public_only
        else "Without it run_autograder stops with an error and writes no results."
    )
    limits = (
        f"{options.cell_timeout:g} s per cell, {options.call_timeout:g} s per call of a learner's function, "
        f"{options.notebook_timeout:g} s per notebook, {options.memory_limit // 2**20} MB of memory"
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        _add(
            archive,
            "setup.sh",
            SETUP_SH.format(root_env=ROOT_ENV, torch_index=TORCH_CPU_INDEX, torch=_torch_pin(constraints), **names),
            0o755,
        )
        _add(
            archive,
            "run_autograder",
            RUN_AUTOGRADER.format(
                root_env=ROOT_ENV, python_env=PYTHON_ENV, config=CONFIG_NAME, assignment=release.assignment, **names
            ),
            0o755,
        )
        _add(
            archive,
            "README.txt",
            README_TXT.format(
                assignment=release.assignment,
                notebook=release.path.name,
                secret_mode=secret_mode,
                limits=limits,
                **names,
            ),
        )
        _add(archive, CONFIG_NAME, json.dumps(asdict(config), indent=1) + "\n")
        _add(archive, "constraints.txt", constraints)
        _add(archive, notebook, release.path.read_bytes())
        _add(archive, "grader/pyproject.toml", (repo / "grader" / "pyproject.toml").read_bytes())
        readme = repo / "grader" / "README.md"
        _add(archive, "grader/README.md", readme.read_bytes() if readme.is_file() else b"")
        for name, path in _source_files(Path(actgrader.__file__).resolve().parent):
            _add(archive, name, path.read_bytes())
    tmp.replace(dest)
    return dest


# --------------------------------------------------------------------------- inside Gradescope


def choose_notebook(folder: Path, release: nbs.ReleaseNotebook) -> tuple[Path | None, list[Path]]:
    """The submitted notebook to grade, and the other notebooks (ignored).

    The one named like the release wins; otherwise the first whose answer cells match the
    release; otherwise the first notebook at all (it will be told it is the wrong one).
    """
    found = [
        p
        for p in sorted(folder.rglob("*.ipynb"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    if not found:
        return None, []
    chosen = next((p for p in found if p.name == release.path.name), None)
    if chosen is None:
        for path in found:
            try:
                _, cells = nbs.read_notebook(path)
            except nbs.NotebookError:
                continue
            if nbs.match_release(cells, [release]) is not None:
                chosen = path
                break
    chosen = chosen or found[0]
    return chosen, [p for p in found if p != chosen]


def _no_notebook(config: AutograderConfig, release: nbs.ReleaseNotebook, max_total: float) -> SubmissionResult:
    result = SubmissionResult(student="submission", source="", status="invalid", assignment=config.assignment)
    result.max_total = max_total
    result.messages.append(
        f"No notebook (.ipynb file) was found in your submission. Upload your {release.path.name}, "
        "downloaded from Jupyter with your answers in it."
    )
    return result


def run_in_container(
    config_path: Path, submission: Path, results: Path, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Grade one Gradescope submission into ``results`` (``actgrade gradescope-run``); the exit status."""
    from actgrader.batch.engine import grade_submissions
    from actgrader.tasks import get_task

    config = AutograderConfig.load(config_path)
    try:
        secret = load_secret()
    except SecretError as exc:
        print(f"actgrade: {exc}", file=err)
        print(f"actgrade: {exc}", file=out)
        return 1
    if secret is None and not config.public_only:
        print(NO_SECRET, file=err)
        print(NO_SECRET, file=out)
        return 1
    release = nbs.load_release(config_path.parent / config.release)
    chosen, ignored = choose_notebook(submission, release)
    if chosen is None:
        result = _no_notebook(config, release, sum(get_task(t).points for t in release.task_ids))
    else:
        options = GradingOptions(
            release=release.path,
            assignment=config.assignment,
            jobs=1,
            cell_timeout=config.cell_timeout,
            call_timeout=config.call_timeout,
            notebook_timeout=config.notebook_timeout,
            memory_limit=config.memory_limit,
            progress=False,
        )
        with tempfile.TemporaryDirectory(prefix="actgrade-gradescope-") as work:
            options.output = Path(work) / "out"

            def log(message: str) -> None:
                print(f"actgrade: {message}", file=out, flush=True)

            (result,) = grade_submissions([chosen], options, secret=secret, log=log)
        if ignored:
            result.notes.append(
                f"Only {chosen.name} was graded; ignored: {', '.join(p.name for p in ignored)}. Submit one notebook."
            )
    data: dict[str, Any] = results_json(result, hidden_visibility=config.hidden_visibility)
    write_atomic(results, json.dumps(data, indent=1, allow_nan=False) + "\n")
    print(f"actgrade: grader {Path(actgrader.__file__).resolve().parent}", file=out)
    print(
        f"actgrade: {result.status}; auto-graded points {result.total:g} of {result.max_total:g}; "
        f"hidden cases {'ran' if result.hidden_ran else 'did NOT run (public cases only)'}; "
        f"{result.seconds:.1f} s",
        file=out,
    )
    if result.internal:
        print(result.internal, file=out)
    return 1 if result.status == "internal-error" else 0
