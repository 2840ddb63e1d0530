"""Seeds for check cases: public ones from the case's name, hidden ones from a secret.

The course repository is public, solutions and checks included, so the parameters of hidden
cases (seeds, shapes, sizes) must not be computable from it. They derive from an
instructor's secret kept outside the repository, read from (first found wins):

1. the ``ACTGRADER_SECRET`` environment variable (the secret itself);
2. the file named by ``ACTGRADER_SECRET_FILE``.

Without a secret, hidden cases do not run and the grader says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

SECRET_ENV = "ACTGRADER_SECRET"
SECRET_FILE_ENV = "ACTGRADER_SECRET_FILE"
MIN_SECRET_CHARS = 8


class SecretError(ValueError):
    """The secret named by the environment cannot be used."""


@dataclass(frozen=True)
class Secret:
    """An instructor's secret. ``repr`` never shows it."""

    value: bytes
    source: str

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    def seed(self, task_id: str, case_name: str) -> int:
        digest = hmac.new(self.value, f"hidden/{task_id}/{case_name}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "little") >> 1


def public_seed(task_id: str, case_name: str) -> int:
    """The seed of a public case: fixed, and the same for everyone."""
    digest = hashlib.sha256(f"public/{task_id}/{case_name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def load_secret(path: str | os.PathLike[str] | None = None) -> Secret | None:
    """The secret from ``path`` if given, else from the environment; None when there is none."""
    if path is not None:
        return _from_file(Path(path), f"file {path}")
    text = os.environ.get(SECRET_ENV)
    if text:
        return _checked(text.encode(), f"${SECRET_ENV}")
    file_name = os.environ.get(SECRET_FILE_ENV)
    if file_name:
        return _from_file(Path(file_name), f"${SECRET_FILE_ENV}")
    return None


def _from_file(path: Path, source: str) -> Secret:
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise SecretError(f"cannot read the instructor secret ({source}): {exc.strerror}") from None
    return _checked(data, source)


def _checked(data: bytes, source: str) -> Secret:
    if len(data) < MIN_SECRET_CHARS:
        raise SecretError(f"the instructor secret ({source}) is shorter than {MIN_SECRET_CHARS} characters")
    return Secret(data, source)


def secret_files(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every file the secret may be read from (the one given, ``$ACTGRADER_SECRET_FILE``): what
    a sandbox hides from learner code whichever of them :func:`load_secret` reads."""
    return [Path(p).resolve() for p in (path, os.environ.get(SECRET_FILE_ENV)) if p]


def resume_tag(secret: Secret | None) -> str:
    """A short digest naming the secret (HMAC of a fixed label: it reveals nothing of the secret or any
    hidden case's seed), kept in each record so that ``--resume`` regrades records made with another
    secret or none."""
    if secret is None:
        return ""
    return hmac.new(secret.value, b"actgrade/resume-tag", hashlib.sha256).hexdigest()[:16]
