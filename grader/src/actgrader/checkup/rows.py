"""The check-up's table: one row per layer (with the activation it feeds) or lone module, measured on one pass.

Explained in the chapter "The model check-up" (``book/model-checkup.md``). Each row holds the
share of dead units, the saturated share of pre-activations, their mean and spread, the
gradient per weight and the weight scale against the initialization suited to the activation;
the rules of :mod:`actgrader.checkup.rules` judge them.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from actgrader.checkup import kinds
from actgrader.checkup.analysis import Analysis
from actgrader.checkup.record import Call
from actgrader.checkup.report import LayerRow
from actgrader.checkup.thresholds import INIT_TOLERANCE, MIN_BATCH_FOR_DEAD, SATURATED_SLOPE, SCHEME_MATCH
from actgrader.reference.initialization import SCHEMES, weight_variance


def _follower(calls: list[Call], i: int) -> tuple[Call | None, bool]:
    """The activation (or softmax) call fed by layer call ``i``, through transparent modules.

    Also says whether a normalization layer sits between the two.
    """
    current = calls[i].raw_output
    normalized = False
    for call in calls[i + 1 :]:
        role = kinds.role(call.module)
        if call.raw_input is not current or current is None:
            return None, normalized
        if role == "transparent":
            normalized = normalized or isinstance(call.module, kinds.NORMALIZATION)
            current = call.raw_output
            continue
        if role in ("activation", "squash", "log-squash"):
            return call, normalized
        return None, normalized
    return None, normalized


def _feeds_layer(calls: list[Call], i: int) -> bool:
    """Whether layer call ``i``'s output goes straight (through transparent modules) into another layer."""
    current = calls[i].raw_output
    for call in calls[i + 1 :]:
        if call.raw_input is not current or current is None:
            return False
        role = kinds.role(call.module)
        if role == "transparent":
            current = call.raw_output
            continue
        return role == "layer"
    return False


def _dead_fraction(output: Tensor, dim: int) -> float:
    """The fraction of units (along ``dim``) that are exactly 0 on every example and position."""
    if output.ndim < 2:
        return float(not bool(output.ne(0).any()))
    alive = output.ne(0).movedim(dim, 0).reshape(output.shape[dim], -1).any(dim=1)
    return 1.0 - float(alive.float().mean())


def _saturated_fraction(module: nn.Module, z: Tensor) -> float | None:
    """The share of pre-activations where ``module``'s slope is under ``SATURATED_SLOPE`` of its slope at 0.

    The slopes come from autograd through the module itself (it is element-wise), so any
    saturating activation is handled the same way, the course's ``ScaledTanh`` included.
    """
    try:
        with torch.enable_grad():
            zz = z.detach().clone().requires_grad_(True)
            (slope,) = torch.autograd.grad(module(zz).sum(), zz)
            zero = torch.zeros(1, dtype=z.dtype, requires_grad=True)
            (slope0,) = torch.autograd.grad(module(zero).sum(), zero)
    except (RuntimeError, TypeError):
        return None
    peak = float(slope0.abs())
    if peak == 0:
        return None
    return float((slope.abs() < SATURATED_SLOPE * peak).double().mean())


def _grad_rms(module_name: str, module: nn.Module, gradients: dict[str, Tensor | None]) -> float | None:
    prefix = f"{module_name}." if module_name else ""
    names = [n for n, _ in module.named_parameters(recurse=False)]
    chosen = ["weight"] if "weight" in names else names
    grads = [gradients.get(prefix + n) for n in chosen]
    params = [getattr(module, n) for n in chosen]
    if not params or all(gradients.get(prefix + n) is None for n in chosen):
        return None  # frozen, or not on the path from the input to the loss
    total = sum(float(g.double().pow(2).sum()) for g in grads if g is not None)
    count = sum(p.numel() for p in params)
    return math.sqrt(total / count) if count else None


def _closest_scheme(variance: float, fan_in: int, fan_out: int) -> str | None:
    best, gap = None, math.inf
    for scheme in SCHEMES:
        ref = weight_variance(scheme, fan_in, fan_out)
        g = abs(math.log(variance / ref)) if variance > 0 else math.inf
        if g < gap:
            best, gap = scheme, g
    return best if gap <= math.log(SCHEME_MATCH) else None


def _describe(module: nn.Module) -> str:
    if isinstance(module, nn.Linear):
        return f"Linear({module.in_features}→{module.out_features})"
    if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        return f"{type(module).__name__}({module.in_channels}→{module.out_channels})"
    return type(module).__name__


