"""Fixtures for the site tests: the book, built once per session with ``make book``.

Tests that need the built site take the ``site`` fixture; it fails (with the end of the
build log) if the build did. The build runs the same command a person runs, so it also
vendors the JavaScript and installs what is missing.

The build starts when collection ends, if any site test is selected, and runs beside the
other tests: pytest runs one test at a time, so on two cores the second one would otherwise
sit idle for the minutes the chapters take to execute. Nothing reads the build before the
``site`` fixture waits for it.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sitebook import ROOT, SITE_REPORT, BuildResult, Site

_HERE = Path(__file__).resolve().parent
_build: dict[str, object] = {}


def _start_build() -> None:
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    process = subprocess.Popen(["make", "book"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    _build.update(process=process, log=log, start=time.monotonic())


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly or _build:
        return
    if any(Path(str(item.fspath)).resolve().is_relative_to(_HERE) for item in session.items):
        _start_build()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    process = _build.get("process")
    if isinstance(process, subprocess.Popen) and process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def book_build() -> BuildResult:
    if not _build:
        _start_build()
    process, log, start = _build["process"], _build["log"], _build["start"]
    assert isinstance(process, subprocess.Popen) and isinstance(start, float)
    try:
        returncode = process.wait(timeout=1800)
    except subprocess.TimeoutExpired:
        process.kill()
        returncode = process.wait()
    log.seek(0)
    return BuildResult(returncode, log.read(), time.monotonic() - start)


@pytest.fixture(scope="session")
def site(book_build: BuildResult) -> Site:
    if book_build.returncode != 0:
        pytest.fail(f"`make book` failed (exit {book_build.returncode}):\n{book_build.tail()}")
    return Site(book_build)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The browser test's report: where it is, and the heaviest pages."""
    lines = config.stash.get(SITE_REPORT, None)
    if lines:
        terminalreporter.section("course site")
        for line in lines:
            terminalreporter.write_line(line)
