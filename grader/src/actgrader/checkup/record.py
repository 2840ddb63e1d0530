"""One instrumented forward and backward pass that leaves the model exactly as it was.

:func:`record` runs ``loss_fn(model(x), y)`` with hooks on every leaf module and returns what
each module call saw (:class:`Call`) and the gradient of the loss with respect to every
parameter. Guarantees, whatever happens inside (an exception included):

* hooks are removed; every module's train/eval flag is restored;
* buffers (batch-norm running statistics) are put back as they were;
* gradients are computed with :func:`torch.autograd.grad`, so no ``.grad`` is written;
* the global random state is untouched (dropout draws from a forked, seeded generator).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor, nn

Mode = Literal["train", "eval"]


@dataclass
class Call:
    """One call of a leaf module during the forward pass, in the order the calls finished.

    ``raw_input``/``raw_output`` are the very tensor objects that went in and came out (for
    telling which module fed which); ``input``/``output`` are detached copies taken at the
    time, safe from later in-place operations.
    """

    order: int
    name: str
    module: nn.Module
    repeat: int
    raw_input: Any = None
    raw_output: Any = None
    input: Tensor | None = None
    output: Tensor | None = None

    @property
    def label(self) -> str:
        """The module's path in the model, with ``#k`` when the same module is called again."""
        base = self.name or type(self.module).__name__
        return base if self.repeat == 0 else f"{base}#{self.repeat + 1}"


@dataclass
class Recording:
    """Everything one instrumented pass produced."""

    calls: list[Call] = field(default_factory=list)
    output: Any = None
    loss: float | None = None
    loss_was_scalar: bool = True
    gradients: dict[str, Tensor | None] = field(default_factory=dict)
    frozen: set[str] = field(default_factory=set)
    forward_error: str | None = None
    loss_error: str | None = None
    backward_error: str | None = None
    parents_with_parameters: list[str] = field(default_factory=list)


def _first_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Tensor):
                return item
    return None


def _copy(value: Tensor | None) -> Tensor | None:
    return None if value is None else value.detach().clone()


@contextlib.contextmanager
def preserved(model: nn.Module) -> Iterator[None]:
    """Restore every module's train/eval flag and every buffer's value on exit."""
    flags = [(module, module.training) for module in model.modules()]
    buffers = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    try:
        yield
    finally:
        for module, flag in flags:
            module.train(flag)
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def record(
    model: nn.Module, x: Any, y: Any, loss_fn: Callable[[Any, Any], Tensor], *, mode: Mode = "train", seed: int = 0
) -> Recording:
    """Run ``loss_fn(model(x), y)`` once with every leaf module observed, and differentiate the loss.

    ``mode`` is the train/eval mode the pass runs in (``"train"``: what training sees,
    batch statistics and dropout included). Errors raised by the model or the loss are caught
    and reported in the :class:`Recording` (the check-up reports what it could not analyse
    rather than crash).
    """
    result = Recording()
    handles: list[torch.utils.hooks.RemovableHandle] = []
    seen: dict[int, int] = {}
    pending: dict[int, list[tuple[Any, Tensor | None]]] = {}

    def pre_hook(module: nn.Module, args: tuple[Any, ...]) -> None:
        raw = _first_tensor(args)
        pending.setdefault(id(module), []).append((raw, _copy(raw)))

    def make_hook(name: str) -> Callable[[nn.Module, tuple[Any, ...], Any], None]:
        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            stack = pending.get(id(module))
            raw_in, copy_in = stack.pop() if stack else (_first_tensor(args), None)
            repeat = seen.get(id(module), 0)
            seen[id(module)] = repeat + 1
            raw_out = _first_tensor(output)
            result.calls.append(
                Call(
                    order=len(result.calls),
                    name=name,
                    module=module,
                    repeat=repeat,
                    raw_input=raw_in,
                    raw_output=raw_out,
                    input=copy_in,
                    output=_copy(raw_out),
                )
            )

        return hook

    for name, module in model.named_modules():
        if any(True for _ in module.children()):
            if any(True for _ in module.parameters(recurse=False)):
                result.parents_with_parameters.append(name or type(module).__name__)
            continue
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(make_hook(name)))

    named = [(name, p) for name, p in model.named_parameters()]
    trainable = [(name, p) for name, p in named if p.requires_grad]
    result.frozen = {name for name, p in named if not p.requires_grad}

    try:
        with preserved(model), torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(seed)
            model.train(mode == "train")
            try:
                result.output = model(x)
            except Exception as exc:  # noqa: BLE001 (reported, not raised: see the docstring)
                result.forward_error = _error(exc)
                return result
            finally:
                for handle in handles:
                    handle.remove()
            try:
                loss = loss_fn(result.output, y)
                if not isinstance(loss, Tensor):
                    raise TypeError(f"the loss function returned {type(loss).__name__}, not a tensor")
            except Exception as exc:  # noqa: BLE001
                result.loss_error = _error(exc)
                return result
            if loss.numel() != 1:
                result.loss_was_scalar = False
                loss = loss.mean()
            result.loss = float(loss.detach())
            if not trainable or not loss.requires_grad:
                result.gradients = {name: None for name, _ in trainable}
                return result
            try:
                grads = torch.autograd.grad(loss, [p for _, p in trainable], allow_unused=True)
            except Exception as exc:  # noqa: BLE001
                result.backward_error = _error(exc)
                return result
            result.gradients = {name: g for (name, _), g in zip(trainable, grads, strict=True)}
    finally:
        for handle in handles:
            handle.remove()
    return result
