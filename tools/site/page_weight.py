"""What a reader's browser downloads: the bytes of a first visit and of a second chapter.

The built site (``_build/html``) is served from 127.0.0.1 the way GitHub Pages serves it:
text files (HTML, JavaScript, CSS, JSON, SVG, notebooks) gzipped when the browser accepts
it, and every file cacheable for 10 minutes (``Cache-Control: max-age=600``). The server
counts the body bytes it sends. Debian's Chromium (through Playwright, never a downloaded
browser) then

* opens each page in a fresh browser context (an empty cache): the page's **first visit**,
  everything it needs, shared assets included;
* opens the heaviest chapter and then, in the same context (its cache warm), another
  chapter: the **second chapter**, what a reader who goes on to the next chapter pays.

Each page waits until MathJax has typeset it, its widgets have rendered and the network is
idle, so fonts and scripts loaded late count too. Any request to another host is recorded
(and fails: no host name but 127.0.0.1 resolves). Used by the browser test
(tests/site/test_site_weight.py: budgets) and by ``make bench`` (bench/run.py: figures);
run alone it prints a table::

    .venv/bin/python tools/site/page_weight.py [--pages book/intro book/sigmoid ...]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gzip
import http.server
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
# No request can leave the machine: every host name but 127.0.0.1 fails to resolve. (Not
# Playwright's request routing, which would turn the browser's cache off.)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 900}
# Types GitHub Pages compresses (the others, PNG and woff fonts, are compressed already).
COMPRESSED_SUFFIXES = {".html", ".js", ".css", ".json", ".svg", ".txt", ".ipynb", ".md", ".xml", ".map"}
CACHE_SECONDS = 600  # GitHub Pages' max-age

# Budgets (issue 13): any chapter's first visit, and a second chapter after the heaviest.
FIRST_VISIT_BUDGET = 1_500_000
SECOND_CHAPTER_BUDGET = 300_000


@dataclass
class Transfer:
    """What the server sent for one page load: path -> body bytes, and what was blocked."""

    page: str
    sent: dict[str, int] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(self.sent.values())

    def heaviest(self, count: int = 4) -> list[tuple[str, int]]:
        return sorted(self.sent.items(), key=lambda item: item[1], reverse=True)[:count]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, html: Path) -> None:
        self.html = html
        self.lock = threading.Lock()
        self.sent: dict[str, int] = {}
        self._gzipped: dict[Path, bytes] = {}
        super().__init__(("127.0.0.1", 0), functools.partial(_Handler, directory=str(html)))

    def gzipped(self, path: Path) -> bytes:
        with self.lock:
            if path not in self._gzipped:
                self._gzipped[path] = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
            return self._gzipped[path]

    def record(self, path: str, size: int) -> None:
        with self.lock:
            self.sent[path] = self.sent.get(path, 0) + size

    def take(self) -> dict[str, int]:
        with self.lock:
            sent, self.sent = self.sent, {}
        return sent


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", f"max-age={CACHE_SECONDS}")
        super().end_headers()

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        file = Path(self.translate_path(self.path))
        if file.is_dir():
            file = file / "index.html"
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (file.is_file() and file.suffix in COMPRESSED_SUFFIXES and accepts_gzip):
            # SimpleHTTPRequestHandler sends the file (or a 404); count what it sends.
            before = self.wfile
            counter = _CountingWriter(before)
            self.wfile = counter  # type: ignore[assignment]
            try:
                super().do_GET()
            finally:
                self.wfile = before
            self.server.record(path, counter.body_bytes)
            return
        body = self.server.gzipped(file)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(file)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.record(path, len(body))


class _CountingWriter:
    """Counts the bytes written after the headers (the body) of a plain response."""

    def __init__(self, stream: object) -> None:
        self.stream = stream
        self.body_bytes = 0
        self._in_body = False

    def write(self, data: bytes) -> int:
        if self._in_body:
            self.body_bytes += len(data)
        elif b"\r\n\r\n" in data:
            _, _, rest = bytes(data).partition(b"\r\n\r\n")
            self._in_body = True
            self.body_bytes += len(rest)
        return self.stream.write(data)  # type: ignore[attr-defined]

    def flush(self) -> None:
        self.stream.flush()  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


@contextmanager
def serve(html: Path = HTML) -> Iterator[tuple[str, _Server]]:
    server = _Server(html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


SETTLED_JS = """async () => {
  if (window.MathJax !== undefined) {
    while (!(window.MathJax.startup && window.MathJax.startup.promise)) await new Promise((r) => setTimeout(r, 50));
    await window.MathJax.startup.promise;
  }
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  while (document.querySelectorAll(".widget-subarea > .jupyter-widgets").length < views)
    await new Promise((r) => setTimeout(r, 50));
  return true;
}"""


async def _load(context: object, base_url: str, server: _Server, page_name: str) -> Transfer:
    """Open ``page_name`` (a docname such as ``book/sigmoid``) in ``context``; what it cost."""
    transfer = Transfer(page_name)
    page = await context.new_page()  # type: ignore[attr-defined]

    def started(request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        if not url.startswith((base_url + "/", "data:", "blob:")):
            transfer.blocked.append(url)

    page.on("request", started)
    page.on("response", lambda r: r.status >= 400 and transfer.failed.append(f"{r.status} {r.url}"))
    server.take()  # nothing sent before this page counts for it
    await page.goto(f"{base_url}/{page_name}.html", wait_until="load")
    await page.evaluate(SETTLED_JS)
    await page.wait_for_load_state("networkidle")
    transfer.sent = server.take()
    await page.close()
    return transfer


@dataclass
class Weights:
    first_visits: dict[str, Transfer]
    heaviest: str
    second_chapters: dict[str, Transfer]  # chapter -> what it cost after ``heaviest``


def measure(pages: Sequence[str], second: Sequence[str], html: Path = HTML) -> Weights:
    """First visits of ``pages``; then each of ``second`` after the heaviest of ``pages``.

    ``second`` are docnames; the heaviest page itself is skipped if it is among them.
    """
    return asyncio.run(_measure(list(pages), list(second), html))


async def _measure(pages: list[str], second: list[str], html: Path) -> Weights:
    from playwright.async_api import async_playwright

    with serve(html) as (base_url, server):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                first = {}
                # One page at a time: the server's count belongs to the page being loaded.
                for name in pages:
                    context = await browser.new_context(viewport=VIEWPORT)
                    first[name] = await _load(context, base_url, server, name)
                    await context.close()
                heaviest = max(first.values(), key=lambda t: t.bytes).page
                seconds = {}
                for name in second:
                    if name == heaviest:
                        continue
                    context = await browser.new_context(viewport=VIEWPORT)
                    await _load(context, base_url, server, heaviest)
                    seconds[name] = await _load(context, base_url, server, name)
                    await context.close()
            finally:
                await browser.close()
    return Weights(first, heaviest, seconds)


def toc_pages() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part.get("chapters", [])]
    return [page.removesuffix(".md") for page in pages]


def report(weights: Weights) -> list[str]:
    lines = ["| page | first visit (kB, gzipped) | after the heaviest (kB) | heaviest files |", "|---|---|---|---|"]
    for name, transfer in sorted(weights.first_visits.items(), key=lambda item: -item[1].bytes):
        second = weights.second_chapters.get(name)
        files = ", ".join(f"{Path(path).name} {size / 1e3:.0f}" for path, size in transfer.heaviest(3))
        shown = f"{second.bytes / 1e3:.0f}" if second else "-"
        lines.append(f"| {name} | {transfer.bytes / 1e3:.0f} | {shown} | {files} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", nargs="*", help="docnames (default: every page of _toc.yml)")
    args = parser.parse_args(argv)
    pages = args.pages or toc_pages()
    weights = measure(pages, pages)
    print("\n".join(report(weights)))
    print(f"heaviest first visit: {weights.heaviest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
