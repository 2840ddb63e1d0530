"""Visiting the built site in Chromium: what test_site_browser.py judges, gathered once.

:func:`visit_site` opens every page it is given in one headless Chromium (Debian's, through
Playwright's async API) and one context, a few pages at a time, and records per page a
:class:`Visit`: the page's facts, axe-core's findings, what moving each control did, the
dark and phone checks, its requests and console. Any request to another host is recorded
and aborted, so nothing here can reach the internet. It also types terms into the site's
search (:class:`Search`). The tests then only read these records, so each page is loaded
once however many things are checked on it.

A visit, in order: desktop and light (facts, screenshot, axe-core, every control moved);
dark (the theme follows ``prefers-color-scheme``: colour rules of axe-core, transparent
images on a dark background, screenshot); phone, 390 x 844 (sideways scrolling,
screenshot, the navigation drawer).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from playwright.async_api import BrowserContext, Locator, Page, async_playwright
from sitebook import HTML, PAGE_BUDGET_BYTES, ROOT, SCREENSHOTS

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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Pages open at the same time (in one browser): the machine has two cores.
CONCURRENT_PAGES = 2
# axe-core from the npm registry (a devDependency of tools/vendor: `make vendor` installs it,
# and nothing copies it into the site). Injected into each page by the test only.
AXE = ROOT / "tools" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
# In dark mode only the rules that depend on colours run again (the rest saw the same page).
DARK_RULES = ["color-contrast", "link-in-text-block"]
# Files every page shares (theme, vendored JavaScript, fonts, the search index): the browser
# caches them, so they do not count in a page's own weight.
SHARED = ("/_static/", "/searchindex.js")
SETTINGS = ("desktop", "dark", "phone")
# Search results whose excerpts are read.
EXCERPTS = 5


@dataclass
class PageLog:
    """Everything a page did on the network and in its console."""

    origin: str
    requests: list[str] = field(default_factory=list)  # GET (what a reader's browser loads)
    checks: list[str] = field(default_factory=list)  # HEAD (the test checking that a link works)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    in_flight: int = 0

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return True
        if parts.scheme == "blob":  # object URLs the widget manager makes
            return url.startswith(f"blob:{self.origin}/")
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def files(self) -> dict[str, int]:
        """Site path -> size on disk of every file the page requested (each counted once)."""
        sizes = {}
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not self.is_local(url):
                continue
            path = unquote(parts.path)
            file = HTML / path.lstrip("/")
            if file.is_dir():
                file = file / "index.html"
            if file.is_file():
                sizes[path] = file.stat().st_size
        return sizes


@dataclass
class Move:
    """One control moved once, and what happened to the figure of its widget."""

    widget: int
    precomputed: bool
    control: str
    pixels_changed: bool
    alt_before: list[str]
    alt_after: list[str]

    @property
    def alt_changed(self) -> bool:
        return self.alt_after != self.alt_before and all(self.alt_after)


@dataclass
class Visit:
    docname: str
    log: PageLog
    facts: dict[str, Any]
    axe_light: list[dict[str, Any]]
    axe_dark: list[dict[str, Any]]
    widgets: int
    moves: list[Move]
    downloads: dict[str, int]
    dark_transparent: list[dict[str, Any]]
    phone: dict[str, Any]
    nav_links_on_phone: int
    screenshots: list[Path]
    seconds: float

    def own_files(self) -> dict[str, int]:
        return {path: size for path, size in self.log.files().items() if not path.startswith(SHARED)}

    @property
    def own_bytes(self) -> int:
        return sum(self.own_files().values())

    @property
    def shared_bytes(self) -> int:
        return sum(size for path, size in self.log.files().items() if path.startswith(SHARED))


@dataclass
class Search:
    term: str
    results: list[str]  # site paths of the result links, in order
    excerpts: list[str]  # the excerpt under each of the first EXCERPTS results
    log: PageLog


@dataclass
class Failed:
    """A visit that raised: the tests of that page report it."""

    error: str


# --------------------------------------------------------------------------------------
# JavaScript run in the pages
# --------------------------------------------------------------------------------------

VISIBLE_JS = """
const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length)
  && getComputedStyle(e).visibility !== "hidden";
