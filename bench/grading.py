"""Grading benchmark: ``actgrade grade`` against ``nbgrader autograde`` on the same notebooks.

    .venv/bin/python bench/grading.py            # 100 mixed submissions (several minutes: nbgrader is slow)
    .venv/bin/python bench/grading.py --small    # a smoke run of 4 submissions (under a minute)
    .venv/bin/python bench/grading.py --json out.json   # also write the figures for bench/run.py

The submissions are built from every assignment in exercises/ and solutions/: solutions,
untouched releases, partly wrong notebooks (answers perturbed; only the first task answered),
a few slow ones (a cell sleeps 1 s) and a few hostile ones (an answer cell never ends). The
same files are graded by both tools, each from its command line, with the same instructor
secret and the same per-cell timeout. Printed figures:

* both wall times (each command from start to exit) and their ratio (target: actgrade at most
  1/3 of nbgrader's time on 2 cores), submissions per minute for each;
* the per-submission overhead of actgrade above the checks' own compute: a submission's
  grading time in actgrade (a second run, with one job, so that two jobs competing for two
  cores do not count as overhead) minus the time the same answer cells and the same check
  cases take in one plain process (no sandbox, no fork, no socket); median and 90th percentile
  over the submissions that neither sleep nor hang (target: under 0.3 s), and the 90th
  percentile with the parallel jobs for comparison;
* the peak resident memory of a grading worker (a sandboxed child; the pages it shares with
  the fork server, torch included, are counted);
* how long a submission with a cell that never ends takes to grade (the cell timeout stops it;
  target: within 5 s of that timeout; the full corpus only);
* how many submissions got the same points per task from both tools.

Not a test: nothing here asserts a timing. ``tests/batch/test_batch_bench.py`` runs ``--small``
and checks that every figure is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actgrader.grading.conventions import answer_id

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

# Shared with tests/batch (neither imports the other): tools/grading_support.py.
from grading_support import Exercise, NbgraderCourse, exercises, fresh_secret, learner_solution  # noqa: E402

ACTGRADE = Path(sys.executable).parent / "actgrade"
CELL_TIMEOUT = 10.0
SLOW = "import time\ntime.sleep(1)\n"
LOOP = "\nwhile True:  # never ends\n    pass\n"
# Shares of the full corpus (the rest are solutions).
MIX = {"untouched": 0.15, "perturbed": 0.25, "first-task-only": 0.15, "slow": 0.04, "hostile": 0.03}
SMALL = ("solution", "untouched", "perturbed", "slow")
SMALL_ASSIGNMENT = "forward-propagation"  # the quickest notebook for nbgrader to run (--small)


@dataclass(frozen=True)
class Submission:
    student: str
    exercise: Exercise
    kind: str
    notebook: dict[str, Any]


def _notebook(exercise: Exercise, kind: str) -> dict[str, Any]:
    first = exercise.tasks[0]
    first_id = answer_id(first.id)
    if kind == "solution":
        return exercise.solved()
    if kind == "untouched":
        return exercise.untouched()
    if kind == "perturbed":
        return exercise.perturbed()
    if kind == "first-task-only":
        return exercise.with_sources(exercise.untouched(), **{first_id: learner_solution(first_id, exercise.name)})
    if kind == "slow":
        return exercise.with_sources(exercise.solved(), **{first_id: SLOW + learner_solution(first_id, exercise.name)})
    if kind == "hostile":
        broken = answer_id(exercise.standalone_task().id)
        return exercise.with_sources(exercise.solved(), **{broken: learner_solution(broken, exercise.name) + LOOP})
    raise ValueError(kind)


def corpus(small: bool) -> list[Submission]:
    found = exercises()
    if not found:
        raise SystemExit("no assignment with both a solution and a release")
    if small:
        kinds = list(SMALL)
        lightest = next((e for e in found if e.name == SMALL_ASSIGNMENT), found[0])
        chosen = [lightest] * len(kinds)
    else:
        total = 100
        counts = {kind: max(1, round(share * total)) for kind, share in MIX.items()}
        counts["solution"] = total - sum(counts.values())
        kinds = [kind for kind, n in counts.items() for _ in range(n)]
        chosen = [found[i % len(found)] for i in range(total)]
    return [
        Submission(f"s{i:03d}-{kind}", exercise, kind, _notebook(exercise, kind))
        for i, (kind, exercise) in enumerate(zip(kinds, chosen, strict=True))
    ]


def _clean_env(secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTGRADER")}
    return env | {"ACTGRADER_SECRET": secret}


def run_actgrade(courses: dict[str, NbgraderCourse], out: Path, secret: str, jobs: int) -> float:
    command = [str(ACTGRADE), "grade", *(str(c.root / "submitted") for c in courses.values()), "-o", str(out)]
    command += ["-j", str(jobs), "--cell-timeout", f"{CELL_TIMEOUT:g}", "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(command, env=_clean_env(secret), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"actgrade failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall


def run_nbgrader(courses: dict[str, NbgraderCourse], secret: str) -> float:
    """nbgrader autograde, one assignment after the other (it grades one notebook at a time)."""
    env = {"ACTGRADER_SECRET": secret}
    start = time.perf_counter()
    for course in courses.values():
        course.autograde(env)
    return time.perf_counter() - start


def in_process_seconds(sub: Submission, secret: str) -> float:
    """Run the release's setup cells, the answer cells and every case in this process; the seconds."""
    from actgrader.batch import notebooks as nbs
    from actgrader.grading.answer import LocalAnswer
    from actgrader.grading.cases import run_task
    from actgrader.grading.secret import Secret

    release = sub.exercise.release
    cells = nbs.parse_notebook(json.dumps(sub.notebook).encode())
    program = nbs.build_program(release, cells)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    key = Secret(secret.encode(), "bench")
    start = time.perf_counter()
    for cell in program.cells:
        try:
            exec(compile(cell.source, f"<{cell.grade_id}>", "exec"), namespace)
        except Exception:  # noqa: BLE001 - an untouched answer cell raises NotImplementedError at most
            pass
    for task in sub.exercise.tasks:
        if task.answer in namespace:
            run_task(task, LocalAnswer(namespace[task.answer], task.answer), secret=key, include_hidden=True)
    return time.perf_counter() - start


