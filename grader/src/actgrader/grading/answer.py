"""How a check reaches the learner's answer.

A check case receives an :class:`Answer`. Calling it calls the learner's function; reading
``.value`` reads a learner's variable. Either way, arguments and results pass through the
codec (:mod:`actgrader.grading.codec`), so a check only ever handles plain data. Two
implementations exist:

* :class:`LocalAnswer` wraps an object in the current process (notebook self-check, nbgrader);
* ``actgrader.batch.remote.RemoteAnswer`` forwards each call to the sandboxed process that ran
  the submission (``actgrade grade``).

Both raise the same three exceptions for the three ways a learner's code can let a check
down: it raises (:class:`LearnerError`), it never returns (:class:`LearnerTimeout`), or it
takes its process down with it (:class:`LearnerCrashed`).
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

from actgrader.grading import codec


class LearnerProblem(Exception):
    """Base class: the learner's code did not produce a value for the check to judge."""


@dataclass
class LearnerError(LearnerProblem):
    """The learner's code raised ``exc_type`` with ``detail``; ``where`` is its last line."""

    exc_type: str
    detail: str
    where: str = ""

    def __str__(self) -> str:
        text = f"{self.exc_type}: {self.detail}" if self.detail else self.exc_type
        return f"{text} ({self.where})" if self.where else text

    @classmethod
    def from_exception(cls, exc: BaseException) -> LearnerError:
        detail = str(exc)
        if len(detail) > 300:
            detail = detail[:300] + "..."
        return cls(type(exc).__name__, detail, _learner_location(exc))


class LearnerTimeout(LearnerProblem):
    """The learner's code did not return within the time allowed."""


class LearnerCrashed(LearnerProblem):
    """The process running the learner's code ended (os._exit, a crash, the memory cap...)."""


class MissingAnswer(LearnerProblem):
    """The name the task asks for is not defined in the learner's notebook."""


def _learner_location(exc: BaseException) -> str:
    """The innermost frame that is not the grader's, e.g. 'line 4 in forward_pass'."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if "actgrader" not in frame.filename.replace("\\", "/").split("/"):
            return f"line {frame.lineno} in {frame.name}"
    return ""


class Answer(Protocol):
    """What a check case sees of the learner's answer."""

    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's function with copies of the arguments; return its result as data."""

    @property
    def value(self) -> Any:
        """The learner's variable, as data."""

    @property
    def is_callable(self) -> bool:
        """Whether the learner's object can be called."""


