"""The LSTM + MDN handwriting model: shapes, seeded writing, learning, the shipped model."""

import pytest
import torch

from rnncourse.handwriting import HandwritingLSTM, TrainConfig, handwriting_data, train_handwriting
from rnncourse.mdn import mdn_nll, n_outputs, split_outputs
from rnncourse.pretrained import available, load, record


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny recurrent models run far faster on one thread than on two fighting for a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_forward_shapes_and_state():
    model = HandwritingLSTM(hidden_size=8, n_components=3)
    y_hat, (h, c) = model(torch.zeros(2, 5, 3))
    assert y_hat.shape == (2, 5, n_outputs(3)) and h.shape == c.shape == (1, 2, 8)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, T, 3\)"):
        model(torch.zeros(5, 3))


def test_data_targets_are_inputs_shifted_by_one_step():
    x, y, mask = handwriting_data(["pen", "ink"], copies=2)
    assert x.shape == y.shape and mask.shape == x.shape[:2]
    torch.testing.assert_close(x[:, 1:], y[:, :-1] * mask[:, :-1, None])
    torch.testing.assert_close(x[:, 0], torch.tensor([0.0, 0.0, 1.0]).expand(4, 3))


def test_writing_is_seeded():
    torch.manual_seed(0)
    model = HandwritingLSTM(hidden_size=8, n_components=3)
    a, b, c = model.write(12, seed=1), model.write(12, seed=1), model.write(12, seed=2)
    assert a.shape == (1, 12, 3)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)


def test_a_few_steps_of_training_lower_the_loss():
    config = TrainConfig(hidden_size=16, n_components=3, steps=30, batch_size=4, copies=2)
    _, losses, val = train_handwriting(config, words=["pen", "ink", "on"])
    assert sum(losses[-5:]) / 5 < losses[0] - 0.5
    assert val < losses[0]


def test_shipped_model_loads_and_reproduces_its_validation_loss():
    assert "handwriting_lstm" in available(), "the shipped model handwriting_lstm is missing"
    meta = record("handwriting_lstm")
    assert meta["training"]["command"].startswith("rnncourse handwriting ")
    model = load("handwriting_lstm", device="cpu")
    x, y, mask = handwriting_data(copies=1, seed=1)
    with torch.no_grad():
        nll = mdn_nll(split_outputs(model(x)[0]), y, mask).item()
    assert abs(nll - meta["metrics"]["val_nll_nats_per_step"]) < 0.05  # float16 weights: nearly the same
