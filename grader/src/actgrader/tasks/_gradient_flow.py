"""What the gradient-flow tasks share: networks handed over as tensors, the data, reading lists of numbers.

The tasks of the ``gradient-flow`` notebook give the learner a network as two lists of
tensors (``weights[k]`` of shape ``(n_{k+1}, n_k)``, ``biases[k]`` of shape ``(n_{k+1},)``)
and the two-spirals data of the chapters, so that "the same seed" means "the same tensors".
The dead-unit tasks (``dead_fraction`` and the two that reuse it) also share here their damaged
networks and the misreadings of "dead" their messages name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from actgrader import datasets
from actgrader.grading import Mistake, expect
from actgrader.reference.initialization import Scheme
from actgrader.reference.models import linear_layers, make_mlp, mlp_from_weights
from actgrader.reference.training import single_thread, train

Network = tuple[list[Tensor], list[Tensor]]

#: The dead-ReLU scenario of the tasks: the chapter's experiment made small enough for a check
#: that runs in well under a second (three hidden layers of 32 units, 128 points, 5 epochs).
SCENARIO_WIDTHS: tuple[int, ...] = (2, 32, 32, 32, 2)
SCENARIO_POINTS = 128
SCENARIO_EPOCHS = 5
SMALL_LR = 0.1
LARGE_LR = 2.0
#: After training, a learner's per-layer fractions may differ from the reference's by at most one
#: unit of a layer. Measured: the solution's loop (h @ W.T + b, autograd, p -= lr * g) and one in
#: float64 give exactly the reference's fractions in 1,200 and 200 runs of the scenario (both
#: rates, many seeds and data), and the final loss within 2e-7 (float32) and 7e-5 (float64).
UNIT_TOLERANCE = 1 / min(SCENARIO_WIDTHS[1:-1]) + 1e-9
#: Units of each hidden layer of the scenario's networks whose incoming weights and bias are all 0
#: (:func:`prune`): their pre-activation is exactly 0, so a ReLU unit there is dead from the start
#: and stays dead (its gradient is 0), while a Leaky ReLU unit still passes gradient. Two, so that
#: counting z < 0 as dead (or z >= 0 as passing) is off by more than the one unit a run may differ by.
PRUNED = 2
LOSS_RTOL = 1e-3
TRAINING_LOOP = (
    "Check the loop against the task: one generator seeded with `seed` once, before the first epoch; "
    "torch.randperm(len(x), generator=gen) at the start of every epoch; minibatches of 32 in that order; "
    "the mean cross-entropy of the logits; every weight and bias p moves to p - lr * (its gradient); "
    "then measure on all of x."
)


def closest_match(got: Tensor, candidates: Sequence[tuple[str, Tensor]]) -> str | None:
    """The message of the first candidate whose fractions ``got`` equals exactly, else of the first within one unit.

    A loop that departs from the task's in one way gives that departure's fractions exactly (the
    runs are deterministic); coarse fractions of different departures can lie within one unit of
    each other, so an exact match is preferred.
    """
    for message, wrong in candidates:
        if torch.allclose(got, wrong, rtol=0.0, atol=1e-9):
            return message
    return next((message for message, wrong in candidates if within_one_unit(got, wrong)), None)


def scenario_network(seed: int) -> Network:
    """The dead-ReLU scenario's network for ``seed``: :data:`SCENARIO_WIDTHS`, Kaiming, with :data:`PRUNED`
    pruned units per hidden layer (:func:`prune`)."""
    weights, biases = network(SCENARIO_WIDTHS, seed)
    return prune(weights, biases, PRUNED, torch.Generator().manual_seed(seed + 3))


def within_one_unit(got: Tensor, want: Tensor) -> bool:
    """Whether per-layer fractions of the scenario agree to within one unit of a layer (``UNIT_TOLERANCE``)."""
    return bool(((got - want).abs() <= UNIT_TOLERANCE).all())


def network(widths: Sequence[int], seed: int, *, init: Scheme = "kaiming", bias_std: float = 0.0) -> Network:
    """The weights and biases of ``make_mlp(widths, init=init, seed=seed)``, biases redrawn with ``bias_std``.

    ``bias_std = 0`` keeps the zero biases of the course's schemes; otherwise each bias is
    normal with that standard deviation, from a generator seeded with ``seed + 1``.
    """
    model = make_mlp(list(widths), "relu", init=init, seed=seed)
    weights = [layer.weight.detach().clone() for layer in linear_layers(model)]
    biases = [layer.bias.detach().clone() for layer in linear_layers(model)]
    if bias_std:
        gen = torch.Generator().manual_seed(seed + 1)
        biases = [torch.randn(b.shape, generator=gen) * bias_std for b in biases]
    return weights, biases


def spirals(n: int, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` points of the two-spirals data (inputs of shape ``(n, 2)``, labels 0 or 1), for odd ``n`` too."""
    x, y = datasets.two_spirals(n + n % 2, seed=seed)
    return x[:n], y[:n]


