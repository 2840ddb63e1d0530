"""The ``actgrade`` command: a thin argparse layer over :mod:`actgrader.batch`.

Every option of ``actgrade grade`` is generated from :class:`~actgrader.batch.options.GradingOptions`
(its name, default and help text), so the command and the library cannot drift apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actgrader.batch.options import GRADESCOPE_VISIBILITIES, MB, GradingOptions, parse_size

if TYPE_CHECKING:
    from actgrader.grading.secret import Secret

DESCRIPTION = """\
Grade Jupyter notebook submissions for the activation-functions course.

Each submission runs in its own sandbox (no network, no access to the grader's code, the
solutions, other submissions or the secret; capped memory, time and processes); the checks
run in the grader and only ever see the data the learner's functions return. A broken,
hostile or endless submission gets the score it earned and a message; the batch goes on.
Outputs: a gradebook (grades.csv), a feedback page and a JSON record per student, and
Gradescope results; `actgrade gradescope` packs the same grader as a Gradescope autograder.
"""

GRADE_EPILOG = """\
submissions:
  PATH may be a notebook, a folder of notebooks, or nbgrader's exchange layout
  submitted/<student>/<assignment>/<notebook>.ipynb (the student id is then the folder name;
  elsewhere it is the notebook's file name without .ipynb).

what runs:
  From the release notebook: its setup cells; in place of each answer cell (grade_id
  <task>_answer), the submission's cells with that grade_id. Test and demo cells never come
  from the submission. Each task's cases (hidden ones too, given the instructor secret) then
  call the learner's functions in the sandbox.

output (written atomically):
  OUT/grades.csv               the gradebook of the assignments graded: a row of maxima per
                               assignment (status "(max points)"), then one row per student and
                               assignment with the points per auto-graded task, an empty column
                               per written answer to grade by hand, auto_graded_points,
                               auto_graded_max, graded_by_hand_max, hidden_cases (graded, or not
                               graded without the secret) and status
  OUT/results/<student>.json   the full record: every case's outcome and message, every cell's
                               error, the written answers, learner-facing feedback
  OUT/feedback/<student>.html  the learner's feedback page (self-contained; hidden cases only
                               as counts; written answers shown as "graded by your instructor")
  OUT/gradescope/<student>.json  the same result in Gradescope's results.json format
  A student with several assignments in one run: <student>--<assignment>.json/.html.
  status is ok, untouched (no answer written), errors (some learner code raised), timeout,
  crashed, wrong-assignment, invalid (not a notebook) or internal-error (a grader problem:
  see the JSON record).

exit status: 0 when every submission was graded (whatever its score), 1 when the grader
itself failed on some submission or could not start, 2 for a usage error.

examples:
  ACTGRADER_SECRET_FILE=~/course-secret actgrade grade submitted/ -o grades/
  ACTGRADER_SECRET=... actgrade grade submitted/ -o grades/   # the secret itself
  actgrade grade alice.ipynb bob.ipynb -o out/ --assignment forward-propagation -j 4
  actgrade grade submitted/ -o grades/ --resume      # after an interrupted run
"""

_SHORT = {"output": "-o", "jobs": "-j"}
_SIZES = {"memory_limit", "file_size_limit", "scratch_size"}


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _size_text(value: int) -> str:
    return f"{value // 2**30}G" if value % 2**30 == 0 else f"{value // MB}M"


def _add_grade_options(parser: argparse.ArgumentParser, defaults: GradingOptions) -> None:
    for spec in fields(GradingOptions):
        if spec.metadata.get("cli") is False:
            continue
        name = spec.name
        help_text = spec.metadata.get("help", "")
        default = getattr(defaults, name)
        flags = [f"--{name.replace('_', '-')}"]
        if name in _SHORT:
            flags.insert(0, _SHORT[name])
        kwargs: dict[str, Any] = {"dest": name, "help": help_text}
        if name == "progress":
            parser.add_argument("--no-progress", dest=name, action="store_false", help="do not show progress on stderr")
            continue
        if isinstance(default, bool):
            kwargs["action"] = "store_true"
        elif name in _SIZES:
            kwargs.update(type=_size, metavar="SIZE", default=default)
            kwargs["help"] += f" (default: {_size_text(default)})"
        elif name == "output":
            kwargs.update(type=Path, metavar="OUT", required=True)
        elif spec.type in ("Path | None",):
            kwargs.update(type=Path, metavar="PATH", default=default)
        elif isinstance(default, float):
            kwargs.update(type=float, metavar="SECONDS", default=default)
            kwargs["help"] += f" (default: {default:g})"
        elif isinstance(default, int):
            kwargs.update(type=int, metavar="N", default=default)
            if name != "jobs":
                kwargs["help"] += f" (default: {default})"
        else:
            kwargs.update(default=default, metavar=name.upper())
        parser.add_argument(*flags, **kwargs)


GRADESCOPE_EPILOG = """\
what is in each zip (OUT/<assignment>.zip):
  setup.sh, run_autograder, README.txt, actgrade-autograder.json (assignment, limits,
  --public-only), constraints.txt, release/<assignment>/<notebook>.ipynb, the grader's
  source (grader/) and the instructor secret (instructor-secret). Upload it as the
  autograder of a Gradescope programming assignment: it grades the hidden cases as it is.

