"""Release notebooks, submissions, and the program that runs for a submission.

A submission is never executed as it is. The grader builds a *program* from the release
(the instructor's ``exercises/<assignment>/<assignment>.ipynb``), in release order:

* the release's own setup cells (code cells with the ``setup`` tag or grade_id);
* in place of each release answer cell (grade_id ``<task_id>_answer``), the submission's
  code cells with that grade_id, in the submission's order (a duplicated cell runs twice, a
  deleted one not at all).

Test cells (``<task_id>_check``), demo cells and anything else are never taken from the
submission and are not executed: the checks run in the trusted grader instead. Cells are
matched on ``metadata.nbgrader.grade_id`` only, never on cell ids, which learners' tools
rewrite freely.

Prose answers (markdown cells with grade_id ``<task_id>_prose``, graded by an instructor) are
never run either: :func:`prose_answers` copies the learner's text into the record, for the
gradebook's hand-graded columns and the feedback page.
"""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from actgrader.grading.conventions import SETUP_ID, check_id, is_role, task_of

# Longest prose answer kept in a record (characters); the rest is cut with a note.
MAX_PROSE_CHARS = 20_000

# Larger notebooks are refused before parsing: no exercise comes near this.
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024

Origin = Literal["release", "submission"]


class NotebookError(ValueError):
    """A file cannot be read as a Jupyter notebook."""


@dataclass(frozen=True)
class NotebookCell:
    """The parts of a notebook cell the grader looks at."""

    index: int
    cell_type: str
    source: str
    grade_id: str | None
    tags: tuple[str, ...]
    points: float | None = None


@dataclass(frozen=True)
class ReleaseNotebook:
    """An assignment notebook as the instructor released it."""

    assignment: str
    path: Path
    cells: tuple[NotebookCell, ...]

    @property
    def task_ids(self) -> tuple[str, ...]:
        """The tasks graded in this notebook: one per test cell, in release order."""
        return tuple(task for c in self.cells if c.cell_type == "code" and (task := task_of(c.grade_id, "check")))

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(
            c.grade_id for c in self.cells if c.cell_type == "code" and c.grade_id and is_role(c.grade_id, "answer")
        )

    @property
    def prose(self) -> tuple[ProseCell, ...]:
        """The hand-graded prose questions (markdown cells ``<task>_prose``), in release order."""
        found = []
        # The title: the last heading naming a task ("## Task 6: ..."), then a deeper heading
        # after it if any ("### In words"); without a task heading, the last heading.
        task: tuple[int, str] | None = None
        sub, last = "", ""
        for c in self.cells:
            if c.cell_type == "markdown" and c.grade_id is None:
                for level, text in _headings(c.source):
                    last = text
                    if text.lower().startswith("task"):
                        task, sub = (level, text), ""
                    elif task is not None and level > task[0]:
                        sub = text
                    elif task is not None:
                        task, sub = None, ""
            if c.cell_type == "markdown" and c.grade_id and is_role(c.grade_id, "prose"):
                title = " — ".join(t for t in (task[1], sub) if t) if task else (last or c.grade_id)
                found.append(ProseCell(c.grade_id, c.points or 0.0, title, c.source))
        return tuple(found)


@dataclass(frozen=True)
class ProseCell:
    """A question an instructor grades by hand: a markdown cell with grade_id ``<task>_prose``."""

    grade_id: str
    points: float
    title: str  # the heading of the task it belongs to, as the release shows it
    stub: str  # the release's placeholder text ("YOUR ANSWER HERE")


def _headings(source: str) -> list[tuple[int, str]]:
    """The markdown headings of a cell, as (level, text)."""
    found = []
    for line in source.splitlines():
        stripped = line.lstrip("#")
        if line.startswith("#") and stripped.startswith(" "):
            found.append((len(line) - len(stripped), stripped.strip()))
    return found


@dataclass(frozen=True)
class ProgramCell:
    """One cell of the program run for a submission."""

    position: int  # index in the program
    grade_id: str
    source: str
    origin: Origin
    notebook_index: int  # index of the cell in the notebook it came from

    @property
    def label(self) -> str:
        where = "release" if self.origin == "release" else "your notebook"
        return f"cell {self.grade_id!r} ({where}, cell {self.notebook_index + 1})"


@dataclass(frozen=True)
class Program:
    cells: tuple[ProgramCell, ...]
    notes: tuple[str, ...] = field(default=())

    def cells_for(self, grade_id: str) -> tuple[ProgramCell, ...]:
        return tuple(c for c in self.cells if c.grade_id == grade_id)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _cell(index: int, raw: Any) -> NotebookCell | None:
    if not isinstance(raw, dict):
        return None
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
    grade_id = nbgrader.get("grade_id")
    tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
    points = nbgrader.get("points")
    return NotebookCell(
        index=index,
        cell_type=str(raw.get("cell_type", "")),
        source=_source(raw),
        grade_id=grade_id if isinstance(grade_id, str) and grade_id else None,
        tags=tuple(t for t in tags if isinstance(t, str)),
        points=float(points) if isinstance(points, (int, float)) and not isinstance(points, bool) else None,
    )


