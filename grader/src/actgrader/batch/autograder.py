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
* ``instructor-secret``: the instructor secret, so that a plain upload grades the hidden
  cases (not in a ``--public-only`` zip); the zip is as private as the secret itself;
* ``README.txt``: what the zip holds and why it must stay private.

The secret is read by the trusted side only: ``gradescope-run`` loads it, names the file as a
protected path (hidden from the sandboxed child by an empty mount, and refused by its audit
hook) and passes it to no process that runs learner code (the fork server starts with a clean
environment). Without a secret (a zip without the file and no ``ACTGRADER_SECRET`` or
``ACTGRADER_SECRET_FILE`` set) ``run_autograder`` stops with an error and writes no results,
unless the zip was built with ``--public-only``: a Gradescope run that silently skipped the
hidden cases would hand out wrong grades.

The student is named from Gradescope's ``submission_metadata.json`` (the submitters' e-mail
addresses, else their Gradescope ids), never from the notebook's file name, and
``execution_time`` is the whole run's.

Every Gradescope path can be moved with an environment variable (for testing the zip outside
Gradescope): ``ACTGRADE_AUTOGRADER_ROOT`` (default ``/autograder``; ``source``, ``submission``,
``results`` and ``venv`` live under it) and ``ACTGRADE_AUTOGRADER_PYTHON`` (default
``$ROOT/venv/bin/python3``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import actgrader
from actgrader.batch import notebooks as nbs
from actgrader.batch.gradescope import VISIBILITIES, Visibility, results_json
from actgrader.batch.options import GradingOptions, repository_root
from actgrader.batch.results import SubmissionResult, write_atomic
from actgrader.batch.submissions import SubmissionRefused, find_submissions, read_submission, safe_id
from actgrader.grading.secret import SECRET_ENV, SECRET_FILE_ENV, Secret, SecretError, load_secret

CONFIG_NAME = "actgrade-autograder.json"
SECRET_NAME = "instructor-secret"
CONFIG_FORMAT = 1
ROOT_ENV = "ACTGRADE_AUTOGRADER_ROOT"
PYTHON_ENV = "ACTGRADE_AUTOGRADER_PYTHON"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed, so that the same sources give the same zip

NO_SECRET = (
    f"actgrade: NO INSTRUCTOR SECRET. This autograder zip holds no {SECRET_NAME} file and neither {SECRET_ENV} "
    f"nor {SECRET_FILE_ENV} is set, so the hidden cases cannot run: it stops here and writes no results (no "
    "grade is better than a wrong one). Build the zip again with the secret set (`actgrade gradescope`), or "
    "with `actgrade gradescope --public-only` to grade the public cases only."
)
ZIP_SECRET_MISSING = (
    f"no instructor secret: set {SECRET_ENV} or {SECRET_FILE_ENV} (or give --secret-file) to build an "
    "autograder that grades the hidden cases, or build it with --public-only"
)
KEEP_PRIVATE = (
    "Each zip holds the instructor secret: keep it private (upload it to Gradescope only; do not share, "
    "publish or commit it). Anyone with the zip can compute every hidden case."
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
# grader shipped in this zip. The instructor secret comes from the zip's {secret_name} file
# (else ${secret_env} or ${secret_file_env}); the graded notebook's code never sees it. Without
# a secret this exits with an error unless the zip was built --public-only.
set -euo pipefail
ROOT="${{{root_env}:-/autograder}}"
PYTHON="${{{python_env}:-$ROOT/venv/bin/python3}}"
export PYTHONPATH="$ROOT/source/grader/src${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$PYTHON" -P -m actgrader.cli gradescope-run \\
    --config "$ROOT/source/{config}" \\
    --submission "$ROOT/submission" \\
    --metadata "$ROOT/submission_metadata.json" \\
    --results "$ROOT/results/results.json"
"""

README_TXT = """\
Autograder for the assignment {assignment!r} of the activation-functions course
(built by `actgrade gradescope`, actgrade {version}).

Upload this zip as the autograder of a Gradescope programming assignment. Learners submit
their notebook ({notebook}). Choose a base image with Python 3.11 or newer (Ubuntu 24.04).

THE INSTRUCTOR SECRET: KEEP THIS ZIP PRIVATE
The hidden cases take their parameters from the instructor secret (the course repository,
checks and solutions included, is public). {secret_mode}

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
    secret: str = ""  # the secret's file, relative to the source folder ("": none in the zip)
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
    secret: Secret | None = None,
) -> Path:
    """Write the Gradescope autograder zip for ``release`` to ``dest`` (see the module docstring).

    ``secret`` goes into the zip (so it grades the hidden cases as uploaded) unless
    ``public_only``; a zip that is not public-only needs one (ValueError without it).
    """
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden visibility must be one of {', '.join(VISIBILITIES)}")
    if secret is None and not public_only:
        raise ValueError(ZIP_SECRET_MISSING)
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
        secret="" if public_only else SECRET_NAME,
    )
    names = {
        "secret_env": SECRET_ENV,
        "secret_file_env": SECRET_FILE_ENV,
        "secret_name": SECRET_NAME,
        "version": version,
    }
    secret_mode = (
        "This zip was built with --public-only: it holds no secret and grades the public cases\n"
        f"only (unless {SECRET_ENV} is set in the container), and says so in every result."
        if public_only
        else f"This zip holds the secret (the file {SECRET_NAME}), so uploaded as it is it grades\n"
        "the hidden cases. Keep the zip private: upload it to Gradescope and nowhere else; do\n"
        "not share, publish or commit it. Anyone who has it can compute every hidden case.\n"
        "The learner's code never sees the secret: only the grader reads the file, the\n"
        "sandbox hides it, and no process that runs learner code has it in its environment.\n"
        "A new secret means a new zip (build it again and upload it)."
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
        if config.secret and secret is not None:
            _add(archive, config.secret, secret.value + b"\n", 0o600)
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
    release; otherwise the first notebook at all (it will be told it is the wrong one). A
    notebook that is a link is never opened here: chosen, it is refused when graded.
    """
    found = [sub.path for sub in find_submissions([folder])]
    if not found:
        return None, []
    chosen = next((p for p in found if p.name == release.path.name), None)
    if chosen is None:
        for sub in find_submissions([folder]):
            try:
                cells = nbs.parse_notebook(read_submission(sub))
            except (OSError, SubmissionRefused, nbs.NotebookError):
                continue
            if nbs.match_release(cells, [release]) is not None:
                chosen = sub.path
                break
    chosen = chosen or found[0]
    return chosen, [p for p in found if p != chosen]


def submitter(metadata: Path | None) -> str:
    """Who submitted, from Gradescope's ``submission_metadata.json``: the submitters' e-mail addresses
    (their Gradescope ids when an address is missing), joined by ``+``; else the submission's id."""
    try:
        data = json.loads(metadata.read_text(encoding="utf-8")) if metadata is not None else {}
    except (OSError, ValueError):
        data = {}
    users = data.get("users") if isinstance(data, dict) else None
    names = []
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict):
            name = user.get("email") or user.get("id")
            if isinstance(name, (str, int)) and not isinstance(name, bool) and str(name):
                names.append(str(name))
    if names:
        return safe_id("+".join(names))
    number = data.get("id") if isinstance(data, dict) else None
    return safe_id(f"submission-{number}") if isinstance(number, (str, int)) and number else "submission"


