"""Grading a batch: find the submissions, grade each in its own sandbox, write the records.

:func:`grade_submissions` is the library entry point (``actgrade grade`` is a thin layer on
it). Whatever a submission does, it gets a :class:`SubmissionResult`: a broken notebook, a
wrong assignment, an endless loop or a crash costs that submission its points and earns it a
message; it never stops the batch or touches another submission's grade. Even a bug in the
grader itself is confined to one submission ("internal-error").
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from actgrader.batch import feedback_page, gradescope
from actgrader.batch import notebooks as nbs
from actgrader.batch.forkserver import ForkServer
from actgrader.batch.gradebook import Gradebook, grades_csv
from actgrader.batch.options import GradingOptions, repository_root
from actgrader.batch.remote import CellRecord, RemoteAnswer, Session, SessionLimits
from actgrader.batch.results import (
    SubmissionResult,
    feedback_path,
    gradebook_path,
    gradescope_path,
    load_record,
    save_record,
    worst,
    write_atomic,
)
from actgrader.batch.sandbox import SandboxConfig, protected_paths, required_paths
from actgrader.batch.submissions import Submission, SubmissionRefused, discover, read_submission
from actgrader.batch.summary import feedback_text, summarize
from actgrader.batch.uids import UidSlots
from actgrader.grading.cases import CaseOutcome, Task, TaskResult, run_task
from actgrader.grading.conventions import answer_id
from actgrader.grading.secret import Secret, load_secret, resume_tag, secret_files
from actgrader.tasks import get_task

ProgressCallback = Callable[[int, int, SubmissionResult], None]
Log = Callable[[str], None]


@dataclass
class _Plan:
    """What grade_submissions settled before grading: the inputs, once parsed, and the results so far."""

    options: GradingOptions
    releases: tuple[nbs.ReleaseNotebook, ...]
    tasks: dict[str, Task]
    secret: Secret | None
    submissions: list[Submission]
    roots: tuple[Path, ...]  # the folders holding the submissions (hidden from every child)
    progress: ProgressCallback | None
    results: dict[str, SubmissionResult] = field(default_factory=dict)  # by Submission.file_id


@dataclass(frozen=True)
class _Batch:
    """What every submission of a batch shares."""

    options: GradingOptions
    releases: tuple[nbs.ReleaseNotebook, ...]
    tasks: dict[str, Task]
    secret: Secret | None
    server: ForkServer
    sandbox: SandboxConfig
    memory_cap: int


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _failed_task(task: Task, record: CellRecord, secret: Secret | None) -> TaskResult:
    """Every case fails when the answer cell itself never finished (it was skipped)."""
    if record.status == "crashed":
        status = "crashed"
        message = (
            f"Running your answer cell {record.grade_id!r} ended the process that ran it ({record.reason}), "
            f"so the cell was skipped and `{task.answer}` could not be checked. "
            "Do not call sys.exit or os._exit, and keep memory use modest."
        )
    else:
        status = "timeout"
        message = (
            f"Your answer cell {record.grade_id!r} {record.reason}, so it was skipped and `{task.answer}` "
            "could not be checked. Look for a loop that never ends or for slow code at the top level of the "
            "cell (outside the function)."
        )
    outcomes = []
    for case in task.cases:
        section = case.section or task.section
        if case.hidden and secret is None:
            outcomes.append(
                CaseOutcome(case.name, case.title, case.points, 0.0, True, "skipped",
                            "hidden cases need the instructor secret", section)
            )  # fmt: skip
        else:
            outcomes.append(CaseOutcome(case.name, case.title, case.points, 0.0, case.hidden, status, message, section))
    return TaskResult(task.id, task.title, task.answer, tuple(outcomes), hidden_ran=secret is not None)


def _missing_hint(task_id: str, cells: list[CellRecord]) -> str:
    mine = [c for c in cells if c.grade_id == answer_id(task_id)]
    if not mine:
        return f"your notebook has no answer cell {answer_id(task_id)} (was it deleted?)"
    errors = [c for c in mine if c.status == "error"]
    if errors:
        return f"its cell raised {errors[-1].message}"
    return ""


def _asked(sub: Submission, batch: _Batch) -> str | None:
    """The assignment asked for: ``--assignment``, else the nbgrader folder it was filed in (when it names one)."""
    if batch.options.assignment:
        return batch.options.assignment
    known = {r.assignment for r in batch.releases}
    return sub.assignment_hint if sub.assignment_hint in known else None


def _wrong_assignment(sub: Submission, result: SubmissionResult, cells: tuple, batch: _Batch) -> SubmissionResult:
    found = sorted(nbs.answer_ids(cells))
    asked = _asked(sub, batch)
    if asked:
        wanted = next(r for r in batch.releases if r.assignment == asked)
        result.max_total = sum(batch.tasks[t].points for t in wanted.task_ids)
        result.manual_max = sum(q.points for q in wanted.prose)
        expected = f"assignment {wanted.assignment!r} (answer cells {', '.join(wanted.answer_ids)})"
        if not batch.options.assignment:
            expected += f", the assignment of the folder it was filed in ({sub.assignment_hint}/)"
        instead = nbs.match_release(cells, [r for r in batch.releases if r is not wanted])
        if instead is not None:
            expected += f"; it is the notebook of assignment {instead.assignment!r}"
    elif len(batch.releases) == 1:
        (only,) = batch.releases
        expected = f"assignment {only.assignment!r} (answer cells {', '.join(only.answer_ids)})"
    else:
        expected = "any assignment of the course: " + "; ".join(
            f"{r.assignment!r} ({', '.join(r.answer_ids)})" for r in batch.releases
        )
    have = ", ".join(found) if found else "none"
    which = f"assignment {asked!r}" if asked else "this assignment"
    result.status = "wrong-assignment"
    result.messages.append(
        f"Wrong assignment: this notebook's answer cells ({have}) do not match {expected}. "
        f"Submit the notebook of {which}, downloaded from the course, with your answers in its cells."
    )
    return result


def _expected_assignment(sub: Submission, result: SubmissionResult, batch: _Batch) -> None:
    """For a notebook that cannot be read: the assignment it was handed in for, when that is known
    (asked for, nbgrader's folder, or the only one), and so its maximum."""
    names = [batch.options.assignment, sub.assignment_hint]
    if len(batch.releases) == 1:
        names.append(batch.releases[0].assignment)
    release = next((r for name in names if name for r in batch.releases if r.assignment == name), None)
    if release is not None:
        result.assignment = release.assignment
        result.max_total = sum(batch.tasks[t].points for t in release.task_ids)
        result.manual_max = sum(q.points for q in release.prose)


def _pick_release(sub: Submission, cells: tuple[nbs.NotebookCell, ...], batch: _Batch) -> nbs.ReleaseNotebook | None:
    """The release to grade ``cells`` as; None when they are not the notebook of the assignment asked for.

    ``--assignment`` grades what it names whenever the notebook has any of its answer cells.
    The nbgrader folder a notebook was filed in says what was asked too, but a notebook that
    holds more of another assignment's answer cells is that assignment's: wrong-assignment.
    """
    asked = _asked(sub, batch)
    if not asked:
        return nbs.match_release(cells, list(batch.releases))
    found = nbs.answer_ids(cells)
    wanted = next(r for r in batch.releases if r.assignment == asked)
    shared = len(found & set(wanted.answer_ids))
    if shared == 0:
        return None
    if not batch.options.assignment and any(len(found & set(r.answer_ids)) > shared for r in batch.releases):
        return None
    return wanted


def grade_one(sub: Submission, batch: _Batch, uid: int) -> SubmissionResult:
    """Grade one submission in its own sandbox; every learner-side problem becomes part of the result."""
    started = time.monotonic()
    result = SubmissionResult(student=sub.student, source=str(sub.path), status="ok", key=sub.file_id)
    result.hidden_ran = batch.secret is not None
    result.secret_tag = resume_tag(batch.secret)
    try:
        try:
            data = read_submission(sub)  # never through a link: nothing else is hashed or parsed
            result.sha256 = nbs.sha256(data)
            cells = nbs.parse_notebook(data)
        except (SubmissionRefused, nbs.NotebookError) as exc:
            result.status = "invalid"
            _expected_assignment(sub, result, batch)
            result.messages.append(f"This file could not be graded: {exc}.")
            return result
        except OSError as exc:
            result.status = "invalid"
            _expected_assignment(sub, result, batch)
            result.messages.append(f"This file could not be graded: cannot read the file: {exc.strerror}.")
            return result
        release = _pick_release(sub, cells, batch)
        if release is None:
            return _wrong_assignment(sub, result, cells, batch)
        result.assignment = release.assignment
        result.release = str(release.path)
        result.max_total = sum(batch.tasks[t].points for t in release.task_ids)
        result.manual_max = sum(q.points for q in release.prose)
        result.prose = nbs.prose_answers(release, cells)
        program = nbs.build_program(release, cells)
        result.notes.extend(program.notes)
        _run(program, release, result, batch, uid)
    except Exception:  # noqa: BLE001 - a grader bug must cost one submission, never the batch
        result.status = "internal-error"
        result.internal = traceback.format_exc()[-6000:]
        result.messages.append("The grader failed on this notebook; your instructor has the details.")
    finally:
        result.seconds = time.monotonic() - started
    return result


def _run(program: nbs.Program, release: nbs.ReleaseNotebook, result: SubmissionResult, batch: _Batch, uid: int) -> None:
    options = batch.options
    limits = SessionLimits(options.cell_timeout, options.call_timeout, options.notebook_timeout, batch.memory_cap)
    config = batch.sandbox.to_json() | {"uid": uid}
    session = Session(batch.server, program, config, limits)
    statuses: list[str] = []
    try:
        session.run_program()
        for task_id in release.task_ids:
            task = batch.tasks[task_id]
            answer_cells = [c for c in session.cells if c.grade_id == answer_id(task_id)]
            fatal = [c for c in answer_cells if c.status in ("timeout", "crashed", "not run")]
            if fatal:
                task_result = _failed_task(task, fatal[0], batch.secret)
            else:
                answer = RemoteAnswer(session, task.answer, _missing_hint(task_id, session.cells))
                task_result = run_task(task, answer, secret=batch.secret, include_hidden=True)
            result.tasks.append(task_result)
            result.feedback[task_id] = feedback_text(task, task_result)
            statuses += [{"error": "errors"}.get(o.status, o.status) for o in task_result.outcomes]
    finally:
        session.close()
    result.cells = [c.to_dict() for c in session.cells]
    result.sandbox = session.layers
    result.children = session.children_started
    result.peak_rss = session.peak_rss
    result.total = sum(t.earned for t in result.tasks)
    result.check_seconds = sum(o.seconds for t in result.tasks for o in t.outcomes)
    statuses += [{"error": "errors", "not run": "timeout"}.get(c.status, c.status) for c in session.cells]
    result.status = worst(s for s in statuses if s in ("errors", "timeout", "crashed"))
    if result.status == "ok" and result.tasks and not any(t.answered for t in result.tasks):
        result.status = "untouched"
    if session.failure:
        result.status = "internal-error"
        result.internal = session.failure
        result.messages.append("The grader's sandbox failed on this notebook; your instructor has the details.")


def _not_dumpable() -> None:
    """Without root, children run as this user: make /proc/<this pid> (environ, memory) theirs to read no more."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0


def _resumable(output: Path, sub: Submission, secret: Secret | None) -> SubmissionResult | None:
    record = load_record(output, sub.file_id)
    if record is None:
        return None
    try:
        current = nbs.sha256(read_submission(sub))
    except (OSError, SubmissionRefused):
        return None
    if record.sha256 != current or record.secret_tag != resume_tag(secret) or record.status == "internal-error":
        return None
    return record


def publish(output: Path, result: SubmissionResult) -> None:
    """Write a student's files: the JSON record, the feedback page and Gradescope's results."""
    save_record(output, result)
    summary = summarize(result)
    write_atomic(feedback_path(output, result.file_id), feedback_page.render(result, summary=summary))
    data = gradescope.results_json(result, summary=summary)
    write_atomic(gradescope_path(output, result.file_id), json.dumps(data, indent=1, allow_nan=False) + "\n")


def gradebook(
    releases: Sequence[nbs.ReleaseNotebook],
    tasks: dict[str, Task],
    results: Iterable[SubmissionResult],
    asked: str | None,
) -> Gradebook:
    """The columns of grades.csv: those of the assignments graded (or asked for), in release order."""
    graded = {r.assignment for r in results if r.assignment} | {asked}
    return Gradebook.of([r for r in releases if r.assignment in graded], tasks)


def grade_submissions(
    paths: Sequence[Path | str],
    options: GradingOptions | None = None,
    *,
    secret: Secret | bool | None = True,
    progress: ProgressCallback | None = None,
    log: Log | None = None,
    server: ForkServer | None = None,
) -> list[SubmissionResult]:
    """Grade every submission found under ``paths``; results in submission order.

    ``secret``: ``True`` (default) loads it from ``options.secret_file`` or the environment;
    pass a :class:`Secret` or ``None`` to decide here. With ``options.output`` set, each
    student's record, feedback page and Gradescope results are saved as they complete
    (:func:`publish`) and ``grades.csv`` is written at the end. ``server``: a fork server to
    reuse across calls (the caller closes it); by default each call starts and stops its own.
    """
    options = options or GradingOptions()
    log = log or _stderr
    releases = tuple(nbs.find_releases(options.release_path))
    if options.assignment and options.assignment not in {r.assignment for r in releases}:
        known = ", ".join(r.assignment for r in releases)
        raise ValueError(f"no assignment {options.assignment!r} in {options.release_path} (found: {known})")
    tasks = {t: get_task(t) for r in releases for t in r.task_ids}
    found = discover(paths)
    plan = _Plan(
        options=options,
        releases=releases,
        tasks=tasks,
        secret=load_secret(options.secret_file) if secret is True else secret or None,
        submissions=found.submissions,
        roots=tuple(found.roots),
        progress=progress,
    )
    output = options.output
    results = plan.results
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        if options.resume:
            for sub in plan.submissions:
                record = _resumable(output, sub, plan.secret)
                if record is not None:
                    results[sub.file_id] = record
    resumed = list(results)
    pending = [s for s in plan.submissions if s.file_id not in results]
    if pending and (os.geteuid() != 0 or not options.root_layers):
        log(
            "warning: not running as root, so submissions run as this user with the network cut (where the kernel "
            "allows) and files guarded only by the interpreter's audit hook, which raw memory access (NumPy, "
            "ctypes) can defeat. Grade untrusted submissions as root, e.g. in a container."
        )
    if results:
        log(f"resuming: {len(results)} submission(s) already graded, {len(pending)} to go")
    if pending:
        _grade_pending(plan, pending, server)
    ordered = [results[s.file_id] for s in plan.submissions if s.file_id in results]
    if output is not None:
        for file_id in resumed:
            publish(output, results[file_id])  # pages of earlier runs, written again in this version
        columns = gradebook(releases, tasks, ordered, options.assignment)
        write_atomic(gradebook_path(output), grades_csv(ordered, columns))
    return ordered


def _grade_pending(plan: _Plan, pending: list[Submission], shared_server: ForkServer | None = None) -> None:
    options = plan.options
    if os.geteuid() != 0:
        _not_dumpable()
    work_root = tempfile.mkdtemp(prefix="actgrade-work-")
    uid_slots: UidSlots | None = None
    os.chmod(work_root, 0o711)
    server = shared_server or ForkServer()
    try:
        if shared_server is None or server.pid is None:
            server.start()
        try:
            baseline = psutil.Process(server.pid).memory_info().rss if server.pid else 0
        except psutil.Error:
            baseline = 0
        sandbox = SandboxConfig(
            uid=options.sandbox_uid,
            memory_limit=options.memory_limit,
            cpu_seconds=options.cpu_seconds,
            file_size=options.file_size_limit,
            tmp_size=options.scratch_size,
            nproc=options.max_processes,
            protected=tuple(
                protected_paths(
                    # with the folders the caller protects too (nbgrader's course folders: see nbgrader_door)
                    submissions=(*plan.roots, *(Path(p).resolve() for p in options.protected)),
                    output=options.output,
                    secret_files=secret_files(options.secret_file),
                    course=repository_root(),
                )
            ),
            required=tuple(required_paths()),
            work_root=work_root,
            root_layers=options.root_layers,
        )
        memory_cap = baseline + options.memory_limit + 64 * 2**20
        batch = _Batch(options, plan.releases, plan.tasks, plan.secret, server, sandbox, memory_cap)
        jobs = min(options.jobs, len(pending))
        if os.geteuid() == 0 and options.root_layers:
            # Children are killed by uid: never share one with another batch on this machine.
            uid_slots = UidSlots(options.sandbox_uid, jobs)
            uids = uid_slots.uids
        else:
            uids = [options.sandbox_uid + i for i in range(jobs)]  # unused: children run as this user
        slots: queue.Queue[int] = queue.Queue()
        for uid in uids:
            slots.put(uid)
        lock = threading.Lock()
        results = plan.results
        done = len(results)

        def work(sub: Submission) -> SubmissionResult:
            uid = slots.get()
            try:
                return grade_one(sub, batch, uid)
            finally:
                slots.put(uid)

        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="actgrade") as pool:
            futures = {pool.submit(work, sub): sub for sub in pending}
            try:
                for future in as_completed(futures):
                    result = future.result()
                    if options.output is not None:
                        publish(options.output, result)
                    with lock:
                        results[result.file_id] = result
                        done += 1
                        if plan.progress is not None:
                            plan.progress(done, len(plan.submissions), result)
            except BaseException:
                for future in futures:
                    future.cancel()
                server.close()  # kills every child, so the running submissions end at once
                raise
    finally:
        if shared_server is None:
            server.close()
        if uid_slots is not None:
            uid_slots.release()
        shutil.rmtree(work_root, ignore_errors=True)
