"""The grading benchmark's smoke run prints every figure (their values are not judged here)."""

from __future__ import annotations

import json
import math

import pytest
from batch_background import background, small_benchmark

pytestmark = pytest.mark.slow

FIGURES = (
    "actgrade wall time",
    "nbgrader autograde wall time",
    "ratio actgrade / nbgrader",
    "actgrade submissions per minute",
    "nbgrader submissions per minute",
    "per-submission overhead above the checks' own compute (median)",
    "per-submission overhead (90th percentile)",
    "per-submission time above the checks' own compute with 2 jobs (90th percentile)",
    "checks' own compute per submission (median, in one process)",
    "peak RSS of a grading worker",
    "grading time of a submission with an endless cell (longest)",
    "same points per task under both graders",
)
FULL_CORPUS_ONLY = {"grading time of a submission with an endless cell (longest)"}
# Differences of two timings (actgrade's time minus the same compute in one plain process): on a
# busy machine noise can make one slightly negative, so only these may be below zero.
DIFFERENCES = {name for name in FIGURES if "above the checks' own compute" in name or name.startswith("per-submission")}


def test_the_small_benchmark_prints_every_figure(tmp_path_factory: pytest.TempPathFactory):
    # bench/grading.py --small, started in the background when the session began (batch_background.py).
    done, out = background("bench", small_benchmark, tmp_path_factory)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in FIGURES:
        (line,) = [line for line in lines if line.startswith(name + " ")]
        value = line[len(name) :].split()[0]
        if name in FULL_CORPUS_ONLY:
            assert value == "n/a", line  # --small has no such submission
        elif name in DIFFERENCES:
            assert math.isfinite(float(value)), line
        else:
            assert float(value) >= 0, line
    assert lines[0].startswith("corpus: 4 submissions")
    # The small corpus has no hanging cell: both graders agree on every submission (a child killed
    # from outside, e.g. by a batch that shares its uid, shows here).
    (same,) = [line for line in lines if line.startswith(FIGURES[-1] + " ")]
    assert same[len(FIGURES[-1]) :].split()[:3] == ["4", "of", "4"], same
    data = json.loads(out.read_text())
    assert data["small"] is True
    assert [f["name"] for f in data["figures"]] == list(FIGURES)
    assert all(isinstance(f["value"], int | float) for f in data["figures"] if f["name"] not in FULL_CORPUS_ONLY)
    targets = {f["name"]: f["target"] for f in data["figures"] if f["target"]}
    assert set(targets) == {FIGURES[2], FIGURES[5], FIGURES[6], *FULL_CORPUS_ONLY}