def _no_notebook(
    config: AutograderConfig, release: nbs.ReleaseNotebook, max_total: float, student: str
) -> SubmissionResult:
    result = SubmissionResult(student=student, source="", status="invalid", assignment=config.assignment)
    result.max_total = max_total
    result.messages.append(
        f"No notebook (.ipynb file) was found in your submission. Upload your {release.path.name}, "
        "downloaded from Jupyter with your answers in it."
    )
    return result


def _zip_secret(config: AutograderConfig, config_path: Path) -> Path | None:
    """The zip's secret file (made readable by root only), if the zip holds one."""
    if not config.secret:
        return None
    path = config_path.parent / config.secret
    if not path.is_file():
        return None
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return path


def run_in_container(
    config_path: Path,
    submission: Path,
    results: Path,
    *,
    metadata: Path | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Grade one Gradescope submission into ``results`` (``actgrade gradescope-run``); the exit status.

    The secret comes from the zip's file, else the environment; the student's id from
    ``metadata`` (Gradescope's ``submission_metadata.json``).
    """
    from actgrader.batch.engine import grade_submissions
    from actgrader.tasks import get_task

    started = time.monotonic()
    config = AutograderConfig.load(config_path)
    secret_file = _zip_secret(config, config_path)
    try:
        secret = load_secret(secret_file)
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
    student = submitter(metadata)
    if chosen is None:
        result = _no_notebook(config, release, sum(get_task(t).points for t in release.task_ids), student)
    else:
        options = GradingOptions(
            release=release.path,
            assignment=config.assignment,
            secret_file=secret_file,  # a protected path: hidden from the learner's code
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
        result.student = student
        if ignored:
            result.notes.append(
                f"Only {chosen.name} was graded; ignored: {', '.join(p.name for p in ignored)}. Submit one notebook."
            )
    data: dict[str, Any] = results_json(result, hidden_visibility=config.hidden_visibility)
    data["execution_time"] = math.ceil(time.monotonic() - started)  # the whole run, not only the checks
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
