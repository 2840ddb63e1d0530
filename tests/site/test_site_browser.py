"""The built site in a real browser (Playwright + Debian's Chromium), with no network.

The site is served from 127.0.0.1 and each page of _toc.yml is visited once
(sitebrowser.visit_site: one browser, one context, two pages at a time); any request to
another host is recorded and aborted, so the test never reaches the internet and any
attempt fails it. The tests below judge what the visits recorded:

* title, figures (a captioned figure must show an image, with real alt text), widgets,
  typeset math, no Markdown table left as raw text;
* no request to another host or failing, no console error (on the search page too);
* every control of every widget moved: a ``PrecomputedFigure`` changes its picture and its
  alternative text on every move, and every chapter has a control that changes a figure;
* axe-core: no serious or critical violation, in light mode and (colours) in dark mode;
  no transparent image on a dark background;
* a phone-sized viewport: no sideways scrolling, the navigation drawer opens;
* each page's own files within the budget (shared assets under _static/ excluded);
* chapters: download buttons that serve the notebook and the source, a Binder button for
  the repository of actgrader.links;
* the site's search box finds a chapter by a term it teaches.

Screenshots (desktop, dark, phone) land in _build/screenshots/ with a report of page
weights and every accessibility finding; the heaviest pages are printed after the run.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sitebook import PAGE_BUDGET_BYTES, SITE_REPORT, Site, back_matter, chapters, toc_pages
from sitebrowser import (
    PHONE,
    SETTINGS,
    Failed,
    Search,
    Visit,
    screenshot_path,
    violations_text,
    visit_site,
    write_report,
)

from actgrader import links

pytestmark = pytest.mark.slow

FAILING_IMPACTS = ("serious", "critical")
# A term typed into the site's search -> a chapter that must be among the results.
SEARCHES = {
    "vanishing": "book/vanishing-gradients",
    "softplus": "book/softsign-softplus",
    "bfloat16": "book/low-precision",
    "capping": "book/attention-softmax",
    "SwiGLU": "book/gated-units",
    "RMSNorm": "book/residual-normalization",
    "AlphaDropout": "book/selu",
}
# An activation's name typed into the site's search -> its chapter, which must come first.
SEARCHES_FIRST = {
    "sigmoid": "book/sigmoid",
    "tanh": "book/tanh",
    "softmax": "book/softmax",
    "softplus": "book/softsign-softplus",
    "GELU": "book/gelu-silu",
    "ReLU": "book/relu-family",
    "vanishing": "book/vanishing-gradients",
}
# What an excerpt must not show: code (an import line, a call with keyword arguments) or
# TeX that MathJax would have typeset on the page (\(, \[, a backslash command).
NOT_PROSE = re.compile(r"^\s*(import [\w.]+\s*$|from [\w.]+ import )|\\[(\[]|\\[a-zA-Z]+\b|\w+=\w", re.M)

PAGES = toc_pages()
CHAPTERS = chapters()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Site) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def recorded(
    base_url: str, site: Site, request: pytest.FixtureRequest
) -> tuple[dict[str, Visit | Failed], dict[str, Search | Failed]]:
    """Visit the pages (and search the terms) that the selected tests of this module need."""
    selected = [item for item in request.session.items if item.module is request.module]
    params = [getattr(item, "callspec", None) for item in selected]
    docnames = {p.params["docname"] for p in params if p and "docname" in p.params}
    terms = [p.params["term"] for p in params if p and "term" in p.params]
    # Heaviest first, so that the two pages in flight finish close together.
    ordered = sorted(docnames, key=lambda d: site.page(d).stat().st_size, reverse=True)
    start = time.monotonic()
    visits, searches = visit_site(base_url, ordered, dict.fromkeys(terms), start_page=PAGES[0])
    done = [v for v in visits.values() if isinstance(v, Visit)]
    if done:
        request.config.stash[SITE_REPORT] = write_report(done, time.monotonic() - start)
    return visits, searches


def _visit(recorded: Any, docname: str) -> Visit:
    visit = recorded[0][docname]
    if isinstance(visit, Failed):
        pytest.fail(f"visiting {docname} failed:\n{visit.error}")
    return visit


def test_every_toc_page_is_the_landing_page_a_chapter_or_back_matter():
    back = back_matter()
    assert PAGES[0] == "book/intro" and CHAPTERS and back == ["book/references"]
    assert PAGES == [PAGES[0], *CHAPTERS, *back], "back matter comes last"


@pytest.mark.parametrize("docname", PAGES)
def test_page_shows_its_title_figures_widgets_and_math(recorded, docname: str):
    facts = _visit(recorded, docname).facts
    assert facts["h1"], f"{docname}: no visible h1"
    assert facts["title"].startswith(facts["h1"]), f"{docname}: h1 {facts['h1']!r} vs title {facts['title']!r}"
    assert facts["hiddenFigures"] == 0, f"{docname}: {facts['hiddenFigures']} hidden figure(s)"
    assert facts["brokenImages"] == [], f"{docname}: images that did not load: {facts['brokenImages']}"
    assert facts["widgetsRendered"] >= facts["widgetViews"], f"{docname}: widgets did not render"
    assert facts["widgetsHidden"] == 0, f"{docname}: {facts['widgetsHidden']} widget(s) not visible"
    assert facts["mathUntypeset"] == 0, f"{docname}: {facts['mathUntypeset']} of {facts['math']} formulas untypeset"
    assert facts["mathErrors"] == 0, f"{docname}: MathJax reported a TeX error"
    assert facts["iconsLeft"] == [], (
        f"{docname}: icons missing from tools/vendor/src/fontawesome.js: {facts['iconsLeft']}"
    )
    assert facts["rawMarkdownTables"] == 0, f"{docname}: a Markdown table shows as raw text"


@pytest.mark.parametrize("docname", PAGES)
def test_captioned_figures_show_an_image_with_alt_text(recorded, docname: str):
    """A caption with no image under it is a figure cell whose output went missing."""
    facts = _visit(recorded, docname).facts
    missing = facts["captionedWithoutImage"]
    assert missing == [], f"{docname}: captions without an image: {missing}"
    assert facts["fileNameAlts"] == [], f"{docname}: images whose alt text is a file name: {facts['fileNameAlts']}"


@pytest.mark.parametrize("docname", PAGES)
def test_nothing_leaves_the_host_and_the_console_stays_clean(recorded, docname: str):
    log = _visit(recorded, docname).log
    assert log.requests, f"{docname}: no request recorded"
    assert log.blocked == [], f"{docname}: requests to other hosts: {log.blocked}"
    assert log.failures == [], f"{docname}: failed requests: {log.failures}"
    assert log.console_errors == [], f"{docname}: console errors: {log.console_errors}"


@pytest.mark.parametrize("docname", PAGES)
def test_controls_change_the_figure_without_a_kernel(recorded, docname: str):
    """Every widget has controls that change its figure; every chapter has such a widget.

    A ``PrecomputedFigure`` must change its picture and its alternative text on every move;
    another widget (e.g. an overlay whose hidden layers have sliders too) needs one move
    that changes its picture.
    """
    page = _visit(recorded, docname)
    if docname in CHAPTERS:
        assert page.widgets, f"{docname}: a chapter without a widget (CONTRIBUTING: one control per chapter)"
    for widget in range(page.widgets):
        moves = [m for m in page.moves if m.widget == widget]
        assert moves, f"{docname}: widget {widget + 1} has no control the test could move"
        for move in (m for m in moves if m.precomputed):
            assert move.pixels_changed, f"{docname}: {move.control} kept the same picture"
            assert move.alt_changed, f"{docname}: {move.control}: alt text {move.alt_before} -> {move.alt_after}"
        assert any(m.pixels_changed for m in moves), f"{docname}: no control of widget {widget + 1} changes it"
    if docname in CHAPTERS:
        assert any(m.pixels_changed for m in page.moves), f"{docname}: no control changes a figure"


@pytest.mark.parametrize("docname", PAGES)
def test_no_serious_accessibility_violation(recorded, docname: str):
    found = violations_text(_visit(recorded, docname).axe_light, FAILING_IMPACTS)
    assert not found, f"{docname}: axe-core (light mode):\n{found}"


@pytest.mark.parametrize("docname", PAGES)
def test_dark_mode_is_readable_and_figures_stay_visible(recorded, docname: str):
    page = _visit(recorded, docname)
    found = violations_text(page.axe_dark, FAILING_IMPACTS)
    assert not found, f"{docname}: axe-core (dark mode):\n{found}"
    assert page.dark_transparent == [], f"{docname}: transparent images on a dark background: {page.dark_transparent}"


@pytest.mark.parametrize("docname", PAGES)
def test_phone_viewport_scrolls_only_down_and_keeps_the_navigation(recorded, docname: str):
    page = _visit(recorded, docname)
    phone = page.phone
    assert phone["scrollWidth"] <= phone["width"], (
        f"{docname}: at {PHONE['width']} px the page is {phone['scrollWidth']} px wide; out: {phone['culprits']}"
    )
    assert page.nav_links_on_phone >= len(PAGES), f"{docname}: the drawer shows {page.nav_links_on_phone} page links"


@pytest.mark.parametrize("docname", PAGES)
def test_page_weight_stays_under_budget(recorded, docname: str):
    page = _visit(recorded, docname)
    own = page.own_files()
    assert f"/{docname}.html" in own, f"{docname}: its own HTML is not among the files it loaded: {sorted(own)}"
    heaviest = sorted(own.items(), key=lambda item: item[1], reverse=True)[:3]
    assert page.own_bytes <= PAGE_BUDGET_BYTES, (
        f"{docname} loads {page.own_bytes / 1e6:.2f} MB of its own (budget {PAGE_BUDGET_BYTES / 1e6:.1f} MB); "
        f"heaviest: {heaviest}"
    )


@pytest.mark.parametrize("docname", PAGES)
def test_screenshots_are_saved(recorded, docname: str):
    shots = _visit(recorded, docname).screenshots
    assert shots == [screenshot_path(setting, docname) for setting in SETTINGS]
    assert all(shot.is_file() and shot.stat().st_size > 10_000 for shot in shots), shots


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_has_download_and_launch_buttons(recorded, docname: str):
    page = _visit(recorded, docname)
    facts = page.facts
    assert facts["downloadButtonVisible"], f"{docname}: no visible download button"
    assert any(url.endswith(f"/{docname}.ipynb") for url in facts["downloadNotebook"]), facts["downloadNotebook"]
    assert any(url.endswith(f"/{docname}.md") for url in facts["downloadSource"]), facts["downloadSource"]
    assert page.downloads and all(status == 200 for status in page.downloads.values()), page.downloads
    owner_repo = links.REPOSITORY_URL.removeprefix("https://github.com/")
    assert owner_repo != links.REPOSITORY_URL, "the launch buttons below assume a GitHub repository"
    binder = [url for url in facts["launch"] if url.startswith("https://mybinder.org/v2/gh/")]
    assert binder, f"{docname}: no Binder launch button among {facts['launch']}"
    assert binder[0].startswith(f"https://mybinder.org/v2/gh/{owner_repo}/"), binder[0]
    assert binder[0].endswith(f"?urlpath=lab/tree/{docname}.md"), binder[0]


@pytest.mark.parametrize(("term", "expected"), SEARCHES.items())
def test_search_finds_the_chapter(recorded, term: str, expected: str):
    """A term typed into the search box of the landing page lists the chapter that teaches it."""
    assert expected in PAGES
    search = recorded[1][term]
    if isinstance(search, Failed):
        pytest.fail(f"searching {term!r} failed:\n{search.error}")
    assert f"/{expected}.html" in search.results, f"searching {term!r} found {search.results}, not {expected}"
    log = search.log
    assert log.blocked == [] and log.failures == [] and log.console_errors == [], log


@pytest.mark.parametrize(("term", "expected"), SEARCHES_FIRST.items())
def test_search_finds_the_chapter_first(recorded, term: str, expected: str):
    """A term typed into the search box of the landing page lists the chapter that teaches it
    first, and the excerpts under the results are prose, not code or raw TeX."""
    assert expected in PAGES
    search = recorded[1][term]
    if isinstance(search, Failed):
        pytest.fail(f"searching {term!r} failed:\n{search.error}")
    assert search.results, f"searching {term!r} found nothing"
    assert search.results[0] == f"/{expected}.html", f"searching {term!r} listed {search.results[:6]}"
    assert search.excerpts, f"searching {term!r}: no excerpt shown"
    for excerpt in search.excerpts:
        # (Sphinx matches stems: "vanishing" finds "vanish".)
        assert term.lower()[:5] in excerpt.lower(), f"searching {term!r}: an excerpt without it: {excerpt!r}"
        assert not NOT_PROSE.search(excerpt), f"searching {term!r}: an excerpt of code or TeX: {excerpt!r}"
    log = search.log
    assert log.blocked == [] and log.failures == [] and log.console_errors == [], log
