"""The built site in a real browser (Playwright + Debian's Chromium), with no network.

Every page of _toc.yml is served from 127.0.0.1 and opened in headless Chromium. Any request
to another host is recorded and aborted, so the test can never reach the internet and any
attempt fails it. For each page: the title and figures are visible, widgets render, math is
typeset by MathJax, the console stays free of errors and nothing fails to load. Interactive
figures must change their image when a control moves, without a kernel.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright import sync_api as playwright_api
from sitebook import ROOT, Site, toc_pages

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"
# Pages that must hold an interactive figure (PrecomputedFigure) that the test moves.
PAGES_WITH_INTERACTIVE_FIGURES = {"book/forward-propagation"}


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
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """Everything a page did that the test judges: requests, console errors, failures."""

    origin: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return True
        if parts.scheme == "blob":  # object URLs the widget manager makes for images
            return url.startswith(f"blob:{self.origin}/")
        return f"{parts.scheme}://{parts.netloc}" == self.origin


@pytest.fixture
def open_page(browser, base_url: str):
    """A function that opens a docname in a fresh page and returns (page, log)."""
    contexts = []

    def open_(docname: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        contexts.append(context)
        log = PageLog(origin=base_url)

        def route(route):
            url = route.request.url
            if log.is_local(url):
                route.continue_()
            else:
                log.blocked.append(url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("request", lambda request: log.requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and log.console_errors.append(message.text))
        page.on("pageerror", lambda error: log.console_errors.append(f"uncaught: {error}"))
        page.on("requestfailed", lambda request: log.failures.append(f"{request.url}: {request.failure}"))
        page.on("response", lambda r: r.status >= 400 and log.failures.append(f"{r.status} {r.url}"))
        page.goto(f"{base_url}/{docname}.html", wait_until="networkidle")
        _wait_for_mathjax(page)
        _wait_for_widgets(page)
        return page, log

    yield open_
    for context in contexts:
        context.close()


def _wait_for_mathjax(page) -> None:
    """Wait until MathJax has typeset the page (if the page loads MathJax)."""
    page.wait_for_function("() => document.readyState === 'complete'")
    if page.evaluate("() => window.MathJax !== undefined"):
        page.wait_for_function("() => window.MathJax.startup !== undefined && window.MathJax.startup.promise")
        page.evaluate("() => window.MathJax.startup.promise.then(() => true)")


def _widget_views(page) -> int:
    return page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()


def _wait_for_widgets(page) -> None:
    views = _widget_views(page)
    if views:
        page.wait_for_function(
            "n => document.querySelectorAll('.widget-subarea > .jupyter-widgets').length >= n", arg=views
        )


PAGES = toc_pages()


@pytest.mark.parametrize("docname", PAGES)
def test_page_renders_offline_without_errors(open_page, docname: str):
    page, log = open_page(docname)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{docname.replace('/', '__')}.png"), full_page=True)

    # The title: the page's h1 is visible and names the page.
    heading = page.locator("article h1").first
    assert heading.is_visible(), f"{docname}: no visible h1"
    title = heading.inner_text().strip().rstrip("#").strip()
    assert title and page.title().startswith(title), f"{docname}: h1 {title!r} vs title {page.title()!r}"

    # Figures: every figure and every output image is visible and actually loaded.
    for figure in page.locator("article figure").all():
        assert figure.is_visible(), f"{docname}: a figure is hidden"
    images = page.locator("article img").all()
    for image in images:
        assert image.is_visible(), f"{docname}: image {image.get_attribute('src')} is hidden"
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"{docname}: an image did not load"

    # Widgets: each widget view in the page rendered into a visible widget.
    views = _widget_views(page)
    rendered = page.locator(".widget-subarea > .jupyter-widgets")
    assert rendered.count() >= views
    for index in range(rendered.count()):
        assert rendered.nth(index).is_visible(), f"{docname}: widget {index} is not visible"

    # Math: every math element was typeset, without TeX errors.
    math = page.locator("main .math")
    if math.count():
        untypeset = page.evaluate(
            "() => [...document.querySelectorAll('main .math')].filter(e => !e.querySelector('mjx-container')).length"
        )
        assert untypeset == 0, f"{docname}: {untypeset} of {math.count()} formulas were not typeset"
        assert page.locator("mjx-merror").count() == 0, f"{docname}: MathJax reported a TeX error"

    assert log.blocked == [], f"{docname}: requests to other hosts: {log.blocked}"
    assert all(log.is_local(url) for url in log.requests)
    assert log.failures == [], f"{docname}: failed requests: {log.failures}"
    assert log.console_errors == [], f"{docname}: console errors: {log.console_errors}"


def _visible_image(figure) -> tuple[str, bytes]:
    """(src, screenshot bytes) of the one image the figure currently shows."""
    images = [image for image in figure.locator("img").all() if image.is_visible()]
    assert len(images) == 1, f"expected one visible image, found {len(images)}"
    image = images[0]
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image.get_attribute("src") or "", image.screenshot()


def test_pages_with_interactive_figures_are_in_the_book():
    assert PAGES_WITH_INTERACTIVE_FIGURES <= set(PAGES)


@pytest.mark.parametrize("docname", PAGES)
def test_controls_change_the_figure_without_a_kernel(open_page, docname: str):
    page, log = open_page(docname)
    figures = page.locator(".precomputed-figure").all()
    if docname in PAGES_WITH_INTERACTIVE_FIGURES:
        assert figures, f"{docname} has no interactive figure"
    for figure in figures:
        figure.scroll_into_view_if_needed()
        moved = 0
        # Toggle buttons: click every button that is not selected, one after the other.
        for group in figure.locator(".widget-toggle-buttons").all():
            for button in group.locator("button").all():
                if "mod-active" in (button.get_attribute("class") or ""):
                    continue
                before = _visible_image(figure)
                button.click()
                page.wait_for_timeout(100)
                after = _visible_image(figure)
                assert after[0] != before[0], f"{docname}: clicking {button.inner_text()!r} kept the same image"
                assert after[1] != before[1], f"{docname}: clicking {button.inner_text()!r} kept the same picture"
                moved += 1
        # Sliders: one step with the keyboard (back if the handle is at the end).
        for handle in figure.locator(".noUi-handle").all():
            before = _visible_image(figure)
            at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            handle.focus()
            page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
            page.wait_for_timeout(100)
            after = _visible_image(figure)
            assert after[0] != before[0] and after[1] != before[1], f"{docname}: the slider did not change the image"
            moved += 1
        # Dropdowns: pick the next option.
        for select in figure.locator("select").all():
            before = _visible_image(figure)
            count = select.locator("option").count()
            select.select_option(index=(select.evaluate("s => s.selectedIndex") + 1) % count)
            page.wait_for_timeout(100)
            after = _visible_image(figure)
            assert after[0] != before[0] and after[1] != before[1], f"{docname}: the dropdown did not change the image"
            moved += 1
        assert moved, f"{docname}: an interactive figure has no control the test could move"
    assert log.blocked == [] and log.failures == [] and log.console_errors == []
