"""Every book section a task module or an exercise notebook links to is a label of its chapter.

The site test builds the book and follows the sections tasks and cases declare; the messages
of the tasks also link sections of their own (per activation, per misconception) and the
notebooks' text links more, so their labels are checked here against the chapter sources.
The modules (every module of ``actgrader.tasks``, helpers included) and the notebooks (every
solution notebook) are found, not listed, so a new one is checked as soon as it exists.
"""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

import actgrader.tasks
from actgrader.links import book_url

REPO = Path(__file__).resolve().parents[3]
TASKS = Path(actgrader.tasks.__file__).parent
MODULES = sorted(info.name for info in pkgutil.iter_modules([str(TASKS)]))
NOTEBOOKS = sorted((REPO / "solutions").glob("*/*.ipynb"))
SECTION = re.compile(r'"([a-z][a-z-]*#sec-[a-z0-9-]+)"')


def _labels(page: str) -> set[str]:
    return set(re.findall(r"^\((sec-[a-z0-9-]+)\)=$", (REPO / "book" / f"{page}.md").read_text(encoding="utf-8"), re.M))


def _module_sections() -> list[tuple[str, str]]:
    found = []
    for module in MODULES:
        text = (TASKS / f"{module}.py").read_text(encoding="utf-8")
        found += [(module, s) for s in SECTION.findall(text)]
    return found


def _notebook_links() -> list[str]:
    found = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        found += re.findall(re.escape(book_url()) + r"/book/([a-z-]+\.html(?:#[a-z0-9-]+)?)\)", text)
    return sorted(set(found))


def test_the_modules_and_the_notebooks_link_somewhere():
    assert "stable_sigmoid" in MODULES and "_stability" in MODULES  # found by the package's listing
    assert (REPO / "solutions" / "activations" / "activations.ipynb") in NOTEBOOKS
    assert len(_module_sections()) > len(MODULES)
    assert len(_notebook_links()) > 10


@pytest.mark.parametrize(("module", "section"), _module_sections())
def test_a_section_named_in_a_task_module_exists(module, section):
    page, _, label = section.partition("#")
    assert (REPO / "book" / f"{page}.md").is_file(), f"{module}: no chapter {page}"
    assert label in _labels(page), f"{module}: {page}.md has no label {label}"


@pytest.mark.parametrize("target", _notebook_links())
def test_a_link_in_the_notebook_exists(target):
    page, _, label = target.partition("#")
    page = page.removesuffix(".html")
    assert (REPO / "book" / f"{page}.md").is_file(), f"no chapter {page}"
    if label:
        assert label in _labels(page), f"{page}.md has no label {label}"
