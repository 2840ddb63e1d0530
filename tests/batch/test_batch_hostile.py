"""Broken and hostile submissions, graded in one batch next to honest ones.

Each submission is the release with its answer cells edited. One ``actgrade grade`` run
grades them all (two at a time, short timeouts); each test then checks one submission's exact
outcome (points per task, the kind of each case's result, the message) and the honest
students' grades, which must be exactly what they would be alone.
"""

from __future__ import annotations

import builtins
import copy
import hashlib
import json
import os
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from batch_nb import (
    ASSIGNMENT,
    FAST,
    RELEASE,
    SOLUTION,
    Exercise,
    assignment_names,
    cell,
    correct_submission,
    fresh_secret,
    grades,
    learner_solution,
    records,
    released,
    run_actgrade,
    task_points,
    with_answers,
    write,
)

import actgrader.reference.forward
from actgrader.grading.conventions import answer_id, check_id, is_role

FP, LC = answer_id("forward_pass"), answer_id("linear_collapse")
FP_OK, LC_OK = learner_solution(FP), learner_solution(LC)
FP_WRONG = "def forward_pass(x, weights, activation):\n    return torch.zeros(x.shape[0], weights[-1].shape[0])\n"
LC_WRONG = "def collapse_linear_stack(weights):\n    return weights[0]\n"
POINTS = task_points()
FULL = sum(POINTS.values())
REFERENCE_FILE = Path(actgrader.reference.forward.__file__).resolve()
HONEST = {"alice": FULL, "bob": 0.0, "carol": FULL}
OTHER_ASSIGNMENT = next(n for n in assignment_names() if n != ASSIGNMENT)
REFUSED_LINK = "This file could not be graded: it is a symbolic link"

# A cell that tries several ways to do something forbidden, each of which would leave a marker
# file behind if it worked, and reports how each one ended in the error it raises at the end.
ATTEMPTS = """
import os, time
_report = []
def attempt(name, action):
    try:
        action(name)
    except BaseException as exc:
        how = type(exc).__name__
    else:
        how = "none"
    time.sleep(0.05)
    escaped = os.path.exists(name)
    _report.append(f"{name}:{'ESCAPED' if escaped else 'blocked'}:{how}")
"""


def _attempts(body: str) -> str:
    return ATTEMPTS + textwrap.dedent(body) + '\nraise RuntimeError(" ".join(_report))\n'


@dataclass
class Case:
    """A submission and exactly what grading it must give."""

    answers: dict[str, str] = field(default_factory=dict)
    total: float = 0.0
    status: str = "ok"
    kinds: dict[str, set[str]] = field(default_factory=dict)  # task -> statuses of the cases that ran
    cell: tuple[str, str, str | None] | None = None  # (grade_id, cell status, error type)
    says: tuple[str, ...] = ()  # substrings some message of the record contains
    blocked: tuple[str, ...] = ()  # attempt names that must each fail with an OSError (the hook's or the kernel's)
    edit: Any = None  # a function editing the notebook dict further
    raw: bytes | None = None  # file content instead of a notebook
    link: str | None = None  # the submission is a link to this file: "symbolic:<path>" or "hard:<path>"