"""

# Title, figures, images, widgets, math, buttons: what the page shows once it has loaded.
FACTS_JS = (
    "() => {"
    + VISIBLE_JS
    + r"""
  const article = document.querySelector("article") || document.body;
  const loaded = (img) => img.complete && img.naturalWidth > 0;
  const describe = (e) => (e.getAttribute("src") || "").slice(0, 80);
  const h1 = article.querySelector("h1");
  const figures = [...article.querySelectorAll("figure")];
  const images = [...article.querySelectorAll("img")].filter(visible);
  const math = [...document.querySelectorAll("main .math")];
  const text = article.cloneNode(true);
  text.querySelectorAll("pre, code, script, style").forEach((e) => e.remove());
  const hrefs = (selector) => [...document.querySelectorAll(selector)].map((a) => a.href);
  const download = document.querySelector(".dropdown-download-buttons > button");
  const views = 'script[type="application/vnd.jupyter.widget-view+json"]';
  const widgets = [...document.querySelectorAll(".widget-subarea > .jupyter-widgets")];
  return {
    h1: h1 && visible(h1) ? h1.textContent.replace(/#\s*$/, "").trim() : null,
    title: document.title,
    hiddenFigures: figures.filter((f) => !visible(f)).length,
    captionedWithoutImage: figures
      .filter((f) => f.querySelector("figcaption"))
      .filter((f) => ![...f.querySelectorAll("img")].some((i) => visible(i) && loaded(i)))
      .map((f) => f.id || f.querySelector("figcaption").textContent.trim().slice(0, 60)),
    brokenImages: images.filter((i) => !loaded(i)).map(describe),
    fileNameAlts: images.filter((i) => /\.(png|jpe?g|gif|svg|webp)$/i.test((i.alt || "").trim())).map(describe),
    widgetViews: document.querySelectorAll(views).length,
    widgetsRendered: widgets.length,
    widgetsHidden: widgets.filter((w) => !visible(w)).length,
    math: math.length,
    mathUntypeset: math.filter((e) => !e.querySelector("mjx-container")).length,
    mathErrors: document.querySelectorAll("mjx-merror").length,
    // The site's Font Awesome holds only the theme's icons (tools/vendor/src/fontawesome.js);
    // an icon it lacks stays an <i> or <span> instead of becoming an <svg>.
    iconsLeft: [...document.querySelectorAll('i[class*="fa-"], span[class*="fa-"]')].map((i) => i.className),
    rawMarkdownTables: (text.textContent.match(/\|\s*:?-{3,}:?\s*\|/g) || []).length,
    downloadButtonVisible: !!download && visible(download),
    downloadNotebook: hrefs("a.btn-download-notebook-button"),
    downloadSource: hrefs("a.btn-download-source-button"),
    launch: hrefs(".dropdown-launch-buttons a"),
  };
}"""
)

# The visible images of one widget: their src, their alternative text and the box around them.
FIGURE_JS = (
    "(root) => {"
    + VISIBLE_JS
    + """
  const images = [...root.querySelectorAll("img")].filter(visible);
  if (!images.length) return { srcs: [], alts: [], box: null };
  const digest = (text) => {  // FNV-1a: frames are data: URIs of tens of kB, not worth sending back
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return `${text.length}:${(h >>> 0).toString(16)}`;
  };
  const rects = images.map((i) => i.getBoundingClientRect());
  const left = Math.min(...rects.map((r) => r.left)), top = Math.min(...rects.map((r) => r.top));
  const right = Math.max(...rects.map((r) => r.right)), bottom = Math.max(...rects.map((r) => r.bottom));
  return {
    srcs: images.map((i) => digest(i.src)),
    alts: images.map((i) => (i.getAttribute("alt") || "").trim()),
    box: { x: left, y: top, width: right - left, height: bottom - top },  // in the viewport
  };
}"""
)

AXE_RUN_JS = """async (options) => {
  const result = await axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""

# Images with a transparent background that sit on a dark background (in dark mode).
TRANSPARENT_ON_DARK_JS = (
    "() => {"
    + VISIBLE_JS
    + r"""
  const rgb = (color) => {
    const m = color.match(/[\d.]+/g);
    return m && (m.length < 4 || Number(m[3]) > 0.5) ? m.slice(0, 3).map(Number) : null;
  };
  const luminance = (channels) => {
    const c = channels.map((v) => v / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const found = [];
  for (const img of document.querySelectorAll("article img")) {
    if (!visible(img) || !img.complete || !img.naturalWidth) continue;
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext("2d");
    g.drawImage(img, 0, 0);
    const w = canvas.width - 1, h = canvas.height - 1;
    const alphas = [[0, 0], [w, 0], [0, h], [w, h]].map(([x, y]) => g.getImageData(x, y, 1, 1).data[3]);
    if (Math.min(...alphas) >= 128) continue;  // an opaque background of its own
    let background = null;
    for (let e = img; e && !background; e = e.parentElement) background = rgb(getComputedStyle(e).backgroundColor);
    background = background || [255, 255, 255];
    if (luminance(background) < 0.4) {
      found.push({ image: (img.alt || img.src).slice(0, 80), background: `rgb(${background.join(", ")})` });
    }
  }
  return found;
}"""
)

# Does the page scroll sideways, and which elements stick out of the viewport unclipped?
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.position === "fixed" || ["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return true;
    }
    return false;
  };
  const culprits = [];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && getComputedStyle(e).position !== "fixed" && !clipped(e)) {
      culprits.push(`${e.tagName.toLowerCase()}.${[...e.classList].join(".")} "${e.textContent.trim().slice(0, 40)}"`);
      if (culprits.length === 5) break;
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, width, culprits };
}"""

NEXT_FRAME_JS = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# HEAD, not GET: whether a link works, without counting the file in the page's weight.
HEAD_STATUS_JS = """async (urls) => Object.fromEntries(
  await Promise.all(urls.map(async (u) => [u, (await fetch(u, { method: "HEAD" })).status])))"""


# --------------------------------------------------------------------------------------
# One page
# --------------------------------------------------------------------------------------


async def _open(context: BrowserContext, base_url: str, path: str) -> tuple[Page, PageLog]:
    """A new page at ``path``: every request recorded, any to another host aborted."""
    page = await context.new_page()
    log = PageLog(origin=base_url)

    async def route(route: Any) -> None:
        url = route.request.url
        if log.is_local(url):
            await route.continue_()
        else:
            log.blocked.append(url)
            await route.abort()

    await page.route("**/*", route)

    def started(request: Any) -> None:
        log.in_flight += 1
        (log.checks if request.method == "HEAD" else log.requests).append(request.url)

    def ended(request: Any) -> None:
        log.in_flight -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    page.on("console", lambda message: message.type == "error" and log.console_errors.append(message.text))
    page.on("pageerror", lambda error: log.console_errors.append(f"uncaught: {error}"))
    # (A HEAD request through the route ends "aborted" once its headers are in: its status,
    # which is what the test asks for, is checked where it is made.)
    page.on("requestfailed", lambda r: r.method != "HEAD" and log.failures.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and log.failures.append(f"{r.status} {r.url}"))
    await page.goto(f"{base_url}/{path}", wait_until="load")
    return page, log


async def _close(page: Page, log: PageLog) -> None:
    """Close the page once every request it made has ended (so that none goes unjudged)."""
    deadline = time.monotonic() + 10.0
    while log.in_flight > 0 and time.monotonic() < deadline:
        await page.wait_for_timeout(50)
    if log.in_flight > 0:
        log.failures.append(f"{log.in_flight} request(s) still running 10 s after the visit")
    await page.close()


async def _settle(page: Page) -> None:
    """Wait until MathJax has typeset the page and every widget view has rendered."""
    await page.wait_for_function("() => document.readyState === 'complete'")
    if await page.evaluate("() => window.MathJax !== undefined"):
        await page.wait_for_function("() => window.MathJax.startup !== undefined && window.MathJax.startup.promise")
        await page.evaluate("() => window.MathJax.startup.promise.then(() => true)")
    # Font Awesome replaces the theme's <i class="fa-..."> by SVG after the page has loaded and
    # marks <html> with fontawesome-i2svg-complete when its first pass is done (an icon it does
    # not know stays an <i>, which the icon check then reports). On a busy machine the heaviest
    # page was read before that pass had run, and every icon looked missing.
    await page.wait_for_function(
        """() => document.documentElement.classList.contains('fontawesome-i2svg-complete')
            || document.querySelector('i[class*="fa-"], span[class*="fa-"]') === null"""
    )
    views = await page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if views:
        await page.wait_for_function(
            "n => document.querySelectorAll('.widget-subarea > .jupyter-widgets').length >= n", arg=views
        )


async def _axe(page: Page, options: dict[str, Any]) -> list[dict[str, Any]]:
    if not await page.evaluate("() => window.axe !== undefined"):
        await page.add_script_tag(path=str(AXE))
    return await page.evaluate(AXE_RUN_JS, options)


def screenshot_path(setting: str, docname: str) -> Path:
    return SCREENSHOTS / setting / f"{docname.replace('/', '__')}.jpg"


async def _screenshot(page: Page, setting: str, docname: str) -> Path:
    """A full-page screenshot, from the top (sticky headers show where a reader first sees them)."""
    path = screenshot_path(setting, docname)
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.evaluate(NEXT_FRAME_JS)
    await page.screenshot(path=str(path), full_page=True, type="jpeg", quality=75)
    return path


async def _figure(page: Page, root: Locator) -> tuple[dict[str, Any], bytes]:
    """(src and alt text of its visible images, their pixels) of a widget scrolled into view."""
    state = await root.evaluate(FIGURE_JS)
    pixels = await page.screenshot(clip=state["box"]) if state["box"] else b""
    return state, pixels


async def _after_move(page: Page, root: Locator, before: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The widget's figure once a move has shown (up to 1 s for the shown images to change)."""
    deadline = time.monotonic() + 1.0
    state = await root.evaluate(FIGURE_JS)
    while state["srcs"] == before["srcs"] and state["alts"] == before["alts"] and time.monotonic() < deadline:
        await page.wait_for_timeout(50)
        state = await root.evaluate(FIGURE_JS)
    await page.evaluate(NEXT_FRAME_JS)
    return await _figure(page, root)


