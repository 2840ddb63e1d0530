"""From one recorded pass to table rows and findings: the thresholds and the reasons for them.

Every threshold is a named constant with the reason for its value. They are rules of thumb
for spotting a problem on one batch, not laws: the book chapters that each finding links to
show the effect they stand for.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from actgrader.checkup import kinds
from actgrader.checkup.record import Call, Recording
from actgrader.checkup.report import Finding, LayerRow, Report
from actgrader.reference.initialization import SCHEMES, weight_variance

# Seed 004's rule of thumb: more than 30% of a ReLU layer's units off for every example of a
# batch is "usually a dead-neuron problem". A healthy Kaiming-initialized ReLU layer has a few
# per cent to about 10% such units on the course's data (measured in tests/checkup).
DEAD_FRACTION = 0.30
# A live unit is zero on each example with probability about 1/2, so on all of a batch of B
# examples with probability about 2**-B: from 16 examples on, "zero on the whole batch" is
# evidence, below that it is chance, and the dead-unit check is skipped.
MIN_BATCH_FOR_DEAD = 16
# At one learning rate, a layer whose weights get gradients 100 times smaller than another's
# moves 100 times slower. Healthy networks in the course stay within a factor of about 10
# across layers; a 20-layer sigmoid stack is at 1e-12.
GRADIENT_RATIO = 1e-2
# A saturating activation's unit counts as saturated where its slope is under a tenth of its
# largest (tanh beyond |z| = 1.82, the sigmoid beyond |z| = 3.64) ...
SATURATED_SLOPE = 0.1
# ... and a layer as saturated when more than half of its pre-activations are.
SATURATED_SHARE = 0.5
# The spread (standard deviation) of pre-activations should stay of the same order through
# the hidden layers; a tenfold change from the first to the last means the forward signal is
# vanishing or exploding, which matched initialization exists to prevent.
SPREAD_CHANGE = 10.0
# The schemes differ by factors of 2 or more (Kaiming is twice LeCun; nn.Linear's default a
# third of LeCun), so a factor of 1.5 on the weight variance tells them apart. The band is
# widened by three standard errors of a variance estimated from n weights, sqrt(2 / n), so a
# small layer is not flagged for sampling noise.
INIT_TOLERANCE = 1.5
# A mismatched scale multiplies the signal's variance at every layer; the finding is a warning
# when the product over the flagged layers exceeds 10 (either way), a note otherwise.
INIT_COMPOUND = 10.0
# A scheme is named in the table when the measured variance is within this factor of it.
SCHEME_MATCH = 1.25

#: Every finding the check-up can report: code -> what it stands for. grader/README.md documents
#: each of them (a test checks), and the chapter lists them.
CODES: dict[str, str] = {
    "output-loss-mismatch": "the last module does not suit the loss (double softmax, a sigmoid before "
    "BCEWithLogitsLoss, NLLLoss without LogSoftmax, softmax outputs on multi-label targets)",
    "output-loss-redundant": "LogSoftmax before CrossEntropyLoss: changes nothing, can go",
    "bce-on-sigmoid": "Sigmoid then BCELoss: correct, BCEWithLogitsLoss is the stable form",
    "bce-clamped": "sigmoid outputs exactly 0 or 1 under BCELoss: loss read as 100, gradient 0",
    "sigmoid-mse": "Sigmoid with a squared or absolute error on 0/1 targets: gradient carries p(1 - p)",
    "output-range": "regression targets outside the output activation's range (a ReLU output, negative targets)",
    "loss-failed": "the loss could not be computed on the model's output",
    "forward-failed": "the model could not run on the batch",
    "dead-relu": f"more than {100 * DEAD_FRACTION:.0f}% of a ReLU layer's units are zero on every example",
    "vanishing-gradients": f"a layer's gradient per weight is under {GRADIENT_RATIO:g} of another's, on the input side",
    "exploding-gradients": "the same ratio, with the large gradients on the input side",
    "no-gradient": "every parameter's gradient is exactly zero",
    "non-finite": "the loss or a gradient is inf or nan",
    "saturated": f"more than {100 * SATURATED_SHARE:.0f}% of a tanh/sigmoid layer's pre-activations are saturated",
    "signal-scale": f"the spread of pre-activations changes more than {SPREAD_CHANGE:g}-fold through the hidden layers",
    "init-mismatch": "the weight scale does not suit the activation that follows (e.g. Kaiming before tanh)",
}

SECTIONS = {
    "double-softmax": "output-and-loss#sec-double-softmax",
    "bce": "output-and-loss#sec-bce-stability",
    "table": "output-and-loss#sec-output-loss-table",
    "multilabel": "output-and-loss#sec-multilabel",
    "saturated-output": "output-and-loss#sec-saturated-sigmoid",
    "relu-output": "output-and-loss#sec-relu-output",
    "dead": "dead-relus#sec-dead-definition",
    "gradients": "vanishing-gradients#sec-deep-profile",
    "exploding": "exploding-gradients#sec-explode-source",
    "saturation": "vanishing-gradients#sec-slopes",
    "spread": "initialization#sec-variance-propagation",
    "init": "initialization#sec-mismatch",
    "codes": "model-checkup#sec-checkup-codes",
    "limits": "model-checkup#sec-checkup-limits",
}


# --- rows ---------------------------------------------------------------------------------------


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


class _Analysis:
    """Builds the rows and findings of one report from one :class:`Recording`."""

    def __init__(self, rec: Recording, x: Any, y: Any, loss_fn: Callable[..., Any]) -> None:
        self.rec = rec
        self.y = y
        self.loss_fn = loss_fn
        self.batch = int(x.shape[0]) if isinstance(x, Tensor) and x.ndim > 0 else None
        self.rows: list[LayerRow] = []
        self.findings: list[Finding] = []
        self.not_analysed: list[str] = []
        self.init_ratios: dict[str, float] = {}
        self.hidden_rows: list[LayerRow] = []
        self.output_row: LayerRow | None = None
        self.output_call: Call | None = None
        self.final_module: nn.Module | None = None
        self.init_detail: dict[str, tuple[nn.Module | None, kinds.SuitedInit, float, int]] = {}

    # rows ---------------------------------------------------------------------------------------

    def build_rows(self) -> None:
        calls = self.rec.calls
        layer_indices = [i for i, c in enumerate(calls) if kinds.role(c.module) == "layer"]
        last_layer = layer_indices[-1] if layer_indices else None
        out = self.rec.output
        self.output_call = next((c for c in reversed(calls) if out is not None and c.raw_output is out), None)
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
                row = self._layer_row(call, follower, normalized, i == last_layer, calls, i, graded_names)
            elif role in ("activation", "squash", "log-squash"):
                row = self._activation_row(call)
            elif role == "transparent":
                if not has_params:
                    continue
                row = self._plain_row(call, graded_names, "")
            else:
                note = "not a standard module: only its gradient is measured"
                row = self._plain_row(call, graded_names, note)
                self.not_analysed.append(
                    f"{call.label} ({type(call.module).__name__}) is not a module the check-up knows; "
                    "if it is an activation, its layer's dead units, saturation and initialization were not judged"
                )
            self.rows.append(row)
        self.final_module = self.output_call.module if self.output_call is not None else None

    def _row_index(self) -> int:
        return len(self.rows) + 1

    def _plain_row(self, call: Call, graded: set[str], note: str) -> LayerRow:
        grad = None
        if call.name not in graded:
            grad = _grad_rms(call.name, call.module, self.rec.gradients)
            graded.add(call.name)
        shape = tuple(call.output.shape) if call.output is not None else None
        return LayerRow(self._row_index(), call.label, _describe(call.module), None, shape, grad_rms=grad, note=note)

    def _activation_row(self, call: Call) -> LayerRow:
        z = call.input
        dead = saturated = None
        if z is not None and call.output is not None and isinstance(call.module, kinds.DEAD_CAPABLE):
            if self.batch is not None and self.batch >= MIN_BATCH_FOR_DEAD:
                dead = _dead_fraction(call.output, kinds.unit_dim(None, call.output.ndim))
        if z is not None and isinstance(call.module, kinds.SATURATING):
            saturated = _saturated_fraction(call.module, z)
        row = LayerRow(
            self._row_index(),
            call.label,
            "—",
            type(call.module).__name__,
            tuple(call.output.shape) if call.output is not None else None,
            preact_mean=float(z.double().mean()) if z is not None and z.numel() else None,
            preact_std=float(z.double().std()) if z is not None and z.numel() > 1 else None,
            dead=dead,
            saturated=saturated,
        )
        if call is self.output_call:
            self.output_row = row
        return row

    def _layer_row(
        self,
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
            if self.batch is not None and self.batch >= MIN_BATCH_FOR_DEAD:
                dead = _dead_fraction(out, kinds.unit_dim(module, out.ndim))
        if act is not None and isinstance(act, kinds.SATURATING) and z is not None:
            saturated = _saturated_fraction(act, z)
        grad = None
        if call.name not in graded:
            grad = _grad_rms(call.name, module, self.rec.gradients)
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
                self.not_analysed.append(f"{call.label}: {note}; its initialization was not judged")
            else:
                suited = kinds.suited_init(act, fan_in, fan_out)
                if suited is None:
                    note = f"no initialization rule for {type(act).__name__}"
                else:
                    slack = INIT_TOLERANCE * (1 + 3 * math.sqrt(2 / module.weight.numel()))
                    ok = suited.low / slack <= variance <= suited.high * slack
                    if not ok:
                        bound = suited.low if variance < suited.low else suited.high
                        self.init_ratios[call.label] = variance / bound
                        self.init_detail[call.label] = (act, suited, variance, fan_in)
        row = LayerRow(
            self._row_index(),
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
        if is_last or (follower is not None and follower is self.output_call) or call is self.output_call:
            self.output_row = row
        elif act is not None:
            self.hidden_rows.append(row)
        return row

    # findings -------------------------------------------------------------------------------------

    def add(self, severity: str, code: str, layers: list[str], message: str, meaning: str, section: str) -> None:
        if code not in CODES:
            raise ValueError(f"finding code {code!r} is not in CODES: document it first")
        self.findings.append(Finding(severity, code, tuple(layers), message, meaning, SECTIONS[section]))  # type: ignore[arg-type]

    def check_dead(self) -> None:
        if self.batch is None:
            self.not_analysed.append("dead units: the batch is not a tensor, so its size is unknown; not counted")
            return
        if self.batch < MIN_BATCH_FOR_DEAD:
            self.not_analysed.append(
                f"dead units: a batch of {self.batch} is too small to tell a dead unit from chance "
                f"(use at least {MIN_BATCH_FOR_DEAD} examples)"
            )
            return
        dead = [r for r in self.rows if r.dead is not None and r.dead > DEAD_FRACTION]
        if not dead:
            return
        parts = ", ".join(f"{r.name}: {100 * r.dead:.0f}%" for r in dead if r.dead is not None)
        self.add(
            "warning",
            "dead-relu",
            [r.name for r in dead],
            f"ReLU units that are zero on every example of the batch: {parts} (threshold {100 * DEAD_FRACTION:.0f}%).",
            "A unit that is never positive passes no gradient to its weights and cannot recover; that "
            "capacity is lost. Usual causes: a too-large learning rate, a badly scaled initialization. "
            "Try a smaller learning rate, Kaiming initialization, or Leaky ReLU/GELU.",
            "dead",
        )

    def check_gradients(self) -> None:
        rec = self.rec
        if rec.loss is not None and not math.isfinite(rec.loss):
            self.add(
                "error",
                "non-finite",
                [],
                f"The loss is {rec.loss}.",
                "Nothing can be learned from a loss that is inf or nan: look for a log of 0 (BCE on "
                "rounded probabilities), a division by 0, or weights that have already overflowed.",
                "bce",
            )
            return
        grads = {n: g for n, g in rec.gradients.items()}
        bad = [n for n, g in grads.items() if g is not None and not bool(torch.isfinite(g).all())]
        if bad:
            self.add(
                "error",
                "non-finite",
                bad[:5],
                f"{len(bad)} parameter gradient(s) contain inf or nan.",
                "One step would destroy those weights. Find the operation that overflows (often a loss "
                "computed from rounded probabilities, or exploding activations).",
                "codes",
            )
            return
        if grads and all(g is None or not bool(g.any()) for g in grads.values()):
            self.add(
                "error",
                "no-gradient",
                [],
                "Every parameter's gradient is exactly zero on this batch.",
                "No weight can change. Typical causes: an output ReLU that is off for every example, "
                "every unit of a layer dead, or a loss that does not depend on the model's output.",
                "codes",
            )
            return
        # Layers with a fan-in (Linear, Conv) carry an init_scale: compare those, like with like.
        measured = [r for r in self.rows if r.grad_rms is not None and r.init_scale is not None]
        if len(measured) < 2:
            return
        values = [r.grad_rms or 0.0 for r in measured]
        hi = max(range(len(values)), key=values.__getitem__)
        lo = min(range(len(values)), key=values.__getitem__)
        if values[hi] == 0 or values[lo] >= GRADIENT_RATIO * values[hi]:
            return
        ratio = values[lo] / values[hi]
        vanishing = lo < hi
        names = [measured[lo].name, measured[hi].name]
        if vanishing:
            self.add(
                "warning",
                "vanishing-gradients",
                names,
                f"The gradient per weight of {measured[lo].name} is {ratio:.1e} times that of "
                f"{measured[hi].name} (threshold {GRADIENT_RATIO:g}).",
                "Layers near the input get far smaller updates than layers near the output, so they "
                "barely learn. The usual cause is a product of small slopes through depth (sigmoid or "
                "tanh hidden layers, saturated units) or dead units; ReLU-family activations with "
                "matched initialization, or normalization, keep the gradients comparable.",
                "gradients",
            )
        else:
            self.add(
                "warning",
                "exploding-gradients",
                names,
                f"The gradient per weight of {measured[hi].name} (input side) is {1 / ratio:.1e} times that "
                f"of {measured[lo].name} (threshold {1 / GRADIENT_RATIO:g}).",
                "Gradients grow from the output towards the input, so the first layers take steps far "
                "larger than the last: check the initialization scale (too large for the activation), "
                "or clip the gradient norm.",
                "exploding",
            )

    def check_saturation(self) -> None:
        rows = [r for r in self.hidden_rows if r.saturated is not None and r.saturated > SATURATED_SHARE]
        rows += [
            r
            for r in self.rows
            if r.kind == "—" and r is not self.output_row and r.saturated is not None and r.saturated > SATURATED_SHARE
        ]
        if not rows:
            return
        parts = ", ".join(f"{r.name}: {100 * (r.saturated or 0):.0f}%" for r in rows)
        self.add(
            "warning",
            "saturated",
            [r.name for r in rows],
            f"Pre-activations where the activation's slope is under {SATURATED_SLOPE:g} of its peak: {parts}.",
            "A saturated unit passes almost no gradient back, and a stack of them multiplies those small "
            "slopes. Pre-activations are too large: scale the initialization down (Xavier/LeCun for "
            "tanh and sigmoid), normalize, or use a non-saturating activation.",
            "saturation",
        )

    def check_spread(self) -> None:
        rows = [r for r in self.hidden_rows if r.preact_std is not None and r.preact_std > 0]
        if len(rows) < 3:
            return
        first, last = rows[0], rows[-1]
        change = (last.preact_std or 0.0) / (first.preact_std or 1.0)
        if 1 / SPREAD_CHANGE <= change <= SPREAD_CHANGE:
            return
        direction = "shrinks" if change < 1 else "grows"
        self.add(
            "warning",
            "signal-scale",
            [first.name, last.name],
            f"The spread of pre-activations {direction} from {first.preact_std:.3g} ({first.name}) to "
            f"{last.preact_std:.3g} ({last.name}), a factor of {change:.2g}.",
            "The forward signal fades or blows up with depth: the weight scale does not suit the "
            "activation. Initialize each layer with the scheme for its activation (Kaiming for "
            "ReLU, Xavier or LeCun for tanh), or add normalization.",
            "spread",
        )

    def check_init(self) -> None:
        for direction in ("large", "small"):
            flagged = {name: r for name, r in self.init_ratios.items() if (r > 1) == (direction == "large")}
            if not flagged:
                continue
            compound = math.prod(flagged.values())
            severity = "warning" if not 1 / INIT_COMPOUND <= compound <= INIT_COMPOUND else "info"
            parts = []
            for name in flagged:
                act, suited, variance, fan_in = self.init_detail[name]
                act_name = type(act).__name__ if act is not None else "no activation"
                low, high = suited.low * fan_in, suited.high * fan_in
                want = f"{low:.3g}" if math.isclose(low, high) else f"{low:.3g} to {high:.3g}"
                parts.append(f"{name} ({act_name}): {variance * fan_in:.3g}, suited {want} ({suited.schemes})")
            self.add(
                severity,
                "init-mismatch",
                list(flagged),
                f"Weight variance × fan-in {'above' if direction == 'large' else 'below'} what the activation "
                f"suits: {'; '.join(parts)}. Over these layers the signal's variance is scaled by about "
                f"{compound:.2g}.",
                "Each layer multiplies the variance of the signal by its mismatch, so the error compounds "
                "with depth: too large saturates tanh and sigmoid or blows up ReLU networks, too small "
                "fades the signal. Initialize with the scheme that suits the activation. (After training, "
                "this compares the weights' current scale.)",
                "init",
            )

    def check_output(self) -> None:
        rec = self.rec
        name = kinds.loss_name(self.loss_fn)
        if rec.loss_error is not None:
            self.add(
                "error",
                "loss-failed",
                [],
                f"The loss could not be computed: {rec.loss_error}",
                "Check the target's shape and dtype for this loss, and that a loss expecting "
                "probabilities (BCELoss) receives values in [0, 1].",
                "table",
            )
        if name is None:
            self.not_analysed.append(
                f"the loss function {getattr(self.loss_fn, '__name__', type(self.loss_fn).__name__)} is not one the "
                "check-up knows: whether the output suits it was not checked"
            )
            return
        out = rec.output
        if not isinstance(out, Tensor):
            self.not_analysed.append("the model's output is not a tensor: the output/loss match was not checked")
            return
        expects = kinds.loss_expects(self.loss_fn)
        final = self.final_module
        final_name = type(final).__name__ if final is not None else None
        looks_softmax = _looks_like_softmax(out)
        where = [self.output_call.label] if self.output_call is not None else []
        if final is None or kinds.role(final) not in ("activation", "squash", "log-squash"):
            if final is None:
                self.not_analysed.append(
                    "the model's output is made inside forward(), not by a module: the output check "
                    "relied on the values alone"
                )
            if looks_softmax:
                final_name = "softmax (the outputs are non-negative and sum to 1)"
        if expects == "logits":
            self._logits_loss(name, final, final_name, looks_softmax, where)
        elif expects == "log-probabilities":
            if isinstance(final, nn.LogSoftmax):
                return
            what = "probabilities (Softmax)" if isinstance(final, kinds.SQUASH) or looks_softmax else "raw outputs"
            self.add(
                "error",
                "output-loss-mismatch",
                where,
                f"{name} expects log-probabilities, and the model gives it {what}.",
                "NLLLoss only picks -input[target]: on probabilities it minimizes -p instead of -log p, and on "
                "raw outputs it can be driven to minus infinity. Put LogSoftmax last, or better drop it and "
                "use CrossEntropyLoss on the logits.",
                "table",
            )
        elif expects == "probabilities":
            self._probabilities_loss(name, final, out)
        elif expects == "values":
            self._values_loss(name, final, out, where)

    def _logits_loss(
        self, name: str, final: nn.Module | None, final_name: str | None, looks_softmax: bool, where: list[str]
    ) -> None:
        if isinstance(final, kinds.SQUASH) or (looks_softmax and not isinstance(final, nn.Sigmoid)):
            self.add(
                "error",
                "output-loss-mismatch",
                where,
                f"The model ends with {final_name} and {name} applies its own softmax: a double softmax.",
                "The loss treats probabilities in [0, 1] as logits, so it can never become small and its "
                "gradients are capped and vanish on confidently wrong examples. Remove the softmax from the "
                "model; apply it only to read probabilities.",
                "double-softmax",
            )
        elif isinstance(final, nn.Sigmoid):
            detail = "a sigmoid applied twice" if name == "BCEWithLogitsLoss" else "logits squeezed into (0, 1)"
            self.add(
                "error",
                "output-loss-mismatch",
                where,
                f"The model ends with Sigmoid and {name} expects logits: {detail}.",
                "The loss squashes its input itself; given values in (0, 1) its predictions stay near the "
                "middle and the gradients are small. Remove the Sigmoid (BCEWithLogitsLoss computes it, "
                "stably), and apply torch.sigmoid only to read probabilities.",
                "bce" if name == "BCEWithLogitsLoss" else "double-softmax",
            )
        elif isinstance(final, nn.LogSoftmax) and name == "CrossEntropyLoss":
            self.add(
                "info",
                "output-loss-redundant",
                where,
                "The model ends with LogSoftmax before CrossEntropyLoss.",
                "Harmless: log-softmax of log-probabilities gives them back unchanged, so this equals "
                "NLLLoss on LogSoftmax. The LogSoftmax module can simply be removed.",
                "table",
            )
        elif final is not None and kinds.role(final) in ("activation", "log-squash"):
            severity = "error" if name == "BCEWithLogitsLoss" else "warning"
            self.add(
                severity,
                "output-loss-mismatch",
                where,
                f"The model ends with {type(final).__name__} and {name} expects unbounded logits.",
                "An activation on the output limits the logits the loss can see (a ReLU cannot go "
                "negative, so BCEWithLogitsLoss can never predict a label absent). End with the last "
                "linear layer.",
                "table",
            )

    def _probabilities_loss(self, name: str, final: nn.Module | None, out: Tensor) -> None:
        where = [self.output_call.label] if self.output_call is not None else []
        if isinstance(final, nn.Sigmoid):
            rounded = int(((out == 0) | (out == 1)).sum())
            if rounded:
                self.add(
                    "warning",
                    "bce-clamped",
                    where,
                    f"{rounded} of {out.numel()} sigmoid outputs are exactly 0 or 1 in {out.dtype}.",
                    "For these, BCELoss clamps log(0) to -100: the loss reads 100 and the gradient is 0 "
                    "instead of the largest it should be. Drop the Sigmoid and use BCEWithLogitsLoss.",
                    "bce",
                )
            else:
                self.add(
                    "info",
                    "bce-on-sigmoid",
                    where,
                    "Sigmoid then BCELoss: a correct pair.",
                    "It breaks only at large logits (beyond about 17 in float32 the sigmoid rounds to 1); "
                    "BCEWithLogitsLoss on the logit computes the same loss without that limit.",
                    "bce",
                )
        elif isinstance(final, kinds.SQUASH):
            y = self.y
            if isinstance(y, Tensor) and y.ndim >= 2 and bool((y.sum(dim=-1) != 1).any()):
                self.add(
                    "error",
                    "output-loss-mismatch",
                    where,
                    "Softmax outputs with a per-label BCE, on targets whose rows do not sum to 1.",
                    "Softmax outputs always sum to 1, so rows with several labels (or none) cannot be "
                    "matched: this is a multi-label problem. Use one logit per label and BCEWithLogitsLoss.",
                    "multilabel",
                )

    def _values_loss(self, name: str, final: nn.Module | None, out: Tensor, where: list[str]) -> None:
        y = self.y
        if final is None or not isinstance(y, Tensor) or not y.is_floating_point():
            return
        bounds = _output_range(final)
        if bounds is None:
            return
        low, high = bounds
        outside = float(((y < low) | (y > high)).float().mean())
        if outside > 0:
            self.add(
                "error",
                "output-range",
                where,
                f"The model ends with {type(final).__name__}, whose outputs lie in [{low:g}, {high:g}], and "
                f"{100 * outside:.0f}% of the targets are outside that range.",
                "Those targets can never be reached, and a ReLU output pushed below 0 stops passing "
                "gradients. Regression normally ends with a linear layer: remove the output activation.",
                "relu-output",
            )
        elif isinstance(final, nn.Sigmoid) and bool(((y == 0) | (y == 1)).all()):
            self.add(
                "info",
                "sigmoid-mse",
                where,
                f"Sigmoid with {name} on 0/1 targets.",
                "The gradient carries the sigmoid's slope p(1 - p), tiny when a prediction is confidently "
                "wrong; BCEWithLogitsLoss on the logit cancels it.",
                "saturated-output",
            )

    def report(self, loss_fn: Callable[..., Any], mode: str) -> Report:
        name = kinds.loss_name(loss_fn) or getattr(loss_fn, "__name__", type(loss_fn).__name__)
        return Report(self.rows, self.findings, self.rec.loss, name, self.batch, mode, self.not_analysed)


def _looks_like_softmax(out: Tensor) -> bool:
    """Non-negative rows of at least two entries that sum to 1: what a softmax inside ``forward`` leaves."""
    if out.ndim < 2 or out.shape[-1] < 2 or not out.is_floating_point():
        return False
    values = out.detach()
    if not bool((values >= 0).all()):
        return False
    sums = values.double().sum(dim=-1)
    return bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-4))


def _output_range(module: nn.Module) -> tuple[float, float] | None:
    if isinstance(module, nn.ReLU | nn.Softplus):
        return 0.0, math.inf
    if isinstance(module, nn.ReLU6):
        return 0.0, 6.0
    if isinstance(module, nn.Sigmoid | nn.Hardsigmoid | nn.Softmax | nn.Softmin):
        return 0.0, 1.0
    if isinstance(module, nn.Tanh | nn.Softsign):
        return -1.0, 1.0
    if isinstance(module, nn.Hardtanh):
        return float(module.min_val), float(module.max_val)
    if isinstance(module, kinds.ScaledTanh):
        return -abs(module.a), abs(module.a)
    return None


def analyse(rec: Recording, x: Any, y: Any, loss_fn: Callable[..., Any], mode: str) -> Report:
    """Rows and findings for one recorded pass."""
    analysis = _Analysis(rec, x, y, loss_fn)
    if rec.forward_error is not None:
        analysis.add(
            "error",
            "forward-failed",
            [],
            f"The model could not run on this batch: {rec.forward_error}",
            "Nothing could be measured. Check that the batch has the shape and dtype the first layer expects.",
            "limits",
        )
        return analysis.report(loss_fn, mode)
    analysis.build_rows()
    analysis.check_output()
    analysis.check_dead()
    if rec.backward_error is not None:
        analysis.not_analysed.append(f"the backward pass failed ({rec.backward_error}): no gradients were measured")
    elif rec.loss is not None:
        analysis.check_gradients()
    analysis.check_saturation()
    analysis.check_spread()
    analysis.check_init()
    for name in rec.parents_with_parameters:
        analysis.not_analysed.append(
            f"{name} holds parameters of its own besides its submodules: they enter the gradients but no row"
        )
    if not rec.loss_was_scalar:
        analysis.not_analysed.append("the loss was not a scalar (reduction='none'?): its mean was differentiated")
    return analysis.report(loss_fn, mode)
