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
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from actgrader.batch.results import SubmissionResult
from actgrader.batch.summary import BY_HAND, PUBLIC_ONLY, SubmissionSummary, TaskSummary, points, summarize
from actgrader.links import section_url

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #555; margin-top: 0; } .score { font-size: 1.1rem; }
.notice { border-left: 4px solid #c77700; background: #fff6e5; padding: .5rem .9rem; }
.problem { border-left: 4px solid #b3261e; background: #fdeceb; padding: .5rem .9rem; }
ul.cases { list-style: none; padding-left: 0; } ul.cases li { margin: .4rem 0; }
.pass { color: #1e7b34; } .fail { color: #b3261e; } .why { margin: .15rem 0 0 1.5rem; }
code { background: #f4f4f4; padding: 0 .2rem; border-radius: 3px; }
pre { white-space: pre-wrap; word-wrap: break-word; background: #f4f4f4; padding: .7rem; border-radius: 4px; }
.prose { border: 1px solid #ccc; border-radius: 6px; padding: .3rem 1rem .8rem; margin: 1rem 0; }
footer { margin-top: 3rem; color: #777; font-size: .85rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_CODE = re.compile(r"`([^`\n]+)`")


def _md(text: object) -> str:
    """Escaped text in which Markdown's `code` spans (as the checks' messages write names) become <code>.

    The text is escaped first and html.escape leaves backticks alone, so a span can only ever
    wrap escaped text: nothing a learner wrote becomes markup.
    """
    return _CODE.sub(r"<code>\1</code>", _e(text))


def _link(section: str) -> str:
    """A link into the book, or plain text when the configured URL is not http(s)."""
    url = section_url(section)
    if urlsplit(url).scheme not in ("http", "https"):
        return _e(url)
    return f'<a href="{_e(url)}" rel="noreferrer">{_e(url)}</a>'


def _task_section(task: TaskSummary) -> str:
    lines = [
        f"<h2>{_e(task.title)} <small>({_e(task.task_id)})</small></h2>",
        f'<p class="score">{points(task.earned)} of {points(task.max_points)} points</p>',
    ]
    items = [f'<li><span class="pass">✓</span> {_e(o.title)}</li>' for o in task.public if o.passed]
    for group in task.failures:
        parts = [f'<li><span class="fail">✗</span> {_e("; ".join(group.titles))}']
        parts.append(f'<div class="why">{_md(group.message)}</div>')
        parts += [f'<div class="why">Read: {_link(s)}</div>' for s in group.sections]
        items.append("".join(parts) + "</li>")
    if items:
        lines.append('<ul class="cases">' + "".join(items) + "</ul>")
    if task.hidden is not None:
        lines.append(f"<p>{_md(task.hidden.text())}</p>")
    return "\n".join(lines)


def _prose_section(summary: SubmissionSummary) -> str:
    if not summary.written:
        return ""
    lines = [f"<h2>Written answers ({BY_HAND})</h2>"]
    for answer in summary.written:
        lines.append('<div class="prose">')
        lines.append(f"<h3>{_e(answer.title)} <small>({_e(answer.grade_id)})</small></h3>")
        lines.append(f"<p>{_e(answer.worth_text())}</p>")
        lines.append(f"<p>{_e(answer.state_text())}</p>")
        if answer.answered:
            lines.append(f"<pre>{_e(answer.text)}</pre>")
        lines.append("</div>")
    return "\n".join(lines)


def render(
    result: SubmissionResult, *, generated: datetime | None = None, summary: SubmissionSummary | None = None
) -> str:
    """The feedback page for one submission (a complete, self-contained HTML document);
    ``summary`` is ``summarize(result)`` when the caller has it already."""
    summary = summary or summarize(result)
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    assignment = summary.assignment or "(unknown assignment)"
    body = [
        f"<h1>Feedback: {_e(assignment)}</h1>",
        f'<p class="meta">Student {_e(summary.student)} · graded {_e(when)}</p>',
    ]
    score = summary.score_text()
    if score:
        body.append(f'<p class="score"><strong>{_e(score)}</strong></p>')
    if summary.public_only:
        body.append(f'<p class="notice">{_e(PUBLIC_ONLY)}</p>')
    body += [f'<p class="problem">{_md(message)}</p>' for message in summary.messages]
    if summary.notes:
        body.append("<h2>About your notebook</h2><ul>" + "".join(f"<li>{_md(n)}</li>" for n in summary.notes) + "</ul>")
    if summary.cell_problems:
        items = "".join(f"<li>{_md(p.text())}</li>" for p in summary.cell_problems)
        body.append(f"<h2>Problems running your cells</h2><ul>{items}</ul>")
    body += [_task_section(task) for task in summary.tasks]
    prose = _prose_section(summary)
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
        f"<title>Feedback: {_e(assignment)} ({_e(summary.student)})</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
