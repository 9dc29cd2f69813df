"""rnncourse.long_range: the adding problem and the models compared on it."""

import numpy as np
import pytest
import torch

from rnncourse.long_range import (BASELINE_MSE, KINDS, AddingConfig, SequenceRegressor,
                                  adding_problem, load_curves, train_adding)


@pytest.mark.parametrize("n,T", [(5, 2), (64, 10), (200, 31)])
def test_adding_problem_marks_one_value_in_each_half(n, T):
    x, y = adding_problem(n, T, torch.Generator().manual_seed(0))
    assert x.shape == (n, T, 2) and y.shape == (n,)
    markers = x[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, : T // 2].sum(1) == 1)
    torch.testing.assert_close(y, (x[..., 0] * markers).sum(1))


def test_adding_problem_constant_guess_scores_one_sixth():
    _, y = adding_problem(20000, 20, torch.Generator().manual_seed(1))
    assert float(((y - 1.0) ** 2).mean()) == pytest.approx(BASELINE_MSE, rel=0.05)


def test_adding_problem_rejects_short_sequences():
    with pytest.raises(ValueError, match="T >= 2"):
        adding_problem(3, 1, torch.Generator())


@pytest.mark.parametrize("kind", KINDS)
def test_regressor_maps_batches_to_one_number_each(kind):
    model = SequenceRegressor(kind, hidden_size=8)
    assert model(torch.zeros(3, 7, 2)).shape == (3,)


def test_irnn_starts_at_the_identity_with_relu():
    rnn = SequenceRegressor("irnn", hidden_size=6).rnn
    torch.testing.assert_close(rnn.weight_hh_l0.detach(), torch.eye(6))
    assert rnn.nonlinearity == "relu" and float(rnn.bias_hh_l0.detach().abs().sum()) == 0.0


def test_orthogonal_initialisation_is_orthogonal():
    W = SequenceRegressor("rnn_orthogonal", hidden_size=10).rnn.weight_hh_l0.detach()
    torch.testing.assert_close(W @ W.T, torch.eye(10), atol=1e-5, rtol=0)


def test_short_training_run_learns_on_short_sequences():
    torch.set_num_threads(1)
    config = AddingConfig(T=4, hidden_size=8, steps=150, lr=3e-2, eval_every=75, eval_size=300)
    curve = train_adding("lstm", config)
    assert curve["steps"] == [0, 75, 150]
    assert curve["mse"][-1] < 0.6 * BASELINE_MSE


def test_shipped_curves_record_how_they_were_made():
    result = load_curves()
    assert result["command"].startswith("rnncourse adding --out ")
    assert set(result["curves"]) == set(result["config"]["kinds"])
    for curve in result["curves"].values():
        assert len(curve["steps"]) == len(curve["mse"]) and np.all(np.isfinite(curve["mse"]))
