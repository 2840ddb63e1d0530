"""Written answers graded by hand, and the learner-facing outputs: feedback pages and Gradescope results.

The release here is the forward-propagation release with a prose question added the way
exercise notebooks carry them (a markdown cell with grade_id ``<task>_prose``, nbgrader
grade + solution, points). Learners' texts, error messages and cell names full of markup
must come out as text: the pages are parsed, and opened in Chromium with the network cut,
to check that nothing a learner wrote became markup, ran, or loaded anything.
"""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from batch_nb import (
    ASSIGNMENT,
    cell,
    correct_submission,
    fresh_secret,
    grades,
    max_row,
    released,
    with_answers,
    write,
)

from actgrader.batch import GradingOptions, grade_submissions
from actgrader.batch.gradebook import by_hand_column
from actgrader.batch.gradescope import results_json
from actgrader.batch.summary import BY_HAND
from actgrader.grading.conventions import answer_id, check_id, prose_id
from actgrader.grading.secret import Secret
from actgrader.links import book_url
from actgrader.tasks import get_task

PROSE_ID = prose_id("forward_pass")
PROSE_POINTS = 3.0
QUESTION = "Task 1b: why the last layer is linear"
PROSE_STUB = "YOUR ANSWER HERE"
HOSTILE_PROSE = (
    "The output layer stays linear because </pre><script>alert('prose')</script>"
    "<img src=x onerror=alert(1)> & a softmax comes later — <b>not</b> here.\n"
    '<a href="javascript:alert(2)">click</a> <style>body{display:none}</style> <!-- comment -->'
)
HOSTILE_ERROR = "<script>alert('error')</script><iframe src=https://example.com>"
HOSTILE_GRADE_ID = '<img src=x onerror="alert(3)">_answer'
HOSTILE_CELL_ERROR = '<svg onload=alert(4)>"quoted" & more'


def _prose_release() -> dict[str, Any]:
    nb = released()
    check = cell(nb, check_id("forward_pass"))
    at = nb["cells"].index(check) + 1
    heading = {"cell_type": "markdown", "metadata": {}, "source": f"## {QUESTION}\n\nExplain in two sentences."}
    prose = {
        "cell_type": "markdown",
        "metadata": {
            "nbgrader": {
                "grade": True,
                "grade_id": PROSE_ID,
                "locked": False,
                "points": PROSE_POINTS,
                "schema_version": 3,
                "solution": True,
                "task": False,
            }
        },
        "source": PROSE_STUB,
    }
    for offset, new in enumerate((heading, prose)):
        new = copy.deepcopy(new)
        new["id"] = f"added-{offset}"
        nb["cells"].insert(at + offset, new)
    return nb