def _paths(root: Path) -> dict[str, str]:
    return {
        "out": str(root / "out"),
        "victim": str(root / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        "secret": str(root / "secret.txt"),
        "reference": str(REFERENCE_FILE),
        "release": str(RELEASE),
        "instructor_copy": str(root / "instructor" / f"{ASSIGNMENT}.ipynb"),  # same disk as the submissions
    }


def _cases(p: dict[str, str]) -> dict[str, Case]:
    ok = {"forward_pass": {"passed"}, "linear_collapse": {"passed"}}

    def both(fp: set[str], lc: set[str]) -> dict[str, set[str]]:
        return {"forward_pass": fp, "linear_collapse": lc}

    def drop_test_cells(nb: dict) -> None:
        nb["cells"] = [
            c
            for c in nb["cells"]
            if not any(is_role(c.get("metadata", {}).get("nbgrader", {}).get("grade_id"), r) for r in ("check", "demo"))
        ]

    def edit_test_cells(nb: dict) -> None:
        cell(nb, check_id("forward_pass"))["source"] = "forward_pass = None\nraise SystemExit('edited test cell')\n"
        cell(nb, check_id("linear_collapse"))["source"] = (
            "print('linear_collapse: 4 of 4 points')\ncollapse_linear_stack = lambda w: None\n"
        )
        cell(nb, "setup")["source"] = "raise SystemExit('edited setup cell')\n"

    def duplicate(nb: dict) -> None:
        for grade_id, first, second in ((FP, FP_WRONG, FP_OK), (LC, LC_OK, LC_WRONG)):
            original = cell(nb, grade_id)
            extra = copy.deepcopy(original)
            original["source"], extra["source"] = first, second
            nb["cells"].insert(nb["cells"].index(original) + 1, extra)

    def other_assignment(nb: dict) -> None:
        for c in nb["cells"]:
            meta = c.get("metadata", {}).get("nbgrader")
            if meta:
                meta["grade_id"] = "sigmoid_" + meta["grade_id"]

    return {
        "loop_top_level": Case(
            {FP: FP_OK + "\nwhile True:\n    pass\n"},
            total=POINTS["linear_collapse"],
            status="timeout",
            kinds=both({"timeout"}, {"passed"}),
            cell=(FP, "timeout", None),
            says=("did not finish within 4 s", "could not be checked"),
        ),
        "loop_in_function": Case(
            {LC: "def collapse_linear_stack(weights):\n    while True:\n        pass\n"},
            total=POINTS["forward_pass"],
            status="timeout",
            kinds=both({"passed"}, {"timeout"}),
            says=("did not finish in time (no result within 3 s)",),
        ),
        "memory_bomb_top_level": Case(
            {FP: FP_OK + "\nhog = [torch.ones(2**25) for _ in range(10**6)]\n"},
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(FP, "error", "RuntimeError"),
            says=("can't allocate memory",),
        ),
        "memory_bomb_in_function": Case(
            {
                LC: "def collapse_linear_stack(weights):\n    hog = []\n    while True:\n"
                "        hog.append(torch.ones(2**25))\n"
            },
            total=POINTS["forward_pass"],
            status="errors",
            kinds=both({"passed"}, {"error"}),
            says=("can't allocate memory",),
        ),
        "sys_exit": Case(
            {FP: "import sys\nsys.exit('bye')\n" + FP_OK},
            total=POINTS["linear_collapse"],
            status="errors",
            kinds=both({"missing"}, {"passed"}),
            cell=(FP, "error", "SystemExit"),
            says=("`forward_pass` is not defined", "its cell raised SystemExit: bye (line 2"),
        ),
        "os_exit_top_level": Case(
            {FP: "import os\nos._exit(1)\n" + FP_OK},
            total=POINTS["linear_collapse"],
            status="crashed",
            kinds=both({"crashed"}, {"passed"}),
            cell=(FP, "crashed", None),
            says=("ended the process that ran it (it exited with code 1",),
        ),
        "os_exit_in_function": Case(
            {LC: "def collapse_linear_stack(weights):\n    import os\n    os._exit(3)\n"},
            total=POINTS["forward_pass"],
            status="crashed",
            kinds=both({"passed"}, {"crashed"}),
            says=("exited with code 3",),
        ),
        "segfault_in_function": Case(
            {LC: "def collapse_linear_stack(weights):\n    import faulthandler\n    faulthandler._sigsegv()\n"},
            total=POINTS["forward_pass"],
            status="crashed",
            kinds=both({"passed"}, {"crashed"}),
            says=("killed by SIGSEGV",),
        ),
        "missing_module": Case(
            {FP: "import numpyy_not_installed\n" + FP_OK},
            total=POINTS["linear_collapse"],
            status="errors",
            kinds=both({"missing"}, {"passed"}),
            cell=(FP, "error", "ModuleNotFoundError"),
            says=("No module named 'numpyy_not_installed'",),
        ),
        "raises_in_function": Case(
            {LC: "def collapse_linear_stack(weights):\n    raise ValueError('boom')\n"},
            total=POINTS["forward_pass"],
            status="errors",
            kinds=both({"passed"}, {"error"}),
            says=("`collapse_linear_stack` raised ValueError: boom (line 2 in collapse_linear_stack)",),
        ),
        # An honest answer that imports what the fork server did not (standard library and
        # site-packages alike): the sandbox keeps the installation visible wherever it lives.
        "lazy_imports": Case(
            {FP: "import multiprocessing.popen_fork, pty, sqlite3, xml.dom.minidom, numpy.polynomial\n" + FP_OK},
            total=FULL,
            kinds=ok,
        ),
        "nan_output": Case(
            {
                FP: "def forward_pass(x, weights, activation):\n"
                "    return torch.full((x.shape[0], weights[-1].shape[0]), float('nan'), dtype=x.dtype)\n"
            },
            total=POINTS["linear_collapse"],
            kinds=both({"failed"}, {"passed"}),
            says=("the output contains NaN",),
        ),
        "wrong_shape": Case(
            {FP: "def forward_pass(x, weights, activation):\n    return x\n"},
            total=POINTS["linear_collapse"],
            kinds=both({"failed"}, {"passed"}),
            says=("but it should have shape",),
        ),
        "renamed_function": Case(
            {FP: FP_OK.replace("def forward_pass(", "def forward_propagation(")},
            total=POINTS["linear_collapse"],
            kinds=both({"missing"}, {"passed"}),
            says=("`forward_pass` is not defined",),
        ),
        "not_json": Case(raw=b"this is not JSON {", status="invalid", says=("not valid JSON",)),
        # Links are never followed by the grader (root): the record is worth 0 and says why.
        "link_to_solution": Case(link=f"symbolic:{SOLUTION}", status="invalid", says=(REFUSED_LINK,)),
        "link_to_shadow": Case(link="symbolic:/etc/shadow", status="invalid", says=(REFUSED_LINK, "/etc/shadow")),
        "hard_link_to_solution": Case(
            link=f"hard:{p['instructor_copy']}", status="invalid", says=("it is a hard link",)
        ),
        "linked_folder": Case(
            link=f"folder:{SOLUTION.parent}", status="invalid", says=("inside a folder that is a symbolic link",)
        ),
        "other_assignment_in_folder": Case(
            raw=json.dumps(Exercise(OTHER_ASSIGNMENT).solved()).encode(),
            status="wrong-assignment",
            says=(
                f"do not match assignment {ASSIGNMENT!r}",
                f"the folder it was filed in ({ASSIGNMENT}/)",
                f"it is the notebook of assignment {OTHER_ASSIGNMENT!r}",
            ),
        ),
        "wrong_assignment": Case(
            {FP: FP_OK, LC: LC_OK}, edit=other_assignment, status="wrong-assignment", says=("Wrong assignment",)
        ),
        "huge_output": Case(
            {
                FP: FP_OK + "\nprint('x' * (50 * 2**20))\nimport os\nos.write(1, b'y' * (50 * 2**20))\n"
                "for _ in range(100000):\n    print('forward_pass: 6 of 6 points, all tests passed')\n",
                LC: LC_OK + "\n_real = collapse_linear_stack\ndef collapse_linear_stack(weights):\n"
                "    print('z' * (50 * 2**20))\n    return _real(weights)\n",
            },
            total=FULL,
            kinds=ok,
        ),
        "fork_bomb": Case(
            {FP: FP_OK + "\nimport os\nwhile True:\n    os.fork()\n"},
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(FP, "error", "PermissionError"),
            says=("starting processes",),
        ),
        "multiprocessing_bomb": Case(
            {
                LC: LC_OK + "\nimport multiprocessing\nfor _ in range(100):\n"
                "    multiprocessing.Process(target=print).start()\n"
            },
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(LC, "error", "PermissionError"),
            says=("starting processes",),
        ),
        "process_escapes": Case(
            {
                LC: LC_OK
                + _attempts(
                    """
                    import sys, subprocess, multiprocessing.util, pty, ctypes
                    def fork(m):
                        if os.fork() == 0:
                            open(m, "w").close()
                            os._exit(0)
                    attempt("fork", fork)
                    attempt("subprocess", lambda m: subprocess.run(["/bin/sh", "-c", f"touch {m}"]))
                    attempt("system", lambda m: os.system(f"touch {m}"))
                    attempt("shell", lambda m: get_ipython().system(f"touch {m}"))
                    attempt("forkexec", lambda m: multiprocessing.util.spawnv_passfds(
                        "/bin/sh", ["/bin/sh", "-c", f"touch {m}"], []))
                    def reimport(m):
                        sys.modules.pop("_posixsubprocess")
                        import _posixsubprocess
                    attempt("reimport", reimport)
                    attempt("spawn", lambda m: os.posix_spawn("/bin/sh", ["sh", "-c", f"touch {m}"], {}))
                    attempt("exec", lambda m: os.execv("/bin/sh", ["sh", "-c", f"touch {m}"]))
                    attempt("pty", lambda m: pty.fork())
                    attempt("ctypes", lambda m: ctypes.CDLL(None).fork())
                    attempt("kill", lambda m: os.kill(os.getppid(), 9))
                    """
                )
            },
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(LC, "error", "RuntimeError"),
            says=("shell:blocked:none",),  # a !command is skipped with a note, not an error
            blocked=(
                "fork",
                "subprocess",
                "system",
                "forkexec",
                "reimport",
                "spawn",
                "exec",
                "pty",
                "ctypes",
                "kill",
            ),
        ),
        "network": Case(
            {
                LC: LC_OK
                + _attempts(
                    """
                    import socket, urllib.request
                    attempt("tcp", lambda m: socket.create_connection(("1.1.1.1", 80), timeout=1))
                    attempt("local", lambda m: socket.create_connection(("127.0.0.1", 22), timeout=1))
                    attempt("udp", lambda m: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                        b"x", ("8.8.8.8", 53)))
                    attempt("dns", lambda m: socket.getaddrinfo("pypi.org", 443))
                    attempt("http", lambda m: urllib.request.urlopen("http://example.com", timeout=1))
                    """
                )
            },
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(LC, "error", "RuntimeError"),
            blocked=("tcp", "local", "udp", "dns", "http"),
        ),
        "read_reference": Case(
            {
                FP: f"exec(open({p['reference']!r}).read())\n",
                LC: LC_OK
                + _attempts(
                    f"""
                    import importlib.util
                    attempt("open", lambda m: print(open({p["reference"]!r}).read()))
                    attempt("raw", lambda m: print(os.read(os.open({p["reference"]!r}, os.O_RDONLY), 10**6)))
                    attempt("stat", lambda m: print(os.stat({p["reference"]!r})))
                    attempt("listdir", lambda m: print(os.listdir({str(REFERENCE_FILE.parent)!r})))
                    attempt("git", lambda m: print(open({str(REFERENCE_FILE.parents[4] / ".git" / "HEAD")!r}).read()))
                    attempt("solutions", lambda m: print(os.listdir({str(SOLUTION.parent)!r})))
                    attempt("loader", lambda m: print(vars(importlib.util.spec_from_file_location(
                        "ref", {p["reference"]!r}).loader.load_module())))
                    """
                ),
            },
            total=POINTS["linear_collapse"],
            status="errors",
            kinds=both({"missing"}, {"passed"}),
            cell=(FP, "error", "PermissionError"),
            says=(f"reading {p['reference']} is not allowed while grading",),
            blocked=("open", "raw", "stat", "listdir", "git", "solutions", "loader"),
        ),
        "import_reference": Case(
            {
                FP: "from actgrader.reference.forward import forward_pass\n",
                LC: LC_OK
                + _attempts(
                    f"""
                    import sys, importlib
                    from actgrader.notebook import check
                    check("linear_collapse", collapse_linear_stack)
                    def plain(m):
                        import actgrader.reference
                    def tasks(m):
                        importlib.import_module("actgrader.tasks.forward_pass")
                    def real_package(m):
                        sys.path.insert(0, {str(REFERENCE_FILE.parents[2])!r})
                        del sys.modules["actgrader"]
                        import actgrader.grading
                    attempt("plain", plain)
                    attempt("tasks", tasks)
                    attempt("real_package", real_package)
                    """
                ),
            },
            total=POINTS["linear_collapse"],
            status="errors",
            kinds=both({"missing"}, {"passed"}),
            cell=(FP, "error", "ImportError"),
            says=("the course's reference implementations are not available while grading",),
        ),
        "redefine_check_and_grade": Case(
            {
                FP: FP_OK + "\ndef check(*args, **kwargs):\n    print('all public cases pass')\n"
                "def grade(*args, **kwargs):\n    return 100\n"
                "import actgrader.notebook\nactgrader.notebook.grade = grade\n",
                LC: LC_WRONG,
            },
            total=POINTS["forward_pass"],
            kinds=both({"passed"}, {"failed"}),
        ),
        "monkeypatch_comparisons": Case(
            {
                FP: "import numpy as np\n"
                "torch.allclose = lambda *a, **k: True\n"
                "torch.Tensor.__eq__ = lambda self, other: True\n"
                "torch.Tensor.allclose = lambda *a, **k: True\n"
                "torch.isclose = lambda a, b, *x, **k: torch.ones_like(a, dtype=torch.bool)\n"
                "np.allclose = lambda *a, **k: True\n"
                "np.testing.assert_allclose = lambda *a, **k: None\n" + FP_WRONG,
            },
            total=POINTS["linear_collapse"],
            kinds=both({"failed"}, {"passed"}),
        ),
        "fake_passed_output": Case(
            {
                FP: "print('forward_pass: 6 of 6 points (public cases 3/3 pass, hidden cases 2/2 pass).')\n"
                "print('100 points')\n" + FP_WRONG.replace("    return", "    print('all tests passed')\n    return"),
            },
            total=POINTS["linear_collapse"],
            kinds=both({"failed"}, {"passed"}),
        ),
        "edited_test_cells": Case(
            {FP: FP_OK, LC: LC_WRONG},
            edit=edit_test_cells,
            total=POINTS["forward_pass"],
            kinds=both({"passed"}, {"failed"}),
        ),
        "deleted_test_cells": Case({FP: FP_OK, LC: LC_OK}, edit=drop_test_cells, total=FULL, kinds=ok),
        "duplicated_answers": Case(
            edit=duplicate,
            total=POINTS["forward_pass"],
            kinds=both({"passed"}, {"failed"}),
            says=("2 copies of the answer cell 'forward_pass_answer'",),
        ),
        "read_secret": Case(
            {
                LC: LC_OK
                + _attempts(
                    f"""
                    def look(text):
                        if "ACTGRADER" in text or "test-" in text:
                            open(m_name, "w").close()
                    def env(m):
                        global m_name
                        m_name = m
                        look(repr(dict(os.environ)))
                    def own_environ(m):
                        global m_name
                        m_name = m
                        look(open("/proc/self/environ", "rb").read().decode(errors="replace"))
                    def parent_environ(m):
                        open(f"/proc/{{os.getppid()}}/environ", "rb").read()
                    def parent_cmdline(m):
                        open(f"/proc/{{os.getppid()}}/cmdline", "rb").read()
                    attempt("env", env)
                    attempt("own_environ", own_environ)
                    attempt("parent_environ", parent_environ)
                    attempt("parent_cmdline", parent_cmdline)
                    attempt("secret_file", lambda m: print(open({p["secret"]!r}).read()))
                    attempt("secret_raw", lambda m: print(os.read(os.open({p["secret"]!r}, os.O_RDONLY), 4096)))
                    def secret_stat(m):
                        size = os.stat({p["secret"]!r}).st_size
                        print(f"secret file size: {{size}}")
                    attempt("secret_stat", secret_stat)
                    """
                )
            },
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(LC, "error", "RuntimeError"),
            # The child cannot even read its own /proc/self/environ (it is not dumpable). Whether
            # the secret file is absent from its mount namespace or covered by an empty file
            # depends on where it lies; either way nothing of it reaches the learner (see
            # test_protected_content_never_reaches_a_record).
            says=("env:blocked:none", "own_environ:blocked:"),
            blocked=("parent_environ", "parent_cmdline", "secret_file", "secret_raw"),
        ),
        "write_outside": Case(
            {
                FP: FP_OK
                + _attempts(
                    f"""
                    import shutil
                    attempt("output", lambda m: open(os.path.join({p["out"]!r}, "pwned.txt"), "w"))
                    attempt("record", lambda m: open(os.path.join({p["out"]!r}, "results", "alice.json"), "w"))
                    attempt("csv", lambda m: open(os.path.join({p["out"]!r}, "grades.csv"), "a"))
                    attempt("victim", lambda m: open({p["victim"]!r}, "w"))
                    attempt("remove", lambda m: os.remove({p["victim"]!r}))
                    attempt("release", lambda m: open({p["release"]!r}, "a"))
                    attempt("rmtree", lambda m: shutil.rmtree({p["out"]!r}))
                    attempt("tmp", lambda m: open("/tmp/pwned", "w"))
                    attempt("escape", lambda m: open("../../pwned", "w"))
                    """
                )
            },
            total=FULL,
            status="errors",
            kinds=ok,
            cell=(FP, "error", "RuntimeError"),
            blocked=("output", "record", "csv", "victim", "remove", "release", "rmtree", "tmp", "escape"),
        ),
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    paths = _paths(root)
    cases = _cases(paths)
    submitted = root / "submitted"

    def target(student: str) -> Path:
        return submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

    write(target("alice"), correct_submission())
    write(target("bob"), released())
    write(target("carol"), json.loads(SOLUTION.read_text()))
    Path(paths["instructor_copy"]).parent.mkdir()
    Path(paths["instructor_copy"]).write_bytes(SOLUTION.read_bytes())
    for name, case in cases.items():
        if case.link is not None:
            kind, _, link_target = case.link.partition(":")
            if kind == "folder":  # submitted/<name> -> a folder holding <assignment>/<assignment>.ipynb
                (submitted / name).symlink_to(Path(link_target).parent, target_is_directory=True)
                continue
            target(name).parent.mkdir(parents=True)
            (target(name).symlink_to if kind == "symbolic" else target(name).hardlink_to)(link_target)
            continue
        if case.raw is not None:
            target(name).parent.mkdir(parents=True)
            target(name).write_bytes(case.raw)
            continue
        nb = with_answers(correct_submission(), **case.answers)
        if case.edit is not None:
            case.edit(nb)
        write(target(name), nb)
    secret = fresh_secret()
    Path(paths["secret"]).write_text(secret)
    env_secret = fresh_secret()
    before = {p: _sha(Path(p)) for p in (paths["victim"], paths["release"])}
    # A path that climbs out with '..' (named on the command line: nothing found in a folder has one).
    write(root / "loose" / "dotdot.ipynb", correct_submission())
    (root / "loose" / "sub").mkdir()
    proc = run_actgrade(
        [submitted, root / "loose" / "sub" / ".." / "dotdot.ipynb"],
        root / "out",
        *FAST,
        "--secret-file",
        paths["secret"],
        env={"ACTGRADER_SECRET": env_secret},
    )
    return {
        "proc": proc,
        "out": root / "out",
        "cases": cases,
        "records": records(root / "out"),
        "before": before,
        "paths": paths,
        "secrets": (secret, env_secret),
    }


def test_the_batch_completes(batch):
    proc: subprocess.CompletedProcess[str] = batch["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(batch["records"]) == set(batch["cases"]) | set(HONEST) | {"dotdot"}


def test_links_and_climbing_paths_are_refused_and_named_as_submitted(batch):
    """The student id comes from the path as submitted; the file a link points to is never read."""
    refused = [n for n, c in batch["cases"].items() if c.link is not None] + ["dotdot"]
    for name in refused:
        record = batch["records"][name]
        assert (record.student, record.status, record.total, record.tasks) == (name, "invalid", 0.0, []), name
        assert record.sha256 == "", name  # nothing was read, so nothing was hashed
        assert not record.cells and record.children == 0, name
    shadow = Path("/etc/shadow")
    if os.access(shadow, os.R_OK):
        for path in (batch["out"] / "results").glob("*.json"):
            assert _sha(shadow) not in path.read_text(), path.name
    assert "its path climbs back out of a folder with '..'" in _all_messages(batch["records"]["dotdot"])


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_students_get_exactly_their_normal_score(batch, student):
    record = batch["records"][student]
    assert record.total == HONEST[student]
    assert record.status == ("ok" if HONEST[student] == FULL else "untouched")  # bob hands in the release
    if HONEST[student] == FULL:
        assert all(o.status == "passed" for t in record.tasks for o in t.outcomes)
        assert record.children == 1
    row = next(r for r in grades(batch["out"]) if r["student"] == student)
    assert float(row["auto_graded_points"]) == HONEST[student]


def _all_messages(record) -> str:
    parts = [*record.messages, *record.notes]
    parts += [o.message or "" for t in record.tasks for o in t.outcomes]
    parts += [c["message"] for c in record.cells]
    parts += [c["error"]["message"] for c in record.cells if c["error"]]
    return "\n".join(parts)


def _refused(report: str, attempt: str) -> bool:
    """The attempt ended in an OSError: the audit hook's PermissionError or the kernel's refusal.

    Which one (and so which errno) depends on where the file lies and how it is hidden (an
    empty mount, a folder covered by the private /tmp): the property is that it failed.
    """
    for word in report.split():
        name, _, rest = word.partition(":blocked:")
        if name == attempt and rest:
            raised = getattr(builtins, rest, None)
            return isinstance(raised, type) and issubclass(raised, OSError)
    return False


def _record_strings(value: Any) -> list[str]:
    """Every text in a record, however deep (messages, cell outputs, errors, feedback)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _record_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _record_strings(v)]
    return []


CASE_NAMES = sorted(_cases(_paths(Path("/nonexistent"))))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_submission_outcome(batch, name):
    case: Case = batch["cases"][name]
    record = batch["records"][name]
    assert record.status == case.status, _all_messages(record)
    assert record.total == case.total, _all_messages(record)
    for task_id, kinds in case.kinds.items():
        (task,) = [t for t in record.tasks if t.task_id == task_id]
        assert {o.status for o in task.outcomes} == kinds, (task_id, _all_messages(record))
        expected_points = POINTS[task_id] if kinds == {"passed"} else 0
        assert task.earned == expected_points
    if case.cell is not None:
        grade_id, status, error_type = case.cell
        cells = [c for c in record.cells if c["grade_id"] == grade_id]
        assert [c["status"] for c in cells] == [status], cells
        if error_type is not None:
            assert cells[0]["error"]["type"] == error_type, cells
    text = _all_messages(record)
    for fragment in case.says:
        assert fragment in text, text
    for attempt in case.blocked:
        assert _refused(text, attempt), text
    assert "ESCAPED" not in text


def test_reference_imports_are_refused_with_the_course_message(batch):
    text = _all_messages(batch["records"]["import_reference"])
    for attempt in ("plain", "tasks", "real_package"):
        assert f"{attempt}:blocked:ImportError" in text, text


def test_protected_content_never_reaches_a_record(batch):
    """What the reads printed is in the records; the files they tried to read are not."""
    secret_text = Path(batch["paths"]["secret"]).read_text()
    secret_size = f"secret file size: {len(secret_text.encode())}"
    reference_lines = {line.strip() for line in REFERENCE_FILE.read_text().splitlines() if len(line.strip()) >= 30}
    submitted = {line.strip() for source in (FP_OK, LC_OK) for line in source.splitlines()}
    reference_only = [line for line in reference_lines - submitted if line.isascii()]
    assert len(reference_only) >= 10  # the check below has something to look for
    for path in sorted((batch["out"] / "results").glob("*.json")):
        text = "\n".join(_record_strings(json.loads(path.read_text())))
        assert not [line for line in reference_only if line in text], path.name
        assert secret_size not in text, path.name


def test_secrets_never_reach_a_record(batch):
    records = sorted((batch["out"] / "results").glob("*.json"))
    assert [p.stem for p in records] == sorted(batch["records"])  # every record is read
    assert batch["secrets"]
    for secret in batch["secrets"]:
        for path in records:
            assert secret not in path.read_text()


def test_nothing_outside_the_sandbox_was_written(batch):
    assert not (batch["out"] / "pwned.txt").exists()
    assert not Path("/tmp/pwned").exists()
    for path, digest in batch["before"].items():
        assert _sha(Path(path)) == digest, path
    alice = batch["records"]["alice"]
    assert alice.total == FULL and alice.student == "alice"


def test_huge_output_is_capped_in_the_record(batch):
    record = batch["records"]["huge_output"]
    outputs = [c["output"] for c in record.cells if c["grade_id"] == FP]
    assert outputs and len(outputs[0]) < 5000
    assert "more characters not kept" in outputs[0]


def test_crashes_and_timeouts_restart_the_child(batch):
    # The cell that crashed is skipped in a second child.
    assert batch["records"]["os_exit_top_level"].children == 2
    # Every case of the crashing task kills its child; the next case gets a fresh one.
    record = batch["records"]["os_exit_in_function"]
    (task,) = [t for t in record.tasks if t.task_id == "linear_collapse"]
    assert record.children == 1 + len(task.outcomes) - 1
    assert [c["status"] for c in batch["records"]["loop_top_level"].cells] == ["ok", "timeout", "ok"]


def test_the_summary_names_the_submissions_that_timed_out_or_crashed(batch):
    out = batch["proc"].stdout
    assert "score distribution (auto-graded points):" in out
    assert "points lost, by task:" in out
    for status, label in (("timeout", "Timed out"), ("crashed", "Crashed")):
        names = sorted(name for name, case in batch["cases"].items() if case.status == status)
        assert names, status
        assert f"  {label}: {', '.join(names)}\n" in out, out
        assert f"{len(names)} {'timed out' if status == 'timeout' else 'crashed'}" in out
