"""``make test``: every test, in two pytest processes side by side.

    .venv/bin/python tools/run_tests.py            # what `make test` runs
    .venv/bin/python tools/run_tests.py tests/grader -x   # with arguments: one plain pytest run

The site's tests (``tests/site``) first wait for ``make book``, which executes every chapter
(minutes), then drive Chromium; no other test reads the site. In one pytest process, which runs
one test at a time, the second core sat mostly idle from the end of the build to the end of the
run (measured on 2 cores: CPU 50-60 % busy for 450 of 800 s). So the site suite, after the
nbgrader tests (which need no site: see :func:`default_suites`), runs in a second process beside
the rest. The rest prints as it goes; the second's output is kept and printed after it; the exit
status fails if either failed. Each pytest run stays whole (its own summary); the last line says
how both ended.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_TESTS = "tests/site"
NBGRADER_TESTS = "tests/nbgrader"


@dataclass(frozen=True)
class Suite:
    name: str
    args: tuple[str, ...]  # pytest's arguments


def default_suites() -> list[Suite]:
    """The site's tests, preceded by the nbgrader tests, beside everything else (with a cache
    of its own, so the two runs' records of failed tests do not overwrite each other).

    The nbgrader tests (about 100 s: they execute every exercise notebook in a kernel) need no
    site, and run while the site suite would otherwise only wait for the build: with them, both
    processes end within a minute of each other (without them, measured on 2 cores: the site
    suite ended at 569 s, the other at 661 s, one core idle in between)."""
    beside = (NBGRADER_TESTS, SITE_TESTS)
    return [
        Suite("main", ("tests", *(f"--ignore={folder}" for folder in beside))),
        Suite("nbgrader and site", (*beside, "-o", "cache_dir=.pytest_cache/site")),
    ]


def run_side_by_side(suites: Sequence[Suite], cwd: Path = ROOT) -> int:
    """Run the first suite in the foreground and the others beside it, their output kept in
    files and printed when the first is done; return 0 if every suite passed, else the first
    non-zero exit status."""
    first, *others = suites
    started = time.monotonic()
    logs, background = [], []
    try:
        for suite in others:
            log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
            command = [sys.executable, "-m", "pytest", *suite.args]
            background.append(subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT))
            logs.append(log)
        statuses = {first.name: subprocess.call([sys.executable, "-m", "pytest", *first.args], cwd=cwd)}
        for suite, process, log in zip(others, background, logs, strict=True):
            if process.poll() is None:
                print(f"\n(waiting for the {suite.name} tests, run beside these)", flush=True)
            statuses[suite.name] = process.wait()
            log.seek(0)
            print(f"\n{'=' * 30} the {suite.name} tests (run beside the {first.name} tests) {'=' * 30}")
            sys.stdout.write(log.read())
            sys.stdout.flush()
    finally:
        for process in background:
            if process.poll() is None:
                process.terminate()
                process.wait()
    ended = ", ".join(f"{name} tests {_verdict(code)}" for name, code in statuses.items())
    print(f"\n{ended}; {time.monotonic() - started:.0f} s in all", flush=True)
    return next((code for code in statuses.values() if code != 0), 0)


def _verdict(code: int) -> str:
    return "passed" if code == 0 else f"FAILED (exit {code})"


def main(argv: list[str]) -> int:
    if argv:
        return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)
    return run_side_by_side(default_suites())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
