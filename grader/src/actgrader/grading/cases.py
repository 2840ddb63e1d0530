"""Tasks and their check cases.

A task module (``actgrader.tasks.<task_id>``) creates one :class:`Task` and registers its
cases with the :meth:`Task.case` decorator. A case is a small function ``case(answer, ctx)``
that carries its points, a hidden flag and a book section; it passes by returning and fails
by raising :class:`Mistake` with the message a learner should read: the misconception, not
the assertion. ::

    TASK = Task("forward_pass", "Forward propagation", answer="forward_pass",
                section="forward-propagation#sec-forward-equations")

    @TASK.case(points=1)
    def relu_network(answer, ctx):
        x, weights = example(ctx.rng())
        got = answer(x, weights, Ref("torch.relu"))
        expect.close(got, reference.forward_pass(x, weights, torch.relu), ...)

:func:`run_task` runs the cases against an :class:`~actgrader.grading.answer.Answer` and
turns everything that can go wrong on the learner's side (an exception, an endless loop, a
crash, a missing name) into a failed case with a message. Nothing a learner's code does makes
it raise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from actgrader.grading.answer import (
    Answer,
    LearnerCrashed,
    LearnerError,
    LearnerTimeout,
    MissingAnswer,
)
from actgrader.grading.secret import Secret, public_seed


class Mistake(Exception):
    """Raised by a case: the answer shows the misconception described by ``message``."""

    def __init__(self, message: str, *, section: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.section = section


class CheckFault(RuntimeError):
    """Raised by a case when the check itself went wrong (a bug of the grader, never of the
    answer): the learner is told so, and to tell the instructor, instead of a message that
    blames their answer."""


@dataclass(frozen=True)
class CaseContext:
    """What a case knows besides the answer: which case it is and its seed."""

    task_id: str
    case_name: str
    seed: int
    hidden: bool

    @property
    def label(self) -> str:
        """``task_id.case_name``: the case, named in a grader-side error."""
        return f"{self.task_id}.{self.case_name}"

    def rng(self) -> np.random.Generator:
        """A NumPy generator seeded for this case (public: fixed; hidden: from the secret)."""
        return np.random.default_rng(self.seed)

    def small_seed(self, bound: int = 2**31 - 1) -> int:
        """A seed small enough to hand to a learner's function (``torch.manual_seed``)."""
        return self.seed % bound


CaseFunction = Callable[[Answer, CaseContext], None]


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    points: float
    hidden: bool
    section: str | None
    run: CaseFunction = field(repr=False, compare=False)


class Task:
    """One practice task: the learner's object it checks and the cases that check it."""

    def __init__(
        self,
        task_id: str,
        title: str,
        *,
        answer: str,
        section: str,
        kind: Literal["function", "value"] = "function",
        reference: Any = None,
    ) -> None:
        """``reference`` is what a correct learner would hand in (a reference function or value):
        tests run every case against it, so a task whose own cases reject it cannot ship."""
        self.id = task_id
        self.title = title
        self.answer = answer
        self.section = section
        self.kind = kind
        self.reference = reference
        self.cases: list[Case] = []

    def __repr__(self) -> str:
        return f"Task({self.id!r}, {len(self.cases)} cases, {self.points:g} points)"

    def case(
        self,
        points: float,
        *,
        hidden: bool = False,
        title: str | None = None,
        section: str | None = None,
    ) -> Callable[[CaseFunction], CaseFunction]:
        """Register the decorated function as a case worth ``points``."""
        if points <= 0:
            raise ValueError("a case must be worth a positive number of points")

        def register(fn: CaseFunction) -> CaseFunction:
            if any(c.name == fn.__name__ for c in self.cases):
                raise ValueError(f"task {self.id} already has a case named {fn.__name__}")
            doc_title = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else None
            self.cases.append(
                Case(
                    name=fn.__name__,
                    title=title or doc_title or fn.__name__.replace("_", " "),
                    points=float(points),
                    hidden=hidden,
                    section=section,
                    run=fn,
                )
            )
            return fn

        return register

    @property
    def points(self) -> float:
        return sum(c.points for c in self.cases)

    @property
    def public_points(self) -> float:
        return sum(c.points for c in self.cases if not c.hidden)

    @property
    def hidden_points(self) -> float:
        return sum(c.points for c in self.cases if c.hidden)


# "unanswered": the answer still raises the release's NotImplementedError (not written yet);
# "skipped": a hidden case without the instructor secret (not graded).
Status = Literal["passed", "failed", "error", "unanswered", "timeout", "crashed", "missing", "skipped"]


