"""What the site tests share: where the book is, which pages it has, how a build went.

Imported by ``conftest.py`` (fixtures) and by test modules that parametrize over pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"
# Where the browser test leaves screenshots and its report for a person to look at.
SCREENSHOTS = ROOT / "_build" / "screenshots"
# The most a page may load of its own (its HTML, images and any other file that is not one
# of the site's shared assets under _static/, which the browser caches across pages).
PAGE_BUDGET_BYTES = 2_000_000


@dataclass(frozen=True)
class BuildResult:
    returncode: int
    log: str
    seconds: float

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.splitlines()[-lines:])


@dataclass(frozen=True)
class Site:
    """The built book: where its HTML and executed notebooks are, and how the build went."""

    build: BuildResult
    html: Path = HTML
    executed: Path = EXECUTED

    def page(self, docname: str) -> Path:
        """The HTML file of a page named as in _toc.yml (``"book/intro"``)."""
        return self.html / f"{docname}.html"


def toc_pages(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page in _toc.yml, in reading order, as docnames (``"book/intro"``)."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return [page.removesuffix(".md").removesuffix(".ipynb") for page in pages]


# The part of _toc.yml that holds pages which are not chapters (the bibliography).
BACK_MATTER_CAPTION = "Back matter"


def back_matter(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """The pages of the part captioned ``BACK_MATTER_CAPTION``: plain pages, no code, no widget."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    parts = [part for part in toc.get("parts", []) if part.get("caption") == BACK_MATTER_CAPTION]
    files = [chapter["file"] for part in parts for chapter in part.get("chapters", [])]
    return [page.removesuffix(".md") for page in files]


def chapters(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page of _toc.yml but the landing page (its root) and the back matter: the chapters."""
    back = set(back_matter(toc_path))
    return [page for page in toc_pages(toc_path)[1:] if page not in back]


# What the browser test leaves for the end of the run (report path, heaviest pages);
# conftest.py prints it in the terminal summary.
SITE_REPORT = pytest.StashKey[list[str]]()