def parse_notebook(data: bytes) -> tuple[NotebookCell, ...]:
    """The cells of a notebook file's bytes (nbformat 4 JSON); tolerant of extra or odd fields."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise NotebookError(f"the file is not a Jupyter notebook (not valid JSON: {exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotebookError("the file is not a Jupyter notebook (no list of cells)")
    if doc.get("nbformat") != 4:
        raise NotebookError(f"unsupported notebook format {doc.get('nbformat')!r} (expected 4)")
    cells = (_cell(i, raw) for i, raw in enumerate(doc["cells"]))
    return tuple(c for c in cells if c is not None)


def read_notebook(path: Path) -> tuple[bytes, tuple[NotebookCell, ...]]:
    """A notebook's bytes (for its checksum) and its cells."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError("it is not a regular file")
        size = info.st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror}") from None
    return data, parse_notebook(data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assignment_name(path: Path) -> str:
    """``exercises/<assignment>/<notebook>.ipynb`` -> ``<assignment>``; a lone file -> its stem."""
    parent = path.parent.name
    return parent if parent and parent not in ("exercises", "release", "source", ".") else path.stem


def load_release(path: Path) -> ReleaseNotebook:
    _, cells = read_notebook(path)
    release = ReleaseNotebook(assignment_name(path), path, cells)
    if not release.task_ids:
        raise NotebookError(f"{path} has no test cells (grade_id '{check_id('<task>')}'): not a release notebook")
    return release


def find_releases(path: Path) -> list[ReleaseNotebook]:
    """The release notebooks at ``path``: one notebook, or every graded notebook in a folder."""
    if path.is_file():
        return [load_release(path)]
    if not path.is_dir():
        raise NotebookError(f"no release notebook or folder at {path}")
    releases = []
    for nb in sorted(path.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts:
            continue
        try:
            releases.append(load_release(nb))
        except NotebookError:
            continue  # not a graded notebook (e.g. a reading notebook)
    if not releases:
        raise NotebookError(f"no release notebook with test cells under {path}")
    names = [r.assignment for r in releases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise NotebookError(f"several release notebooks for assignment(s) {', '.join(dupes)} under {path}")
    return releases


def answer_ids(cells: Iterable[NotebookCell]) -> set[str]:
    return {c.grade_id for c in cells if c.cell_type == "code" and c.grade_id and is_role(c.grade_id, "answer")}


def match_release(cells: tuple[NotebookCell, ...], releases: list[ReleaseNotebook]) -> ReleaseNotebook | None:
    """The release whose answer cells the submission shares most of (None when it shares none)."""
    found = answer_ids(cells)
    best, best_overlap = None, 0
    for release in releases:
        overlap = len(found & set(release.answer_ids))
        if overlap > best_overlap:
            best, best_overlap = release, overlap
    return best


def _is_setup(cell: NotebookCell) -> bool:
    return cell.cell_type == "code" and (cell.grade_id == SETUP_ID or "setup" in cell.tags)


def build_program(release: ReleaseNotebook, submission: tuple[NotebookCell, ...]) -> Program:
    """The cells to run for ``submission``, and notes on what was ignored (see the module docstring)."""
    by_id: dict[str, list[NotebookCell]] = {}
    ignored_untagged = 0
    for cell in submission:
        if cell.cell_type != "code":
            continue
        if cell.grade_id is None:
            if cell.source.strip():
                ignored_untagged += 1
            continue
        by_id.setdefault(cell.grade_id, []).append(cell)

    cells: list[ProgramCell] = []
    notes: list[str] = []
    for rcell in release.cells:
        if rcell.cell_type != "code" or (rcell.grade_id is None and not _is_setup(rcell)):
            continue
        if _is_setup(rcell):
            cells.append(ProgramCell(len(cells), rcell.grade_id or SETUP_ID, rcell.source, "release", rcell.index))
        elif rcell.grade_id and is_role(rcell.grade_id, "answer"):
            mine = by_id.get(rcell.grade_id, [])
            if not mine:
                notes.append(
                    f"Your notebook has no answer cell {rcell.grade_id!r} (deleted?): that task got no answer."
                )
            if len(mine) > 1:
                notes.append(
                    f"Your notebook has {len(mine)} copies of the answer cell {rcell.grade_id!r}; "
                    "all of them ran, in order, so the last definition counts."
                )
            for cell in mine:
                cells.append(ProgramCell(len(cells), rcell.grade_id, cell.source, "submission", cell.index))

    release_answers = set(release.answer_ids)
    foreign = sorted(g for g in by_id if is_role(g, "answer") and g not in release_answers)
    if foreign:
        notes.append(f"Answer cells that do not belong to this assignment were ignored: {', '.join(foreign)}.")
    if ignored_untagged:
        notes.append(
            f"{ignored_untagged} code cell(s) you added were not run when grading: only the answer cells count, "
            "so put everything your answer needs (helper functions, imports) inside them."
        )
    return Program(tuple(cells), tuple(notes))


def prose_answers(release: ReleaseNotebook, submission: tuple[NotebookCell, ...]) -> list[dict[str, Any]]:
    """The learner's text for each of the release's prose questions (never executed, never judged).

    A question whose cell is missing, empty or still holds the release's placeholder is
    marked unanswered. Several cells with the same grade_id are joined in notebook order.
    """
    answers = []
    for question in release.prose:
        texts = [c.source for c in submission if c.grade_id == question.grade_id]
        text = "\n\n".join(texts)
        answered = bool(text.strip()) and text.strip() != question.stub.strip()
        truncated = len(text) > MAX_PROSE_CHARS
        answers.append(
            {
                "grade_id": question.grade_id,
                "title": question.title,
                "points": question.points,
                "text": text[:MAX_PROSE_CHARS] if answered else "",
                "answered": answered,
                "truncated": truncated and answered,
                "found": bool(texts),
            }
        )
    return answers
