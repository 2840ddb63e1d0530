"""Five doors to a grade: the same three notebooks through every way the course checks work.

A learner's notebook reaches a verdict through five doors:

1. **self-check**: the notebook run top to bottom in a Jupyter kernel (``jupyter nbconvert
   --execute``, as "Run All" does); each test cell's ``check()`` prints the public cases'
   verdict (stdout when all pass, stderr otherwise). Public cases only, on the learner's side.
2. **Validate**: ``nbgrader validate`` with the course's ``nbgrader_config.py`` (what the
   Validate button runs): it fails a test cell that wrote to stderr. Public cases only.
3. **nbgrader autograde**: ``nbgrader generate_assignment`` and ``autograde`` in a throwaway
   course, grading through actgrade's sandbox (``actgrader.batch.nbgrader_door``).
4. **actgrade grade**: the ``actgrade grade`` command.
5. **Gradescope**: the autograder zip built by actgrade (``build_zip``), unpacked and run by its
   own ``run_autograder`` the way Gradescope runs it (``grading_support.run_autograder``).

The three notebooks, for one assignment (default: forward-propagation, the lightest):

* **correct**: the release with the solution's answer cells, as a learner hands it in;
* **wrong**: the solution with every answer perturbed (``Exercise.perturbed``: some cases pass,
  some fail, so partial credit is compared too);
* **hostile**: an attack from ``tests/batch/nbgrader_attacks.py`` in the first task's answer
  cell (by default the one that monkeypatches ``torch.allclose`` and the other comparisons and
  returns zeros), and in the last task's answer cell the right answer followed by the secret
  dump (``SECRET_DUMP``: the environment, the process's, its parent's and init's environ files,
  the parent's command line). Two doors return no cell output (Validate, Gradescope), so the
  dump also relays what it finds: when its text names ``ACTGRADER_SECRET`` anywhere, the
  learner's function is replaced by one that raises with the finding, which every door then
  reports in the check's verdict (and which costs the task its points).

Doors 3-5 run with a fresh instructor secret, as an instructor runs them; doors 1-2 run as the
learner does, without one (``--secret-on-learner-side`` puts it in their environment too, as
when an instructor validates a submission in a shell that holds the secret).

Prints a Markdown table: a row per door, a column per notebook (points out of the maximum for
the doors that grade the hidden cases, the public checks' verdict for the others) and whether
learner code saw the secret through the door; then every disagreement found. Exits 1 when a
door broke the promise (:func:`broken`): the self-check and Validate fooled by the hostile
notebook do not count, since there learner code runs in the learner's own kernel next to
``check()``. ``tests/batch/test_doors.py`` runs the same functions.

    .venv/bin/python tools/doors.py [--assignment NAME] [--attack NAME] [--work DIR]

``tools/`` and the test helpers in ``tests/batch`` and ``tests/nbgrader`` are not packages:
this script puts them on ``sys.path`` and reuses their notebooks, attacks and runners.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tools"), str(REPO / "tests" / "batch"), str(REPO / "tests" / "nbgrader")]

from batch_nb import records, run_actgrade  # noqa: E402 - tests/batch is not a package
from graded_course import learner_env, split_validate_output  # noqa: E402
from grading_support import (  # noqa: E402
    ASSIGNMENT,
    SOLUTIONS,
    Exercise,
    NbgraderCourse,
    cell,
    fresh_secret,
    learner_solution,
    run_autograder,
    source,
    write,
)
from nbgrader_attacks import FP, SECRET_DUMP, cheats  # noqa: E402

from actgrader.batch import GradingOptions  # noqa: E402
from actgrader.batch.autograder import build_zip  # noqa: E402
from actgrader.grading.conventions import answer_id, check_id  # noqa: E402
from actgrader.grading.secret import SECRET_ENV, Secret  # noqa: E402

NOTEBOOKS = ("correct", "wrong", "hostile")
SELF_CHECK, VALIDATE, NBGRADER, ACTGRADE, GRADESCOPE = (
    "self-check",
    "Validate",
    "nbgrader autograde",
    "actgrade grade",
    "Gradescope",
)
DOORS = (SELF_CHECK, VALIDATE, NBGRADER, ACTGRADE, GRADESCOPE)
PUBLIC_ONLY = (SELF_CHECK, VALIDATE)  # these doors run the public cases only
ATTACKED = "forward-propagation"  # nbgrader_attacks' notebooks are this assignment's
DEFAULT_ATTACK = "cheat-patch-comparisons"
# Another assignment's hostile notebook: this attack's code (it runs every solution cell it can
# read, whatever the assignment) in the first task's answer cell.
GENERIC_ATTACK = "cheat-exec-solution"
FOUND = "DOORS-SECRET-FOUND"  # what the relay raises with, when the dump found the secret
DUMP_SHOWN = "parent environ"  # a line the dump prints (the sign that its output came back)
CELL_TIMEOUT = 60.0

# The secret dump, its output captured and printed, and relayed through the checks' verdict
# when it names the secret's variable (see the module docstring).
RELAY = """
import contextlib as _contextlib
import io as _io
import re as _re
_dumped = _io.StringIO()
with _contextlib.redirect_stdout(_dumped):
{dump}
print(_dumped.getvalue())
_found = _re.findall(r"{env}\\w*['\\"]?\\s*[:=]\\s*['\\"]?[^'\\"\\x00\\s,]*", _dumped.getvalue())
if _found:
    def {answer}(*args, **kwargs):
        raise RuntimeError("{marker} " + " ".join(sorted(set(_found))))
