"""Unprivileged uids for the sandboxed children, never shared between two batches on one machine.

As root, each grading slot runs its children under a uid of its own, and when a child is
stopped the grader kills *every* process of that uid (so that nothing a submission started,
however detached, survives it). Two batches running at once (two instructors, two courses,
a test suite next to a benchmark) must therefore never use the same uid, or one would kill the
other's children. Each uid is claimed with an exclusive ``flock`` on a lock file named after it
in a folder every batch on the machine sees; the kernel drops the lock when the batch ends,
however it ends. A uid that still has processes (left by a batch that was killed) is passed over.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

import psutil

LOCK_DIRS = ("/run/lock/actgrade", os.path.join(tempfile.gettempdir(), "actgrade-uids"))
SEARCH = 4096  # how far above the first uid to look for free ones


class NoFreeUid(RuntimeError):
    """No uid in the searched range is free."""


def _lock_dir() -> Path:
    for candidate in LOCK_DIRS:
        path = Path(candidate)
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    raise NoFreeUid(f"no writable folder for the uid locks ({', '.join(LOCK_DIRS)})")


def _busy_uids() -> set[int]:
    busy = set()
    for proc in psutil.process_iter(["uids"]):
        with contextlib.suppress(psutil.Error, TypeError, AttributeError):
            busy.add(proc.info["uids"].real)
    return busy


class UidSlots:
    """``count`` uids from ``first`` upward, each held (locked) until :meth:`release`."""

    def __init__(self, first: int, count: int) -> None:
        self.uids: list[int] = []
        self._fds: list[int] = []
        folder = _lock_dir()
        busy = _busy_uids()
        for uid in range(first, first + SEARCH):
            if len(self.uids) == count:
                break
            if uid in busy:
                continue
            fd = os.open(folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uids.append(uid)
            self._fds.append(fd)
        if len(self.uids) < count:
            self.release()
            raise NoFreeUid(f"fewer than {count} free uids from {first} to {first + SEARCH - 1}")

    def release(self) -> None:
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing drops the lock
        self._fds.clear()

    def __enter__(self) -> UidSlots:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
