"""Batch grading of untrusted notebooks: ``actgrade grade`` and its library API.

::

    from actgrader.batch import GradingOptions, grade_submissions

    results = grade_submissions(["submitted/"], GradingOptions(output=Path("grades")))

Modules: :mod:`~actgrader.batch.engine` (the batch), :mod:`~actgrader.batch.notebooks`
(release, submission and the program run for it), :mod:`~actgrader.batch.remote` (the
trusted side of a sandbox: timeouts, restarts, ``RemoteAnswer``),
:mod:`~actgrader.batch.forkserver` (warm interpreter forking one child per submission),
:mod:`~actgrader.batch.sandbox` and :mod:`~actgrader.batch.guard` (the sandbox layers),
:mod:`~actgrader.batch.child` (what runs in the sandbox), :mod:`~actgrader.batch.uids` (the
children's uids, one set per batch), :mod:`~actgrader.batch.results` (records and the output
folder's layout), :mod:`~actgrader.batch.summary` (one result summarised once for every
output below), :mod:`~actgrader.batch.gradebook` (``grades.csv``),
:mod:`~actgrader.batch.feedback_page` (a learner's HTML page),
:mod:`~actgrader.batch.gradescope` (Gradescope's ``results.json``),
:mod:`~actgrader.batch.autograder` (the Gradescope autograder zip and what runs inside it),
:mod:`~actgrader.batch.report` (progress and summary).

The names below are imported lazily: the fork server imports this package and must not load
the tasks (and through them the reference implementations) that the engine needs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GradingOptions", "SubmissionResult", "grade_submissions"]


def __getattr__(name: str) -> Any:
    if name == "grade_submissions":
        from actgrader.batch.engine import grade_submissions

        return grade_submissions
    if name == "GradingOptions":
        from actgrader.batch.options import GradingOptions

        return GradingOptions
    if name == "SubmissionResult":
        from actgrader.batch.results import SubmissionResult

        return SubmissionResult
    raise AttributeError(name)
