"""A learner who has only the site can do the exercises: each chapter offers its notebook.

Every chapter whose Exercises section names an exercise notebook (``exercises/<name>/<name>.ipynb``)
links it for download (the ``{download}`` role) inside that section, and the file the site
serves is the committed exercise notebook, byte for byte.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from sitebook import ROOT, Site, chapters

pytestmark = pytest.mark.slow

NOTEBOOK = re.compile(r"exercises/([\w-]+)/\1\.ipynb")


def _exercises_section(markdown: str) -> str:
    match = re.search(r"^## Exercises\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    return match.group(1) if match else ""


def _chapters_with_notebooks() -> list[tuple[str, str]]:
    found = []
    for docname in chapters():
        names = set(NOTEBOOK.findall(_exercises_section((ROOT / f"{docname}.md").read_text(encoding="utf-8"))))
        found += [(docname, name) for name in sorted(names)]
    return found


WITH_NOTEBOOKS = _chapters_with_notebooks()


def test_the_chapters_name_every_exercise_notebook():
    named = {name for _, name in WITH_NOTEBOOKS}
    committed = {path.parent.name for path in (ROOT / "exercises").glob("*/*.ipynb") if path.stem == path.parent.name}
    assert committed, "no exercise notebook in exercises/"
    assert named == committed, (
        f"notebooks no chapter offers: {committed - named}; named but missing: {named - committed}"
    )


@pytest.mark.parametrize(("docname", "name"), WITH_NOTEBOOKS)
def test_exercises_section_offers_the_notebook(site: Site, docname: str, name: str):
    page = site.page(docname)
    section = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find("section", id="exercises")
    assert section is not None, f"{docname}: no Exercises section in the built page"
    links = [a["href"] for a in section.select("a.download") if a["href"].endswith(f"/{name}.ipynb")]
    assert links, f"{docname}: the Exercises section has no download link for {name}.ipynb"
    for href in links:
        served = (page.parent / href).resolve()
        assert served.is_file(), f"{docname}: {href} is not in the built site"
        assert served.read_bytes() == (ROOT / "exercises" / name / f"{name}.ipynb").read_bytes()
