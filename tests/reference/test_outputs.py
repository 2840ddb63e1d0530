"""Output activations and losses: closed forms against autograd and torch's own losses."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from actgrader import datasets
from actgrader.experiments import output_loss as ol
from actgrader.reference import outputs as o
from actgrader.reference.models import make_mlp


def _logits(n: int = 32, classes: int = 5, scale: float = 3.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, classes, generator=g, dtype=torch.float64)


def _targets(n: int = 32, classes: int = 5, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, classes, (n,), generator=torch.Generator().manual_seed(seed))


# --- double softmax ------------------------------------------------------------------------------


def test_cross_entropy_gradient_closed_form_matches_autograd():
    z, y = _logits(), _targets()
    assert torch.allclose(o.logit_gradient(z, y, softmax_first=False), o.cross_entropy_gradient(z, y))


def test_double_softmax_gradient_is_the_softmax_jacobian_times_the_outer_gradient():
    z, y = _logits(), _targets()
    p = torch.softmax(z, dim=-1)
    outer = o.cross_entropy_gradient(p, y)  # the loss's gradient with respect to its input p
    jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)  # symmetric
    want = torch.einsum("nij,nj->ni", jac, outer)
    assert torch.allclose(o.logit_gradient(z, y, softmax_first=True), want)


def test_classification_loss_is_torch_cross_entropy_on_logits_or_on_probabilities():
    z, y = _logits(), _targets()
    assert torch.allclose(o.classification_loss(z, y, softmax_first=False), nn.CrossEntropyLoss()(z, y))
    doubled = nn.CrossEntropyLoss()(nn.Softmax(dim=1)(z), y)
    assert torch.allclose(o.classification_loss(z, y, softmax_first=True), doubled)


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_double_softmax_floor_is_reached_at_one_hot_and_never_beaten(classes):
    y = torch.zeros(1, dtype=torch.long)
    one_hot_logits = torch.zeros(1, classes, dtype=torch.float64)
    one_hot_logits[0, 0] = 200.0  # softmax is exactly one-hot in float64
    at_one_hot = float(o.classification_loss(one_hot_logits, y, softmax_first=True))
    assert at_one_hot == pytest.approx(ol.double_softmax_floor(classes), rel=1e-12)
    z = _logits(4000, classes, scale=10.0)
    targets = torch.zeros(4000, dtype=torch.long)
    per_example = F.cross_entropy(torch.softmax(z, dim=-1), targets, reduction="none")
    assert float(per_example.min()) >= ol.double_softmax_floor(classes) - 1e-12


def test_margin_gradients_cross_entropy_grows_with_the_error_double_softmax_dies_at_both_ends():
    margins = torch.tensor([-40.0, -5.0, 0.0, 5.0, 20.0, 40.0], dtype=torch.float64)
    classes = 10
    ce = ol.margin_gradient_norms(margins, classes=classes, softmax_first=False)
    e0, e1 = torch.exp(-margins / 2), torch.exp(margins / 2)
    denom = e0 + e1 + classes - 2
    p0, p1, rest = e0 / denom, e1 / denom, 1 / denom
    closed = torch.sqrt((p0 - 1) ** 2 + p1**2 + (classes - 2) * rest**2)
    assert torch.allclose(ce, closed)
    assert float(ce[0]) < 1e-7 and float(ce[-1]) == pytest.approx(math.sqrt(2), rel=1e-7)
    assert bool((ce[1:] > ce[:-1]).all())
    double = ol.margin_gradient_norms(margins, classes=classes, softmax_first=True)
    assert bool((double[2:] < ce[2:]).all())
    assert float(double[-1]) < 1e-8 < float(double[3])


def test_train_classifier_is_deterministic_and_records_every_step():
    x, y = datasets.gaussian_blobs(120, classes=3, seed=0)
    runs = [
        o.train_classifier(
            make_mlp([2, 16, 3], "relu", init="kaiming", seed=3), x, y, softmax_first=True, lr=0.5, epochs=7
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert all(len(series) == 8 for series in (runs[0].loss, runs[0].accuracy, runs[0].cross_entropy))
    assert min(runs[0].loss) >= ol.double_softmax_floor(3)


def test_double_softmax_learns_three_blobs_but_stalls_on_ten_classes():
    """What the chapter reports: the bug is not always fatal, and the number of classes matters."""
    final = {}
    for classes, spread in [(3, 0.6), (10, 0.3)]:
        x, y = datasets.gaussian_blobs(600, classes=classes, spread=spread, seed=0)
        for softmax_first in (False, True):
            model = make_mlp([2, 32, 32, classes], "relu", init="kaiming", seed=0)
            run = o.train_classifier(model, x, y, softmax_first=softmax_first, lr=0.5, epochs=200)
            final[classes, softmax_first] = run
    assert final[3, True].accuracy[-1] > 0.95 and final[3, False].accuracy[-1] > 0.95
    assert final[10, False].accuracy[-1] - final[10, True].accuracy[-1] > 0.2
    assert final[10, True].logit_grad_norm[0] < 0.1 * final[10, False].logit_grad_norm[0]


# --- binary cross-entropy ------------------------------------------------------------------------


def test_bce_with_logits_is_torchs_fused_loss_everywhere():
    z = torch.linspace(-800, 800, 3201, dtype=torch.float64)
    for target in (0.0, 1.0, 0.3):
        y = torch.full_like(z, target)
        want = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        assert torch.allclose(ol.bce_with_logits(z, y), want, rtol=1e-12, atol=1e-12)
        assert bool(torch.isfinite(ol.bce_with_logits(z.float(), y.float())).all())


@pytest.mark.parametrize("target", [0.0, 0.3, 1.0])
def test_bce_with_logits_gradient_is_sigmoid_minus_target_everywhere(target):
    z = torch.cat([torch.linspace(-60, 60, 241, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    y = torch.full_like(z, target)
    _, grad = ol.loss_and_gradient(ol.bce_with_logits, z, y)
    assert torch.allclose(grad, torch.sigmoid(z) - y, rtol=1e-12, atol=1e-15)


def test_the_three_bce_agree_at_moderate_logits():
    z = torch.linspace(-8, 8, 33, dtype=torch.float64)
    y = (torch.arange(33) % 2).to(torch.float64)
    ref = ol.bce_with_logits(z, y)
    assert torch.allclose(ol.bce_by_hand(z, y), ref)
    assert torch.allclose(ol.bce_on_sigmoid(z, y), ref)


def test_beyond_the_rounding_point_by_hand_is_inf_bceloss_reads_100_fused_is_exact():
    threshold = ol.sigmoid_rounds_to_one()
    assert torch.sigmoid(torch.tensor(threshold)) == 1
    assert torch.sigmoid(torch.tensor(threshold - 1e-5)) < 1
    z = torch.tensor([threshold + 1.0, 50.0])
    y = torch.zeros_like(z)
    loss, grad = ol.loss_and_gradient(ol.bce_by_hand, z, y)
    assert bool(torch.isinf(loss).all()) and bool(torch.isnan(grad).all())
    loss, grad = ol.loss_and_gradient(ol.bce_on_sigmoid, z, y)
    assert torch.equal(loss, torch.full_like(z, 100.0)) and torch.equal(grad, torch.zeros_like(z))
    loss, grad = ol.loss_and_gradient(ol.bce_with_logits, z, y)
    assert torch.allclose(loss, z) and torch.allclose(grad, torch.ones_like(z))


def test_float64_rounds_much_later():
    assert ol.sigmoid_rounds_to_one(torch.float64) > 2 * ol.sigmoid_rounds_to_one(torch.float32)


# --- saturation ----------------------------------------------------------------------------------


def test_sigmoid_gradient_factor_is_the_slope_expressed_through_the_output():
    z = torch.tensor(math.log(0.99 / 0.01), dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(torch.sigmoid(z), z)
    assert o.sigmoid_gradient_factor(0.99) == pytest.approx(float(slope), rel=1e-12)
    assert o.sigmoid_gradient_factor(0.5) == 0.25


@pytest.mark.parametrize("depth", [1, 3, 10])
def test_depth_factor_is_what_autograd_measures_through_a_saturated_chain(depth):
    assert ol.sigmoid_chain_gradient(0.99, depth) == pytest.approx(o.saturated_depth_factor(0.99, depth), rel=1e-10)


def test_output_gradient_mse_carries_the_slope_bce_cancels_it():
    p, y = 0.99, 0.0
    assert ol.output_logit_gradient(p, y, "mse") == pytest.approx(2 * (p - y) * p * (1 - p), rel=1e-10)
    assert ol.output_logit_gradient(p, y, "bce") == pytest.approx(p - y, rel=1e-10)


# --- multi-label ---------------------------------------------------------------------------------


@pytest.mark.parametrize("positives", [0, 1, 2, 3, 4])
def test_softmax_floor_is_what_free_logits_reach_and_sigmoid_reaches_zero(positives):
    target = torch.tensor([1.0] * positives + [0.0] * (4 - positives))
    _, softmax_loss = ol.fit_free_logits(target, head="softmax")
    assert softmax_loss == pytest.approx(ol.softmax_bce_floor(positives, 4), abs=1e-3)
    _, sigmoid_loss = ol.fit_free_logits(target, head="sigmoid")
    assert sigmoid_loss < 1e-3


def test_softmax_turns_on_at_most_one_label():
    p = ol.multilabel_probabilities(_logits(500, 4, scale=5.0), "softmax")
    assert int((p > 0.5).sum(dim=-1).max()) <= 1


def test_sigmoid_head_beats_the_softmax_bound_the_softmax_head_cannot():
    x, y = datasets.multilabel(512, seed=0)
    bound = ol.softmax_exact_match_bound(y)
    runs = {
        head: ol.train_multilabel(
            make_mlp([8, 32, 4], "relu", init="kaiming", seed=0), x, y, head=head, lr=0.01, epochs=150
        )
        for head in ("sigmoid", "softmax")
    }
    assert runs["softmax"].exact_match[-1] <= bound
    assert runs["sigmoid"].exact_match[-1] > bound + 0.3


# --- regression ----------------------------------------------------------------------------------


def test_relu_output_cannot_go_below_the_floor_a_linear_output_can():
    x, y0 = datasets.sine_regression(128, seed=0)
    y = 3 * y0 + 1
    floor = ol.nonnegative_mse_floor(y)
    relu = ol.fit_regression(
        make_mlp([1, 32, 32, 1], "tanh", init="xavier", seed=0, output_activation=nn.ReLU()), x, y, lr=0.01, epochs=500
    )
    linear = ol.fit_regression(make_mlp([1, 32, 32, 1], "tanh", init="xavier", seed=0), x, y, lr=0.01, epochs=500)
    assert min(relu.loss) >= floor - 1e-6
    assert linear.loss[-1] < floor / 2
    assert float(linear.predictions.max()) > 1 and float(linear.predictions.min()) < 0


def test_a_dead_relu_output_has_exactly_zero_gradient():
    x = torch.linspace(-1, 1, 50).unsqueeze(1)
    model = make_mlp([1, 8, 1], "tanh", seed=0, output_activation=nn.ReLU())
    with torch.no_grad():
        model[2].bias.fill_(-100.0)  # the output unit is off for every input
    run = ol.fit_regression(model, x, -torch.ones_like(x), lr=0.01, epochs=5)
    assert run.zero_fraction == 1.0 and run.grad_norm == 0.0
    assert run.loss[0] == run.loss[-1]


# --- the widget's data ---------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_softmax_view_gradient_is_autograd_of_the_tempered_loss(temperature):
    z = torch.tensor([2.0, -1.0, 0.5, 0.0], dtype=torch.float64)
    view = ol.softmax_view(z, target=2, temperature=temperature)
    zz = z.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy((zz / temperature).unsqueeze(0), torch.tensor([2])), zz)
    assert torch.allclose(view["gradient"], grad)
    assert float(view["probabilities"].sum()) == pytest.approx(1.0)
    assert torch.allclose(view["log_probabilities"].exp(), view["probabilities"])
    zz = z.clone().requires_grad_(True)
    doubled = F.cross_entropy(torch.softmax(zz / temperature, dim=-1).unsqueeze(0), torch.tensor([2]))
    (grad,) = torch.autograd.grad(doubled, zz)
    assert torch.allclose(view["double_gradient"], grad)