def _records(out: Path) -> dict[str, Any]:
    from actgrader.batch.results import SubmissionResult

    found = {}
    for path in (out / "results").glob("*.json"):
        record = SubmissionResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        found[record.file_id] = record
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figure(name: str, value: float | None, unit: str, target: tuple[str, float] | None = None, note: str = "") -> dict:
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "target": {"text": target[0], "at_most": target[1]} if target else None,
        "note": note,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="4 submissions of one assignment (a smoke run)")
    parser.add_argument("--jobs", type=int, default=2, help="actgrade's parallel jobs (default: 2, the target's cores)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON (for bench/run.py)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the courses and outputs in DIR")
    args = parser.parse_args(argv)

    secret = fresh_secret()
    subs = corpus(args.small)
    work = Path(tempfile.mkdtemp(prefix="actgrade-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        courses: dict[str, NbgraderCourse] = {}
        for sub in subs:
            name = sub.exercise.name
            if name not in courses:
                courses[name] = NbgraderCourse.create(work / "courses" / name, name, cell_timeout=CELL_TIMEOUT)
            courses[name].submit(sub.student, sub.notebook)
        kinds = Counter(s.kind for s in subs)
        print(
            f"corpus: {len(subs)} submissions of {len(courses)} assignment(s) ({', '.join(courses)}): "
            + ", ".join(f"{n} {k}" for k, n in kinds.items()),
            flush=True,
        )
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
        start = time.perf_counter()
        for course in courses.values():
            course.generate({"ACTGRADER_SECRET": secret})
        print(f"nbgrader generate_assignment (not timed below): {time.perf_counter() - start:.1f} s", flush=True)

        actgrade_wall = run_actgrade(courses, work / "actgrade-out", secret, args.jobs)
        nbgrader_wall = run_nbgrader(courses, secret)
        records = _records(work / "actgrade-out")
        # The overhead is measured on a second run with one job: with two jobs on two cores each
        # submission's wall time also holds the other job's CPU (measured: a gradient-flow
        # solution takes 0.69 s with one job, 1.4 to 2.2 s with two), which is contention, not
        # grading overhead. The two-job figure is printed beside it.
        run_actgrade(courses, work / "actgrade-serial", secret, 1)
        serial = _records(work / "actgrade-serial")

        normal = [s for s in subs if s.kind not in ("slow", "hostile")]
        overheads, contended, computes = [], [], []
        for sub in normal:
            compute = in_process_seconds(sub, secret)
            computes.append(compute)
            overheads.append(serial[sub.student].seconds - compute)
            contended.append(records[sub.student].seconds - compute)
        nbgrader_scores: dict[str, dict[str, float]] = {}
        for course in courses.values():
            nbgrader_scores.update(course.task_scores())
        same = sum(
            1
            for sub in subs
            if all(
                abs(t.earned - nbgrader_scores.get(sub.student, {}).get(t.task_id, -1)) <= 1e-5 * max(1, t.earned)
                for t in records[sub.student].tasks
            )
        )
        worker_rss = max(r.peak_rss for r in records.values()) / 2**20
        # How soon an endless submission is stopped (a cell that never ends: the cell timeout
        # ends it, the rest of the notebook is graded). Only the full corpus holds such cells.
        endless = [records[s.student].seconds for s in subs if s.kind == "hostile"]
        ratio = actgrade_wall / nbgrader_wall
        n = len(subs)
        figures = [
            figure(
                "actgrade wall time", actgrade_wall, "s", note=f"{n} submissions, {args.jobs} jobs, start-up included"
            ),
            figure("nbgrader autograde wall time", nbgrader_wall, "s", note=f"{n} submissions, one at a time"),
            figure("ratio actgrade / nbgrader", ratio, "", ("≤ 1/3 on 2 cores", 1 / 3)),
            figure("actgrade submissions per minute", 60 * n / actgrade_wall, "/min"),
            figure("nbgrader submissions per minute", 60 * n / nbgrader_wall, "/min"),
            figure(
                "per-submission overhead above the checks' own compute (median)",
                statistics.median(overheads),
                "s",
                ("< 0.3 s", 0.3),
                f"one job; over {len(overheads)} submissions that neither sleep nor hang",
            ),
            figure(
                "per-submission overhead (90th percentile)",
                _percentile(overheads, 0.9),
                "s",
                ("< 0.3 s", 0.3),
                "one job",
            ),
            figure(
                f"per-submission time above the checks' own compute with {args.jobs} jobs (90th percentile)",
                _percentile(contended, 0.9),
                "s",
                note=f"{args.jobs} jobs share {os.cpu_count()} cores: contention included",
            ),
            figure("checks' own compute per submission (median, in one process)", statistics.median(computes), "s"),
            figure("peak RSS of a grading worker", worker_rss, "MB", note="pages shared with the fork server counted"),
            figure(
                "grading time of a submission with an endless cell (longest)",
                max(endless) if endless else None,
                "s",
                (f"≤ the cell timeout + 5 s ({CELL_TIMEOUT + 5:g} s)", CELL_TIMEOUT + 5),
                f"{len(endless)} such submissions" if endless else "none in the --small corpus",
            ),
            figure("same points per task under both graders", same, f"of {n}", note="hanging cells differ by design"),
        ]
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end", flush=True)
        width = max(len(f["name"]) for f in figures)
        for item in figures:
            value = "n/a" if item["value"] is None else f"{item['value']:.3g}"
            target = f"  (target {item['target']['text']})" if item["target"] else ""
            note = f"  [{item['note']}]" if item["note"] else ""
            print(f"{item['name']:<{width}}  {value} {item['unit']}{target}{note}", flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps({"small": args.small, "figures": figures}, indent=1) + "\n")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
