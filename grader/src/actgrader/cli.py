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
from typing import Any

from actgrader.batch.options import MB, GradingOptions, parse_size

DESCRIPTION = """\
Grade Jupyter notebook submissions for the activation-functions course.

Each submission runs in its own sandbox (no network, no access to the grader's code, the
solutions, other submissions or the secret; capped memory, time and processes); the checks
run in the grader and only ever see the data the learner's functions return. A broken,
hostile or endless submission gets the score it earned and a message; the batch goes on.
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
  OUT/grades.csv               one row per student: points per task, total, max_total, status
  OUT/results/<student>.json   the full record: every case's outcome and message, every cell's
                               error, learner-facing feedback (hidden cases only as counts)
  status is ok, errors (some learner code raised), timeout, crashed, wrong-assignment,
  invalid (not a notebook) or internal-error (a grader problem: see the JSON record).

exit status: 0 when every submission was graded (whatever its score), 1 when the grader
itself failed on some submission or could not start, 2 for a usage error.

examples:
  ACTGRADER_SECRET_FILE=~/course-secret actgrade grade submitted/ -o grades/
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actgrade", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    grade = commands.add_parser(
        "grade",
        help="grade submitted notebooks into grades.csv and one JSON record per student",
        description="Grade submitted notebooks in sandboxes; write OUT/grades.csv and OUT/results/<student>.json.",
        epilog=GRADE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of notebooks to grade")
    _add_grade_options(grade, GradingOptions())
    return parser


def _secret_note(options: GradingOptions) -> tuple[str, bool]:
    from actgrader.grading.secret import SecretError, load_secret

    try:
        secret = load_secret(options.secret_file)
    except SecretError as exc:
        raise SystemExit(f"actgrade: {exc}") from None
    if secret is None:
        return (
            (
                "NO INSTRUCTOR SECRET: only the public cases ran; hidden cases scored 0 "
                "(set ACTGRADER_SECRET_FILE or use --secret-file)."
            ),
            False,
        )
    return f"Hidden cases ran (secret from {secret.source}).", True


def _grade(args: argparse.Namespace) -> int:
    from actgrader.batch.engine import grade_submissions
    from actgrader.batch.forkserver import ForkServerError
    from actgrader.batch.report import Progress, summary

    values = {f.name: getattr(args, f.name) for f in fields(GradingOptions) if f.metadata.get("cli") is not False}
    try:
        options = GradingOptions(**values)
    except ValueError as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 2
    note, has_secret = _secret_note(options)
    if not has_secret:
        print(f"actgrade: {note}", file=sys.stderr)
    start = time.monotonic()
    try:
        results = grade_submissions(args.paths, options, progress=Progress() if options.progress else None, log=_log)
    except (FileNotFoundError, ValueError) as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 2
    except ForkServerError as exc:
        print(f"actgrade: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nactgrade: interrupted; finished records are kept (use --resume)", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - start
    print(summary(results, elapsed, options.jobs, note))
    assert options.output is not None
    print(f"Grades: {options.output / 'grades.csv'}; records: {options.output / 'results'}{os.sep}<student>.json")
    return 1 if any(r.status == "internal-error" for r in results) else 0


def _log(message: str) -> None:
    print(f"actgrade: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``actgrade`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "grade":
        return _grade(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
