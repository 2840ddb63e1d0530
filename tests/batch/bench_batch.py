"""Measure the batch grader (not a test: prints figures).

    .venv/bin/python tests/batch/bench_batch.py [N]

Grades N copies of a correct submission with 1 job and with one job per core, and prints:
the fork server's start-up time, the per-submission overhead (a submission's wall time minus
the time its check cases took), throughput, and the peak resident memory of a child.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from batch_nb import correct_submission, fresh_secret, write

from actgrader.batch import GradingOptions, grade_submissions
from actgrader.batch.forkserver import ForkServer
from actgrader.batch.options import default_jobs
from actgrader.grading.secret import Secret


def main(n: int) -> None:
    secret = Secret(fresh_secret().encode(), "bench")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        for i in range(n):
            write(folder / f"s{i:03d}.ipynb", correct_submission())
        start = time.perf_counter()
        with ForkServer():
            pass
        print(f"fork server start-up (imports torch, numpy, IPython, matplotlib): {time.perf_counter() - start:.2f} s")
        for jobs in sorted({1, default_jobs()}):
            options = GradingOptions(output=Path(tmp) / f"out{jobs}", jobs=jobs, progress=False)
            start = time.perf_counter()
            results = grade_submissions([folder], options, secret=secret)
            wall = time.perf_counter() - start
            assert all(r.total == r.max_total for r in results)
            overhead = [r.seconds - r.check_seconds for r in results]
            per = [r.seconds for r in results]
            checks = [r.check_seconds for r in results]
            print(
                f"jobs={jobs}: {n} submissions in {wall:.2f} s wall (start-up included) = {n / wall:.1f}/s; "
                f"per submission median {statistics.median(per) * 1000:.0f} ms "
                f"(checks {statistics.median(checks) * 1000:.0f} ms, "
                f"overhead median {statistics.median(overhead) * 1000:.0f} ms, max {max(overhead) * 1000:.0f} ms); "
                f"peak child RSS {max(r.peak_rss for r in results) / 2**20:.0f} MB"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
