"""A learner's feedback page: one self-contained HTML file per student.

What passed, what failed and why (the case's message, a link into the book), hidden cases
only as counts, problems with the notebook itself, and the prose questions an instructor
grades by hand, with the learner's own text.

Everything on the page that came from a submission (prose, error messages, names of cells,
printed output quoted in messages) is untrusted. It is only ever inserted as escaped text
(:func:`html.escape` with quotes), never into an attribute, a URL, a style or a script; the
page loads nothing (no scripts, fonts, images or style sheets from anywhere: the style is
inline), and its Content-Security-Policy forbids scripts and every external resource, so even
a mistake in escaping could not run code. Links go only to the book (``http``/``https``).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import urlsplit

from actgrader.batch.results import SubmissionResult
from actgrader.grading.cases import CaseOutcome, TaskResult
from actgrader.links import section_url

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
PUBLIC_ONLY = (
    "Only the public cases ran: the grader had no instructor secret, so the hidden cases did not run and "
    "scored 0. This is not your final grade."
)
BY_HAND = "graded by your instructor"

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #555; margin-top: 0; } .score { font-size: 1.1rem; }
.notice { border-left: 4px solid #c77700; background: #fff6e5; padding: .5rem .9rem; }
.problem { border-left: 4px solid #b3261e; background: #fdeceb; padding: .5rem .9rem; }
ul.cases { list-style: none; padding-left: 0; } ul.cases li { margin: .4rem 0; }
.pass { color: #1e7b34; } .fail { color: #b3261e; } .why { margin: .15rem 0 0 1.5rem; }
pre { white-space: pre-wrap; word-wrap: break-word; background: #f4f4f4; padding: .7rem; border-radius: 4px; }
.prose { border: 1px solid #ccc; border-radius: 6px; padding: .3rem 1rem .8rem; margin: 1rem 0; }
footer { margin-top: 3rem; color: #777; font-size: .85rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _points(x: float) -> str:
    return f"{x:g}"


def _link(section: str) -> str:
    """A link into the book, or plain text when the configured URL is not http(s)."""
    url = section_url(section)
    if urlsplit(url).scheme not in ("http", "https"):
        return _e(url)
    return f'<a href="{_e(url)}" rel="noreferrer">{_e(url)}</a>'


def _case_item(outcome: CaseOutcome) -> str:
    if outcome.passed:
        return f'<li><span class="pass">✓</span> {_e(outcome.title)}</li>'
    parts = [f'<li><span class="fail">✗</span> {_e(outcome.title)}']
    if outcome.message:
        parts.append(f'<div class="why">{_e(outcome.message)}</div>')
    if outcome.section:
        parts.append(f'<div class="why">Read: {_link(outcome.section)}</div>')
    parts.append("</li>")
    return "".join(parts)


def hidden_summary(task: TaskResult) -> str | None:
    """How the task's hidden cases went, as a count only (None when it has none)."""
    hidden = [o for o in task.outcomes if o.hidden]
    if not hidden:
        return None
    if not task.hidden_ran or all(o.status == "skipped" for o in hidden):
        return f"Hidden cases: {len(hidden)} not run (no instructor secret: public cases only)."
    passed, ran = task.counts(hidden=True)
    text = f"Hidden cases: {passed} of {ran} pass ({_points(sum(o.earned for o in hidden))} of "
    text += f"{_points(sum(o.points for o in hidden))} points)."
    if passed < ran:
        text += " They use other sizes and seeds than the public ones: check that your code works for any shapes."
    return text


def _task_section(task: TaskResult) -> str:
    public = [o for o in task.outcomes if not o.hidden]
    lines = [
        f"<h2>{_e(task.title)} <small>({_e(task.task_id)})</small></h2>",
        f'<p class="score">{_points(task.earned)} of {_points(task.max_points)} points</p>',
    ]
    if public:
        lines.append('<ul class="cases">' + "".join(_case_item(o) for o in public) + "</ul>")
    summary = hidden_summary(task)
    if summary:
        lines.append(f"<p>{_e(summary)}</p>")
    return "\n".join(lines)


def _cell_problems(result: SubmissionResult) -> list[str]:
    items = []
    for cell in result.cells:
        if cell.get("origin") != "submission" or cell.get("status") in ("ok", None):
            continue
        where = f"answer cell {cell.get('grade_id')!s} (cell {int(cell.get('notebook_index', 0)) + 1} of your notebook)"
        items.append(f"<li>{_e(where)}: {_e(cell.get('message') or cell.get('status'))}</li>")
    return items


def _prose_section(result: SubmissionResult) -> str:
    if not result.prose:
        return ""
    lines = [f"<h2>Written answers ({BY_HAND})</h2>"]
    for answer in result.prose:
        lines.append('<div class="prose">')
        lines.append(
            f"<h3>{_e(answer.get('title', ''))} <small>({_e(answer.get('grade_id', ''))})</small></h3>"
            f"<p>Worth {_points(float(answer.get('points', 0)))} points, {BY_HAND}: "
            "not included in the auto-graded points above.</p>"
        )
        if answer.get("answered"):
            lines.append("<p>Your answer, as submitted:</p>")
            lines.append(f"<pre>{_e(answer.get('text', ''))}</pre>")
            if answer.get("truncated"):
                lines.append("<p>(Your answer was longer; only its beginning is shown here.)</p>")
        elif answer.get("found"):
            lines.append("<p>You did not write an answer here (the cell still holds the placeholder or is empty).</p>")
        else:
            lines.append("<p>Your notebook has no cell for this answer (was it deleted?).</p>")
        lines.append("</div>")
    return "\n".join(lines)


def render(result: SubmissionResult, *, generated: datetime | None = None) -> str:
    """The feedback page for one submission (a complete, self-contained HTML document)."""
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    assignment = result.assignment or "(unknown assignment)"
    body = [
        f"<h1>Feedback: {_e(assignment)}</h1>",
        f'<p class="meta">Student {_e(result.student)} · graded {_e(when)}</p>',
    ]
    if result.tasks or result.max_total:
        line = f"Auto-graded points: <strong>{_points(result.total)} of {_points(result.max_total)}</strong>"
        if result.manual_max:
            line += f"; written answers worth {_points(result.manual_max)} more points are {BY_HAND}"
        body.append(f'<p class="score">{line}.</p>')
    public_only = not result.hidden_ran and any(o.hidden for t in result.tasks for o in t.outcomes)
    if public_only:
        body.append(f'<p class="notice">{_e(PUBLIC_ONLY)}</p>')
    for message in result.messages:
        body.append(f'<p class="problem">{_e(message)}</p>')
    if result.notes:
        body.append("<h2>About your notebook</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in result.notes) + "</ul>")
    problems = _cell_problems(result)
    if problems:
        body.append("<h2>Problems running your cells</h2><ul>" + "".join(problems) + "</ul>")
    body += [_task_section(task) for task in result.tasks]
    prose = _prose_section(result)
    if prose:
        body.append(prose)
    body.append(
        "<footer>Generated by actgrade. Only your answer cells ran, in a sandbox, with the course's own "
        "setup cells; the checks ran separately.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Feedback: {_e(assignment)} ({_e(result.student)})</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
