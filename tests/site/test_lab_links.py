"""`make lab` points the checks' "Read:" links at the local build of the book.

A learner offline (or before the site is published) then gets links that open. ``make lab``
starts ``$(LAB)``; here ``LAB`` is a Python one-liner that prints, in the environment
JupyterLab would have had, where a check's link leads, and the test opens that file.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sitebook import ROOT, Site

from actgrader.links import BOOK_URL_ENV, DEFAULT_BOOK_URL
from actgrader.tasks import all_tasks

pytestmark = pytest.mark.slow

PRINT_LINK = "from actgrader import links, tasks; print(links.section_url(tasks.all_tasks()[0].section))"


def _link_under_make_lab(env: dict[str, str]) -> str:
    lab = f"{shlex.quote(str(ROOT / '.venv' / 'bin' / 'python'))} -c {shlex.quote(PRINT_LINK)}"
    result = subprocess.run(
        ["make", "--no-print-directory", "lab", f"LAB={lab}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout.strip().splitlines()[-1]


def test_links_open_the_local_build(site: Site):
    env = {key: value for key, value in os.environ.items() if key != BOOK_URL_ENV}
    link = _link_under_make_lab(env)
    parts = urlsplit(link)
    assert parts.scheme == "file", link
    page = Path(unquote(parts.path))
    assert page.is_relative_to(site.html) and page.is_file(), link
    assert f'id="{parts.fragment}"' in page.read_text(encoding="utf-8"), f"no anchor #{parts.fragment} in {page}"
    assert link.startswith(site.html.resolve().as_uri())
    assert all_tasks()[0].section.partition("#")[0] in link


def test_a_book_url_the_user_set_wins(site: Site):
    env = {**os.environ, BOOK_URL_ENV: "https://courses.example.edu/activations"}
    assert _link_under_make_lab(env).startswith("https://courses.example.edu/activations/book/")
    assert DEFAULT_BOOK_URL not in _link_under_make_lab(env)
