"""Background jobs for the batch tests (started by conftest.py, read by the tests).

``nbgrader autograde`` takes seconds per notebook (a kernel, torch, every cell), and most of
the batch tests spend their time waiting on timeouts. So the nbgrader side of
``test_batch_nbgrader`` and the ``--small`` benchmark run in background threads from the end
of collection (only when those tests are selected); their tests collect the results. Nothing
is judged in the background: each job returns data or raises, and the test that reads it fails.
(A module of its own, not conftest.py: tests/site has a conftest too, and both cannot be
imported by that name.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch-background")
_jobs: dict[str, Future[Any]] = {}
_scratch = Path(tempfile.mkdtemp(prefix="actgrade-tests-background-"))


def small_benchmark(root: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = root / "grading.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "grading.py"), "--small", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return done, out


def _start(name: str, job: Callable[[Path], Any]) -> None:
    folder = _scratch / name
    folder.mkdir()
    _jobs[name] = _pool.submit(job, folder)


def background(name: str, job: Callable[[Path], Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The result of a background job, or of the same job run now when it was not started."""
    if name not in _jobs:
        return job(tmp_path_factory.mktemp(name))
    return _jobs[name].result()


def start_for(modules: set[str]) -> None:
    """Start the jobs of the selected test modules (called once, when collection ends)."""
    if "test_batch_nbgrader" in modules and "nbgrader" not in _jobs:
        from test_batch_nbgrader import nbgrader_side

        _start("nbgrader", nbgrader_side)
    if "test_batch_bench" in modules and "bench" not in _jobs:
        _start("bench", small_benchmark)


def finish() -> None:
    _pool.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(_scratch, ignore_errors=True)
