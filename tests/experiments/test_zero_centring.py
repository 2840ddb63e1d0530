"""The two-weight example: gradients against autograd, signs, and gradient descent against its closed form."""

from __future__ import annotations

import math

import pytest
import torch

from actgrader.experiments.zero_centring import (
    W_STAR,
    condition_number,
    gd_path,
    hessian,
    loss,
    mixed_direction_steps,
    optimal_lr,
    path_length,
    per_example_gradients,
    predicted_gd_steps,
    same_sign_fraction,
    sgd_path,
    sign_agreement,
    steps_to_reach,
    two_weight_problem,
)


def test_inputs_are_sigmoid_outputs_or_their_centred_version():
    x_pos, y = two_weight_problem(50, offset=0.5, seed=2)
    x_cen, _ = two_weight_problem(50, offset=0.0, seed=2)
    assert (x_pos > 0).all() and (x_pos < 1).all()
    assert torch.allclose(x_cen, x_pos - 0.5)
    g = torch.randn(50, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.allclose(x_cen, torch.tanh(g / 2) / 2)
    assert torch.allclose(y, x_pos @ torch.tensor(W_STAR, dtype=torch.float64))


def test_per_example_gradients_and_hessian_match_autograd():
    x, y = two_weight_problem(20, offset=0.3, seed=0)
    w = torch.tensor([0.4, -0.2], dtype=torch.float64)
    rows = []
    for i in range(len(x)):
        wi = w.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(wi, x[i : i + 1], y[i : i + 1]), wi)
        rows.append(g)
    assert torch.allclose(per_example_gradients(w, x, y), torch.stack(rows))
    h = torch.autograd.functional.hessian(lambda v: loss(v, x, y), w)
    assert torch.allclose(hessian(x), h)


def test_positive_inputs_give_same_sign_gradients_for_any_weights():
    x, y = two_weight_problem(200, offset=0.5)
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        w = 3 * torch.randn(2, generator=gen, dtype=torch.float64)
        assert same_sign_fraction(per_example_gradients(w, x, y)) == 1.0
    x0, y0 = two_weight_problem(200, offset=0.0)
    assert same_sign_fraction(per_example_gradients(torch.zeros(2, dtype=torch.float64), x0, y0)) < 0.75


def test_sgd_steps_on_positive_inputs_never_move_the_weights_apart():
    x, y = two_weight_problem(100, offset=0.5)
    path = sgd_path(x, y, (0.0, 0.0), 0.5, 150, seed=0)
    assert path.shape == (151, 2)
    assert mixed_direction_steps(path) == 0.0
    x0, y0 = two_weight_problem(100, offset=0.0)
    assert mixed_direction_steps(sgd_path(x0, y0, (0.0, 0.0), 2.0, 40, seed=0)) > 0.25


def test_gradient_descent_at_the_optimal_rate_contracts_exactly_as_predicted():
    for offset in (0.5, 0.25, 0.0):
        x, y = two_weight_problem(200, offset=offset)
        eigenvalues = torch.linalg.eigvalsh(hessian(x))
        kappa = condition_number(x)
        assert kappa == pytest.approx(float(eigenvalues[1] / eigenvalues[0]))
        path = gd_path(x, y, (0.0, 0.0), optimal_lr(x), 200)
        errors = (path - torch.tensor(W_STAR, dtype=torch.float64)).norm(dim=1)
        ratios = errors[1:6] / errors[:5]
        assert torch.allclose(ratios, torch.full_like(ratios, (kappa - 1) / (kappa + 1)), rtol=1e-9)
        assert steps_to_reach(path) == predicted_gd_steps(x, (0.0, 0.0))
    x_pos, _ = two_weight_problem(200, offset=0.5)
    x_cen, _ = two_weight_problem(200, offset=0.0)
    assert condition_number(x_pos) > 5 * condition_number(x_cen)


def test_path_helpers():
    path = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])
    assert path_length(path) == pytest.approx(9.0)
    assert steps_to_reach(path, (3.0, 0.0), tol=0.5) == 2
    assert steps_to_reach(path, (9.0, 9.0)) is None
    assert mixed_direction_steps(torch.tensor([[0.0, 0.0], [1.0, -1.0], [2.0, 0.0]])) == 0.5
    assert predicted_gd_steps(two_weight_problem(10)[0], W_STAR) == 0
    assert math.isfinite(condition_number(two_weight_problem(10)[0]))


def test_sign_agreement_in_a_layer_fed_by_sigmoids():
    from torch import nn

    from actgrader import datasets
    from actgrader.reference.models import make_mlp

    x, y = datasets.two_spirals(48, seed=0)
    sigmoid_net = make_mlp([2, 8, 8, 2], "sigmoid", init="xavier", seed=0)
    tanh_net = make_mlp([2, 8, 8, 2], "tanh", init="xavier", seed=0)
    loss_fn = nn.functional.cross_entropy
    per_example = sign_agreement(sigmoid_net, x, y, loss_fn, layer=1, batch_size=1)
    assert per_example["rows"] == 1.0  # positive inputs: one sign per row, always
    assert per_example["matrix"] < 0.5  # but not one sign per layer
    assert sign_agreement(tanh_net, x, y, loss_fn, layer=1, batch_size=1)["rows"] < 0.2
    # the first layer's inputs are the raw (centred) data, so the argument does not apply there
    assert sign_agreement(sigmoid_net, x, y, loss_fn, layer=0, batch_size=1)["rows"] < 0.75