"""


def relay(answer: str) -> str:
    """The secret dump for an answer cell whose object is ``answer`` (a function)."""
    return RELAY.format(dump=textwrap.indent(SECRET_DUMP.strip(), "    "), env=SECRET_ENV, answer=answer, marker=FOUND)


# ----------------------------------------------------------------------------- notebooks


def solution_paths(exercise: Exercise, course: Path) -> list[Path]:
    """Where an attack looks for the instructor's solution: the nbgrader course's source folder, the
    same relative to the folder nbgrader's kernel would run in, and the course repository."""
    name = Path(exercise.name) / f"{exercise.name}.ipynb"
    return [course / "solutions" / name, Path("../../../solutions") / name, SOLUTIONS / name]


def hostile(exercise: Exercise, attack: str, paths: list[Path]) -> tuple[dict[str, Any], str]:
    """The hostile notebook and the task it attacks (see the module docstring)."""
    first, last = exercise.tasks[0], exercise.tasks[-1]
    attacks = cheats(paths)
    if exercise.name == ATTACKED:
        if attack not in attacks:
            raise ValueError(f"unknown attack {attack!r}: one of {', '.join(sorted(attacks))}")
        nb = attacks[attack]
    else:
        nb = exercise.with_sources(exercise.solved(), **{answer_id(first.id): source(attacks[GENERIC_ATTACK], FP)})
    last_id = answer_id(last.id)
    cell(nb, last_id)["source"] = learner_solution(last_id, exercise.name) + "\n" + relay(last.answer)
    return nb, first.id


# ----------------------------------------------------------------------------- verdicts


@dataclass
class Verdict:
    """What one door said about one notebook."""

    public: dict[str, bool]  # task id -> every public case passes
    points: dict[str, float] | None  # task id -> points earned (None: the door runs public cases only)
    text: str  # everything the door handed back (searched for the secret)
    dump_shown: bool = False  # the secret dump's printed output came back through this door

    def found(self, secret: str) -> list[str]:
        """What of the secret came back: the secret itself, or the relay's report of its variable."""
        shown = [f"the secret ({secret[:9]}...)"] if secret in self.text else []
        # The relay's message (not its source code, which names the marker too): the marker, then what it found.
        return shown + sorted(set(re.findall(rf"{FOUND} {SECRET_ENV}[^\n\"\\]*", self.text)))


