"""Where the course lives: links from feedback into the book.

A section is named ``"<page>#<label>"`` where ``<page>`` is a chapter file under ``book/``
without its extension and ``<label>`` a MyST target in it, e.g.
``"forward-propagation#sec-collapse"``. A test builds the book and checks that every section
a check can link to exists, so a renamed heading cannot leave a learner with a dead link.
"""

from __future__ import annotations

import os

# The published book. Change it here (and in _config.yml, which a test compares) when the
# course moves; instructors may override it with the ACTGRADER_BOOK_URL environment variable.
DEFAULT_BOOK_URL = "https://activation-course.github.io/activations"
REPOSITORY_URL = "https://github.com/activation-course/activations"
BOOK_URL_ENV = "ACTGRADER_BOOK_URL"


def book_url() -> str:
    return os.environ.get(BOOK_URL_ENV, DEFAULT_BOOK_URL).rstrip("/")


def section_url(section: str) -> str:
    """The URL of ``"<page>#<label>"`` in the book (``"<page>"`` alone links the page)."""
    page, _, label = section.partition("#")
    url = f"{book_url()}/book/{page}.html"
    return f"{url}#{label}" if label else url
