"""``actgrade grade`` end to end: the solution earns every point, the untouched release none."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from batch_nb import (
    ACTGRADE,
    ASSIGNMENT,
    FAST,
    RELEASE,
    SOLUTION,
    correct_submission,
    fresh_secret,
    grades,
    max_row,
    records,
    run_actgrade,
    task_points,
    write,
)

from actgrader.batch import grade_submissions
from actgrader.batch.gradebook import by_hand_column
from actgrader.batch.notebooks import find_releases
from actgrader.batch.options import GradingOptions
from actgrader.batch.summary import NO_SECRET, PUBLIC_ONLY
from actgrader.cli import build_parser, main
from actgrader.tasks import get_task


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("cli")
    submitted = root / "submitted"
    for student, source in (("solution", SOLUTION), ("untouched", RELEASE)):
        target = submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
    out = root / "out"
    with_progress = [arg for arg in FAST if arg != "--no-progress"]
    write(root / "public" / "solution.ipynb", json.loads(SOLUTION.read_text()))
    with ThreadPoolExecutor(max_workers=2) as pool:  # the run without a secret goes alongside
        public = pool.submit(run_actgrade, [root / "public"], root / "public-out", *FAST)
        proc = run_actgrade([submitted], out, *with_progress, env={"ACTGRADER_SECRET": fresh_secret()})
        PUBLIC_RUN.update(root=root, proc=public.result())
    return out, proc


PUBLIC_RUN: dict[str, Any] = {}


def test_exit_status_and_summary(graded):
    _out, proc = graded
    assert proc.returncode == 0, proc.stderr
    assert "Graded 2 submission(s)" in proc.stdout
    assert "Hidden cases ran (secret from $ACTGRADER_SECRET)" in proc.stdout
    assert "[2/2]" in proc.stderr
    assert "score distribution (auto-graded points):" in proc.stdout
    assert "points lost, by task:" in proc.stdout
    assert "Problems: 1 untouched (no answer written)." in proc.stdout
    assert "totals are auto-graded points" in proc.stdout


def test_grades_csv(graded):
    out, _ = graded
    points = task_points()
    full = sum(points.values())
    rows = {row["student"]: row for row in grades(out)}
    assert list(rows) == ["solution", "untouched"]
    # Only the assignment graded has columns (the release folder holds every assignment).
    (release,) = [r for r in find_releases(RELEASE.parents[1]) if r.assignment == ASSIGNMENT]
    by_hand = [by_hand_column(q.grade_id) for q in release.prose]
    totals = ["auto_graded_points", "auto_graded_max", "graded_by_hand_max", "hidden_cases", "status"]
    assert list(rows["solution"]) == ["student", "assignment", *release.task_ids, *by_hand, *totals]
    for task_id, task_max in points.items():
        assert float(rows["solution"][task_id]) == task_max
        assert float(rows["untouched"][task_id]) == 0
    assert float(rows["solution"]["auto_graded_points"]) == full
    assert float(rows["untouched"]["auto_graded_points"]) == 0
    assert {row["auto_graded_max"] for row in rows.values()} == {f"{full:g}"}
    assert (rows["solution"]["status"], rows["untouched"]["status"]) == ("ok", "untouched")
    assert {row["hidden_cases"] for row in rows.values()} == {"graded"}
    assert rows["untouched"]["assignment"] == ASSIGNMENT
    maxima = max_row(out)
    assert [float(maxima[t]) for t in points] == list(points.values())
    assert float(maxima["auto_graded_max"]) == full


def test_records_hold_every_case_and_hide_hidden_cases_in_the_feedback(graded):
    out, _ = graded
    found = records(out)
    solution, untouched = found["solution"], found["untouched"]
    assert solution.hidden_ran
    assert all(o.status == "passed" for t in solution.tasks for o in t.outcomes)
    assert any(o.hidden for t in solution.tasks for o in t.outcomes)
    assert all(
        o.status == "unanswered" and "NotImplementedError" in o.message for t in untouched.tasks for o in t.outcomes
    )
    assert untouched.status == "untouched"
    hidden_titles = [o.title for t in untouched.tasks for o in t.outcomes if o.hidden]
    for text in untouched.feedback.values():
        assert "hidden cases 0/" in text
        assert not any(title in text for title in hidden_titles)
    assert [c["status"] for c in solution.cells] == ["ok", "ok", "ok"]
    assert any("audit hook" in layer for layer in solution.sandbox)


def test_without_secret_only_public_cases_run(graded):
    proc, tmp_path = PUBLIC_RUN["proc"], PUBLIC_RUN["root"]
    assert proc.returncode == 0, proc.stderr
    assert NO_SECRET in proc.stderr
    named = set(re.findall(r"ACTGRADER_SECRET\w*", proc.stderr))
    assert named == {"ACTGRADER_SECRET", "ACTGRADER_SECRET_FILE"}, named
    (row,) = grades(tmp_path / "public-out")
    assert (row["status"], row["hidden_cases"]) == ("ok", "not graded (no instructor secret)")
    (record,) = records(tmp_path / "public-out").values()
    assert not record.hidden_ran
    public = sum(o.points for t in record.tasks for o in t.outcomes if not o.hidden)
    assert record.total == public < record.max_total
    assert all(o.status == "skipped" for t in record.tasks for o in t.outcomes if o.hidden)
    # The learner is told too: on the feedback page and in Gradescope's results.
    page = (tmp_path / "public-out" / "feedback" / "solution.html").read_text(encoding="utf-8")
    assert PUBLIC_ONLY in page
    gradescope = json.loads((tmp_path / "public-out" / "gradescope" / "solution.json").read_text(encoding="utf-8"))
    assert PUBLIC_ONLY in gradescope["output"]
    assert gradescope["score"] == public
    hidden_entries = [t for t in gradescope["tests"] if "hidden" in t.get("tags", [])]
    assert hidden_entries and all("no instructor secret" in t["output"] for t in hidden_entries)


def test_with_the_secret_no_page_claims_public_cases_only(graded):
    out, _ = graded
    for student in ("solution", "untouched"):
        assert PUBLIC_ONLY not in (out / "feedback" / f"{student}.html").read_text(encoding="utf-8")
        assert PUBLIC_ONLY not in (out / "gradescope" / f"{student}.json").read_text(encoding="utf-8")


def test_help_documents_every_option():
    top = subprocess.run([str(ACTGRADE), "--help"], capture_output=True, text=True, check=True).stdout
    assert "grade" in top and "sandbox" in top
    text = subprocess.run([str(ACTGRADE), "grade", "--help"], capture_output=True, text=True, check=True).stdout
    for spec in fields(GradingOptions):
        if spec.metadata.get("cli") is False:
            continue
        flag = "--no-progress" if spec.name == "progress" else f"--{spec.name.replace('_', '-')}"
        assert flag in text, flag
    assert "submitted/<student>/<assignment>/<notebook>.ipynb" in text


def test_cli_defaults_come_from_the_options_dataclass():
    args = build_parser().parse_args(["grade", "x.ipynb", "-o", "out"])
    defaults = GradingOptions()
    for spec in fields(GradingOptions):
        if spec.name != "output" and spec.metadata.get("cli") is not False:
            assert getattr(args, spec.name) == getattr(defaults, spec.name), spec.name


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """``actgrade`` run in this process (the same code as the command, without its start-up)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def test_usage_errors(tmp_path: Path, capsys, monkeypatch):
    for name in ("ACTGRADER_SECRET", "ACTGRADER_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    out = str(tmp_path / "out")
    code, err = _main(capsys, "grade", str(tmp_path / "missing"), "-o", out, "--no-progress")
    assert code == 2 and "no such file" in err
    code, err = _main(capsys, "grade", str(RELEASE), "-o", out, "--assignment", "nope", "--no-progress")
    assert code == 2 and "no assignment 'nope'" in err
    code, err = _main(capsys, "grade", str(RELEASE), "-o", out, "--memory-limit", "lots", "--no-progress")
    assert code == 2 and "not a size" in err
    code, err = _main(capsys, "gradescope", "-o", out, "--assignment", "nope")
    assert code == 2 and "no assignment nope" in err
    code, err = _main(capsys, "gradescope", "-o", out, "--hidden-visibility", "sometimes")
    assert code == 2 and "invalid choice: 'sometimes'" in err


def _only(nb: dict, keep: str) -> dict:
    """The notebook without the cells of the other task (its answer, test and demo cells)."""
    drop = "linear_collapse" if keep == "forward_pass" else "forward_pass"
    nb = json.loads(json.dumps(nb))
    nb["cells"] = [
        c for c in nb["cells"] if not str(c["metadata"].get("nbgrader", {}).get("grade_id", "")).startswith(drop)
    ]
    return nb


def test_assignment_detection_and_the_assignment_asked_for(tmp_path: Path):
    release = json.loads(RELEASE.read_text())
    write(tmp_path / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", release)
    write(tmp_path / "release" / "collapse-only" / "collapse-only.ipynb", _only(release, "linear_collapse"))
    write(tmp_path / "in" / "full.ipynb", correct_submission())
    write(tmp_path / "in" / "forward.ipynb", _only(correct_submission(), "forward_pass"))
    points = task_points()
    common = {"release": tmp_path / "release", "progress": False, "jobs": 2}

    # In nbgrader's layout the folder says what was asked: the notebook of another assignment filed
    # there is wrong-assignment, named both ways.
    filed = tmp_path / "submitted" / "dora" / "collapse-only" / "collapse-only.ipynb"
    write(filed, correct_submission())
    write(filed.parents[2] / "erin" / "collapse-only" / "mine.ipynb", _only(correct_submission(), "linear_collapse"))
    graded = grade_submissions([tmp_path / "in", tmp_path / "submitted"], GradingOptions(**common), secret=None)
    detected = {r.student: r for r in graded}
    assert detected["full"].assignment == ASSIGNMENT
    assert detected["forward"].assignment == ASSIGNMENT  # shares forward_pass_answer only with it
    assert detected["full"].total == sum(get_task(t).public_points for t in points)  # no secret: public only
    dora, erin = detected["dora"], detected["erin"]
    assert (dora.status, dora.total, dora.max_total) == ("wrong-assignment", 0, points["linear_collapse"])
    assert dora.messages == [
        (
            "Wrong assignment: this notebook's answer cells (forward_pass_answer, linear_collapse_answer) do not "
            "match assignment 'collapse-only' (answer cells linear_collapse_answer), the assignment of the folder "
            f"it was filed in (collapse-only/); it is the notebook of assignment {ASSIGNMENT!r}. Submit the "
            "notebook of assignment 'collapse-only', downloaded from the course, with your answers in its cells."
        )
    ]
    collapse_public = get_task("linear_collapse").public_points
    assert (erin.status, erin.assignment, erin.total) == ("ok", "collapse-only", collapse_public)

    asked = GradingOptions(**common, assignment="collapse-only")
    results = {r.student: r for r in grade_submissions([tmp_path / "in"], asked, secret=None)}
    assert results["full"].assignment == "collapse-only"
    assert [t.task_id for t in results["full"].tasks] == ["linear_collapse"]
    wrong = results["forward"]
    assert (wrong.status, wrong.total, wrong.max_total) == ("wrong-assignment", 0, points["linear_collapse"])
    assert "do not match assignment 'collapse-only'" in wrong.messages[0]