@dataclass
class Doors:
    """Every door's verdict on every notebook, and what the run needs to judge them."""

    exercise: Exercise
    secret: str
    attacked: str  # the task the hostile notebook attacks
    attack: str
    learner_secret: bool
    verdicts: dict[str, dict[str, Verdict]] = field(default_factory=dict)  # door -> notebook -> verdict
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def task_ids(self) -> list[str]:
        return [t.id for t in self.exercise.tasks]


def public_passes(text: str, task_id: str) -> bool:
    """Whether a check's verdict (``self_check_text``) in ``text`` says every public case of the task passes."""
    return re.search(rf"^{re.escape(task_id)}: all \d+ public cases pass\.", text, re.M) is not None


def _cell_text(nb: Any, grade_id: str) -> str:
    """What a cell of an executed notebook showed (streams, results, errors)."""
    parts = []
    for out in cell(nb, grade_id).get("outputs", []):
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        elif "data" in out:
            parts.append("".join(out["data"].get("text/plain", "")))
    return "".join(parts)


def _stderr(nb: Any, grade_id: str) -> bool:
    return any(
        o["output_type"] == "error" or (o["output_type"] == "stream" and o["name"] == "stderr")
        for o in cell(nb, grade_id).get("outputs", [])
    )


def _files_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*")) if p.is_file())


# ----------------------------------------------------------------------------- the doors


@dataclass
class Run:
    """One run's notebooks, secret and folders."""

    exercise: Exercise
    notebooks: dict[str, dict[str, Any]]
    secret: str
    work: Path
    course: NbgraderCourse
    learner_secret: bool = False

    @property
    def notebook_name(self) -> str:
        return f"{self.exercise.name}.ipynb"

    def learner_env(self) -> dict[str, str]:
        env = learner_env()
        return env | {SECRET_ENV: self.secret} if self.learner_secret else env

    def learner_copies(self, door: str) -> dict[str, Path]:
        return {n: write(self.work / door / n / self.notebook_name, nb) for n, nb in self.notebooks.items()}


def self_check(run: Run) -> dict[str, Verdict]:
    """Door 1: each notebook run top to bottom in a Jupyter kernel, as "Run All" runs it."""
    paths = run.learner_copies("self-check")
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace"]
    command += ["--allow-errors", "--ExecutePreprocessor.timeout=120", *map(str, paths.values())]
    subprocess.run(command, env=run.learner_env(), check=True, capture_output=True, text=True, timeout=600)
    found = {}
    for name, path in paths.items():
        nb = json.loads(path.read_text(encoding="utf-8"))
        public = {
            t.id: public_passes(_cell_text(nb, check_id(t.id)), t.id) and not _stderr(nb, check_id(t.id))
            for t in run.exercise.tasks
        }
        text = path.read_text(encoding="utf-8")
        found[name] = Verdict(public, None, text, DUMP_SHOWN in text)
    return found


def validate(run: Run) -> dict[str, Verdict]:
    """Door 2: ``nbgrader validate`` on the three notebooks, in the course folder (its nbgrader_config.py)."""
    paths = run.learner_copies("validate")
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", *map(str, paths.values())],
        cwd=run.course.root,
        env=run.learner_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader validate failed ({done.returncode}):\n{done.stderr[-3000:]}")
    reports = dict(zip(paths, split_validate_output(done.stdout, len(paths)), strict=True))
    found = {}
    for name, report in reports.items():
        passed = report.startswith("Success!")
        public = {t.id: passed or f'check("{t.id}"' not in report for t in run.exercise.tasks}
        found[name] = Verdict(public, None, report + done.stderr, DUMP_SHOWN in report)
    return found


