"""Regenerate ``exercises/`` from ``solutions/`` with nbgrader's own ``generate_assignment``.

``solutions/<assignment>/<assignment>.ipynb`` is the single source of every exercise. This
script copies the sources and ``nbgrader_config.py`` into a throwaway course directory (with
its own temporary gradebook, so nothing lands in the repository), runs
``nbgrader generate_assignment`` there, and copies the release into ``exercises/`` in a
canonical form (no outputs, stable JSON), so that regenerating twice gives byte-identical
files and ``git diff`` shows only real changes. It also rewrites ``exercises/README.md``
(see ``tools/exercise_readme.py``).

Points have one source, the task's cases (``Task.points``). Each test cell's nbgrader
``points`` is generated from it: :func:`sync_points` writes every task's total into its
``<task>_check`` cell, in the course copy before nbgrader runs (so a release always carries
the task's points) and, by ``make exercises``, in ``solutions/`` too; a test fails when a
committed notebook's metadata differs from its task's total.

nbgrader strips what learners must not see: solution regions become stubs, hidden-test
regions go, and a prose answer (a markdown solution cell) is released as the text stub, mark
scheme included. As a guard, nothing is written when a released notebook still holds a
solution, hidden-test or mark-scheme marker (:class:`ReleaseLeak`).

Run it with ``make exercises``; ``--check`` regenerates into a temporary folder and exits 1
when the committed ``exercises/`` differ or a source's test-cell points are not its task's.
The tests import :func:`generate` and :func:`compare_trees` to do the same.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
CONFIG = REPO / "nbgrader_config.py"
README_NAME = "README.md"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exercise_readme  # noqa: E402 - a sibling module, importable once tools/ is on the path

from actgrader.grading.conventions import task_of  # noqa: E402
from actgrader.tasks import get_task  # noqa: E402


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error; the message carries its log."""


def assignments(source_dir: Path = SOLUTIONS) -> list[str]:
    """The assignments in ``source_dir``: folders ``<name>`` holding ``<name>.ipynb``."""
    return sorted(p.name for p in source_dir.iterdir() if p.is_dir() and (p / f"{p.name}.ipynb").is_file())