@contextlib.contextmanager
def quiet_learner_code():
    """Run learner code without letting warnings or stderr reach the cell's output.

    nbgrader scores a test cell 0 when it writes anything to stderr, so a harmless warning
    inside a learner's function must not leak out of a check.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            yield


#: The keyword :func:`call_with_slopes` adds to a call: it asks the learner's side, where the
#: autograd graph lives, to send back the slopes of the result as well. The learner's function
#: never receives it.
SLOPES_KEYWORD = "__actgrader_slopes__"


def call_learner(obj: Any, args_bytes: bytes) -> bytes:
    """Decode arguments, call ``obj`` quietly and encode what it returns.

    Shared by :class:`LocalAnswer` and the batch worker, so that the learner's function sees
    the same arguments and its result is judged the same way in both.
    """
    args, kwargs = codec.decode(args_bytes, allow_refs=True)
    request = kwargs.pop(SLOPES_KEYWORD, None)
    with quiet_learner_code():
        result = obj(*args, **kwargs) if request is None else _call_for_slopes(obj, args, kwargs, request)
    return codec.encode(result)


def _call_for_slopes(obj: Any, args: list[Any], kwargs: dict[str, Any], request: Any) -> dict[str, Any]:
    """Call ``obj`` with ``args[wrt]`` tracked by autograd; the result and the vector-Jacobian product.

    Runs on the learner's side. The learner's function receives a copy of the input that
    requires grad (not a leaf, so that in-place edits of it stay legal); the slope is
    ``d <result, cotangent> / d input`` (element-wise functions: the derivative, with a
    cotangent of ones). When no slope can be taken, ``problem`` says why. Exceptions raised by
    the learner's function or by its backward pass propagate like any other learner error.
    """
    import torch

    if not isinstance(request, dict) or not isinstance(request.get("wrt"), int):
        raise codec.CodecError("malformed slope request")
    wrt, cotangent = request["wrt"], request.get("cotangent")
    x = args[wrt]
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise codec.CodecError("slopes are taken with respect to a floating-point tensor")
    leaf = x.detach().clone().requires_grad_(True)
    args = list(args)
    args[wrt] = leaf.clone()
    with torch.enable_grad():
        out = obj(*args, **kwargs)
        if not isinstance(out, torch.Tensor) or not out.is_floating_point():
            return {"value": out, "slope": None, "problem": "not-a-tensor"}
        if not out.requires_grad:
            return {"value": out, "slope": None, "problem": "no-graph"}
        weights = torch.ones_like(out) if cotangent is None else cotangent
        if not isinstance(weights, torch.Tensor) or weights.shape != out.shape:
            return {"value": out.detach(), "slope": None, "problem": "shape"}
        (slope,) = torch.autograd.grad(out, leaf, grad_outputs=weights.to(out.dtype), allow_unused=True)
    if slope is None:
        return {"value": out.detach(), "slope": None, "problem": "unused"}
    return {"value": out.detach(), "slope": slope, "problem": None}


@dataclass(frozen=True)
class SlopedResult:
    """What :func:`call_with_slopes` brings back: the result, and the slope autograd sends back through it.

    ``problem`` is None when ``slope`` holds the slopes, otherwise why there are none:
    ``"not-a-tensor"`` (the result is not a floating-point tensor), ``"no-graph"`` (the result
    carries no autograd graph: computed with NumPy, ``.detach()``, ``.item()`` or under
    ``torch.no_grad()``), ``"unused"`` (the result does not depend on the input) or
    ``"shape"`` (the result's shape differs from the cotangent's).
    """

    value: Any
    slope: Any
    problem: str | None


def call_with_slopes(answer: Answer, *args: Any, wrt: int = 0, cotangent: Any = None) -> SlopedResult:
    """Call the learner's function and take, on its side, the slopes of its result with respect to ``args[wrt]``.

    With ``cotangent`` (a tensor of the result's shape) the slope is the vector-Jacobian
    product ``d <result, cotangent> / d args[wrt]``, which a function with vector outputs
    (softmax) needs; without, a cotangent of ones: the derivative of an element-wise function.
    The same in a notebook and in the batch grader: the request travels as a keyword argument
    through the same boundary as any call.
    """
    reply = answer(*args, **{SLOPES_KEYWORD: {"wrt": wrt, "cotangent": cotangent}})
    if not isinstance(reply, dict) or set(reply) != {"value", "slope", "problem"}:
        raise LearnerError("UnsupportedResult", "the slopes of the result could not be read")
    return SlopedResult(reply["value"], reply["slope"], reply["problem"])


class LocalAnswer:
    """An answer object living in this process (notebook self-check and nbgrader)."""

    def __init__(self, obj: Any, name: str) -> None:
        self._obj = obj
        self.name = name

    @property
    def is_callable(self) -> bool:
        return callable(self._obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not callable(self._obj):
            raise LearnerError("TypeError", f"{self.name} is a {type(self._obj).__name__}, not a function")
        payload = codec.encode((list(args), kwargs))
        try:
            result = call_learner(self._obj, payload)
        except codec.CodecError as exc:
            raise LearnerError("UnsupportedResult", str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the learner's function raised: report it, do not crash
            raise LearnerError.from_exception(exc) from None
        return codec.decode(result)

    @property
    def value(self) -> Any:
        try:
            return codec.roundtrip(self._obj)
        except codec.CodecError as exc:
            raise LearnerError("UnsupportedResult", str(exc)) from None
