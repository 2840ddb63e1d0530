"""The check framework shared by the notebook self-check, nbgrader and ``actgrade``."""

from actgrader.grading import expect
from actgrader.grading.answer import Answer, LearnerCrashed, LearnerError, LearnerTimeout, LocalAnswer, MissingAnswer
from actgrader.grading.cases import Case, CaseContext, CaseOutcome, Mistake, Task, TaskResult, run_task
from actgrader.grading.codec import Opaque, Ref
from actgrader.grading.secret import Secret, load_secret

__all__ = [
    "Answer",
    "Case",
    "CaseContext",
    "CaseOutcome",
    "LearnerCrashed",
    "LearnerError",
    "LearnerTimeout",
    "LocalAnswer",
    "MissingAnswer",
    "Mistake",
    "Opaque",
    "Ref",
    "Secret",
    "Task",
    "TaskResult",
    "expect",
    "load_secret",
    "run_task",
]