@dataclass(frozen=True)
class CaseOutcome:
    name: str
    title: str
    points: float
    earned: float
    hidden: bool
    status: Status
    message: str | None = None
    section: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one task's cases for one answer."""

    task_id: str
    title: str
    answer: str
    outcomes: tuple[CaseOutcome, ...]
    hidden_ran: bool

    @property
    def earned(self) -> float:
        return sum(o.earned for o in self.outcomes)

    @property
    def max_points(self) -> float:
        return sum(o.points for o in self.outcomes)

    @property
    def answered(self) -> bool:
        """False while the answer is still the release's stub (every case ran into its NotImplementedError)."""
        graded = [o for o in self.outcomes if o.status != "skipped"]
        return not graded or any(o.status != "unanswered" for o in graded)

    def counts(self, *, hidden: bool) -> tuple[int, int]:
        """(passed, run) among the public or the hidden cases."""
        ran = [o for o in self.outcomes if o.hidden == hidden and o.status != "skipped"]
        return sum(o.passed for o in ran), len(ran)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "title": self.title,
            "answer": self.answer,
            "hidden_ran": self.hidden_ran,
            "earned": self.earned,
            "max_points": self.max_points,
            "outcomes": [asdict(o) for o in self.outcomes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskResult:
        return cls(
            task_id=data["task_id"],
            title=data["title"],
            answer=data["answer"],
            hidden_ran=data["hidden_ran"],
            outcomes=tuple(CaseOutcome(**o) for o in data["outcomes"]),
        )


def _learner_message(task: Task, problem: Exception) -> tuple[Status, str]:
    name = task.answer
    if isinstance(problem, MissingAnswer):
        return "missing", (
            f"`{name}` is not defined. Keep the name the exercise gives and run the cell that defines it"
            + (f" ({problem})." if str(problem) else ".")
        )
    if isinstance(problem, LearnerTimeout):
        return "timeout", (
            f"`{name}` did not finish in time ({problem}). Look for a loop that never ends "
            "or work that grows much faster than the input."
        )
    if isinstance(problem, LearnerCrashed):
        return "crashed", (
            f"Running `{name}` ended the process that ran it ({problem}). "
            "Do not call sys.exit or os._exit, and keep memory use modest."
        )
    assert isinstance(problem, LearnerError)
    if problem.exc_type == "NotImplementedError":
        return "unanswered", f"`{name}` still raises NotImplementedError: replace that line with your code."
    if problem.exc_type == "UnsupportedResult":
        return "error", f"`{name}` returned something the checks cannot read: {problem.detail}."
    return "error", f"`{name}` raised {problem}."


def run_case(task: Task, case: Case, answer: Answer, seed: int) -> CaseOutcome:
    """Run one case; every learner-side failure becomes a failed outcome."""
    ctx = CaseContext(task.id, case.name, seed, case.hidden)
    status: Status = "passed"
    message: str | None = None
    section = case.section or task.section
    start = time.perf_counter()
    try:
        if task.kind == "function" and not answer.is_callable:
            raise Mistake(f"`{task.answer}` should be a function (def {task.answer}(...): ...).")
        case.run(answer, ctx)
    except Mistake as mistake:
        status, message = "failed", mistake.message
        section = mistake.section or section
    except (LearnerError, LearnerTimeout, LearnerCrashed, MissingAnswer) as problem:
        status, message = _learner_message(task, problem)
    except CheckFault as fault:
        status = "error"
        message = (
            f"This check case failed on the grader's side, not because of `{task.answer}` ({str(fault)[:300]}). "
            "Tell your instructor: the case earns nothing until the grader is fixed."
        )
    except Exception as exc:  # noqa: BLE001 - the answer had a form the case did not expect
        status = "failed"
        message = (
            f"The check could not use what `{task.answer}` gave back "
            f"({type(exc).__name__}: {str(exc)[:200]}). Compare its type and shape with the exercise."
        )
    seconds = time.perf_counter() - start
    earned = case.points if status == "passed" else 0.0
    return CaseOutcome(case.name, case.title, case.points, earned, case.hidden, status, message, section, seconds)


def run_task(
    task: Task,
    answer: Answer,
    *,
    secret: Secret | None,
    include_hidden: bool,
    only: Iterable[str] | None = None,
) -> TaskResult:
    """Run ``task``'s cases against ``answer``.

    Public cases always run. Hidden cases run when ``include_hidden`` is true and a secret is
    given; with ``include_hidden`` but no secret they are reported as skipped (worth 0), and
    without ``include_hidden`` they are left out entirely (the self-check).
    """
    wanted = set(only) if only is not None else None
    outcomes = []
    hidden_ran = include_hidden and secret is not None
    for case in task.cases:
        if wanted is not None and case.name not in wanted:
            continue
        if case.hidden and not include_hidden:
            continue
        if case.hidden and secret is None:
            outcomes.append(
                CaseOutcome(
                    case.name,
                    case.title,
                    case.points,
                    0.0,
                    True,
                    "skipped",
                    "hidden cases need the instructor secret",
                    case.section or task.section,
                )
            )
            continue
        seed = secret.seed(task.id, case.name) if case.hidden and secret else public_seed(task.id, case.name)
        outcomes.append(run_case(task, case, answer, seed))
    return TaskResult(task.id, task.title, task.answer, tuple(outcomes), hidden_ran)
