"""The exercise notebooks' cell conventions: the grade_ids and the mark-scheme layout, defined once.

Every graded notebook (``solutions/<a>/<a>.ipynb``, released by nbgrader as
``exercises/<a>/<a>.ipynb``) names its cells by ``metadata.nbgrader.grade_id``:

* ``setup``: the first code cell (locked, tag ``setup``), imports and ``check``;
* ``<task>_answer``: the code cell a learner writes (nbgrader solution cell);
* ``<task>_check``: the test cell after it (graded, locked), worth the task's points;
* ``<task>_demo``: an optional locked cell after the check that uses the answer;
* ``<task>_prose``: an answer in words (markdown, graded by hand), whose source holds a model
  answer and a mark scheme::

      === BEGIN MARK SCHEME ===
      Looks for: <in one line, what a full answer contains>   (shown in exercises/README.md)
      <the rubric>                                            (never released)
      === END MARK SCHEME ===

The grader (``actgrader.batch.notebooks``), the README writer (``tools/exercise_readme.py``)
and the tests build and parse these names only through this module.
"""

from __future__ import annotations

import re
from typing import Literal

SETUP_ID = "setup"
ANSWER_SUFFIX = "_answer"
CHECK_SUFFIX = "_check"
DEMO_SUFFIX = "_demo"
PROSE_SUFFIX = "_prose"

Role = Literal["answer", "check", "demo", "prose"]
_SUFFIXES: dict[Role, str] = {
    "answer": ANSWER_SUFFIX,
    "check": CHECK_SUFFIX,
    "demo": DEMO_SUFFIX,
    "prose": PROSE_SUFFIX,
}

BEGIN_MARK_SCHEME = "=== BEGIN MARK SCHEME ==="
END_MARK_SCHEME = "=== END MARK SCHEME ==="
LOOKS_FOR = "Looks for:"
_MARK_SCHEME = re.compile(
    re.escape(BEGIN_MARK_SCHEME) + r"[ \t]*\n(.*?)^[ \t]*" + re.escape(END_MARK_SCHEME), re.S | re.M
)


def answer_id(task_id: str) -> str:
    """The grade_id of the cell where a learner writes ``task_id``'s answer."""
    return task_id + ANSWER_SUFFIX


def check_id(task_id: str) -> str:
    """The grade_id of ``task_id``'s test cell."""
    return task_id + CHECK_SUFFIX


def demo_id(task_id: str) -> str:
    """The grade_id of ``task_id``'s (optional) demo cell."""
    return task_id + DEMO_SUFFIX


def prose_id(task_id: str) -> str:
    """The grade_id of ``task_id``'s answer in words."""
    return task_id + PROSE_SUFFIX


def task_of(grade_id: str | None, role: Role) -> str | None:
    """The task named by ``grade_id`` if it is a ``role`` cell's (``task_of("x_check", "check") == "x"``), else None."""
    suffix = _SUFFIXES[role]
    if not grade_id or not grade_id.endswith(suffix) or grade_id == suffix:
        return None
    return grade_id.removesuffix(suffix)


def is_role(grade_id: str | None, role: Role) -> bool:
    """Whether ``grade_id`` names a ``role`` cell of some task."""
    return task_of(grade_id, role) is not None


class ProseFormatError(ValueError):
    """A prose cell's mark scheme does not have the form the README (and the lint) rely on."""


def mark_scheme(source: str) -> str | None:
    """The text between the mark-scheme markers of a prose cell, or None when there is no such region."""
    found = _MARK_SCHEME.search(source)
    return found.group(1) if found else None


def looks_for(source: str, grade_id: str = "the prose cell") -> str:
    """The one-line summary that opens a prose cell's mark scheme (``Looks for: ...``)."""
    scheme = mark_scheme(source)
    if scheme is None:
        raise ProseFormatError(f"{grade_id}: no {BEGIN_MARK_SCHEME} ... {END_MARK_SCHEME} region")
    first = next((line.strip() for line in scheme.splitlines() if line.strip()), "")
    summary = first.removeprefix(LOOKS_FOR).strip()
    if not first.startswith(LOOKS_FOR) or not summary:
        raise ProseFormatError(
            f"{grade_id}: the mark scheme must open with one line '{LOOKS_FOR} <what a full answer "
            f"contains, in a line>' (exercises/README.md shows it; the rubric below it stays private); "
            f"it opens with {first[:60]!r}"
        )
    return summary
