"""What ``actgrade grade`` prints: a progress line while it works and a short summary at the end."""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from actgrader.batch.results import SubmissionResult
from actgrader.batch.summary import STATUS_PROBLEMS, TaskSummary, points, summarize

BAR = "█"
NAMES_SHOWN = 20  # students listed by name per problem in the summary (the rest are counted)


class Progress:
    """A progress line on a terminal (rewritten in place), one line per submission otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int, result: SubmissionResult) -> None:
        width = len(str(total))
        score = f"{result.total:g}/{result.max_total:g}"
        line = f"[{done:>{width}}/{total}] {result.student}: {score} ({result.status}, {result.seconds:.2f} s)"
        if self.tty:
            filled = int(30 * done / max(total, 1))
            bar = BAR * filled + "·" * (30 - filled)
            self.stream.write(f"\r\x1b[2K{bar} {line[:100]}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _histogram(totals: list[float], max_total: float) -> list[str]:
    counts = Counter(totals)
    biggest = max(counts.values())
    lines = []
    for value in sorted(counts, reverse=True):
        bar = BAR * max(1, round(20 * counts[value] / biggest))
        lines.append(f"  {value:>6g}/{max_total:g}  {bar} {counts[value]}")
    return lines


def _first_sentence(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def summary(results: Sequence[SubmissionResult], seconds: float, jobs: int, secret_note: str) -> str:
    """The end-of-run summary: score distribution, lost points by task, problems, timings."""
    if not results:
        return "No submissions found."
    rate = len(results) / max(seconds, 1e-9)
    lines = [
        f"Graded {len(results)} submission(s) in {seconds:.1f} s ({rate:.2f} per second, {jobs} job(s)). {secret_note}"
    ]
    by_assignment: dict[str, list[SubmissionResult]] = {}
    for result in results:
        if result.assignment:
            by_assignment.setdefault(result.assignment, []).append(result)
    for assignment, group in sorted(by_assignment.items()):
        max_total = max(r.max_total for r in group)
        totals = [r.total for r in group]
        lines.append("")
        lines.append(
            f"{assignment}: {len(group)} submission(s); auto-graded points: mean {statistics.fmean(totals):.2f}, "
            f"median {points(statistics.median(totals))} of {points(max_total)}"
        )
        manual = max(r.manual_max for r in group)
        if manual:
            questions = len({p["grade_id"] for r in group for p in r.prose})
            lines.append(
                f"  plus {points(manual)} point(s) in {questions} written answer(s) to grade by hand "
                "(empty columns in grades.csv; the learners' texts are in the records and feedback pages)"
            )
        lines.append("  score distribution (auto-graded points):")
        lines += _histogram(totals, max_total)
        by_task: dict[str, list[TaskSummary]] = {}
        for task in (t for r in group for t in summarize(r).tasks):
            by_task.setdefault(task.task_id, []).append(task)
        if by_task:
            lines.append("  points lost, by task:")
        for task_id, tasks in by_task.items():
            short = [t for t in tasks if t.lost_points]
            messages = Counter(message for t in short for message in t.instructor_messages)
            line = f"    {task_id}: {len(short)} of {len(tasks)} submissions lost points"
            if messages:
                message, count = messages.most_common(1)[0]
                line += f"; most often ({count}x): {_first_sentence(message)}"
            lines.append(line)
    statuses = Counter(r.status for r in results)
    problems = [f"{statuses[s]} {label}" for s, label in STATUS_PROBLEMS.items() if statuses[s]]
    lines.append("")
    lines.append("Problems: " + (", ".join(problems) if problems else "none") + ".")
    for status in ("timeout", "crashed", "untouched"):
        names = sorted(r.student for r in results if r.status == status)
        if names:
            shown = ", ".join(names[:NAMES_SHOWN]) + (
                f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
            )
            lines.append(f"  {STATUS_PROBLEMS[status].capitalize()}: {shown}")
    graded = [r for r in results if r.tasks]
    if graded:
        per = statistics.median(r.seconds for r in graded)
        checks = statistics.median(r.check_seconds for r in graded)
        lines.append(f"Time per submission: median {per:.2f} s, of which checks {checks:.2f} s.")
    return "\n".join(lines)
