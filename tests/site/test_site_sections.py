"""Every book section a grader message links to exists in the built site.

Tasks and cases name sections as "<page>#<label>" (see actgrader.links); a renamed page or a
removed MyST target would leave learners with a dead link, so it fails here.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sitebook import Site

from actgrader import links
from actgrader.checkup.thresholds import SECTIONS as CHECKUP_SECTIONS
from actgrader.tasks import all_tasks

pytestmark = pytest.mark.slow


def _linked_sections() -> list[tuple[str, str]]:
    """(who links, section) for every task and case, and every model check-up finding."""
    found = [(f"checkup.{key}", section) for key, section in CHECKUP_SECTIONS.items()]
    for task in all_tasks():
        found.append((task.id, task.section))
        found.extend((f"{task.id}.{case.name}", case.section) for case in task.cases if case.section)
    return found


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)


def test_tasks_link_to_sections():
    sections = [section for _, section in _linked_sections()]
    assert sections, "no task names a section"
    assert all(section for section in sections)


@pytest.mark.parametrize(("owner", "section"), _linked_sections())
def test_linked_section_exists(site: Site, owner: str, section: str):
    url = links.section_url(section)
    relative = url.removeprefix(links.book_url() + "/")
    assert relative != url, f"{url} is not under the book URL"
    path, _, anchor = relative.partition("#")
    page = site.html / path
    assert page.is_file(), f"{owner} links to {section}: no page {path} in the built site"
    if anchor:
        parser = _Ids()
        parser.feed(page.read_text(encoding="utf-8"))
        assert anchor in parser.ids, f"{owner} links to {section}: {path} has no element with id {anchor!r}"