def nbgrader_autograde(run: Run) -> dict[str, Verdict]:
    """Door 3: ``nbgrader generate_assignment`` and ``autograde`` with the secret, through actgrade's sandbox."""
    for name, nb in run.notebooks.items():
        run.course.submit(name, nb)
    env = {SECRET_ENV: run.secret}
    run.course.generate(env)
    run.course.autograde(env)
    scores = run.course.task_scores()
    found = {}
    for name in run.notebooks:
        path = run.course.autograded(name)
        nb = json.loads(path.read_text(encoding="utf-8"))
        public = {t.id: public_passes(_cell_text(nb, check_id(t.id)), t.id) for t in run.exercise.tasks}
        text = path.read_text(encoding="utf-8")
        found[name] = Verdict(public, scores[name], text, DUMP_SHOWN in text)
    return found


def actgrade(run: Run) -> dict[str, Verdict]:
    """Door 4: ``actgrade grade`` with the secret in its environment."""
    submitted = run.work / "actgrade" / "submitted"
    for name, nb in run.notebooks.items():
        write(submitted / name / run.exercise.name / run.notebook_name, nb)
    out = run.work / "actgrade" / "out"
    done = run_actgrade([submitted], out, "--no-progress", env={SECRET_ENV: run.secret})
    if done.returncode != 0:
        raise RuntimeError(f"actgrade grade failed ({done.returncode}):\n{done.stderr[-3000:]}")
    found = {}
    for name, record in records(out).items():
        public = {t.task_id: all(o.passed for o in t.outcomes if not o.hidden) for t in record.tasks}
        text = json.dumps(record.to_dict())
        found[name] = Verdict(public, {t.task_id: t.earned for t in record.tasks}, text, DUMP_SHOWN in text)
    # Whatever else the run wrote (grades.csv, feedback pages, its log) must not hold the secret either.
    shared = _files_text(out) + done.stdout + done.stderr
    for verdict in found.values():
        verdict.text += shared
    return found


def gradescope(run: Run) -> dict[str, Verdict]:
    """Door 5: the autograder zip (secret inside), run by its own ``run_autograder`` as Gradescope runs it."""
    archive = build_zip(
        run.exercise.release,
        run.work / "gradescope" / f"{run.exercise.name}.zip",
        options=GradingOptions(cell_timeout=CELL_TIMEOUT),
        secret=Secret(run.secret.encode(), "doors"),
    )
    found = {}
    for name, nb in run.notebooks.items():
        proc, results, _ = run_autograder(archive, run.work / "gradescope" / name, {run.notebook_name: nb})
        if proc.returncode != 0 or results is None:
            raise RuntimeError(f"run_autograder failed on {name} ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        points = {
            t: sum(e["score"] for e in results["tests"] if t in e.get("tags", []))
            for t in run.exercise.release.task_ids
        }
        public = {
            t: all(
                e["status"] == "passed"
                for e in results["tests"]
                if t in e.get("tags", []) and "hidden" not in e["tags"]
            )
            for t in run.exercise.release.task_ids
        }
        text = json.dumps(results) + proc.stdout + proc.stderr
        found[name] = Verdict(public, points, text, DUMP_SHOWN in text)
    return found


DOOR_RUNNERS: dict[str, Callable[[Run], dict[str, Verdict]]] = {
    SELF_CHECK: self_check,
    VALIDATE: validate,
    NBGRADER: nbgrader_autograde,
    ACTGRADE: actgrade,
    GRADESCOPE: gradescope,
}


def run_doors(
    assignment: str = ASSIGNMENT,
    work: Path | None = None,
    *,
    attack: str = DEFAULT_ATTACK,
    learner_secret: bool = False,
    jobs: int = 2,
) -> Doors:
    """Build the three notebooks and put each through the five doors (``jobs`` doors at a time)."""
    work = Path(tempfile.mkdtemp(prefix="actgrade-doors-")) if work is None else work
    exercise = Exercise(assignment)
    course = NbgraderCourse.create(work / "course", assignment, cell_timeout=CELL_TIMEOUT)
    bad, attacked = hostile(exercise, attack, solution_paths(exercise, course.root))
    notebooks = {"correct": exercise.solved(), "wrong": exercise.perturbed(), "hostile": bad}
    run = Run(exercise, notebooks, fresh_secret(), work, course, learner_secret)
    doors = Doors(exercise, run.secret, attacked, attack if assignment == ATTACKED else GENERIC_ATTACK, learner_secret)

    def timed(door: str) -> dict[str, Verdict]:
        start = time.perf_counter()
        try:
            return DOOR_RUNNERS[door](run)
        finally:
            doors.seconds[door] = time.perf_counter() - start

    # The slowest doors first, so that the two workers finish together.
    order = (GRADESCOPE, NBGRADER, SELF_CHECK, VALIDATE, ACTGRADE)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {door: pool.submit(timed, door) for door in order}
        doors.verdicts = {door: futures[door].result() for door in DOORS}
    return doors


