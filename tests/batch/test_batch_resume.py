"""Same submission, same score; a batch killed mid-way and resumed gives the uninterrupted grades."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from batch_nb import (
    ACTGRADE,
    FAST,
    correct_submission,
    fresh_secret,
    grades,
    learner_solution,
    records,
    released,
    with_answers,
    write,
)

from actgrader.batch.engine import _resumable
from actgrader.batch.submissions import find_submissions
from actgrader.grading.conventions import answer_id
from actgrader.grading.secret import Secret, resume_tag

FP_OK = learner_solution(answer_id("forward_pass"))
# Right or wrong by the toss of the child's random generator: only a seeded, single-threaded
# child gives it the same score every time.
COIN = FP_OK.replace("    return h", "    return h if torch.rand(()) < 0.5 else h + 1")
SLOW = "import time\ntime.sleep(1.5)\n"


def _submissions(folder: Path) -> list[str]:
    students = {
        "ann": correct_submission(),
        "ben": released(),
        "coin1": with_answers(correct_submission(), forward_pass_answer=COIN),
        "coin2": with_answers(correct_submission(), forward_pass_answer=COIN),
        "noisy": with_answers(
            correct_submission(),
            forward_pass_answer=FP_OK.replace("    return h", "    return h + torch.randn(h.shape)"),
        ),
        "slow1": with_answers(correct_submission(), forward_pass_answer=SLOW + FP_OK),
        "slow2": with_answers(released(), forward_pass_answer=SLOW + FP_OK),
        "slow3": with_answers(correct_submission(), forward_pass_answer=SLOW + COIN),
    }
    for student, nb in students.items():
        write(folder / f"{student}.ipynb", nb)
    return sorted(students)


def _command(folder: Path, out: Path, *extra: str) -> list[str]:
    return [str(ACTGRADE), "grade", str(folder), "-o", str(out), *FAST, *extra]


def _env(secret: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ACTGRADER")} | {"ACTGRADER_SECRET": secret}


def _scores(out: Path) -> dict[str, list[tuple[str, str, float]]]:
    return {
        student: [(o.name, o.status, o.earned) for t in record.tasks for o in t.outcomes]
        for student, record in records(out).items()
    }


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("resume")
    students = _submissions(root / "in")
    secret = fresh_secret()
    whole = subprocess.run(
        _command(root / "in", root / "whole"), env=_env(secret), capture_output=True, text=True, timeout=300
    )
    assert whole.returncode == 0, whole.stderr

    # Its temporary folders (the fork server's home, the work root) cannot be removed by a grader
    # killed with SIGKILL: they go under this test's folder.
    (root / "tmp").mkdir()
    killed = subprocess.Popen(
        _command(root / "in", root / "resumed"),
        env=_env(secret) | {"TMPDIR": str(root / "tmp")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = root / "resumed" / "results"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(results.glob("*.json")):
        time.sleep(0.02)
    # The grader's fork server and the sandboxed children it forked, just before the kill. Between
    # two submissions a worker may have no child for a moment: wait (briefly) until one is running,
    # so that the kill always lands on a grader with children to clean up.
    tree = psutil.Process(killed.pid).children(recursive=True)
    while len(tree) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
        tree = psutil.Process(killed.pid).children(recursive=True)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    done_at_kill = sorted(p.stem for p in results.glob("*.json"))

    deadline = time.monotonic() + 15
    leftovers = tree
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.1)
        leftovers = [p for p in leftovers if _alive(p)]

    resumed = subprocess.run(
        _command(root / "in", root / "resumed", "--resume"), env=_env(secret), capture_output=True, text=True
    )
    return {
        "root": root,
        "students": students,
        "done_at_kill": done_at_kill,
        "tree": tree,
        "leftovers": leftovers,
        "resumed": resumed,
        "secret": secret,
    }


def test_kill_happened_mid_batch(runs):
    assert 1 <= len(runs["done_at_kill"]) < len(runs["students"])


def test_killing_the_grader_ends_its_fork_server_and_children(runs):
    assert len(runs["tree"]) >= 2  # the fork server and at least one sandboxed child were running
    assert runs["leftovers"] == []


def test_resume_skips_finished_records_and_matches_an_uninterrupted_run(runs):
    root = runs["root"]
    resumed = runs["resumed"]
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {len(runs['done_at_kill'])} submission(s) already graded" in resumed.stderr
    assert (root / "resumed" / "grades.csv").read_text() == (root / "whole" / "grades.csv").read_text()
    assert [row["student"] for row in grades(root / "resumed")] == runs["students"]


def test_same_submission_same_score(runs):
    root = runs["root"]
    whole, resumed = _scores(root / "whole"), _scores(root / "resumed")
    assert whole == resumed
    assert whole["coin1"] == whole["coin2"]
    statuses = {status for _, status, _ in whole["coin1"]}
    assert statuses == {"passed", "failed"}  # the coin landed both ways across the cases


def test_resume_keeps_a_record_only_for_the_same_notebook_and_the_same_secret(runs, tmp_path: Path):
    """What --resume decides, on the uninterrupted run's records (the kill test above regrades for real)."""
    root, key = runs["root"], Secret(runs["secret"].encode(), "test")
    out = root / "whole"
    folder = tmp_path / "in"
    shutil.copytree(root / "in", folder)
    write(folder / "ann.ipynb", released())  # ann changed her notebook since
    subs = {s.student: s for s in find_submissions([folder])}
    kept = {student for student, sub in subs.items() if _resumable(out, sub, key) is not None}
    assert kept == set(runs["students"]) - {"ann"}
    assert _resumable(out, subs["ben"], key) == records(out)["ben"]
    for other in (Secret(fresh_secret().encode(), "test"), None):  # other hidden cases, or none
        assert all(_resumable(out, sub, other) is None for sub in subs.values())
    assert resume_tag(key) and runs["secret"] not in (out / "results" / "ben.json").read_text()