async def _controls(root: Locator, every_option: bool) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
    """(name, move) for each control of a widget: toggle buttons, sliders, dropdowns, checkboxes.

    ``every_option``: click every button of a toggle group that is not selected (for
    PrecomputedFigure, where each must show its own frame); otherwise one per group.
    """
    found: list[tuple[str, Callable[[], Awaitable[None]]]] = []
    for group in await root.locator(".widget-toggle-buttons").all():
        labels = group.locator(".widget-label")
        label = (await labels.first.inner_text()).strip() if await labels.count() else "toggle"
        buttons = [
            b for b in await group.locator("button").all() if "mod-active" not in (await b.get_attribute("class") or "")
        ]
        for button in buttons if every_option else buttons[:1]:
            found.append((f"{label} -> {(await button.inner_text()).strip()!r}", button.click))
    for slider in await root.locator(".widget-slider").all():
        handle = slider.locator(".noUi-handle").first
        label = (await slider.locator(".widget-label").first.inner_text()).strip()

        async def step(handle: Locator = handle) -> None:
            at_end = await handle.get_attribute("aria-valuenow") == await handle.get_attribute("aria-valuemax")
            await handle.focus()
            await handle.press("ArrowLeft" if at_end else "ArrowRight")

        found.append((f"slider {label!r}", step))
    for select in await root.locator("select").all():

        async def pick_next(select: Locator = select) -> None:
            count = await select.locator("option").count()
            await select.select_option(index=(await select.evaluate("s => s.selectedIndex") + 1) % count)

        name = await select.evaluate("s => s.labels[0]?.textContent || s.name")
        found.append((f"dropdown {name!r}", pick_next))
    for checkbox in await root.locator("input[type=checkbox]").all():
        found.append(("checkbox", checkbox.click))
    return found