def numbers(value: Any, *, name: str, length: int, what: str) -> Tensor:
    """``value`` (a list, tuple, 1-D tensor or array of numbers) as a float64 vector of ``length`` entries.

    ``what`` says what one entry is ("one norm per layer"), for the message when the length
    is wrong.
    """
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, Tensor):
        if value.dim() != 1:
            raise Mistake(f"{name} should be a list of numbers ({what}); it is a tensor of shape {tuple(value.shape)}.")
        entries = list(value.detach())
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        raise Mistake(f"{name} should be a list of numbers ({what}), but it is a {type(value).__name__}.")
    if len(entries) != length:
        raise Mistake(f"{name} has {len(entries)} entries; it should have {length}: {what}.")
    out = []
    for entry in entries:
        if (isinstance(entry, Tensor) and entry.numel() == 1) or (
            isinstance(entry, np.ndarray | np.generic) and entry.size == 1
        ):
            entry = entry.item()
        if isinstance(entry, bool) or not isinstance(entry, int | float):
            raise Mistake(f"{name} should hold plain numbers ({what}); one entry is a {type(entry).__name__}.")
        out.append(float(entry))
    return torch.tensor(out, dtype=torch.float64)


# --- dead units: what `dead_fraction` and the tasks that reuse it share ---------------------------

DEAD_SOME_EXAMPLE = (
    "You counted units that are zero on at least one example. Half of a healthy ReLU layer is "
    "zero on any given example; a unit is dead only when it is zero on every example of the batch."
)
DEAD_ENTRIES = (
    "That is the share of zero outputs (entries), not of dead units. A unit (a column) is dead "
    "when its output is zero on every example (every row)."
)
DEAD_ALIVE = "That is the fraction of units still alive: dead is one minus it."
DEAD_AXES = (
    "The axes are swapped: you found the examples on which every unit is zero. A dead unit is a "
    "column of the layer's output that is zero in every row (reduce over dim=0, the batch)."
)
DEAD_COUNTS = "These are counts of dead units; the task asks for fractions (divide by the layer's width)."
DEAD_PERCENT = "These are percentages; the task asks for fractions between 0 and 1."
DEAD_STRICT = (
    "You counted units whose pre-activation is negative (z < 0) on every example, but ReLU outputs 0 "
    "at z = 0 too, and its slope there is 0: a unit whose pre-activation is <= 0 on every example is "
    "dead. Count z <= 0, or test the output itself, relu(z) == 0."
)
DEAD_THRESHOLD = (
    "You counted units whose outputs are tiny but positive as dead. A unit is dead only when its output "
    "is exactly 0 on every example: one that outputs 1e-9 somewhere still passes gradient back there. "
    "Compare with 0 exactly (h == 0), not with a tolerance."
)
DEAD_NO_BIASES = (
    "The biases were left out: each hidden layer computes relu(h @ W.T + b), and negative biases are "
    "what kills units here."
)
DEAD_NO_RELU = (
    "The next layer was fed the pre-activations z instead of the ReLU outputs relu(z): each hidden layer "
    "takes the previous layer's output h = relu(z) as its input."
)
DEAD_MEAN = (
    "You counted units whose average pre-activation (or output) is small or negative. A dead unit is "
    "zero on every example, not on average: one positive example keeps it alive."
)
DEAD_ONE_EXAMPLE = (
    "You looked at one example only. A unit is dead when its output is zero on every example of the "
    "batch: reduce over all the rows (dim=0)."
)


def damaged_network(
    seed: int, widths: tuple[int, ...], batch: int, bias_scale: float = 0.8, pruned: int = 0
) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """A Kaiming network whose hidden biases are drawn from ``[-bias_scale, 0]``: deeper layers get more dead units.

    With the default scale and three hidden layers of 16 units, about 11%, 33% and 51% of the
    units of layers 1, 2 and 3 are dead on 100 spirals (means over 200 seeds). ``pruned``
    units of each hidden layer (drawn from the seed) get all-zero incoming weights and bias:
    their pre-activation is exactly 0 on every example, so ReLU outputs 0 there and they are
    dead although no pre-activation is negative.
    """
    x, _ = spirals(batch, seed)
    weights, biases = network(widths, seed)
    gen = torch.Generator().manual_seed(seed + 2)
    biases = [-bias_scale * torch.rand(b.shape, generator=gen) for b in biases[:-1]] + [biases[-1]]
    return x, *prune(weights, biases, pruned, gen)


