"""The drift experiment: reproducible, and it measures what it says."""

from __future__ import annotations

import pytest

from actgrader.experiments.init_mismatch import drift, drift_data
from actgrader.reference.initialization import preactivation_spread, saturated_fraction
from actgrader.reference.models import make_mlp


def test_drift_before_is_the_initial_network_and_runs_are_reproducible():
    data = drift_data(128)
    a = drift("tanh", "kaiming", 0.1, steps=4, depth=5, data=data)
    b = drift("tanh", "kaiming", 0.1, steps=4, depth=5, data=data)
    assert a == b
    x, _ = data
    model = make_mlp([16, 64, 64, 64, 64, 4], "tanh", init="kaiming", seed=0)
    assert a["before"]["spread"] == pytest.approx(preactivation_spread(model, x))
    assert a["before"]["saturated"] == pytest.approx(saturated_fraction(model, x))
    assert a["after"]["spread"] != a["before"]["spread"]
    assert len(a["after"]["saturated"]) == 4


def test_drift_refuses_more_steps_than_data():
    with pytest.raises(ValueError):
        drift("relu", "kaiming", 0.1, steps=10, batch_size=32, depth=3, data=drift_data(64))