# ----------------------------------------------------------------------------- judging


def _close(a: float, b: float) -> bool:
    # nbgrader reads the points from the printed score (6 significant digits).
    return abs(a - b) <= max(1e-9, 1e-5 * max(abs(a), abs(b)))


@dataclass(frozen=True)
class Disagreement:
    """One way the doors broke the promise, for one notebook through one door."""

    notebook: str
    door: str
    kind: str  # "public", "points", "attacked", "secret" or "dump"
    text: str

    @property
    def in_learners_kernel(self) -> bool:
        """A public-only door fooled by the hostile notebook: there learner code runs in the learner's own
        kernel, next to ``check()`` (it can patch what the check calls, redefine ``check`` itself, or run
        the reference implementation or the course's public solution)."""
        return self.notebook == "hostile" and self.door in PUBLIC_ONLY and self.kind in ("public", "attacked")

    def __str__(self) -> str:
        where = " (learner code runs next to the check, in the learner's own kernel)" if self.in_learners_kernel else ""
        return f"{self.notebook}: {self.door}: {self.text}{where}"


REFERENCE = ACTGRADE  # the door the others are compared with


def disagreements(doors: Doors) -> list[Disagreement]:
    """Every way the doors break the promise; empty when they keep it.

    For each notebook every door gives the public verdict per task that ``actgrade grade`` gives,
    and the doors that grade the hidden cases its points per task; the hostile notebook's attacked
    task passes no door; no door hands back the secret or the relay's report of it; and the dump's
    output came back through every door that shows cell output (so that "not seen" means something).
    """
    found = []
    tasks = doors.task_ids
    for notebook in NOTEBOOKS:
        reference = doors.verdicts[REFERENCE][notebook]
        for door in DOORS:
            verdict = doors.verdicts[door][notebook]

            def add(kind: str, text: str, door: str = door, notebook: str = notebook) -> None:
                found.append(Disagreement(notebook, door, kind, text))

            if set(verdict.public) != set(tasks):
                add("public", f"reports tasks {sorted(verdict.public)}, not {tasks}")
            elif verdict.public != reference.public:
                add("public", f"says {_public_text(verdict)}; {REFERENCE} says {_public_text(reference)}")
            points, want = verdict.points, reference.points or {}
            if points is not None and (set(points) != set(want) or not all(_close(points[t], want[t]) for t in want)):
                add("points", f"gives {_points_text(points)}; {REFERENCE} gives {_points_text(want)}")
            if seen := verdict.found(doors.secret):
                add("secret", "learner code saw the secret: " + "; ".join(seen))
            if notebook != "hostile":
                continue
            if verdict.public.get(doors.attacked, False):
                add("attacked", f"passes the public checks of the attacked task {doors.attacked}")
            if points is not None and points.get(doors.attacked, 0.0) != 0.0:
                add("attacked", f"gives the attacked task {doors.attacked} {points[doors.attacked]:g} points")
            if door in (SELF_CHECK, NBGRADER, ACTGRADE) and not verdict.dump_shown:
                add("dump", "shows cell output, but not the secret dump's")
    return found


# ----------------------------------------------------------------------------- the table


def _public_text(verdict: Verdict) -> str:
    failing = [t for t, ok in verdict.public.items() if not ok]
    return "all public checks pass" if not failing else "fails: " + ", ".join(failing)


