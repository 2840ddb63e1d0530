"""Telling the release's stub from a learner's function, without calling it.

Kept apart from :mod:`actgrader.notebook` (which loads the tasks and the reference
implementations) so that the grading sandbox's stand-in for ``actgrader.notebook`` can offer
the same :func:`unwritten` as the real one: a setup cell imports it in both.
"""

from __future__ import annotations

import dis
from typing import Any

# What a function still holding the release's stub (``raise NotImplementedError()``) runs.
_STUB_OPS = (
    [("LOAD_GLOBAL", "NotImplementedError"), ("CALL", 0), ("RAISE_VARARGS", 1)],
    [("LOAD_GLOBAL", "NotImplementedError"), ("RAISE_VARARGS", 1)],
)
_BOOKKEEPING_OPS = {"RESUME", "NOP", "CACHE", "PRECALL", "PUSH_NULL", "KW_NAMES", "COPY_FREE_VARS", "MAKE_CELL"}


def unwritten(function: Any) -> bool:
    """Whether ``function``'s body is still only the release's ``raise NotImplementedError()``.

    Judged from its bytecode without calling it (the docstring and comments do not count), so
    that a demo cell can skip the demonstration without wrapping the learner's call in a
    ``try`` block.
    """
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    ops = [(i.opname, i.argval) for i in dis.get_instructions(code) if i.opname not in _BOOKKEEPING_OPS]
    return ops in _STUB_OPS