async def _move_every_control(page: Page) -> tuple[int, list[Move]]:
    roots = page.locator(".widget-subarea > .jupyter-widgets")
    count = await roots.count()
    moves = []
    for index in range(count):
        root = roots.nth(index)
        precomputed = "precomputed-figure" in (await root.get_attribute("class") or "")
        await root.scroll_into_view_if_needed()
        state, pixels = await _figure(page, root)
        for name, move in await _controls(root, every_option=precomputed):
            await move()
            after, after_pixels = await _after_move(page, root, state)
            moves.append(Move(index, precomputed, name, after_pixels != pixels, state["alts"], after["alts"]))
            state, pixels = after, after_pixels
    return count, moves


async def _open_navigation_on_phone(page: Page) -> int:
    """Open the navigation drawer with its button; the number of page links it shows."""
    await page.locator("button.primary-toggle").locator("visible=true").first.click()
    await page.wait_for_function("() => document.querySelector('#pst-primary-sidebar-modal')?.open === true")
    shown = await page.locator("#pst-primary-sidebar-modal nav a.reference.internal").locator("visible=true").count()
    await page.keyboard.press("Escape")
    await page.wait_for_function("() => document.querySelector('#pst-primary-sidebar-modal')?.open === false")
    return shown


# Colour transitions (the theme fades between light and dark) would let axe-core judge
# colours half-way; the test looks at the final colours only.
NO_TRANSITIONS_CSS = "*, *::before, *::after { transition: none !important; animation: none !important; }"


