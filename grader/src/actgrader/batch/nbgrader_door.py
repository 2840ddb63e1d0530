"""``nbgrader autograde`` through actgrade's sandbox: two preprocessors for ``nbgrader_config.py``.

nbgrader's own autograde executes a submission in an ordinary Jupyter kernel started with the
instructor's environment (the secret included), where learner code can read the secret,
patch the checks or import the reference implementations. This course configures nbgrader to
grade the way ``actgrade grade`` does instead, keeping everything else of nbgrader (the
gradebook, formgrader, manual grading, feedback, export):

* :class:`ActgradeSanitize` (first of ``Autograde.sanitize_preprocessors``) rebuilds the
  submission on the release's skeleton: the release's cells and metadata, with the learner's
  answer cells and written answers (matched by grade_id; duplicates joined in order) in place
  of the stubs. Cells the learner added and any metadata they edited are left out, so no
  forged or duplicated cell can make nbgrader's later steps fail.
* :class:`ActgradeExecute` (in place of ``Execute`` in ``Autograde.autograde_preprocessors``)
  grades the file as submitted with :func:`actgrader.batch.grade_submissions` (answer cells in
  a sandboxed child with a clean environment; the checks and the secret stay in this trusted
  process) and writes the verdict into the notebook: each test cell gets the learner's
  feedback and its points as the cell's result, which nbgrader's ``SaveAutoGrades`` reads as
  partial credit; each answer cell gets what it printed or the error it raised.

A notebook that cannot be graded (broken, hostile, wrong assignment, endless) gets 0 and a
message in its test cells; it never stops nbgrader from grading the others.
"""

from __future__ import annotations

import atexit
import copy
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Int

from actgrader.grading.conventions import is_role, task_of

# What a test cell shows until ActgradeExecute replaces it: an error, so that a configuration
# that sanitizes but never grades scores 0 instead of nbgrader's full marks for a silent cell.
NOT_GRADED = (
    "This notebook was not graded: nbgrader's autograde must grade through actgrade's sandbox "
    "(actgrader.batch.nbgrader_door.configure in nbgrader_config.py)."
)


_server: Any = None


def _fork_server() -> Any:
    """One fork server for the whole nbgrader run (starting one costs seconds), closed at exit."""
    global _server
    from actgrader.batch.forkserver import ForkServer

    if _server is None or _server.closed:
        _server = ForkServer()
        atexit.register(_server.close)
    return _server


def _grade_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _text(source: Any) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _course_directory(preprocessor: NbGraderPreprocessor) -> Any:
    """The nbgrader app's CourseDirectory (found up the parent chain), or one built from the config."""
    node: Any = preprocessor
    while node is not None:
        coursedir = getattr(node, "coursedir", None)
        if coursedir is not None:
            return coursedir
        node = getattr(node, "parent", None)
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=preprocessor.config)


def _release_notebook(coursedir: Any, assignment: str, notebook: str) -> Path:
    """The released notebook (learner's copy) of ``assignment``; the source one when it was never released."""
    for folder in (coursedir.release_directory, coursedir.source_directory):
        path = Path(coursedir.format_path(folder, ".", assignment)) / f"{notebook}.ipynb"
        if path.is_file():
            return path
    raise FileNotFoundError(f"no release of {assignment}/{notebook}.ipynb: run `nbgrader generate_assignment` first")


def rebuild_on_release(submitted: NotebookNode, release: NotebookNode) -> NotebookNode:
    """The release with the learner's answer and prose cells (by grade_id) in place of its stubs.

    Everything else (instructions, setup, test and demo cells, every cell's metadata) is the
    release's. Several learner cells with one grade_id are joined in order (actgrade runs them
    all, in that order); a deleted one leaves the release's stub.
    The test cells carry an error output (:data:`NOT_GRADED`) until the verdict replaces it.
    """
    learner: dict[str, list[str]] = {}
    for cell in submitted.get("cells", []):
        grade_id = _grade_id(cell)
        if grade_id is not None:
            learner.setdefault(grade_id, []).append(_text(cell.get("source")))
    rebuilt = copy.deepcopy(release)
    for cell in rebuilt.cells:
        grade_id = _grade_id(cell)
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
            if is_role(grade_id, "check"):
                cell.outputs = [nbformat.v4.new_output("error", ename="NotGraded", evalue=NOT_GRADED, traceback=[])]
        solution = bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))
        if grade_id is not None and solution and grade_id in learner:
            cell.source = "\n\n".join(learner[grade_id])
    return rebuilt


