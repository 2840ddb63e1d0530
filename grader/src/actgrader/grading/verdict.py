"""Short, readable text for a task result: what passed, what failed and why, where to read.

Hidden cases are only ever counted, never described, and the text never claims that
"all tests" passed when only public cases ran.
"""

from __future__ import annotations

from actgrader.grading.cases import CaseOutcome, Task, TaskResult
from actgrader.links import section_url

PASS = "✓"
FAIL = "✗"


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def _failure_lines(failed: list[CaseOutcome]) -> list[str]:
    """One entry per distinct message, listing the cases that share it."""
    lines: list[str] = []
    by_message: dict[str, list[CaseOutcome]] = {}
    for outcome in failed:
        by_message.setdefault(outcome.message or "failed", []).append(outcome)
    for message, outcomes in by_message.items():
        titles = "; ".join(o.title for o in outcomes)
        lines.append(f"  {FAIL} {titles}")
        lines.append(f"      {message}")
        sections = {o.section for o in outcomes if o.section}
        for section in sorted(sections):
            lines.append(f"      Read: {section_url(section)}")
    return lines


def self_check_text(task: Task, result: TaskResult) -> str:
    """The verdict printed by ``check()`` in a notebook (public cases only)."""
    public = [o for o in result.outcomes if not o.hidden]
    passed = [o for o in public if o.passed]
    failed = [o for o in public if not o.passed]
    if not failed:
        head = f"{task.id}: all {len(public)} public cases pass."
    else:
        head = f"{task.id}: {len(passed)} of {len(public)} public cases pass."
    lines = [head]
    lines += [f"  {PASS} {o.title}" for o in passed]
    lines += _failure_lines(failed)
    if task.hidden_points:
        lines.append(
            f"Hidden cases ({_points(task.hidden_points)} of {task.points:g}) run only when your work is graded; "
            "passing the public cases does not guarantee them."
        )
    return "\n".join(lines)


def grade_text(task: Task, result: TaskResult) -> str:
    """The one-line summary printed when a task is graded; hidden cases appear only as counts.

    In a graded notebook it follows the self-check's output, which already lists the public
    failures, so they are not repeated here.
    """
    pub_ok, pub_n = result.counts(hidden=False)
    lines = [f"{task.id}: {result.earned:g} of {result.max_points:g} points (public cases {pub_ok}/{pub_n} pass"]
    if result.hidden_ran:
        hid_ok, hid_n = result.counts(hidden=True)
        lines[0] += f", hidden cases {hid_ok}/{hid_n} pass)."
    elif task.hidden_points:
        lines[0] += "; hidden cases did not run: no instructor secret, public cases only)."
    else:
        lines[0] += ")."
    return "\n".join(lines)