def build_rows(analysis: Analysis) -> None:
    calls = analysis.rec.calls
    layer_indices = [i for i, c in enumerate(calls) if kinds.role(c.module) == "layer"]
    last_layer = layer_indices[-1] if layer_indices else None
    out = analysis.rec.output
    analysis.output_call = next((c for c in reversed(calls) if out is not None and c.raw_output is out), None)
    consumed: set[int] = set()
    graded_names: set[str] = set()
    for i, call in enumerate(calls):
        if i in consumed:
            continue
        role = kinds.role(call.module)
        has_params = any(True for _ in call.module.parameters(recurse=False))
        if role == "layer":
            follower, normalized = _follower(calls, i)
            if follower is not None:
                consumed.add(follower.order)
            row = _layer_row(analysis, call, follower, normalized, i == last_layer, calls, i, graded_names)
        elif role in ("activation", "squash", "log-squash"):
            row = _activation_row(analysis, call)
        elif role == "transparent":
            if not has_params:
                continue
            row = _plain_row(analysis, call, graded_names, "")
        else:
            note = "not a standard module: only its gradient is measured"
            row = _plain_row(analysis, call, graded_names, note)
            analysis.not_analysed.append(
                f"{call.label} ({type(call.module).__name__}) is not a module the check-up knows; "
                "if it is an activation, its layer's dead units, saturation and initialization were not judged"
            )
        analysis.rows.append(row)
    analysis.final_module = analysis.output_call.module if analysis.output_call is not None else None


def _row_index(analysis: Analysis) -> int:
    return len(analysis.rows) + 1


def _plain_row(analysis: Analysis, call: Call, graded: set[str], note: str) -> LayerRow:
    grad = None
    if call.name not in graded:
        grad = _grad_rms(call.name, call.module, analysis.rec.gradients)
        graded.add(call.name)
    shape = tuple(call.output.shape) if call.output is not None else None
    return LayerRow(_row_index(analysis), call.label, _describe(call.module), None, shape, grad_rms=grad, note=note)


def _activation_row(analysis: Analysis, call: Call) -> LayerRow:
    z = call.input
    dead = saturated = None
    if z is not None and call.output is not None and isinstance(call.module, kinds.DEAD_CAPABLE):
        if analysis.batch is not None and analysis.batch >= MIN_BATCH_FOR_DEAD:
            dead = _dead_fraction(call.output, kinds.unit_dim(None, call.output.ndim))
    if z is not None and isinstance(call.module, kinds.SATURATING):
        saturated = _saturated_fraction(call.module, z)
    row = LayerRow(
        _row_index(analysis),
        call.label,
        "—",
        type(call.module).__name__,
        tuple(call.output.shape) if call.output is not None else None,
        preact_mean=float(z.double().mean()) if z is not None and z.numel() else None,
        preact_std=float(z.double().std()) if z is not None and z.numel() > 1 else None,
        dead=dead,
        saturated=saturated,
    )
    if call is analysis.output_call:
        analysis.output_row = row
    return row


def _layer_row(
    analysis: Analysis,
    call: Call,
    follower: Call | None,
    normalized: bool,
    is_last: bool,
    calls: list[Call],
    i: int,
    graded: set[str],
) -> LayerRow:
    module = call.module
    z = follower.input if follower is not None else call.output
    act = follower.module if follower is not None else None
    out = follower.output if follower is not None else call.output
    dead = saturated = None
    if act is not None and isinstance(act, kinds.DEAD_CAPABLE) and out is not None:
        if analysis.batch is not None and analysis.batch >= MIN_BATCH_FOR_DEAD:
            dead = _dead_fraction(out, kinds.unit_dim(module, out.ndim))
    if act is not None and isinstance(act, kinds.SATURATING) and z is not None:
        saturated = _saturated_fraction(act, z)
    grad = None
    if call.name not in graded:
        grad = _grad_rms(call.name, module, analysis.rec.gradients)
        graded.add(call.name)
    note = ""
    scale = scheme = ok = None
    if isinstance(module, kinds.WEIGHTED_LAYERS) and call.repeat == 0:
        fan_in, fan_out = kinds.fans(module)
        variance = float(module.weight.detach().double().var()) if module.weight.numel() > 1 else 0.0
        scale = variance * fan_in
        scheme = _closest_scheme(variance, fan_in, fan_out)
        if is_last:
            note = "output layer: its initialization is not judged (output layers are often scaled down on purpose)"
        elif normalized:
            note = "a normalization layer follows: the weight scale does not reach the activation"
        elif act is None and not _feeds_layer(calls, i):
            note = "no activation module follows (a functional one such as F.relu is invisible to the check-up)"
            analysis.not_analysed.append(f"{call.label}: {note}; its initialization was not judged")
        else:
            suited = kinds.suited_init(act, fan_in, fan_out)
            if suited is None:
                note = f"no initialization rule for {type(act).__name__}"
            else:
                slack = INIT_TOLERANCE * (1 + 3 * math.sqrt(2 / module.weight.numel()))
                ok = suited.low / slack <= variance <= suited.high * slack
                if not ok:
                    bound = suited.low if variance < suited.low else suited.high
                    analysis.init_ratios[call.label] = variance / bound
                    analysis.init_detail[call.label] = (act, suited, variance, fan_in)
    row = LayerRow(
        _row_index(analysis),
        call.label,
        _describe(module),
        type(act).__name__ if act is not None else None,
        tuple(out.shape) if out is not None else None,
        preact_mean=float(z.double().mean()) if z is not None and z.numel() else None,
        preact_std=float(z.double().std()) if z is not None and z.numel() > 1 else None,
        dead=dead,
        saturated=saturated,
        grad_rms=grad,
        init_scale=scale,
        init_scheme=scheme,
        init_ok=ok,
        note=note,
    )
    if is_last or (follower is not None and follower is analysis.output_call) or call is analysis.output_call:
        analysis.output_row = row
    elif act is not None:
        analysis.hidden_rows.append(row)
    return row
