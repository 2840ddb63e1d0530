"""Short, readable text for a task result: what passed, what failed and why, where to read.

Hidden cases are only ever counted, never described, and the text never claims that
"all tests" passed when only public cases ran.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from actgrader.grading.cases import CaseOutcome, Task, TaskResult
from actgrader.links import section_url

PASS = "✓"
FAIL = "✗"
# Lines are wrapped here, between words, at this width: a notebook's output area (and
# nbgrader's Validate, which cuts longer lines) would otherwise break them anywhere, mid-word.
WIDTH = 80


def wrap(text: str, indent: str = "", hang: str = "") -> list[str]:
    """``text`` as lines of at most :data:`WIDTH` characters, broken between words only.

    ``indent`` starts the first line, ``hang`` the others (default: ``indent``). A word longer
    than a line (a link) keeps a line of its own, whole.
    """
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        first = indent if not lines else hang or indent
        lines += textwrap.wrap(
            paragraph,
            WIDTH,
            initial_indent=first,
            subsequent_indent=hang or indent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [first.rstrip()]
    return lines


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


@dataclass(frozen=True)
class FailureGroup:
    """Failed cases that share one message: what a learner reads once, with where to read."""

    message: str
    titles: tuple[str, ...]
    sections: tuple[str, ...]  # sorted, without repeats


def failure_groups(failed: Iterable[CaseOutcome]) -> list[FailureGroup]:
    """One group per distinct message, in the order of their first case."""
    by_message: dict[str, list[CaseOutcome]] = {}
    for outcome in failed:
        by_message.setdefault(outcome.message or "failed", []).append(outcome)
    return [
        FailureGroup(message, tuple(o.title for o in group), tuple(sorted({o.section for o in group if o.section})))
        for message, group in by_message.items()
    ]


def failure_lines(groups: Iterable[FailureGroup]) -> list[str]:
    """The plain-text form of failure groups (the self-check's and the batch record's)."""
    lines: list[str] = []
    for group in groups:
        lines += wrap("; ".join(group.titles), f"  {FAIL} ", "    ")
        lines += wrap(group.message, "      ")
        lines += [f"      Read: {section_url(section)}" for section in group.sections]
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
    for o in passed:
        lines += wrap(o.title, f"  {PASS} ", "    ")
    lines += failure_lines(failure_groups(failed))
    if task.hidden_points:
        lines += wrap(
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