async def _visit(context: BrowserContext, base_url: str, docname: str) -> Visit:
    start = time.monotonic()
    page, log = await _open(context, base_url, f"{docname}.html")
    try:
        await _settle(page)
        await page.add_style_tag(content=NO_TRANSITIONS_CSS)
        facts = await page.evaluate(FACTS_JS)
        shots = [await _screenshot(page, "desktop", docname)]
        axe_light = await _axe(page, {"resultTypes": ["violations"]})
        downloads = await page.evaluate(HEAD_STATUS_JS, facts["downloadNotebook"] + facts["downloadSource"])
        widgets, moves = await _move_every_control(page)

        await page.emulate_media(color_scheme="dark")
        await page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
        axe_dark = await _axe(page, {"runOnly": {"type": "rule", "values": DARK_RULES}, "resultTypes": ["violations"]})
        dark_transparent = await page.evaluate(TRANSPARENT_ON_DARK_JS)
        shots.append(await _screenshot(page, "dark", docname))

        await page.emulate_media(color_scheme="light")
        await page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
        await page.set_viewport_size(PHONE)
        await page.evaluate(NEXT_FRAME_JS)
        phone = await page.evaluate(OVERFLOW_JS)
        shots.append(await _screenshot(page, "phone", docname))
        nav_links = await _open_navigation_on_phone(page)
    finally:
        await _close(page, log)
    return Visit(
        docname=docname,
        log=log,
        facts=facts,
        axe_light=axe_light,
        axe_dark=axe_dark,
        widgets=widgets,
        moves=moves,
        downloads=downloads,
        dark_transparent=dark_transparent,
        phone=phone,
        nav_links_on_phone=nav_links,
        screenshots=shots,
        seconds=time.monotonic() - start,
    )


async def _search(context: BrowserContext, base_url: str, start_page: str, term: str) -> Search:
    """Type ``term`` into the search box of ``start_page`` as a reader does; read the results."""
    page, log = await _open(context, base_url, f"{start_page}.html")
    try:
        await page.locator(".search-button-field").locator("visible=true").first.click()
        box = page.locator("#pst-search-dialog input[name=q]")
        await box.wait_for(state="visible")
        await box.fill(term)
        await box.press("Enter")
        await page.wait_for_url("**/search.html?q=*")
        await page.wait_for_function("() => /found/.test(document.querySelector('#search-results p')?.textContent)")
        hrefs = await page.eval_on_selector_all("#search-results ul.search li > a", "as => as.map(a => a.href)")
        shown = min(len(hrefs), EXCERPTS)
        # Each excerpt is cut from its page once that page has been fetched.
        await page.wait_for_function(
            "n => [...document.querySelectorAll('#search-results ul.search li')].slice(0, n)"
            ".every((li) => li.querySelector('p.context'))",
            arg=shown,
        )
        excerpts = await page.eval_on_selector_all(
            "#search-results ul.search li",
            f"lis => lis.slice(0, {shown}).map(li => li.querySelector('p.context').textContent)",
        )
    finally:
        await _close(page, log)
    return Search(term, [urlsplit(href).path for href in hrefs], excerpts, log)