def nbgrader_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for nbgrader commands.

    nbgrader runs ``alembic`` as a subprocess to set up its gradebook, so the virtual
    environment's ``bin`` folder must come first on ``PATH`` even when this interpreter was
    started without activating it.
    """
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if extra:
        env.update(extra)
    return env


def run_nbgrader(
    args: Sequence[str], course_dir: Path, *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader <args>`` in ``course_dir`` with a gradebook inside that directory."""
    db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.db_url={db_url}"]
    done = subprocess.run(command, cwd=course_dir, env=nbgrader_env(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NbgraderFailed(f"`nbgrader {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def sync_points(notebook: Path, *, write: bool = True) -> list[str]:
    """Give each test cell of ``notebook`` its task's points (the sum of its cases' points).

    Returns the test cells whose metadata differed (``"<grade_id>: 4 -> 5"``); the notebook is
    rewritten, in canonical form, only when ``write`` is true and something differed.
    """
    nb = nbformat.read(notebook, as_version=4)
    changed = []
    for cell in nb.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        task_id = task_of(nbgrader.get("grade_id"), "check")
        if task_id is None:
            continue
        points = get_task(task_id).points
        old = nbgrader.get("points")
        if old is None or abs(float(old) - points) > 1e-9:
            changed.append(f"{nbgrader['grade_id']}: {'none' if old is None else f'{float(old):g}'} -> {points:g}")
            nbgrader["points"] = int(points) if points.is_integer() else points
    if changed and write:
        notebook.write_text(normalise_notebook(nbformat.writes(nb)), encoding="utf-8")
    return changed


def make_course(course_dir: Path, source_dir: Path = SOLUTIONS, config: Path = CONFIG) -> Path:
    """Fill ``course_dir`` with a copy of the assignments in ``source_dir`` and the course's nbgrader config.

    Only the folders :func:`assignments` recognises are copied, so that nbgrader's ``"*"``
    (every assignment) means exactly those.
    """
    course_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(config, course_dir / "nbgrader_config.py")
    (course_dir / "solutions").mkdir(exist_ok=True)
    for name in assignments(source_dir):
        shutil.copytree(
            source_dir / name, course_dir / "solutions" / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
        sync_points(course_dir / "solutions" / name / f"{name}.ipynb")
    return course_dir


def normalise_notebook(text: str) -> str:
    """``text`` (a notebook's JSON) in canonical form: no outputs or execution counts, stable JSON."""
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


#: Text that must never reach a release: solution, hidden-test and mark-scheme markers.
RELEASE_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "MARK SCHEME")


class ReleaseLeak(RuntimeError):
    """A released notebook still holds a solution, hidden-test or mark-scheme marker."""


def leaks(notebook_text: str) -> list[str]:
    """The markers of :data:`RELEASE_MARKERS` present in a released notebook's cells."""
    nb = nbformat.reads(notebook_text, as_version=4)
    everything = "\n".join(cell.source for cell in nb.cells)
    return [marker for marker in RELEASE_MARKERS if marker in everything]


def release(course_dir: Path, names: Sequence[str]) -> None:
    """Run ``nbgrader generate_assignment`` in ``course_dir`` for the assignments in ``names``.

    One nbgrader run for all of them (``"*"``) when ``names`` is every assignment of the
    course directory: the start-up, several seconds, is paid once.
    """
    if sorted(names) == assignments(course_dir / "solutions") and len(names) > 1:
        run_nbgrader(["generate_assignment", "*", "--force"], course_dir)
        return
    for name in names:
        run_nbgrader(["generate_assignment", name, "--force"], course_dir)


def generate(
    dest: Path = EXERCISES, *, source_dir: Path = SOLUTIONS, config: Path = CONFIG, readme: bool = True
) -> list[Path]:
    """Regenerate the release of every assignment in ``source_dir`` into ``dest``.

    Assignment folders in ``dest`` are replaced wholesale (a notebook removed from the
    sources disappears from the release too); other files in ``dest`` are left alone except
    ``README.md``, which is rewritten when ``readme`` is true. Returns the files written.
    """
    names = assignments(source_dir)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="actgrader-release-") as tmp:
        course = make_course(Path(tmp) / "course", source_dir, config)
        release(course, names)
        for notebook in sorted((course / "exercises").rglob("*.ipynb")):
            if found := leaks(notebook.read_text(encoding="utf-8")):
                raise ReleaseLeak(f"{notebook.name}: the release still holds {found}; nothing was written")
        dest.mkdir(parents=True, exist_ok=True)
        for stale in sorted(p for p in dest.iterdir() if p.is_dir() and p.name not in names):
            if (stale / f"{stale.name}.ipynb").exists():
                shutil.rmtree(stale)
        for name in names:
            target = dest / name
            if target.exists():
                shutil.rmtree(target)
            for path in sorted((course / "exercises" / name).rglob("*")):
                if path.is_dir() or ".ipynb_checkpoints" in path.parts:
                    continue
                out = target / path.relative_to(course / "exercises" / name)
                out.parent.mkdir(parents=True, exist_ok=True)
                if path.suffix == ".ipynb":
                    out.write_text(normalise_notebook(path.read_text(encoding="utf-8")), encoding="utf-8")
                else:
                    shutil.copyfile(path, out)
                written.append(out)
    if readme:
        out = dest / README_NAME
        out.write_text(exercise_readme.render(source_dir), encoding="utf-8")
        written.append(out)
    return written


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Relative paths that differ between two folders (missing on either side, or other bytes)."""

    def files(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts
        }

    want, got = files(expected), files(actual)
    return sorted(name for name in want.keys() | got.keys() if want.get(name) != got.get(name))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=EXERCISES, help="release folder (default: exercises/)")
    parser.add_argument("--check", action="store_true", help="only report whether the committed release is up to date")
    args = parser.parse_args(argv)
    sources = [SOLUTIONS / name / f"{name}.ipynb" for name in assignments(SOLUTIONS)]
    if args.check:
        with tempfile.TemporaryDirectory(prefix="actgrader-check-") as tmp:
            generate(Path(tmp))
            drift = compare_trees(Path(tmp), args.dest)
        drift += [f"{p.relative_to(REPO)}: {c}" for p in sources for c in sync_points(p, write=False)]
        if drift:
            print("exercises/ is out of date with solutions/ (run `make exercises`):", *drift, sep="\n  ")
            return 1
        print("exercises/ is up to date.")
        return 0
    for path in sources:
        for change in sync_points(path):
            print(f"{path.relative_to(REPO)}: points of {change} (the task's cases)")
    for path in generate(args.dest):
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
