"""Finding submissions and naming their students.

``actgrade grade`` accepts notebooks, folders of notebooks, and nbgrader's exchange layout
``submitted/<student>/<assignment>/<notebook>.ipynb``. In that layout the student id is the
folder name; anywhere else it is the notebook's file name without ``.ipynb``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


@dataclass(frozen=True)
class Submission:
    student: str  # the student id: nbgrader's folder name, else the notebook's name (file-name safe)
    path: Path
    assignment_hint: str | None  # the <assignment> folder in nbgrader's layout
    key: str = ""  # unique within a batch, names the submission's files: see find_submissions

    @property
    def file_id(self) -> str:
        return self.key or self.student


def _nbgrader_layout(path: Path) -> tuple[str, str] | None:
    """(student, assignment) when ``path`` is ``.../submitted/<student>/<assignment>/<nb>.ipynb``."""
    parts = path.parts
    if len(parts) >= 4 and parts[-4] == "submitted":
        return parts[-3], parts[-2]
    return None


def safe_id(text: str) -> str:
    """A student id usable as a file name: no separators, no leading dot, not empty."""
    cleaned = _UNSAFE.sub("_", text).lstrip(".") or "student"
    return cleaned[:100]


def _notebooks_under(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(folder).parts
        if any(part == ".ipynb_checkpoints" or part.startswith(".") for part in relative):
            continue
        if path.is_file():
            found.append(path)
    return found


@dataclass(frozen=True)
class Found:
    """What the paths given to the grader hold, read once: the submissions and where they lie."""

    submissions: list[Submission]
    roots: list[Path]  # the folders a child must not see (see submission_roots)


def discover(paths: Iterable[Path | str]) -> Found:
    """The submissions under ``paths`` (:func:`find_submissions`) and their folders
    (:func:`submission_roots`), from one reading of the paths.

    Raises FileNotFoundError for a path that does not exist.
    """
    given: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        given.append(path)
    notebooks = [nb for path in given for nb in (_notebooks_under(path) if path.is_dir() else [path])]
    return Found(_named(notebooks), _roots(given))


def find_submissions(paths: Iterable[Path | str]) -> list[Submission]:
    """Every notebook named or found under ``paths``, with its student id and a unique file name.

    Raises FileNotFoundError for a path that does not exist. The student id is never changed
    (one student handing in two assignments is one student); the submission's files (record,
    feedback page) are named by a key unique in the batch: the student id, or
    ``<student>--<assignment>`` for a student with several assignments in nbgrader's layout,
    with a suffix (``alice``, ``alice-2``) only for notebooks nothing else tells apart.
    """
    return discover(paths).submissions


def _named(notebooks: list[Path]) -> list[Submission]:
    seen_paths: set[Path] = set()
    found: list[tuple[str, Path, str | None]] = []
    for path in notebooks:
        resolved = path.resolve()
        if resolved in seen_paths:
            continue
        seen_paths.add(resolved)
        layout = _nbgrader_layout(resolved)
        found.append((safe_id(layout[0] if layout else path.stem), path, layout[1] if layout else None))
    per_student = Counter(student for student, _, _ in found)
    submissions: list[Submission] = []
    taken: set[str] = set()
    for student, path, hint in found:
        base = student if per_student[student] == 1 or hint is None else safe_id(f"{student}--{hint}")
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        taken.add(key)
        submissions.append(Submission(student, path, hint, key))
    return submissions


def submission_roots(paths: Iterable[Path | str]) -> list[Path]:
    """The folders a child must not see: each folder given, or the folder holding each file given.

    For nbgrader's layout the whole ``submitted/`` folder is covered (every student's work).
    """
    return _roots(Path(raw) for raw in paths)


def _roots(paths: Iterable[Path]) -> list[Path]:
    roots = set()
    for given in paths:
        path = given.resolve()
        folder = path if path.is_dir() else path.parent
        layout_root = next((p for p in [folder, *folder.parents] if p.name == "submitted"), None)
        roots.add(layout_root or folder)
    return sorted(roots)