# --------------------------------------------------------------------------------------
# The whole site
# --------------------------------------------------------------------------------------


async def _visit_all(
    base_url: str, docnames: list[str], terms: list[str], start_page: str
) -> tuple[dict[str, Visit | Failed], dict[str, Search | Failed]]:
    assert AXE.is_file(), f"{AXE} is missing: run `make vendor` (npm ci in tools/vendor)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=DESKTOP, color_scheme="light", service_workers="block")
        slots = asyncio.Semaphore(CONCURRENT_PAGES)

        async def guarded(job: Awaitable[Any]) -> Any:
            async with slots:
                try:
                    return await job
                except Exception:  # noqa: BLE001 (any failure is reported by the tests of that page)
                    return Failed(traceback.format_exc())

        try:
            results = await asyncio.gather(
                *(guarded(_visit(context, base_url, docname)) for docname in docnames),
                *(guarded(_search(context, base_url, start_page, term)) for term in terms),
            )
        finally:
            await context.close()
            await browser.close()
    return dict(zip(docnames, results, strict=False)), dict(zip(terms, results[len(docnames) :], strict=True))


def visit_site(
    base_url: str, docnames: Iterable[str], terms: Iterable[str], start_page: str
) -> tuple[dict[str, Visit | Failed], dict[str, Search | Failed]]:
    """Visit ``docnames`` (heaviest first is best) and search ``terms`` from ``start_page``."""
    for setting in SETTINGS:
        for old in (SCREENSHOTS / setting).glob("*.jpg"):
            old.unlink()
    return asyncio.run(_visit_all(base_url, list(docnames), list(terms), start_page))


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def violations_text(violations: list[dict[str, Any]], impacts: tuple[str, ...] | None = None) -> str:
    """axe-core's findings (of the given impacts, or all), a few elements each, readably."""
    lines = []
    for v in violations:
        if impacts is not None and v["impact"] not in impacts:
            continue
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} element(s); {v['url']})")
        for node in v["nodes"][:3]:
            summary = " ".join(node["summary"].split())
            lines.append(f"      {node['target']}\n        {summary[:300]}")
    return "\n".join(lines)


def write_report(visits: list[Visit], seconds: float) -> list[str]:
    """Write _build/screenshots/report.md; return a few lines for the end of the test run."""
    heaviest = sorted(visits, key=lambda v: v.own_bytes, reverse=True)
    lines = ["# The site in a browser", "", f"{len(visits)} pages visited in {seconds:.0f} s.", ""]
    lines += ["## Page weight: the page's own files (shared _static/ excluded)", ""]
    lines += ["| page | own | largest own files | shared (cached) | visit |", "|---|---|---|---|---|"]
    for v in heaviest:
        top = sorted(v.own_files().items(), key=lambda item: item[1], reverse=True)[:2]
        files = ", ".join(f"{Path(path).name[:24]} {size / 1e3:.0f} kB" for path, size in top)
        own, shared = f"{v.own_bytes / 1e6:.2f} MB", f"{v.shared_bytes / 1e6:.2f} MB"
        lines.append(f"| {v.docname} | {own} | {files} | {shared} | {v.seconds:.1f} s |")
    lines += ["", f"Budget: {PAGE_BUDGET_BYTES / 1e6:.1f} MB per page.", "", "## axe-core findings (all impacts)", ""]
    for v in visits:
        light, dark = violations_text(v.axe_light), violations_text(v.axe_dark)
        if light or dark:
            lines.append(f"### {v.docname}")
            lines += [f"light:\n```\n{light}\n```"] if light else []
            lines += [f"dark:\n```\n{dark}\n```"] if dark else []
    report = SCREENSHOTS / "report.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = [f"{v.docname}: {v.own_bytes / 1e6:.2f} MB of its own" for v in heaviest[:5]]
    where = f"{report.relative_to(ROOT)}, screenshots in {SCREENSHOTS.relative_to(ROOT)}/{{{','.join(SETTINGS)}}}"
    return [f"{len(visits)} pages visited in {seconds:.0f} s; report: {where}", "heaviest pages:", *summary]
