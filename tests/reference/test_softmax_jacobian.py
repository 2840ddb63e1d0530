"""softmax_jacobian keeps its digits for near one-hot rows (the diagonal s_i (1 - s_i) without cancellation)."""

from __future__ import annotations

import mpmath
import pytest
import torch

from actgrader.reference.formulas import softmax_jacobian


def _exact_jacobian(row: list[float]) -> list[list[float]]:
    with mpmath.workdps(60):
        logits = [mpmath.mpf(v) for v in row]
        total = mpmath.fsum(mpmath.exp(v) for v in logits)
        s = [mpmath.exp(v) / total for v in logits]
        return [[float(s[i] * ((1 if i == j else 0) - s[j])) for j in range(len(row))] for i in range(len(row))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("row", [[30.0, 0.0, -2.0], [12.0, 0.5, 0.0, -1.0], [0.3, -0.2, 0.1], [60.0, 59.0, 0.0]])
def test_every_entry_is_within_a_few_epsilons_of_the_exact_jacobian(dtype, row):
    jacobian = softmax_jacobian(torch.tensor(row, dtype=dtype)).double()
    exact = torch.tensor(_exact_jacobian(row), dtype=torch.float64)
    relative = ((jacobian - exact).abs() / exact.abs()).max().item()
    assert relative < 8 * torch.finfo(dtype).eps


def test_the_old_formula_would_have_lost_the_diagonal():
    # s - s^2 for the dominant entry cancels: the fixed form does not
    x = torch.tensor([30.0, 0.0, -2.0], dtype=torch.float64)
    s = torch.softmax(x, -1)
    naive_diagonal = (s - s * s)[0].item()
    exact = _exact_jacobian(x.tolist())[0][0]
    assert abs(naive_diagonal - exact) / exact > 1e-4
    assert softmax_jacobian(x)[0, 0].item() == pytest.approx(exact, rel=1e-14)


def test_rows_sum_to_zero_and_temperature_divides():
    x = torch.tensor([[2.0, -1.0, 0.5], [8.0, 8.0, -3.0]], dtype=torch.float64)
    jacobian = softmax_jacobian(x, temperature=2.0)
    assert jacobian.shape == (2, 3, 3)
    assert jacobian.sum(dim=-1).abs().max() < 1e-15
    assert torch.allclose(jacobian, torch.func.vmap(torch.func.jacrev(lambda v: torch.softmax(v / 2.0, -1)))(x))