keep the zips private:
  each holds the instructor secret (from --secret-file, $ACTGRADER_SECRET or the file named
  by $ACTGRADER_SECRET_FILE; without one only --public-only zips are built). Upload them to
  Gradescope and nowhere else. Inside Gradescope only the grader reads the secret: the
  learner's code runs in the sandbox, where the file is hidden and no environment holds it.

examples:
  actgrade gradescope -o gradescope/
  actgrade gradescope -o gradescope/ --assignment forward-propagation --cell-timeout 30
"""

GRADESCOPE_RUN_EPILOG = """\
The instructor secret is the zip's instructor-secret file, else $ACTGRADER_SECRET or the
file named by $ACTGRADER_SECRET_FILE. The student is named from --metadata (Gradescope's
submission_metadata.json: the submitters' e-mail addresses), never from the notebook.
Gradescope's paths can be moved for testing: $ACTGRADE_AUTOGRADER_ROOT (default /autograder)
and $ACTGRADE_AUTOGRADER_PYTHON (default $ROOT/venv/bin/python3) are read by run_autograder.
exit status: 0 when results.json was written, 1 without the instructor secret (unless the zip
is --public-only; nothing is written then) or when the grader itself failed.
"""

# The grading limits ``actgrade gradescope`` bakes into a zip (same flags as ``actgrade grade``).
_ZIP_LIMITS = ("cell_timeout", "call_timeout", "notebook_timeout", "memory_limit")


def _add_gradescope(commands: Any) -> None:
    gradescope = commands.add_parser(
        "gradescope",
        help="build a Gradescope autograder zip per assignment",
        description="Build OUT/<assignment>.zip, a Gradescope autograder that grades with actgrade.",
        epilog=GRADESCOPE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    texts = GradingOptions.help_texts()
    defaults = GradingOptions()
    gradescope.add_argument("-o", "--output", type=Path, metavar="OUT", required=True, help="folder for the zips")
    gradescope.add_argument("--release", type=Path, metavar="PATH", default=None, help=texts["release"])
    gradescope.add_argument(
        "--assignment",
        action="append",
        metavar="NAME",
        default=None,
        help="build only this assignment's zip (repeatable; default: every assignment of the release)",
    )
    gradescope.add_argument(
        "--public-only",
        action="store_true",
        help="build zips without the instructor secret that grade the public cases only "
        "(default: the zips hold the secret and grade the hidden cases too)",
    )
    gradescope.add_argument(
        "--secret-file",
        type=Path,
        metavar="PATH",
        default=None,
        help="file holding the instructor secret to put in the zips (default: $ACTGRADER_SECRET, "
        "else the file named by $ACTGRADER_SECRET_FILE)",
    )
    gradescope.add_argument(
        "--hidden-visibility",
        choices=GRADESCOPE_VISIBILITIES,
        default="visible",
        help="when learners see the hidden cases' counts and points on Gradescope (default: visible)",
    )
    for name in _ZIP_LIMITS:
        default = getattr(defaults, name)
        flag = f"--{name.replace('_', '-')}"
        if name == "memory_limit":
            gradescope.add_argument(
                flag,
                type=_size,
                metavar="SIZE",
                default=default,
                help=f"{texts[name]} (default: {_size_text(default)})",
            )
        else:
            gradescope.add_argument(
                flag, type=float, metavar="SECONDS", default=default, help=f"{texts[name]} (default: {default:g})"
            )

    run = commands.add_parser(
        "gradescope-run",
        help="grade one submission inside Gradescope's container (what run_autograder calls)",
        description="Grade the notebook in SUBMISSION into Gradescope's results.json (run by run_autograder).",
        epilog=GRADESCOPE_RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--config", type=Path, metavar="FILE", required=True, help="the zip's actgrade-autograder.json")
    run.add_argument("--submission", type=Path, metavar="DIR", required=True, help="the folder of submitted files")
    run.add_argument("--results", type=Path, metavar="FILE", required=True, help="where to write results.json")
    run.add_argument(
        "--metadata",
        type=Path,
        metavar="FILE",
        default=None,
        help="Gradescope's submission_metadata.json (names the student; default: none, 'submission')",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actgrade", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    grade = commands.add_parser(
        "grade",
        help="grade submitted notebooks: gradebook, feedback pages, records, Gradescope results",
        description="Grade submitted notebooks in sandboxes; write the gradebook OUT/grades.csv and, per student, "
        "a record, a feedback page and Gradescope results (see 'output' below).",
        epilog=GRADE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of notebooks to grade")
    _add_grade_options(grade, GradingOptions())
    _add_gradescope(commands)
    return parser


def _load_secret(options: GradingOptions) -> Secret | None:
    """The instructor secret, read once here and handed to the engine."""
    from actgrader.grading.secret import SecretError, load_secret

    try:
        return load_secret(options.secret_file)
    except SecretError as exc:
        raise SystemExit(f"actgrade: {exc}") from None


def _grade(args: argparse.Namespace) -> int:
    from actgrader.batch.engine import grade_submissions
    from actgrader.batch.forkserver import ForkServerError
    from actgrader.batch.report import Progress, summary
    from actgrader.batch.summary import NO_SECRET
    from actgrader.batch.uids import NoFreeUid

    values = {f.name: getattr(args, f.name) for f in fields(GradingOptions) if f.metadata.get("cli") is not False}
    try:
        options = GradingOptions(**values)
    except ValueError as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 2
    secret = _load_secret(options)
    note = NO_SECRET if secret is None else f"Hidden cases ran (secret from {secret.source})."
    if secret is None:
        print(f"actgrade: {note}", file=sys.stderr)
    start = time.monotonic()
    try:
        progress = Progress() if options.progress else None
        results = grade_submissions(args.paths, options, secret=secret, progress=progress, log=_log)
    except (FileNotFoundError, ValueError) as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 2
    except (ForkServerError, NoFreeUid) as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nactgrade: interrupted; finished records are kept (use --resume)", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - start
    print(summary(results, elapsed, options.jobs, note))
    assert options.output is not None
    out = options.output
    print(f"Gradebook: {out / 'grades.csv'} (totals are auto-graded points; written answers are graded by hand)")
    print(f"Feedback pages: {out / 'feedback'}{os.sep}<student>.html; records: {out / 'results'}{os.sep}<student>.json")
    print(f"Gradescope results: {out / 'gradescope'}{os.sep}<student>.json")
    return 1 if any(r.status == "internal-error" for r in results) else 0


def _gradescope(args: argparse.Namespace) -> int:
    from actgrader.batch import notebooks as nbs
    from actgrader.batch.autograder import KEEP_PRIVATE, ZIP_SECRET_MISSING, build_zip
    from actgrader.grading.secret import SecretError, load_secret

    try:
        limits = {name: getattr(args, name) for name in _ZIP_LIMITS}
        options = GradingOptions(release=args.release, **limits)
        releases = nbs.find_releases(options.release_path)
        secret = None if args.public_only else load_secret(args.secret_file)
    except (ValueError, nbs.NotebookError, SecretError) as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 2
    wanted = args.assignment or [r.assignment for r in releases]
    known = {r.assignment: r for r in releases}
    unknown = [a for a in wanted if a not in known]
    if unknown:
        print(f"actgrade: no assignment {', '.join(unknown)} in {options.release_path} (found: {', '.join(known)})",
              file=sys.stderr)  # fmt: skip
        return 2
    if secret is None and not args.public_only:
        print(f"actgrade: {ZIP_SECRET_MISSING}", file=sys.stderr)
        return 2
    for assignment in wanted:
        path = build_zip(
            known[assignment],
            args.output / f"{assignment}.zip",
            public_only=args.public_only,
            hidden_visibility=args.hidden_visibility,
            options=options,
            secret=secret,
        )
        print(f"{path}")
    if args.public_only:
        print("Upload each zip as a Gradescope autograder; it holds no secret and grades the public cases only.")
    else:
        print(f"Upload each zip as a Gradescope autograder; it grades the hidden cases as it is. {KEEP_PRIVATE}")
    return 0


def _gradescope_run(args: argparse.Namespace) -> int:
    from actgrader.batch.autograder import run_in_container

    return run_in_container(args.config, args.submission, args.results, metadata=args.metadata)


def _log(message: str) -> None:
    print(f"actgrade: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``actgrade`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "grade":
        return _grade(args)
    if args.command == "gradescope":
        return _gradescope(args)
    if args.command == "gradescope-run":
        return _gradescope_run(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