def _as_submission(release: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """``base``'s answers in the prose release's cell layout."""
    nb = copy.deepcopy(release)
    for grade_id in (answer_id("forward_pass"), answer_id("linear_collapse")):
        cell(nb, grade_id)["source"] = cell(base, grade_id)["source"]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("feedback")
    release = _prose_release()
    write(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", release)

    writer = _as_submission(release, correct_submission())
    cell(writer, PROSE_ID)["source"] = HOSTILE_PROSE

    hostile = _as_submission(
        release,
        with_answers(
            correct_submission(),
            forward_pass_answer=f"def forward_pass(x, weights, activation):\n    raise ValueError({HOSTILE_ERROR!r})\n",
            linear_collapse_answer=f"raise RuntimeError({HOSTILE_CELL_ERROR!r})\n",
        ),
    )
    foreign = copy.deepcopy(cell(hostile, answer_id("forward_pass")))
    foreign["metadata"]["nbgrader"]["grade_id"] = HOSTILE_GRADE_ID
    hostile["cells"].append(foreign)
    hostile["cells"].remove(cell(hostile, PROSE_ID))

    submissions = {"writer": writer, "hostile": hostile, "blank": release}
    for student, nb in submissions.items():
        write(root / "in" / f"{student}.ipynb", nb)
    options = GradingOptions(
        release=root / "release", output=root / "out", jobs=2, cell_timeout=10, call_timeout=10, progress=False
    )
    results = grade_submissions([root / "in"], options, secret=Secret(fresh_secret().encode(), "test"))
    return {"out": root / "out", "results": {r.student: r for r in results}}


def test_the_gradebook_has_a_column_to_grade_by_hand(graded):
    out = graded["out"]
    column = by_hand_column(PROSE_ID)
    rows = {r["student"]: r for r in grades(out)}
    header = list(rows["writer"])
    assert header.index(column) > header.index("linear_collapse")
    assert header.index(column) < header.index("auto_graded_points")
    assert {row[column] for row in rows.values()} == {""}
    maxima = max_row(out)
    assert float(maxima[column]) == PROSE_POINTS
    assert float(maxima["graded_by_hand_max"]) == PROSE_POINTS
    full = get_task("forward_pass").points + get_task("linear_collapse").points
    assert float(rows["writer"]["auto_graded_points"]) == full  # the prose question adds nothing here
    assert float(rows["writer"]["auto_graded_max"]) == full
    assert float(rows["writer"]["graded_by_hand_max"]) == PROSE_POINTS


def test_the_record_keeps_each_learners_text(graded):
    results = graded["results"]
    (answer,) = results["writer"].prose
    assert answer == {
        "grade_id": PROSE_ID,
        "title": QUESTION,
        "points": PROSE_POINTS,
        "text": HOSTILE_PROSE,
        "answered": True,
        "truncated": False,
        "found": True,
    }
    assert results["blank"].prose[0]["answered"] is False and results["blank"].prose[0]["found"] is True
    assert results["hostile"].prose[0]["found"] is False


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "small",
    "strong", "ul", "li", "div", "span", "a", "pre", "footer", "code",
}  # fmt: skip


def _parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed(page)
    parsed.close()
    return parsed


@pytest.mark.parametrize("student", ["writer", "hostile", "blank"])
def test_pages_hold_no_markup_from_the_learner_and_load_nothing(graded, student):
    page = (graded["out"] / "feedback" / f"{student}.html").read_text(encoding="utf-8")
    parsed = _parse(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    assert [tag for tag, _ in parsed.tags].count("style") == 1
    for tag, attrs in parsed.tags:
        assert not [name for name in attrs if name.startswith("on") or name in ("src", "style")], (tag, attrs)
        if tag == "a":
            assert attrs["href"].startswith(book_url() + "/"), attrs
        if tag == "meta" and "http-equiv" in attrs:
            assert attrs["http-equiv"] == "Content-Security-Policy"
            assert "default-src 'none'" in attrs["content"]
    assert "Content-Security-Policy" in page


def test_the_learners_text_is_shown_as_text(graded):
    text = "".join(_parse((graded["out"] / "feedback" / "writer.html").read_text(encoding="utf-8")).text)
    assert HOSTILE_PROSE in text
    assert f"Written answers ({BY_HAND})" in text
    assert f"Worth {PROSE_POINTS:g} points, {BY_HAND}" in text
    assert QUESTION in text


def test_messages_and_names_from_the_learner_are_shown_as_text(graded):
    text = "".join(_parse((graded["out"] / "feedback" / "hostile.html").read_text(encoding="utf-8")).text)
    assert HOSTILE_ERROR in text  # the ValueError raised in forward_pass, quoted in each case's message
    assert HOSTILE_CELL_ERROR in text  # the linear_collapse cell's own error
    assert HOSTILE_GRADE_ID in text  # named in the note on foreign answer cells
    assert "Your notebook has no cell for this answer" in text
    blank = "".join(_parse((graded["out"] / "feedback" / "blank.html").read_text(encoding="utf-8")).text)
    assert "You did not write an answer here" in blank


def test_gradescope_results_list_the_question_as_graded_by_hand(graded):
    data = json.loads((graded["out"] / "gradescope" / "writer.json").read_text(encoding="utf-8"))
    (entry,) = [t for t in data["tests"] if "graded-by-hand" in t.get("tags", [])]
    assert entry["name"] == f"{QUESTION} ({BY_HAND})"
    assert (entry["score"], entry["max_score"], entry["output_format"]) == (0, 0, "text")
    assert HOSTILE_PROSE in entry["output"]
    assert data["score"] == graded["results"]["writer"].total
    assert f"Written answers worth {PROSE_POINTS:g} more points are {BY_HAND}" in data["output"]


def test_gradescope_results_follow_the_format(graded):
    visibilities = {"visible", "hidden", "after_due_date", "after_published"}
    paths = sorted((graded["out"] / "gradescope").glob("*.json"))
    assert [p.stem for p in paths] == sorted(graded["results"])  # one file per submission, each checked
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data["score"], float | int) and isinstance(data["execution_time"], int)
        assert data["visibility"] in visibilities and data["stdout_visibility"] in visibilities
        assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
        for test in data["tests"]:
            assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
            assert test["visibility"] in visibilities
            assert 0 <= test["score"] <= test["max_score"]
            assert test["output_format"] == test["name_format"] == "text"
        assert sum(t["score"] for t in data["tests"]) == pytest.approx(data["score"])
        record = graded["results"][path.stem]
        hidden = [t for t in data["tests"] if "hidden" in t.get("tags", [])]
        assert len(hidden) == sum(1 for t in record.tasks if any(o.hidden for o in t.outcomes))
        for task, entry in zip([t for t in record.tasks if any(o.hidden for o in t.outcomes)], hidden, strict=True):
            passed, ran = task.counts(hidden=True)
            assert f"Hidden cases: {passed} of {ran} pass" in entry["output"]
            for case in (o for o in task.outcomes if o.hidden):
                assert case.title not in json.dumps(data)


def test_a_browser_shows_the_pages_without_running_or_loading_anything(graded):
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium_path = Path("/usr/bin/chromium")
    assert chromium_path.exists(), "Chromium is installed by `make test` (make chromium)"
    pages = sorted((graded["out"] / "feedback").glob("*.html"))
    assert [p.stem for p in pages] == sorted(graded["results"])
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=["--headless", "--no-sandbox"])
        try:
            context = browser.new_context()

            def route(route: Any) -> None:
                url = route.request.url
                if not url.startswith("file://"):
                    requests.append(url)
                route.abort() if not url.startswith("file://") else route.continue_()

            context.route("**/*", route)
            for path in pages:
                page = context.new_page()
                page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                assert page.evaluate("document.scripts.length") == 0
                assert page.evaluate("document.images.length") == 0
                assert page.is_visible("h1")
                page.close()
        finally:
            browser.close()
    assert dialogs == [] and requests == []


def test_the_hidden_cases_visibility_on_gradescope_is_the_instructors_choice(graded):
    record = graded["results"]["writer"]
    data = results_json(record, hidden_visibility="after_due_date")
    hidden = [t for t in data["tests"] if "hidden" in t.get("tags", [])]
    assert hidden and {t["visibility"] for t in hidden} == {"after_due_date"}
    assert {t["visibility"] for t in data["tests"] if t not in hidden} == {"visible"}
    with pytest.raises(ValueError, match="visibility must be one of"):
        results_json(record, hidden_visibility="sometimes")  # type: ignore[arg-type]
