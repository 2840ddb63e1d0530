"""Helpers for the batch grader's tests: the real exercise, edited submissions, running actgrade."""

from __future__ import annotations

import copy
import csv
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from actgrader.batch.notebooks import load_release
from actgrader.batch.results import SubmissionResult
from actgrader.tasks import get_task

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "forward-propagation"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE = REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
ACTGRADE = Path(sys.executable).parent / "actgrade"

# Short limits so that endless submissions cost seconds, not minutes.
FAST = [
    "--cell-timeout",
    "4",
    "--call-timeout",
    "3",
    "--notebook-timeout",
    "90",
    "--memory-limit",
    "512M",
    "-j",
    "2",
    "--no-progress",
]


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, nb: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def cell(nb: dict[str, Any], grade_id: str) -> dict[str, Any]:
    found = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(found) == 1, f"{grade_id}: {len(found)} cells"
    return found[0]


def source(nb: dict[str, Any], grade_id: str) -> str:
    text = cell(nb, grade_id)["source"]
    return "".join(text) if isinstance(text, list) else text


def learner_solution(grade_id: str) -> str:
    """The solution's answer cell as a learner would submit it (solution markers removed)."""
    lines = source(load(SOLUTION), grade_id).splitlines()
    return "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def with_answers(base: dict[str, Any], **sources: str) -> dict[str, Any]:
    """A copy of ``base`` whose answer cells (by grade_id) hold the given sources."""
    nb = copy.deepcopy(base)
    for grade_id, text in sources.items():
        cell(nb, grade_id)["source"] = text
    return nb


def released() -> dict[str, Any]:
    return load(RELEASE)


def correct_submission() -> dict[str, Any]:
    """The release with both answers filled in correctly, as a learner would hand it in."""
    return with_answers(
        released(),
        forward_pass_answer=learner_solution("forward_pass_answer"),
        linear_collapse_answer=learner_solution("linear_collapse_answer"),
    )


def task_points() -> dict[str, float]:
    return {t: get_task(t).points for t in load_release(RELEASE).task_ids}


def fresh_secret() -> str:
    return "test-" + secrets.token_hex(16)


def run_actgrade(
    paths: list[Path], out: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ACTGRADER_SECRET")}
    return subprocess.run(
        [str(ACTGRADE), "grade", *map(str, paths), "-o", str(out), *extra],
        env=base_env | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def records(out: Path) -> dict[str, SubmissionResult]:
    found = {}
    for path in sorted((out / "results").glob("*.json")):
        result = SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        found[result.student] = result
    return found


def grades(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
