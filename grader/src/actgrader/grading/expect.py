"""Helpers that cases use to judge a value and, when it is wrong, say why.

Each helper returns the cleaned value when it is acceptable and raises
:class:`~actgrader.grading.cases.Mistake` with a learner-facing message when not. The most
useful one, :func:`close`, takes a list of *known wrong answers* (what the result would be
under a specific misconception) so that a failing learner reads "you applied the activation
after the output layer too", not "arrays differ".
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from actgrader.grading.answer import LearnerError
from actgrader.grading.cases import Mistake
from actgrader.grading.codec import Opaque


def _describe(value: Any) -> str:
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    if value is None:
        return "None (did you forget `return`?)"
    return f"a {type(value).__name__}"


def tensor(
    value: Any,
    *,
    name: str = "the result",
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | None = None,
    accept_numpy: bool = False,
) -> torch.Tensor:
    """``value`` as a tensor, after checking its type, shape and dtype."""
    if accept_numpy and isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise Mistake(f"{name} should be a torch tensor, but it is {_describe(value)}.")
    if shape is not None and tuple(value.shape) != tuple(shape):
        hint = ""
        if tuple(value.shape) == tuple(reversed(tuple(shape))) and len(shape) == 2:
            hint = " It looks transposed: rows are examples, columns are features."
        raise Mistake(f"{name} has shape {tuple(value.shape)}, but it should have shape {tuple(shape)}.{hint}")
    if dtype is not None and value.dtype != dtype:
        raise Mistake(f"{name} has dtype {value.dtype}; keep the dtype of the input ({dtype}).")
    return value


def finite(value: torch.Tensor, *, name: str = "the result", hint: str = "") -> torch.Tensor:
    """Fail if ``value`` holds NaN or an infinity."""
    bad = ~torch.isfinite(value) if value.is_floating_point() or value.is_complex() else None
    if bad is not None and bool(bad.any()):
        kind = "NaN" if bool(torch.isnan(value).any()) else "an infinity"
        raise Mistake(f"{name} contains {kind}.{(' ' + hint) if hint else ''}")
    return value


def number(value: Any, *, name: str = "the result") -> float:
    """``value`` as a finite Python float (accepts ints, floats and one-element arrays)."""
    if isinstance(value, bool):
        raise Mistake(f"{name} should be a number, but it is a bool.")
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (int, float)):
        raise Mistake(f"{name} should be a number, but it is {_describe(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise Mistake(f"{name} is {value}; it should be a finite number.")
    return value


def _matches(got: torch.Tensor, want: Any, rtol: float, atol: float) -> bool:
    want_t = torch.as_tensor(want)
    if tuple(got.shape) != tuple(want_t.shape):
        return False
    return bool(torch.allclose(got.double(), want_t.double(), rtol=rtol, atol=atol, equal_nan=False))


def close(
    got: Any,
    want: Any,
    *,
    name: str = "the result",
    rtol: float = 1e-5,
    atol: float = 1e-6,
    mistakes: Sequence[tuple[str, Any]] = (),
    otherwise: str | None = None,
) -> torch.Tensor:
    """Pass when ``got`` equals ``want`` within tolerance; otherwise name the mistake.

    ``mistakes`` pairs a learner-facing message with the value a specific misconception
    produces; the first one ``got`` matches is reported. ``otherwise`` is the message when
    none matches (a generic one is used if omitted).
    """
    got_t = tensor(got, name=name, accept_numpy=True)
    if got_t.is_complex():
        # _matches compares real numbers (.double() would drop the imaginary part).
        raise Mistake(f"{name} holds complex numbers; it should hold real ones.")
    want_t = torch.as_tensor(want)
    if _matches(got_t, want_t, rtol, atol):
        return got_t
    for message, wrong in mistakes:
        if _matches(got_t, wrong, rtol, atol):
            raise Mistake(message)
    if tuple(got_t.shape) != tuple(want_t.shape):
        tensor(got_t, name=name, shape=tuple(want_t.shape))  # raises with a shape message
    finite(got_t, name=name)
    if otherwise is None:
        worst = (got_t.double() - want_t.double()).abs().max().item()
        otherwise = f"{name} differs from the expected values (largest difference {worst:.3g})."
    raise Mistake(otherwise)


def true(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Mistake(message)


# --- learner exceptions with a known cause ---------------------------------------------------

#: Recognises a learner exception: called with it, true when the exception has this cause.
ErrorMatcher = Callable[[LearnerError], bool]
#: (matcher, the misconception's message) or (matcher, message, book section).
KnownError = tuple[ErrorMatcher, str] | tuple[ErrorMatcher, str, str]


def explained_error(message: str, error: LearnerError) -> str:
    """``message`` (the misconception), followed by what the learner's code raised."""
    detail = error.detail.rstrip(". ")
    return f"{message} (Your code raised {error.exc_type}{': ' + detail if detail else ''}.)"