class ActgradeSanitize(NbGraderPreprocessor):
    """Rebuild a submission on its release's skeleton before nbgrader's own sanitizing steps."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources["nbgrader"]
        path = _release_notebook(_course_directory(self), info["assignment"], info["notebook"])
        release = nbformat.read(path, as_version=4)
        return rebuild_on_release(nb, release), resources


def _stream(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text if text.endswith("\n") else text + "\n")


def _score(points: float, count: int) -> NotebookNode:
    return nbformat.v4.new_output("execute_result", data={"text/plain": f"{points:g}"}, execution_count=count)


class ActgradeExecute(NbGraderPreprocessor):
    """Grade the submitted file with actgrade's sandboxed engine and write the verdict into the cells."""

    cell_timeout = Float(60.0, help="seconds an answer cell may run (actgrade's --cell-timeout)").tag(config=True)
    call_timeout = Float(30.0, help="seconds one call of a learner's function may take").tag(config=True)
    notebook_timeout = Float(600.0, help="seconds for a whole notebook").tag(config=True)
    memory_limit = Int(3 * 2**30, help="bytes of memory a submission may use").tag(config=True)

    def _options(self, coursedir: Any, release: Path, assignment: str) -> Any:
        from actgrader.batch import GradingOptions

        root = Path(coursedir.root)
        protected = [
            Path(coursedir.format_path(folder, ".", ".")).resolve()
            for folder in (
                coursedir.source_directory,
                coursedir.submitted_directory,
                coursedir.autograded_directory,
                coursedir.feedback_directory,
            )
        ]
        db_url = str(coursedir.db_url)
        if db_url.startswith("sqlite:///"):
            protected.append(Path(db_url.removeprefix("sqlite:///")).resolve())
        protected.append((root / "gradebook.db").resolve())
        return GradingOptions(
            release=release,
            assignment=assignment,
            jobs=1,
            progress=False,
            cell_timeout=self.cell_timeout,
            call_timeout=self.call_timeout,
            notebook_timeout=self.notebook_timeout,
            memory_limit=self.memory_limit,
            protected=tuple(protected),
        )

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        from actgrader.batch import grade_submissions

        info = resources["nbgrader"]
        coursedir = _course_directory(self)
        assignment, student, notebook = info["assignment"], info["student"], info["notebook"]
        release = _release_notebook(coursedir, assignment, notebook)
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        submitted = folder / f"{notebook}.ipynb"
        options = self._options(coursedir, release, assignment)
        (result,) = grade_submissions([submitted], options, log=self.log.warning, server=_fork_server())
        self.log.info(
            "actgrade: %s/%s: %g of %g points (%s)", student, assignment, result.total, result.max_total, result.status
        )
        if result.internal:
            self.log.error("actgrade: %s/%s: %s", student, assignment, result.internal)
        write_verdict(nb, result)
        return nb, resources


def write_verdict(nb: NotebookNode, result: Any) -> None:
    """Put ``result`` (a :class:`~actgrader.batch.results.SubmissionResult`) into the rebuilt notebook's cells."""
    from actgrader.grading.verdict import grade_text, self_check_text
    from actgrader.tasks import get_task

    by_task = {t.task_id: t for t in result.tasks}
    cell_records: dict[str, list[dict[str, Any]]] = {}
    for record in result.cells:
        if record.get("origin") == "submission":
            cell_records.setdefault(record["grade_id"], []).append(record)
    preamble = [*result.messages, *result.notes]
    count = 0
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if cell.get("cell_type") != "code" or grade_id is None:
            continue
        count += 1
        task_id = task_of(grade_id, "check")
        if task_id is not None:
            task_result = by_task.get(task_id)
            lines = list(preamble)
            preamble = list(result.messages)  # notes once, in the first test cell; messages in each
            if task_result is not None:
                task = get_task(task_id)
                lines += [self_check_text(task, task_result), grade_text(task, task_result)]
            else:
                lines.append(f"{task_id}: 0 points (this notebook could not be graded: see above).")
            cell.outputs = [_stream("\n".join(lines)), _score(task_result.earned if task_result else 0.0, count)]
            cell.execution_count = count
        elif grade_id in cell_records:
            outputs = []
            for record in cell_records[grade_id]:
                if record.get("output"):
                    outputs.append(_stream(record["output"]))
                if record.get("status") != "ok" and record.get("message"):
                    outputs.append(_stream(record["message"]))
            cell.outputs = outputs
            cell.execution_count = count


def configure(c: Any) -> None:
    """Make nbgrader's autograde grade through actgrade (call from ``nbgrader_config.py``)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        IgnorePattern,
        LimitOutput,
        OverwriteCells,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    c.Autograde.sanitize_preprocessors = [
        ClearOutput,
        ActgradeSanitize,
        DeduplicateIds,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        ActgradeExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