def _points_text(points: dict[str, float]) -> str:
    return ", ".join(f"{t} {p:g}" for t, p in points.items())


def _cell(doors: Doors, verdict: Verdict) -> str:
    if verdict.points is None:
        return _public_text(verdict)
    total, full = sum(verdict.points.values()), doors.exercise.full
    return f"**{total:g} / {full:g}** ({_points_text(verdict.points)})"


def _secret_cell(doors: Doors, door: str) -> str:
    found = [f for n in NOTEBOOKS for f in doors.verdicts[door][n].found(doors.secret)]
    if found:
        return "**YES**: " + "; ".join(found)
    hostile = doors.verdicts[door]["hostile"]
    held = "no secret in the learner's environment" if door in PUBLIC_ONLY and not doors.learner_secret else ""
    shown = "dump shown, found nothing" if hostile.dump_shown else "dump output not returned, relay silent"
    return "no (" + "; ".join(p for p in (held, shown) if p) + ")"


def markdown(doors: Doors) -> str:
    """The table: a row per door, a column per notebook, and whether learner code saw the secret."""
    hostile = f"hostile ({doors.attack} on {doors.attacked}, secret dump)"
    lines = [
        f"| door | correct | wrong | {hostile} | secret seen by learner code |",
        "| --- | --- | --- | --- | --- |",
    ]
    for door in DOORS:
        cells = [_cell(doors, doors.verdicts[door][n]) for n in NOTEBOOKS]
        lines.append(f"| {door} | {' | '.join(cells)} | {_secret_cell(doors, door)} |")
    return "\n".join(lines)


def report(doors: Doors) -> str:
    problems = disagreements(doors)
    timings = ", ".join(f"{door} {doors.seconds[door]:.0f} s" for door in DOORS)
    lines = [
        f"## {doors.exercise.name}: five doors, three notebooks",
        "",
        markdown(doors),
        "",
        (
            f"Points are out of {doors.exercise.full:g}; self-check and Validate run the public cases only. "
            f"The last three doors ran with a fresh instructor secret; self-check and Validate "
            f"{'with it in their environment too' if doors.learner_secret else 'as the learner does, without it'}."
        ),
        f"Time per door (two at a time): {timings}.",
        "",
        "Disagreements: none." if not problems else "Disagreements:",
        *[f"- {p}" for p in problems],
    ]
    if any(p.in_learners_kernel for p in problems):
        lines += [
            "",
            (
                "The self-check and Validate run the learner's code in the learner's own kernel, next to "
                "`check()` and the course's public files: a notebook can make them say anything (patch what "
                "the check calls, redefine `check`, run the reference or the solution). Only the doors that "
                "grade run it in actgrade's sandbox, away from the checks and the solutions."
            ),
        ]
    return "\n".join(lines)


def broken(doors: Doors) -> list[Disagreement]:
    """The disagreements a door could have avoided (all but the public-only doors fooled by the hostile notebook)."""
    return [p for p in disagreements(doors) if not p.in_learners_kernel]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default=ASSIGNMENT, help=f"the assignment (default {ASSIGNMENT})")
    parser.add_argument(
        "--attack",
        default=DEFAULT_ATTACK,
        help=f"the hostile notebook's attack, from tests/batch/nbgrader_attacks.py (default {DEFAULT_ATTACK}; "
        f"{ATTACKED} only: another assignment gets {GENERIC_ATTACK})",
    )
    parser.add_argument("--work", type=Path, help="folder for the courses, copies and results (default: a new one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (always kept when --work is given)")
    parser.add_argument(
        "--secret-on-learner-side",
        action="store_true",
        help="run the self-check and Validate with the secret in their environment too",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="actgrade-doors-"))
    try:
        doors = run_doors(args.assignment, work, attack=args.attack, learner_secret=args.secret_on_learner_side)
        print(report(doors))
        return 1 if broken(doors) else 0
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.work is None:
            print(f"\n(work folder kept: {work})")


if __name__ == "__main__":
    sys.exit(main())