@contextlib.contextmanager
def known_errors(known: Sequence[KnownError]) -> Iterator[None]:
    """Turn a learner exception whose cause is known into a :class:`Mistake` naming that cause.

    Inside the block, a :class:`~actgrader.grading.answer.LearnerError` matched by one of
    ``known`` becomes ``Mistake(explained_error(message, error))``: the learner reads the
    misconception ("the product is in the wrong order") before PyTorch's words ("mat1 and mat2
    shapes cannot be multiplied"). Other exceptions pass through unchanged.
    """
    try:
        yield
    except LearnerError as error:
        for entry in known:
            if entry[0](error):
                raise Mistake(explained_error(entry[1], error), section=entry[2] if len(entry) > 2 else None) from None
        raise


def raised_by(compute: Callable[[], Any]) -> tuple[str, str] | None:
    """``(type name, message)`` of the exception ``compute()`` raises in the check's process, or None.

    Runs a misconception on the check's own data, so that its exception is the computed
    signature a learner's exception is compared with.
    """
    try:
        compute()
    except Exception as exc:  # noqa: BLE001 - the signature is whatever the misconception raises
        return type(exc).__name__, str(exc)
    return None


def raises_like(compute: Callable[[], Any]) -> ErrorMatcher:
    """A matcher: the learner raised what ``compute()`` raises here (same type, same message)."""

    def matches(error: LearnerError) -> bool:
        signature = raised_by(compute)
        if signature is None:
            return False
        exc_type, text = signature
        text = text if len(text) <= 300 else text[:300] + "..."  # as LearnerError keeps it
        return error.exc_type == exc_type and error.detail == text

    return matches


def error_mentions(exc_type: str, *fragments: str) -> ErrorMatcher:
    """A matcher: an exception of ``exc_type`` whose message contains every one of ``fragments``."""

    def matches(error: LearnerError) -> bool:
        return error.exc_type == exc_type and all(f in error.detail for f in fragments)

    return matches


_MATMUL_SHAPES = (
    re.compile(r"\((\d+)x(\d+) and (\d+)x(\d+)\)"),  # a @ b, torch.mm, torch.matmul, F.linear
    re.compile(r"shapes \[(\d+), (\d+)\] and \[(\d+), (\d+)\]"),  # torch.linalg.multi_dot
)


def matmul_shapes(error: LearnerError) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The two matrix shapes a failed matrix product names in its message, or None."""
    if error.exc_type != "RuntimeError":
        return None
    for pattern in _MATMUL_SHAPES:
        found = pattern.search(error.detail)
        if found:
            a, b, c, d = (int(n) for n in found.groups())
            return (a, b), (c, d)
    return None


def failed_matmul(*pairs: tuple[Sequence[int], Sequence[int]]) -> ErrorMatcher:
    """A matcher: a matrix product failed on one of ``pairs`` of shapes (computed from the misconception).

    PyTorch words the failure differently for ``@``, ``torch.mm`` and ``torch.linalg.multi_dot``,
    but always names the two shapes; those are the signature.
    """
    wanted = {(tuple(a), tuple(b)) for a, b in pairs}

    def matches(error: LearnerError) -> bool:
        return matmul_shapes(error) in wanted

    return matches