def prune(
    weights: list[Tensor], biases: list[Tensor], per_layer: int, gen: torch.Generator
) -> tuple[list[Tensor], list[Tensor]]:
    """Copies in which ``per_layer`` random units of each hidden layer have zero incoming weights and bias."""
    weights, biases = [w.clone() for w in weights], [b.clone() for b in biases]
    for k in range(len(weights) - 1):
        units = torch.randperm(len(biases[k]), generator=gen)[:per_layer]
        weights[k][units] = 0.0
        biases[k][units] = 0.0
    return weights, biases


def _pre_activations(x: Tensor, weights: list[Tensor], biases: list[Tensor], *, relu: bool = True) -> list[Tensor]:
    """Each hidden layer's pre-activations z on ``x`` (with ``relu=False``, each layer fed the previous z)."""
    h, out = x, []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        z = h @ w.T + b
        out.append(z)
        h = torch.relu(z) if relu else z
    return out


def _threshold_fractions(outs: list[Tensor], got: Tensor | None) -> Tensor | None:
    """The fractions a learner gets by calling "dead" every unit whose largest output is below some tolerance.

    The tolerance is not known, so it is read from the learner's own first fraction that
    exceeds the right one; the candidate is what that tolerance gives in every layer.
    """
    if got is None:
        return None
    largest = sorted({float(v) for h in outs for v in h.amax(dim=0) if 0 < float(v) <= 1e-2})
    for bound in largest:
        fractions = torch.tensor([float((h.amax(dim=0) <= bound).float().mean()) for h in outs], dtype=torch.float64)
        if torch.allclose(fractions, got, rtol=0.0, atol=1e-6):
            return fractions
    return None


def dead_fraction_mistakes(
    want: Tensor, x: Tensor, weights: list[Tensor], biases: list[Tensor], got: Tensor | None = None
) -> list[tuple[str, Tensor]]:
    """Dead fractions under the usual misreadings of "dead", each with the message that names it.

    ``got`` (the learner's fractions, when known) lets the tolerance of a "nearly zero" reading
    be recovered from the answer itself.
    """
    pre = _pre_activations(x, weights, biases)
    outs = [torch.relu(z) for z in pre]

    def per_layer(layers: list[Tensor], fn: Callable[[Tensor], Tensor]) -> Tensor:
        return torch.tensor([float(fn(t)) for t in layers], dtype=torch.float64)

    no_biases = [torch.zeros_like(b) for b in biases]
    mistakes = [
        (DEAD_SOME_EXAMPLE, per_layer(outs, lambda h: (h == 0).any(dim=0).float().mean())),
        (DEAD_ENTRIES, per_layer(outs, lambda h: (h == 0).float().mean())),
        (DEAD_ALIVE, 1 - want),
        (DEAD_AXES, per_layer(outs, lambda h: (h == 0).all(dim=1).float().mean())),
        (DEAD_COUNTS, per_layer(outs, lambda h: (h == 0).all(dim=0).float().sum())),
        (DEAD_PERCENT, want * 100),
        (DEAD_STRICT, per_layer(pre, lambda z: (z < 0).all(dim=0).float().mean())),
        (
            DEAD_NO_BIASES,
            per_layer(_pre_activations(x, weights, no_biases), lambda z: (z <= 0).all(dim=0).float().mean()),
        ),
        (
            DEAD_NO_RELU,
            per_layer(_pre_activations(x, weights, biases, relu=False), lambda z: (z <= 0).all(dim=0).float().mean()),
        ),
        (DEAD_MEAN, per_layer(pre, lambda z: (z.mean(dim=0) <= 0).float().mean())),
        (DEAD_ONE_EXAMPLE, per_layer(outs, lambda h: (h[0] == 0).float().mean())),
        (DEAD_ONE_EXAMPLE, per_layer(outs, lambda h: (h[-1] == 0).float().mean())),
    ]
    threshold = _threshold_fractions(outs, got)
    if threshold is not None:
        mistakes.append((DEAD_THRESHOLD, threshold))
    return mistakes


