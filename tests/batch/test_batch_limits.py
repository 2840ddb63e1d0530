"""Limits beyond the hostile suite: the notebook's time budget, the memory watchdog, the non-root sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest
from batch_nb import SOLUTION, correct_submission, fresh_secret, learner_solution, with_answers, write

import actgrader.reference.forward
from actgrader.batch import GradingOptions, grade_submissions
from actgrader.batch.forkserver import ForkServer
from actgrader.batch.notebooks import Program, ProgramCell
from actgrader.batch.remote import Session, SessionLimits
from actgrader.batch.sandbox import SandboxConfig, required_paths
from actgrader.batch.uids import UidSlots
from actgrader.grading.conventions import answer_id
from actgrader.grading.secret import Secret

FP_OK = learner_solution(answer_id("forward_pass"))
MB = 2**20


def _options(out: Path, **changes: object) -> GradingOptions:
    base = {
        "output": out,
        "jobs": 2,
        "cell_timeout": 4.0,
        "call_timeout": 2.0,
        "notebook_timeout": 60.0,
        "memory_limit": 1024 * MB,
        "progress": False,
    }
    return GradingOptions(**(base | changes))


def test_the_notebook_budget_fails_the_remaining_cases(tmp_path: Path):
    slow = FP_OK.replace("    h = x\n", "    import time\n    time.sleep(2)\n    h = x\n")
    write(tmp_path / "in" / "slow.ipynb", with_answers(correct_submission(), forward_pass_answer=slow))
    options = _options(tmp_path / "out", notebook_timeout=7.0, call_timeout=10.0)
    (record,) = grade_submissions([tmp_path / "in"], options, secret=Secret(fresh_secret().encode(), "test"))
    outcomes = [o for t in record.tasks for o in t.outcomes]
    assert outcomes[0].status == "passed"
    assert outcomes[-1].status == "timeout"
    budget = "the time budget for the whole notebook (7 s) ran out"
    late = [o for o in outcomes if o.status != "passed"]
    assert late and all(o.status == "timeout" and budget in (o.message or "") for o in late)
    assert record.status == "timeout"
    # How soon it is stopped is a figure of the benchmark (bench/grading.py), not a test.


def test_the_memory_watchdog_kills_a_child_over_its_cap(tmp_path: Path):
    # The child's uid is held like a batch's (UidSlots): killing a child kills everything running
    # under its uid, so a uid shared with a batch running beside this test (the background
    # benchmark) would kill that batch's children, and be killed by it.
    with UidSlots(GradingOptions().sandbox_uid, 1) as slots, ForkServer() as server:
        baseline = psutil.Process(server.pid).memory_info().rss
        config = SandboxConfig(
            uid=slots.uids[0],
            memory_limit=4096 * MB,  # the address-space cap stays out of the way: the watchdog acts
            cpu_seconds=60,
            file_size=MB,
            tmp_size=16 * MB,
            nproc=8,
            protected=(),
            required=tuple(required_paths()),
            work_root=tempfile.mkdtemp(dir=tmp_path),
        )
        program = Program(
            (
                # The fork server preloaded what an optimizer's first step would import (seconds per child).
                ProgramCell(0, "setup", "import sys, torch\nassert 'torch._dynamo' in sys.modules", "release", 0),
                ProgramCell(
                    1, answer_id("hog"), "hog = torch.ones(10**8)\nimport time\ntime.sleep(10)", "submission", 1
                ),
                ProgramCell(2, answer_id("after"), "after = 1", "submission", 2),
            )
        )
        limits = SessionLimits(cell_timeout=20, call_timeout=5, notebook_timeout=60, memory_cap=baseline + 100 * MB)
        session = Session(server, program, config.to_json(), limits)
        try:
            session.run_program()
        finally:
            session.close()
    setup, hog, after = session.cells
    assert (setup.status, hog.status, after.status) == ("ok", "crashed", "ok")
    assert hog.reason == f"it used more memory than allowed ({(baseline + 100 * MB) // MB} MB)"
    assert session.children_started == 2


@pytest.fixture(scope="module")
def user_mode(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A batch graded with the sandbox a non-root user gets: only the interpreter-level layers."""
    root = tmp_path_factory.mktemp("user-mode")
    reference = str(Path(actgrader.reference.forward.__file__).resolve())
    repo = Path(reference).parents[4]
    (root / "alias").symlink_to(repo)  # a linked folder the grader does not know about
    aliased = str(root / "alias" / Path(reference).relative_to(repo))
    attempts = {
        "symlinked": f"open({aliased!r}).read()\n",
        "proc_root": f"open('/proc/self/root' + {reference!r}).read()\n",
        "dir_fd": "import os\nos.open('/', os.O_RDONLY)\n",
        "climb": "import os\nos.mkdir('a')\nfd = os.open('a', os.O_RDONLY)\n"
        "os.open('../../x', os.O_RDONLY, dir_fd=fd)\n",
        "pidfd": "import os\nos.pidfd_open(os.getppid())\n",
        "reference": f"exec(open({reference!r}).read())\n",
        "parent": "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())\n",
        "network": "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)\n",
        "write": f"open({str(root / 'out' / 'pwned')!r}, 'w')\n",
        "fork": "import os\nos.fork()\n",
        "imports": "import actgrader.reference\n",
    }
    write(root / "in" / "solution.ipynb", json.loads(SOLUTION.read_text()))
    for name, code in attempts.items():
        write(root / "in" / f"{name}.ipynb", with_answers(correct_submission(), forward_pass_answer=code + FP_OK))
    results = grade_submissions(
        [root / "in"], _options(root / "out", root_layers=False), secret=Secret(fresh_secret().encode(), "test")
    )
    return {"root": root, "results": {r.student: r for r in results}, "attempts": attempts}


