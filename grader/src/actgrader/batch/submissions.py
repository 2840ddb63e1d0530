"""Finding submissions, naming their students, and reading them without following links.

``actgrade grade`` accepts notebooks, folders of notebooks, and nbgrader's exchange layout
``submitted/<student>/<assignment>/<notebook>.ipynb``. In that layout the student id is the
folder name; anywhere else it is the notebook's file name without ``.ipynb``. Both come from
the path as it was submitted, never from where a link points.

The trusted side (the grader, running as root) never follows a link out of a submission: a
notebook that is a symbolic link (to the instructor's solution, to ``/etc/shadow``), a
hard link, or a path that climbs back out with ``..`` is refused with a message and a
record worth 0, and its target is never opened (see :func:`read_submission`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from actgrader.batch.notebooks import MAX_NOTEBOOK_BYTES

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
LINKED_FOLDER = "it is inside a folder that is a symbolic link ({link})"


class SubmissionRefused(Exception):
    """A submission the grader will not open (a link, a path with ``..``); the message says why."""


@dataclass(frozen=True)
class Submission:
    student: str  # the student id: nbgrader's folder name, else the notebook's name (file-name safe)
    path: Path  # as submitted (absolute, not resolved)
    assignment_hint: str | None  # the <assignment> folder in nbgrader's layout
    key: str = ""  # unique within a batch, names the submission's files: see find_submissions
    root: Path | None = None  # the folder it was found in (links below it are refused); None: a file given alone
    refused: str | None = None  # why it will not be opened, found while looking for it

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


def _absolute(path: Path) -> Path:
    """``path`` made absolute without resolving anything (no link followed, ``..`` kept)."""
    return path if path.is_absolute() else Path.cwd() / path


def _climbs(path: Path) -> bool:
    """True when ``..`` comes after a folder name (``submitted/alice/../bob``); a leading ``..``
    (``../submitted``) is where the instructor stands, not part of the submission."""
    parts = path.parts
    start = 0
    while start < len(parts) and parts[start] == "..":
        start += 1
    return ".." in parts[start:]


def _hidden(relative: tuple[str, ...]) -> bool:
    return any(part == ".ipynb_checkpoints" or part.startswith(".") for part in relative)


def _notebooks_under(folder: Path) -> list[tuple[Path, str | None]]:
    """Every ``*.ipynb`` below ``folder``, and every symbolic link on the way (refused, never followed)."""
    found: list[tuple[Path, str | None]] = []
    for current, dirs, files in os.walk(folder, followlinks=False):
        here = Path(current)
        relative = here.relative_to(folder).parts
        if _hidden(relative):
            dirs[:] = []
            continue
        for name in sorted(dirs):
            if (here / name).is_symlink() and not _hidden((name,)):
                found.append((here / name, LINKED_FOLDER.format(link=_link_text(here / name))))
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
        for name in sorted(files):
            if name.endswith(".ipynb") and not _hidden((name,)):
                path = here / name
                if path.is_symlink():
                    found.append((path, f"it is a symbolic link ({_link_text(path)})"))
                elif stat.S_ISREG(os.lstat(path).st_mode):
                    found.append((path, None))
    return sorted(found)


def _link_text(path: Path) -> str:
    try:
        return f"{path.name} -> {os.readlink(path)}"
    except OSError:
        return path.name


def _student_of(path: Path) -> tuple[str, str | None]:
    """(student, assignment hint) from the path as submitted."""
    layout = _nbgrader_layout(path)
    if layout:
        return layout
    parts = path.parts
    if "submitted" in parts[:-1]:  # a linked folder in the layout: submitted/<student>[/<assignment>]
        at = len(parts) - 1 - parts[::-1].index("submitted")
        rest = parts[at + 1 :]
        return rest[0], (rest[1] if len(rest) > 2 else None)
    return path.stem, None


@dataclass(frozen=True)
class Found:
    """What the paths given to the grader hold, read once: the submissions and where they lie."""

    submissions: list[Submission]
    roots: list[Path]  # the folders a child must not see (see submission_roots)


def discover(paths: Iterable[Path | str]) -> Found:
    """The submissions under ``paths`` (:func:`find_submissions`) and their folders
    (:func:`submission_roots`), from one reading of the paths.

    Raises FileNotFoundError for a path that does not exist (a dangling link is listed, refused).
    """
    given: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(_absolute(path)):
            raise FileNotFoundError(f"no such file or folder: {path}")
        given.append(path)
    return Found(_named(_listed(given)), _roots(given))


def find_submissions(paths: Iterable[Path | str]) -> list[Submission]:
    """Every notebook named or found under ``paths``, with its student id and a unique file name.

    Raises FileNotFoundError for a path that does not exist. The student id is never changed
    (one student handing in two assignments is one student); the submission's files (record,
    feedback page) are named by a key unique in the batch: the student id, or
    ``<student>--<assignment>`` for a student with several assignments in nbgrader's layout,
    with a suffix (``alice``, ``alice-2``) only for notebooks nothing else tells apart. Links
    and ``..`` paths are listed too, with ``refused`` saying why they will not be graded.
    """
    return discover(paths).submissions


def _listed(given: list[Path]) -> list[tuple[Path, Path | None, str | None]]:
    """(notebook as submitted, the folder it was found in, why it is refused) for every path given."""
    found: list[tuple[Path, Path | None, str | None]] = []
    for raw in given:
        path = _absolute(raw)
        if _climbs(raw):
            found.append((path, None, f"its path climbs back out of a folder with '..' ({raw})"))
        elif path.is_dir():  # a folder given may be a link: where the instructor keeps submissions
            found.extend((nb, path, why) for nb, why in _notebooks_under(path))
        elif path.is_symlink():
            found.append((path, None, f"it is a symbolic link ({_link_text(path)})"))
        else:
            found.append((path, None, None))
    return found


def _named(found: list[tuple[Path, Path | None, str | None]]) -> list[Submission]:
    seen_paths: set[Path] = set()
    named: list[tuple[str, Path, str | None, Path | None, str | None]] = []
    for path, root, refused in found:
        if path in seen_paths:
            continue
        seen_paths.add(path)
        name, hint = _student_of(path)
        named.append((safe_id(name), path, hint, root, refused))
    per_student = Counter(student for student, *_ in named)
    submissions: list[Submission] = []
    taken: set[str] = set()
    for student, path, hint, root, refused in named:
        base = student if per_student[student] == 1 or hint is None else safe_id(f"{student}--{hint}")
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        taken.add(key)
        submissions.append(Submission(student, path, hint, key, root, refused))
    return submissions


def read_submission(sub: Submission) -> bytes:
    """The submission's bytes, read without following any link.

    Each folder from the one it was found in down to the notebook is opened with
    ``O_NOFOLLOW`` (relative to the previous one), and so is the notebook, so a link
    swapped in after the search is refused too. The file must be a regular file with a
    single link: a hard link to another file (the solution notebook) is refused.
    Raises :class:`SubmissionRefused` or OSError.
    """
    if sub.refused:
        raise SubmissionRefused(sub.refused)
    if sub.root is not None:
        start, steps = sub.root, sub.path.relative_to(sub.root).parts
    else:
        start, steps = sub.path.parent, (sub.path.name,)
    nofollow = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    folder = os.open(start, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for step in steps[:-1]:
            try:
                inner = os.open(step, nofollow | os.O_DIRECTORY, dir_fd=folder)
            except OSError as exc:
                # O_NOFOLLOW | O_DIRECTORY on a link fails with ENOTDIR (or ELOOP): say it is a link.
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(step, folder):
                    raise SubmissionRefused(LINKED_FOLDER.format(link=step)) from None
                raise
            os.close(folder)
            folder = inner
        try:
            fd = os.open(steps[-1], nofollow | os.O_NONBLOCK, dir_fd=folder)  # a FIFO must not block
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SubmissionRefused(f"it is a symbolic link ({steps[-1]})") from None
            raise
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionRefused("it is not a regular file")
        if info.st_nlink > 1:
            raise SubmissionRefused(
                f"it is a hard link: the same file has {info.st_nlink} names on disk, so it may be someone "
                "else's file (copy the notebook instead of linking it)"
            )
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionRefused(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionRefused(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    return data


def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


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
