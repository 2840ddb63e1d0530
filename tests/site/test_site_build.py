"""The book builds with warnings as errors, its notebooks ran cleanly, and its files are right.

(What each page weighs as a browser loads it is measured in test_site_browser.py.)
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml
from jupyter_cache import get_cache
from sitebook import ROOT, Site, chapters, toc_pages

pytestmark = pytest.mark.slow

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_build_succeeds_with_warnings_as_errors(book_build):
    assert book_build.returncode == 0, book_build.tail()
    command = next((line for line in book_build.log.splitlines() if "jupyter-book build" in line), "")
    assert re.search(r"\s-W(\s|$)", command), f"the build must turn warnings into errors; ran: {command!r}"
    assert "build succeeded" in book_build.log


def _notebook_pages() -> list[str]:
    return [page for page in toc_pages() if "kernelspec:" in (ROOT / f"{page}.md").read_text(encoding="utf-8")]


def test_every_notebook_page_was_executed(site: Site):
    """Each chapter's current source has a successful execution in the jupyter-cache.

    (jupyter-cache caches a notebook only when every cell ran without error, and keys it by
    the code's content, so a stale cache entry from an older version would not match.)
    """
    cache = get_cache(str(ROOT / CONFIG["execute"]["cache"]))
    pages = _notebook_pages()
    assert pages, "no page of the book has code cells"
    for page in pages:
        assert (site.executed / f"{page}.ipynb").is_file(), f"{page} was not executed"
        record = cache.get_cached_project_nb(str(ROOT / f"{page}.md"))
        assert record is not None, f"{page} has no successful execution in the cache"


@pytest.mark.parametrize("page", _notebook_pages())
def test_executed_notebook_has_no_errors(site: Site, page: str):
    notebook = nbformat.read(site.executed / f"{page}.ipynb", as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    for number, cell in enumerate(code_cells, start=1):
        for output in cell.outputs:
            assert output.output_type != "error", f"code cell {number} of {page} raised {output.get('ename')}"
            assert output.get("name") != "stderr", f"code cell {number} of {page} wrote to stderr: {output.text}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"] or "")
        if tag == "script" and attributes.get("src"):
            self.scripts.append(attributes["src"] or "")


def _local(page_file: Path, url: str) -> Path | None:
    if re.match(r"^[a-z]+:", url):
        return None
    return (page_file.parent / url.split("?")[0].split("#")[0]).resolve()


@pytest.mark.parametrize("page", toc_pages())
def test_page_images_exist(site: Site, page: str):
    html_file = site.page(page)
    collector = _Collector()
    collector.feed(html_file.read_text(encoding="utf-8"))
    for image in (p for p in (_local(html_file, src) for src in collector.images) if p is not None):
        assert image.is_file(), f"{page} shows a missing image {image}"


def _caption(cell: nbformat.NotebookNode) -> str | None:
    figure = (cell.metadata.get("mystnb") or {}).get("figure") or {}
    return figure.get("caption")


@pytest.mark.parametrize("page", _notebook_pages())
def test_every_captioned_figure_cell_produced_an_image(site: Site, page: str):
    """A cell with a figure caption must have an image output: a caption over nothing is a bug.

    (Seen once: a cached figure cell stored with no output, so the page showed a caption and
    no figure.) The browser test checks the same on the rendered page.
    """
    notebook = nbformat.read(site.executed / f"{page}.ipynb", as_version=4)
    for number, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), start=1):
        if _caption(cell) is None:
            continue
        images = [o for o in cell.outputs if any(k.startswith("image/") for k in o.get("data", {}))]
        assert images, f"code cell {number} of {page} has the caption {_caption(cell)!r} but no image output"


def test_every_chapter_holds_widget_state(site: Site):
    """Each chapter (every toc page but the landing page) carries an ipywidgets control.

    The browser test moves them; this finds a chapter whose widget is missing without one.
    """
    without = [page for page in chapters() if "widget-state+json" not in site.page(page).read_text(encoding="utf-8")]
    assert without == [], f"chapters with no widget: {without}"


def test_test_only_javascript_is_not_in_the_site(site: Site):
    """axe-core is a devDependency the browser test injects; the site must not ship it."""
    shipped = [p.relative_to(site.html) for p in site.html.rglob("*") if p.name.startswith("axe")]
    assert shipped == []


@pytest.mark.parametrize("page", toc_pages())
def test_page_scripts_are_served_by_the_site(site: Site, page: str):
    """Every script a page loads is a file of the site (no CDN), and it exists."""
    html_file = site.page(page)
    collector = _Collector()
    collector.feed(html_file.read_text(encoding="utf-8"))
    for src in collector.scripts:
        local = _local(html_file, src)
        assert local is not None, f"{page} loads a script from {src}"
        assert local.is_file(), f"{page} loads a missing script {src}"


def test_configured_vendor_files_exist(site: Site):
    config = CONFIG["sphinx"]["config"]
    paths = [config["mathjax_path"], *config["nb_ipywidgets_js"]]
    for path in paths:
        assert (site.html / "_static" / path).is_file(), f"_config.yml names {path}; `make vendor` did not make it"


def test_the_site_serves_the_current_vendored_files(site: Site):
    """Every file `make vendor` wrote is in the site as it is now (not a copy from an older build)."""
    vendor = ROOT / "_vendor"
    files = [p for p in vendor.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert files, "make vendor wrote nothing"
    stale = [
        p.relative_to(vendor)
        for p in files
        if (site.html / "_static" / p.relative_to(vendor)).read_bytes() != p.read_bytes()
    ]
    assert stale == [], f"the site serves old copies of {stale}"


def test_widget_pages_load_the_vendored_manager(site: Site):
    """Pages with widget state load the site's widget manager (nb_ipywidgets_js), in its order."""
    expected = [f"_static/{path}" for path in CONFIG["sphinx"]["config"]["nb_ipywidgets_js"]]
    widget_pages = [page for page in toc_pages() if "widget-state+json" in site.page(page).read_text(encoding="utf-8")]
    assert widget_pages, "no page has a widget"
    for page in widget_pages:
        collector = _Collector()
        collector.feed(site.page(page).read_text(encoding="utf-8"))
        loaded = [src.split("?")[0].lstrip("./") for src in collector.scripts]
        positions = [next(i for i, src in enumerate(loaded) if src.endswith(path)) for path in expected]
        assert positions == sorted(positions), f"{page} loads {loaded}"


class _DownloadLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "a" and {"btn-download-source-button", "btn-download-notebook-button"} & set(classes):
            self.links.append(attributes.get("href") or "")


@pytest.mark.parametrize("page", toc_pages())
def test_download_button_offers_the_page_source(site: Site, page: str):
    """The download menu serves the page's own source, and a chapter's executed notebook."""
    html_file = site.page(page)
    parser = _DownloadLinks()
    parser.feed(html_file.read_text(encoding="utf-8"))
    assert parser.links, f"{page} has no download button"
    targets = {}
    for href in parser.links:
        target = _local(html_file, href)
        assert target is not None and target.is_file(), f"{page}: the download link {href} leads nowhere"
        targets[target.suffix] = target
    source = ROOT / f"{page}.md"
    assert targets[".md"].read_bytes() == source.read_bytes(), f"{page}: the downloaded .md is not {source}"
    if page in _notebook_pages():
        notebook = nbformat.read(targets[".ipynb"], as_version=4)
        executed = nbformat.read(site.executed / f"{page}.ipynb", as_version=4)
        assert notebook == executed, f"{page}: the downloaded notebook is not the executed one"
        assert any(cell.get("outputs") for cell in notebook.cells), f"{page}: the notebook has no outputs"


def test_citations_read_author_and_year(site: Site):
    """{cite:t} in the prose renders as "Goodfellow et al. [2016]", not a label such as [GBC16].

    (sphinxcontrib-bibtex reads its style from Sphinx's configuration; at the top level of
    _config.yml the setting was silently ignored.)
    """
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    cited = re.findall(r"\{cite:t\}`([^`]+)`", intro)
    assert cited, "the introduction cites no work in the text ({cite:t}); pick another page"
    html = site.page("book/intro").read_text(encoding="utf-8")
    links = re.findall(r'href="references\.html#[^"]+"[^>]*>([^<]+)<', html)
    assert links, "the introduction's citations link to no entry of the References page"
    assert all(re.fullmatch(r"(1[89]|20)\d\d[a-z]?", text) for text in links), links
    text = re.sub(r"<[^>]+>", "", html)
    assert re.search(r"[A-Z][a-z]+ et al\. \[(1[89]|20)\d\d\]", text), "no 'Author et al. [year]' in the page"
