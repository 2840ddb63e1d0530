"""actgrader: reference implementations and checks for the activation-functions course.

* ``actgrader.reference``: the course's code, imported by the book and used by the checks;
* ``actgrader.experiments``: the book's experiments and timings, built on the reference (no check uses them);
* ``actgrader.notebook``: ``check`` (self-check) and ``grade`` (nbgrader) for exercise notebooks;
* ``actgrader.tasks``: one module of check cases per practice task;
* ``actgrader.batch`` and the ``actgrade`` command: grading many submissions.
"""

__version__ = "0.1.0"
