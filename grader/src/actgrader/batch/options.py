"""Every setting of a grading run, with its default, in one place.

The ``actgrade grade`` command builds its options from this dataclass (flags, defaults and
help texts), so the library API and the command line cannot drift apart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

MB = 2**20
# Gradescope's visibility settings for a test (the hidden cases' counts use one of them).
GRADESCOPE_VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")


def repository_root(package: Path | None = None) -> Path | None:
    """The course repository holding ``package`` (default: this package, when installed from a
    clone in editable mode), if any."""
    here = (package or Path(__file__)).resolve()
    for parent in here.parents:
        if (parent / "grader" / "pyproject.toml").is_file() and (parent / "exercises").is_dir():
            return parent
    return None


def default_release() -> Path:
    root = repository_root()
    return (root / "exercises") if root else Path("exercises")


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_size(text: str | int) -> int:
    """'3G', '512M', '1.5g' or a number of megabytes -> bytes."""
    if isinstance(text, int):
        return text * MB
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*", str(text))
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 512M or 3G)")
    number, unit = float(match.group(1)), match.group(2).lower()
    scale = {"k": 2**10, "m": MB, "g": 2**30, "": MB}[unit]
    return int(number * scale)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class GradingOptions:
    """How to grade a batch of submissions (see ``actgrade grade --help``)."""

    release: Path | None = field(
        default=None,
        metadata=_help(
            "the release: a folder of assignment notebooks or one notebook "
            "(default: the course repository's exercises/ folder)"
        ),
    )
    assignment: str | None = field(
        default=None,
        metadata=_help(
            "grade only this assignment: a notebook matching another one (or none) gets a 'wrong assignment' "
            "message and zero (default: detect each submission's assignment from its answer cells)"
        ),
    )
    output: Path | None = field(
        default=None, metadata=_help("folder for grades.csv and results/<student>.json (required by the command)")
    )
    jobs: int = field(
        default_factory=default_jobs, metadata=_help("submissions graded in parallel (default: one per core)")
    )
    cell_timeout: float = field(
        default=60.0, metadata=_help("seconds a program cell may run before it is stopped and skipped")
    )
    call_timeout: float = field(
        default=30.0, metadata=_help("seconds one call of a learner's function by a check may take")
    )
    notebook_timeout: float = field(
        default=600.0, metadata=_help("wall-clock budget in seconds for everything one submission runs")
    )
    memory_limit: int = field(
        default=3 * 2**30,
        metadata=_help(
            "memory a submission may use on top of the grader's libraries (e.g. 512M, 3G); "
            "its address space is capped there and the grader kills it when its resident memory passes it"
        ),
    )
    secret_file: Path | None = field(
        default=None,
        metadata=_help(
            "file holding the instructor secret that seeds the hidden cases "
            "(default: $ACTGRADER_SECRET, else the file named by $ACTGRADER_SECRET_FILE; "
            "without one only public cases run)"
        ),
    )
    resume: bool = field(
        default=False,
        metadata=_help(
            "keep the complete results already in the output folder (same notebook, same secret) "
            "and grade only the others"
        ),
    )
    file_size_limit: int = field(default=64 * MB, metadata=_help("largest file a submission may write"))
    scratch_size: int = field(
        default=256 * MB,
        metadata=_help("size of the private /tmp holding a submission's working directory (root only)"),
    )
    max_processes: int = field(
        default=32, metadata=_help("processes and threads a submission's sandbox user may have (root only)")
    )
    sandbox_uid: int = field(
        default=64000,
        metadata=_help(
            "first of the unprivileged uids the children run as, one per parallel job (root only; "
            "uids that another batch on this machine holds are skipped)"
        ),
    )
    progress: bool = field(default=True, metadata=_help("show progress on stderr"))
    root_layers: bool = field(
        default=True,
        metadata={
            "help": "use the root-only sandbox layers when running as root (False reproduces a non-root "
            "user's sandbox, for testing that fallback; never grade real submissions as root with it)",
            "cli": False,
        },
    )
    protected: tuple[Path, ...] = field(
        default=(),
        metadata={
            "help": "more folders and files learner code must not read (nbgrader's source, submitted and "
            "autograded folders and gradebook, when nbgrader autograde grades through actgrade)",
            "cli": False,
        },
    )

    def __post_init__(self) -> None:
        if self.release is not None:
            self.release = Path(self.release)
        if self.output is not None:
            self.output = Path(self.output)
        if self.secret_file is not None:
            self.secret_file = Path(self.secret_file)
        if isinstance(self.memory_limit, str):
            self.memory_limit = parse_size(self.memory_limit)
        for name in ("cell_timeout", "call_timeout", "notebook_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.jobs < 1:
            raise ValueError("jobs must be at least 1")
        if self.memory_limit < 64 * MB:
            raise ValueError("memory_limit below 64 MB cannot run anything")

    @property
    def release_path(self) -> Path:
        return self.release if self.release is not None else default_release()

    @property
    def cpu_seconds(self) -> int:
        """The CPU-time backstop (RLIMIT_CPU): the notebook budget plus a margin."""
        return int(self.notebook_timeout) + 30

    @classmethod
    def help_texts(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(cls)}
