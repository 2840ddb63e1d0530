"""Each finding of the model check-up is reported on a model built to have it, and not on healthy ones."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from actgrader import datasets
from actgrader.checkup import DEAD_FRACTION, GRADIENT_RATIO, SATURATED_SHARE, SPREAD_CHANGE, inspect_model
from actgrader.checkup import examples as ex
from actgrader.reference.models import linear_layers, make_mlp


def scaled(widths: list[int], activation: str, variance_times_fan_in: float, seed: int = 0) -> nn.Sequential:
    """An MLP whose weights have variance ``variance_times_fan_in / fan_in`` (LeCun's scaled)."""
    model = make_mlp(widths, activation, init="lecun", seed=seed)
    with torch.no_grad():
        for layer in linear_layers(model):
            layer.weight.mul_(math.sqrt(variance_times_fan_in))
    return model


def codes(report) -> set[str]:
    return {f.code for f in report.findings}


def serious(report) -> set[str]:
    return {f.code for f in report.findings if f.severity in ("error", "warning")}


# --- healthy models: nothing to report -------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_healthy_example_has_no_findings_at_all(seed):
    case = ex.healthy(seed)
    report = inspect_model(case.model, case.x, case.y, case.loss_fn)
    assert report.findings == []
    assert report.not_analysed == []
    assert report.healthy


@pytest.mark.parametrize(
    ("activation", "init"), [("tanh", "xavier"), ("tanh", "lecun"), ("gelu", "kaiming"), ("leaky_relu", "kaiming")]
)
def test_matched_activations_and_initializations_have_no_findings(activation, init):
    x, y = ex.batch()
    model = make_mlp([2, 64, 64, 64, 64, 3], activation, init=init, seed=0)
    assert inspect_model(model, x, y, nn.CrossEntropyLoss()).findings == []


def test_a_healthy_regression_with_a_linear_output_has_no_findings():
    x, y = datasets.sine_regression(128, seed=0)
    model = make_mlp([1, 32, 32, 1], "tanh", init="xavier", seed=0)
    assert inspect_model(model, x, 3 * y + 1, nn.MSELoss()).findings == []


def test_a_healthy_multilabel_model_with_bce_with_logits_has_no_findings():
    x, y = datasets.multilabel(128, seed=0)
    model = make_mlp([8, 32, 4], "relu", init="kaiming", seed=0)
    assert inspect_model(model, x, y, nn.BCEWithLogitsLoss()).findings == []


def test_functional_losses_are_recognised_like_modules():
    case = ex.healthy()
    assert inspect_model(case.model, case.x, case.y, F.cross_entropy).findings == []
    broken = ex.double_softmax()
    assert "output-loss-mismatch" in codes(inspect_model(broken.model, broken.x, broken.y, F.cross_entropy))


# --- output and loss --------------------------------------------------------------------------------


def test_double_softmax_is_an_error_on_the_softmax_module():
    case = ex.double_softmax()
    report = inspect_model(case.model, case.x, case.y, case.loss_fn)
    (finding,) = report.by_code("output-loss-mismatch")
    assert finding.severity == "error"
    assert finding.layers == ("5",)  # the nn.Softmax in the Sequential
    assert finding.section == "output-and-loss#sec-double-softmax"
    assert serious(report) == {"output-loss-mismatch"}


class SoftmaxInForward(nn.Module):
    """A softmax the check-up cannot see as a module: applied inside forward()."""

    def __init__(self) -> None:
        super().__init__()
        self.body = make_mlp([2, 64, 64, 3], "relu", init="kaiming", seed=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.body(x), dim=1)


def test_a_softmax_inside_forward_is_recognised_by_its_outputs():
    x, y = ex.batch()
    report = inspect_model(SoftmaxInForward(), x, y, nn.CrossEntropyLoss())
    assert [f.severity for f in report.by_code("output-loss-mismatch")] == ["error"]
    assert any("inside forward()" in item for item in report.not_analysed)


def test_sigmoid_before_bce_with_logits_is_an_error_sigmoid_before_bceloss_is_fine():
    x, y = datasets.multilabel(128, seed=0)
    twice = make_mlp([8, 32, 4], "relu", init="kaiming", seed=0, output_activation=nn.Sigmoid())
    report = inspect_model(twice, x, y, nn.BCEWithLogitsLoss())
    (finding,) = report.by_code("output-loss-mismatch")
    assert finding.severity == "error" and finding.section == "output-and-loss#sec-bce-stability"
    fine = make_mlp([8, 32, 4], "relu", init="kaiming", seed=0, output_activation=nn.Sigmoid())
    report = inspect_model(fine, x, y, nn.BCELoss())
    assert report.healthy
    assert codes(report) == {"bce-on-sigmoid"}  # a note pointing at the stable form


def test_sigmoid_outputs_rounded_to_exactly_one_are_flagged_under_bceloss():
    x, y = datasets.multilabel(128, seed=0)
    model = make_mlp([8, 32, 4], "relu", init="kaiming", seed=0, output_activation=nn.Sigmoid())
    with torch.no_grad():
        model[2].bias.fill_(40.0)  # logits far beyond the point where float32 rounds sigmoid to 1
    report = inspect_model(model, x, y, nn.BCELoss())
    (finding,) = report.by_code("bce-clamped")
    assert finding.severity == "warning"


def test_softmax_with_bceloss_on_multi_label_targets_is_an_error():
    x, y = datasets.multilabel(128, seed=0)
    model = make_mlp([8, 32, 4], "relu", init="kaiming", seed=0, output_activation=nn.Softmax(dim=1))
    (finding,) = inspect_model(model, x, y, nn.BCELoss()).by_code("output-loss-mismatch")
    assert finding.section == "output-and-loss#sec-multilabel"


def test_nll_loss_needs_log_softmax():
    x, y = ex.batch()
    raw = make_mlp([2, 64, 3], "relu", init="kaiming", seed=0)
    assert "output-loss-mismatch" in codes(inspect_model(raw, x, y, nn.NLLLoss()))
    probs = make_mlp([2, 64, 3], "relu", init="kaiming", seed=0, output_activation=nn.Softmax(dim=1))
    assert "output-loss-mismatch" in codes(inspect_model(probs, x, y, nn.NLLLoss()))
    logp = make_mlp([2, 64, 3], "relu", init="kaiming", seed=0, output_activation=nn.LogSoftmax(dim=1))
    assert inspect_model(logp, x, y, nn.NLLLoss()).findings == []


def test_log_softmax_before_cross_entropy_is_only_a_note_because_it_changes_nothing():
    x, y = ex.batch()
    model = make_mlp([2, 64, 3], "relu", init="kaiming", seed=0, output_activation=nn.LogSoftmax(dim=1))
    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    assert codes(report) == {"output-loss-redundant"} and report.healthy
    z = model[:-1](x)
    assert torch.allclose(F.cross_entropy(F.log_softmax(z, dim=1), y), F.cross_entropy(z, y))


def test_relu_output_on_negative_regression_targets_is_an_error():
    x, y0 = datasets.sine_regression(128, seed=0)
    model = make_mlp([1, 32, 32, 1], "tanh", init="xavier", seed=0, output_activation=nn.ReLU())
    (finding,) = inspect_model(model, x, 3 * y0 + 1, nn.MSELoss()).by_code("output-range")
    assert finding.severity == "error" and finding.section == "output-and-loss#sec-relu-output"


def test_sigmoid_with_mse_on_binary_targets_is_a_note():
    x, y = datasets.multilabel(128, seed=0)
    model = make_mlp([8, 32, 4], "relu", init="kaiming", seed=0, output_activation=nn.Sigmoid())
    report = inspect_model(model, x, y, nn.MSELoss())
    assert codes(report) == {"sigmoid-mse"} and report.healthy


# --- dead units ----------------------------------------------------------------------------------


def test_dead_relus_after_a_large_learning_rate_are_found_and_not_after_a_small_one():
    case = ex.dead_relus()
    report = inspect_model(case.model, case.x, case.y, case.loss_fn)
    (finding,) = report.by_code("dead-relu")
    assert finding.layers == ("2",)
    row = next(r for r in report.rows if r.name == "2")
    assert row.dead is not None and row.dead > DEAD_FRACTION
    calm = ex.dead_relus(lr=0.1)
    assert "dead-relu" not in codes(inspect_model(calm.model, calm.x, calm.y, calm.loss_fn))


def test_dead_fraction_counts_units_zero_on_every_example():
    x, y = ex.batch()
    model = make_mlp([2, 10, 3], "relu", init="kaiming", seed=0)
    with torch.no_grad():
        model[0].bias[:4] = -1e3  # four of ten units can never be positive
    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    assert report.rows[0].dead == pytest.approx(0.4)
    assert report.by_code("dead-relu")[0].layers == ("0",)


def test_an_output_relu_that_is_always_off_means_no_gradient_at_all():
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    model = make_mlp([1, 8, 1], "tanh", init="xavier", seed=0, output_activation=nn.ReLU())
    with torch.no_grad():
        model[2].bias.fill_(-100.0)  # tanh outputs are in (-1, 1): the output is 0 for every input
    report = inspect_model(model, x, torch.ones_like(x), nn.MSELoss())
    (finding,) = report.by_code("no-gradient")
    assert finding.severity == "error"
    assert report.by_code("dead-relu")[0].layers == ("2",)


def test_a_small_batch_skips_the_dead_unit_check_and_says_so():
    case = ex.dead_relus()
    report = inspect_model(case.model, case.x[:8], case.y[:8], case.loss_fn)
    assert "dead-relu" not in codes(report)
    assert all(row.dead is None for row in report.rows)
    assert any("too small" in item for item in report.not_analysed)


# --- gradients, saturation, signal scale, initialization ----------------------------------------


def test_the_twenty_deep_sigmoid_stack_has_vanishing_gradients():
    case = ex.deep_sigmoid()
    report = inspect_model(case.model, case.x, case.y, case.loss_fn)
    (finding,) = report.by_code("vanishing-gradients")
    names = [r.name for r in report.rows]
    assert names.index(finding.layers[0]) < names.index(finding.layers[1])  # smallest on the input side
    grads = [r.grad_rms for r in report.rows if r.grad_rms is not None]
    assert min(grads) < GRADIENT_RATIO * max(grads)
    assert serious(report) == {"vanishing-gradients"}


def test_chaotic_tanh_has_exploding_gradients_and_saturated_units():
    x, y = ex.batch()
    report = inspect_model(scaled([2, *[64] * 20, 3], "tanh", 25.0), x, y, nn.CrossEntropyLoss())
    (finding,) = report.by_code("exploding-gradients")
    assert finding.layers[1] == "0"
    saturated = report.by_code("saturated")[0]
    assert len(saturated.layers) == 20
    assert all((r.saturated or 0) > SATURATED_SHARE for r in report.rows[:20])


def test_tanh_with_kaiming_initialization_is_an_init_mismatch_and_xavier_is_not():
    case = ex.tanh_kaiming()
    report = inspect_model(case.model, case.x, case.y, case.loss_fn)
    (finding,) = report.by_code("init-mismatch")
    assert finding.severity == "warning"  # 2x per layer over 7 layers compounds past 10
    assert set(finding.layers) == {"2", "4", "6", "8", "10", "12", "14"}
    x, y = ex.batch()
    xavier = make_mlp([2, *[64] * 8, 3], "tanh", init="xavier", seed=0)
    assert "init-mismatch" not in codes(inspect_model(xavier, x, y, case.loss_fn))


def test_one_mismatched_layer_is_only_a_note():
    x, y = ex.batch()
    model = make_mlp([2, 64, 64, 3], "tanh", init="xavier", seed=0)
    with torch.no_grad():
        model[2].weight.mul_(math.sqrt(2.0))  # Kaiming's variance on the second layer only
    (finding,) = inspect_model(model, x, y, nn.CrossEntropyLoss()).by_code("init-mismatch")
    assert finding.severity == "info" and finding.layers == ("2",)


def test_nn_linear_default_in_a_deep_relu_net_shrinks_the_signal():
    x, y = ex.batch()
    report = inspect_model(make_mlp([2, *[64] * 20, 3], "relu", seed=0), x, y, nn.CrossEntropyLoss())
    assert len(report.by_code("signal-scale")) == 1
    stds = [r.preact_std for r in report.rows[:-1]]
    assert stds[-1] < stds[0] / SPREAD_CHANGE
    assert "init-mismatch" in codes(report)


def test_too_large_relu_weights_grow_the_signal():
    x, y = ex.batch()
    report = inspect_model(scaled([2, *[64] * 20, 3], "relu", 4.0), x, y, nn.CrossEntropyLoss())
    assert "grows" in report.by_code("signal-scale")[0].message


def test_a_non_finite_loss_is_an_error():
    x, y = ex.batch()
    model = make_mlp([2, 64, 3], "relu", init="kaiming", seed=0)
    with torch.no_grad():
        model[0].weight.fill_(float("inf"))
    (finding,) = inspect_model(model, x, y, nn.CrossEntropyLoss()).by_code("non-finite")
    assert finding.severity == "error"