# --- the scenario's training, and the ways a learner's loop departs from it -----------------------

LOOP_SUM = (
    "Your training follows the loop, but with the summed cross-entropy of each minibatch: the task (like "
    "F.cross_entropy's default) takes the mean, and the sum makes every step 32 times larger."
)
LOOP_BIASES_FROZEN = (
    "Your training moves the weights but not the biases: every weight and every bias p moves to "
    "p - lr * (its gradient)."
)
LOOP_FULL_BATCH = (
    "Your training takes one step per epoch on the whole training set: the task takes minibatches of 32 "
    "examples, one step per minibatch."
)
LOOP_RESEEDED = (
    "Your training draws the same order of examples in every epoch: seed one generator once, before the "
    "first epoch, and draw torch.randperm(len(x), generator=gen) from it at the start of each epoch."
)
LOOP_LAST_BATCH = (
    "Your training is right, but you measured the trained network on the last minibatch only: measure it on all of x."
)


def trained(
    x: Tensor,
    y: Tensor,
    weights: list[Tensor],
    biases: list[Tensor],
    activation: str | Callable[[], torch.nn.Module],
    lr: float,
    epochs: int,
    seed: int,
    *,
    variant: str = "task",
) -> torch.nn.Sequential:
    """The network of the tensors after the scenario's training (:func:`actgrader.reference.training.train`).

    ``variant`` is ``"task"`` (the loop the tasks specify) or a departure from it that learners'
    loops make: ``"sum"`` (summed loss), ``"biases_frozen"``, ``"full_batch"``, ``"reseeded"``
    (the same order every epoch).
    """
    model = mlp_from_weights(weights, biases, activation)
    loss_fn = None
    if variant == "sum":

        def loss_fn(out: Tensor, target: Tensor) -> Tensor:
            return torch.nn.functional.cross_entropy(out, target, reduction="sum")

    if variant == "biases_frozen":
        for layer in linear_layers(model):
            layer.bias.requires_grad_(False)
    with single_thread():
        if variant == "reseeded":
            for _ in range(epochs):
                train(model, (x, y), lr, 1, seed)
        elif epochs:
            train(
                model, (x, y), lr, epochs, seed, batch_size=len(x) if variant == "full_batch" else 32, loss_fn=loss_fn
            )
    return model


#: The departures :func:`trained` computes, with the message that names each.
LOOP_VARIANTS: tuple[tuple[str, str], ...] = (
    ("sum", LOOP_SUM),
    ("biases_frozen", LOOP_BIASES_FROZEN),
    ("full_batch", LOOP_FULL_BATCH),
    ("reseeded", LOOP_RESEEDED),
)


def last_batch(n: int, epochs: int, seed: int) -> Tensor:
    """The indices of the examples in the last minibatch of the scenario's training on ``n`` examples."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.arange(n)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
    return order[(n - 1) // 32 * 32 :]


def weights_of(model: torch.nn.Module) -> Network:
    """The weights and biases of ``model``'s linear layers, detached copies."""
    layers = linear_layers(model)
    return [layer.weight.detach().clone() for layer in layers], [layer.bias.detach().clone() for layer in layers]


def consistent_misreadings(
    trained: list[tuple[str, Tensor]], got: Tensor, untrained: list[tuple[str, Tensor]], got_untrained: Tensor
) -> list[str]:
    """The misreadings that explain the learner's numbers both after training and without it.

    After training, a misreading's numbers can coincide with anything (numbers made up to have
    the chapter's property, a loop gone wrong); the same misreading must then also explain what
    the learner's function gives for the untrained network, where the training cannot be blamed.
    ``trained`` and ``untrained`` are (message, values) pairs of the two networks; the learner's
    numbers are compared within one unit of a layer after training and exactly without it.
    """
    without = {message for message, wrong in untrained if torch.allclose(got_untrained, wrong, rtol=0.0, atol=1e-6)}
    return [message for message, wrong in trained if message in without and within_one_unit(got, wrong)]


def close_dead_fractions(
    got: Tensor, want: Tensor, x: Tensor, weights: list[Tensor], biases: list[Tensor], otherwise: str
) -> None:
    """Pass when the learner's dead fractions equal ``want`` (to 1e-6); else name the misreading of "dead"."""
    expect.close(
        got,
        want,
        name="the dead fractions",
        rtol=0.0,
        atol=1e-6,
        mistakes=dead_fraction_mistakes(want, x, weights, biases, got),
        otherwise=otherwise,
    )
