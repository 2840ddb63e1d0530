"""nbgrader configuration for the course (nbgrader 0.9).

The course directory is the folder holding this file: ``solutions/`` is nbgrader's source
directory (the single, instructor-side copy of every exercise notebook, solutions and hidden
tests included) and ``exercises/`` its release directory (what learners get, produced by
``make exercises``). One assignment per exercise notebook:
``solutions/<assignment>/<assignment>.ipynb`` -> ``exercises/<assignment>/<assignment>.ipynb``.

The gradebook is a SQLite file outside the working tree (in the system's temporary
directory, one per course directory) so that no command leaves a database in the repository.
An instructor who keeps grades across terms points ``NBGRADER_DB_URL`` at a lasting place.
``tools/generate_exercises.py`` and the tests copy this file into throwaway course
directories and pass their own ``--CourseDirectory.db_url``.
"""

import hashlib
import os
import tempfile
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from actgrader.batch.nbgrader_door import configure

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

_ROOT = Path(__file__).resolve().parent
_ROOT_TAG = hashlib.sha256(str(_ROOT).encode()).hexdigest()[:12]

c.CourseDirectory.course_id = "activations"
c.CourseDirectory.root = str(_ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL",
    "sqlite:///" + str(Path(tempfile.gettempdir()) / f"activations-gradebook-{_ROOT_TAG}.db"),
)

# `nbgrader autograde` grades the way `actgrade grade` does: each submission's answer cells run
# in actgrade's sandbox (a child process with a clean environment: the instructor secret never
# reaches learner code), the checks run here, on the trusted side, and the verdict is written
# into the test cells, where nbgrader's gradebook, formgrader and feedback read it
# (actgrader/batch/nbgrader_door.py). nbgrader's own kernel never runs a submission.
configure(c)
# An answer cell that runs longer than this is stopped and its task scores 0; a call of a
# learner's function gets ActgradeExecute.call_timeout (actgrade's --cell-timeout, --call-timeout).
c.ActgradeExecute.cell_timeout = 60

# Each cell gets this long when nbgrader executes a notebook in a kernel: `nbgrader validate`
# (and the Validate button), which runs the learner's own notebook on the learner's machine.
c.ExecutePreprocessor.timeout = 60
# Validate shows what a failed check printed; it cuts lines longer than this, and a check's
# lines are wrapped at 80 characters except the links to the chapters.
c.Validator.width = 160

# The stub that replaces a solution region in the release: the learner's function keeps its
# `def` line and docstring and raises until they write the body.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows each test cell as the learner's release had it: the hidden-tests region
# (the `grade(...)` call) is cleared again. Its output only counts hidden cases anyway.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