def test_user_mode_reports_its_layers(user_mode):
    layers = " | ".join(user_mode["results"]["solution"].sandbox)
    assert "files: not hidden (needs root)" in layers
    assert "network: none (user + network namespace)" in layers
    assert "audit hook and import stub: on" in layers
    assert "uid/gid" not in layers


def test_user_mode_grades_the_solution_in_full(user_mode):
    solution = user_mode["results"]["solution"]
    assert solution.status == "ok" and solution.total == solution.max_total > 0


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("reference", "PermissionError: reading"),
        ("parent", "PermissionError: looking at other processes is not allowed while grading"),
        ("network", "PermissionError: network access is not allowed while grading"),
        ("write", "PermissionError: writing outside your working directory"),
        ("fork", "PermissionError: starting processes"),
        ("imports", "ImportError: the course's reference implementations are not available while grading"),
        ("symlinked", "PermissionError: reading"),
        ("proc_root", "PermissionError: reading"),
        ("dir_fd", "PermissionError: opening folders outside your working directory"),
        ("climb", "PermissionError: while grading, relative paths may not climb out with '..'"),
        ("pidfd", "PermissionError: sending signals to processes is not allowed while grading"),
    ],
)
def test_user_mode_still_refuses(user_mode, name, error):
    record = user_mode["results"][name]
    (cell,) = [c for c in record.cells if c["grade_id"] == answer_id("forward_pass")]
    assert cell["status"] == "error"
    assert f"{cell['error']['type']}: {cell['error']['message']}".startswith(error), cell
    assert not (user_mode["root"] / "out" / "pwned").exists()


def test_two_batches_never_share_a_uid():
    """Children are killed by uid, so two batches on one machine must hold different uids."""
    first = 71000
    with UidSlots(first, 2) as one, UidSlots(first, 2) as two:
        assert one.uids == [first, first + 1]
        assert two.uids == [first + 2, first + 3]
    with UidSlots(first, 1) as again:
        assert again.uids == [first]  # released when the batches ended


def test_a_uid_with_processes_left_is_passed_over(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process under another uid")
    first = 71100
    sleeper = subprocess.Popen(["sleep", "30"], user=first, group=first)
    try:
        with UidSlots(first, 1) as slots:
            assert slots.uids == [first + 1]
    finally:
        sleeper.kill()
        sleeper.wait()
