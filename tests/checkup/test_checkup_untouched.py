"""The check-up leaves the model as it found it, and does not crash on models it does not understand."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from actgrader.checkup import examples as ex
from actgrader.checkup import inspect_model


class WithBatchNormAndDropout(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3), nn.Softmax(dim=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("train", [True, False])
def test_parameters_buffers_modes_grads_hooks_and_rng_are_untouched(train):
    torch.manual_seed(0)
    model = WithBatchNormAndDropout()
    model.train(train)
    model.net[0].weight.grad = torch.full_like(model.net[0].weight, 7.0)  # a gradient the user had
    before = _state(model)
    flags = [m.training for m in model.modules()]
    x, y = ex.batch()
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    assert torch.equal(torch.rand(3), expected_draw)  # the global random state did not move
    after = _state(model)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running stats included
    assert [m.training for m in model.modules()] == flags
    assert torch.equal(model.net[0].weight.grad, torch.full_like(model.net[0].weight, 7.0))
    assert all(p.grad is None for name, p in model.named_parameters() if name != "net.0.weight")
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert "output-loss-mismatch" in report.codes


def test_the_same_model_gives_the_same_report_twice_even_with_dropout():
    model = WithBatchNormAndDropout()
    x, y = ex.batch()
    first = str(inspect_model(model, x, y, nn.CrossEntropyLoss()))
    assert str(inspect_model(model, x, y, nn.CrossEntropyLoss())) == first


def test_inspection_works_under_no_grad_and_leaves_requires_grad_alone():
    case = ex.healthy()
    case.model[0].weight.requires_grad_(False)
    with torch.no_grad():
        report = inspect_model(case.model, case.x, case.y, case.loss_fn)
    assert report.rows[0].grad_rms is None  # frozen: no gradient measured
    assert report.rows[1].grad_rms is not None
    assert not case.model[0].weight.requires_grad and case.model[2].weight.requires_grad


def test_eval_mode_uses_running_statistics():
    model = WithBatchNormAndDropout()
    x, y = ex.batch()
    train = inspect_model(model, x, y, nn.CrossEntropyLoss(), mode="train")
    evaluated = inspect_model(model, x, y, nn.CrossEntropyLoss(), mode="eval")
    assert train.mode == "train" and evaluated.mode == "eval"
    assert train.loss != evaluated.loss


def test_a_deep_copy_still_compares_equal_after_inspection():
    case = ex.dead_relus()
    twin = copy.deepcopy(case.model)
    inspect_model(case.model, case.x, case.y, case.loss_fn)
    assert all(torch.equal(a, b) for a, b in zip(case.model.parameters(), twin.parameters(), strict=True))


# --- models the check-up does not fully understand -----------------------------------------------


class FunctionalRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class OwnParameter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))
        self.fc = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * self.scale


class TupleOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.fc(x)
        return z, z.detach()


def test_a_functional_activation_is_listed_as_not_analysed():
    x, y = ex.batch()
    report = inspect_model(FunctionalRelu(), x, y, nn.CrossEntropyLoss())
    assert any("fc1" in item and "functional" in item for item in report.not_analysed)
    assert report.rows[0].init_ok is None


def test_a_custom_activation_module_is_listed_and_its_gradients_still_measured():
    x, y = ex.batch()
    model = nn.Sequential(nn.Linear(2, 16), Swish(), nn.Linear(16, 3))
    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    assert any("Swish" in item for item in report.not_analysed)
    assert [r.kind for r in report.rows] == ["Linear(2→16)", "Swish", "Linear(16→3)"]
    assert report.rows[0].grad_rms is not None and report.rows[2].grad_rms is not None


def test_parameters_held_by_a_parent_module_are_listed():
    x, y = ex.batch()
    report = inspect_model(OwnParameter(), x, y, nn.CrossEntropyLoss())
    assert any("parameters of its own" in item for item in report.not_analysed)


def test_an_unknown_loss_function_is_listed_and_the_rest_still_runs():
    case = ex.healthy()
    report = inspect_model(case.model, case.x, case.y, lambda out, y: nn.functional.cross_entropy(out, y))
    assert any("is not one the check-up knows" in item for item in report.not_analysed)
    assert report.rows[0].grad_rms is not None


def test_a_tuple_output_goes_to_the_loss_as_is():
    x, y = ex.batch()
    report = inspect_model(TupleOutput(), x, y, lambda out, target: nn.functional.cross_entropy(out[0], target))
    assert report.loss is not None and report.rows[0].grad_rms is not None


def test_a_forward_failure_becomes_an_error_finding():
    case = ex.healthy()
    report = inspect_model(case.model, torch.zeros(4, 5), case.y[:4], case.loss_fn)
    assert [f.code for f in report.findings] == ["forward-failed"]
    assert "mat1 and mat2" in report.findings[0].message
    assert all(not m._forward_hooks for m in case.model.modules())


def test_a_loss_failure_becomes_an_error_finding():
    case = ex.healthy()
    report = inspect_model(case.model, case.x, case.y.float(), nn.BCELoss())
    assert "loss-failed" in report.codes
    assert report.rows  # the forward pass was still analysed


def test_a_non_scalar_loss_is_averaged_and_said_so():
    case = ex.healthy()
    report = inspect_model(case.model, case.x, case.y, nn.CrossEntropyLoss(reduction="none"))
    assert report.findings == []
    assert any("not a scalar" in item for item in report.not_analysed)


def test_a_convolutional_model_counts_dead_channels():
    x = torch.randn(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (32,), generator=torch.Generator().manual_seed(1))
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 3))
    with torch.no_grad():
        model[0].bias[:2] = -1e3  # two of eight channels are off everywhere
    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    assert report.rows[0].kind == "Conv2d(1→8)" and report.rows[0].activation == "ReLU"
    assert report.rows[0].dead == pytest.approx(0.25)


def test_one_activation_module_reused_after_every_layer_is_paired_each_time():
    x, y = ex.batch()
    relu = nn.ReLU()

    class Reuse(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(2, 32), nn.Linear(32, 32), nn.Linear(32, 3)
            self.act = relu

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))

    report = inspect_model(Reuse(), x, y, nn.CrossEntropyLoss())
    assert [(r.name, r.activation) for r in report.rows] == [("fc1", "ReLU"), ("fc2", "ReLU"), ("fc3", None)]


def test_an_in_place_relu_still_shows_the_pre_activations():
    x, y = ex.batch()
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(inplace=True), nn.Linear(32, 3))
    report = inspect_model(model, x, y, nn.CrossEntropyLoss())
    with torch.no_grad():
        z = model[0](x)
    assert report.rows[0].preact_mean == pytest.approx(float(z.double().mean()))
    assert report.rows[0].preact_mean < float(z.clamp(min=0).mean())


class DictInput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.unused, self.fc2 = nn.Linear(2, 32), nn.Linear(32, 32), nn.Linear(32, 3)
        self.act = nn.ReLU()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(batch["points"])))


def test_a_non_tensor_batch_and_an_unused_layer_are_handled():
    x, y = ex.batch()
    report = inspect_model(DictInput(), {"points": x}, y, nn.CrossEntropyLoss())
    assert report.batch_size is None
    assert any("size is unknown" in item for item in report.not_analysed)
    assert [r.name for r in report.rows] == ["fc1", "fc2"]  # the unused layer never ran
    assert report.loss is not None and report.rows[0].grad_rms is not None
