"""Fixtures for the site tests: the book, built once per session with ``make book``.

Tests that need the built site take the ``site`` fixture; it fails (with the end of the
build log) if the build did. The build runs the same command a person runs, so it also
vendors the JavaScript and installs what is missing.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from sitebook import ROOT, SITE_REPORT, BuildResult, Site


@pytest.fixture(scope="session")
def book_build() -> BuildResult:
    start = time.monotonic()
    result = subprocess.run(
        ["make", "book"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
        check=False,
    )
    return BuildResult(result.returncode, result.stdout, time.monotonic() - start)


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
