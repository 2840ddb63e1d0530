"""One module per practice task, each defining ``TASK`` (see :mod:`actgrader.grading.cases`).

The module name is the task id, so ``check("forward_pass", ...)`` loads
``actgrader.tasks.forward_pass``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from actgrader.grading.cases import Task

_TASK_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownTask(KeyError):
    def __str__(self) -> str:
        return f"there is no task {self.args[0]!r}; known tasks: {', '.join(task_ids())}"


def task_ids() -> list[str]:
    """Every task id, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get_task(task_id: str) -> Task:
    """The :class:`Task` named ``task_id``."""
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id) or task_id not in task_ids():
        raise UnknownTask(task_id)
    module = importlib.import_module(f"{__name__}.{task_id}")
    task = module.TASK
    if task.id != task_id:
        raise RuntimeError(f"module {module.__name__} defines task {task.id!r}")
    return task


def all_tasks() -> list[Task]:
    return [get_task(t) for t in task_ids()]
