"""min-char-rnn (rnncourse.minchar) and its batched twin (rnncourse.minchar_batched)."""

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import check_gradients
from rnncourse.minchar import (TrainConfig, Vocabulary, adagrad_memories, adagrad_update,
                               init_params, loss_and_grads, sample, train)
from rnncourse.data.corpora import python_docs
from rnncourse.minchar_batched import loss_and_grads_batched, train_batched


def random_model(seed, V=5, H=4):
    rng = np.random.default_rng(seed)
    params = init_params(V, H, rng, scale=0.6)
    params["b_h"] = rng.standard_normal(H) * 0.3
    params["b_y"] = rng.standard_normal(V) * 0.3
    return params, rng


@pytest.mark.parametrize("seed,T", [(0, 1), (1, 6), (2, 9)])
def test_gradients_match_finite_differences(seed, T):
    params, rng = random_model(seed)
    inputs, targets = rng.integers(0, 5, T), rng.integers(0, 5, T)
    h_prev = rng.standard_normal(4) * 0.5
    _, grads, _ = loss_and_grads(params, inputs, targets, h_prev)
    report = check_gradients(lambda: loss_and_grads(params, inputs, targets, h_prev)[0], params, grads)
    assert report.max_rel_error < 1e-7, str(report)


@pytest.mark.parametrize("seed", [0, 1])
def test_loss_and_last_state_match_torch(seed):
    params, rng = random_model(seed)
    inputs, targets = rng.integers(0, 5, 7), rng.integers(0, 5, 7)
    h_prev = rng.standard_normal(4) * 0.5
    loss, _, h_T = loss_and_grads(params, inputs, targets, h_prev)
    rnn = torch.nn.RNN(5, 4, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(params["W_xh"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(params["b_h"]))
        rnn.bias_hh_l0.zero_()
    x = torch.nn.functional.one_hot(torch.from_numpy(inputs), 5).double()
    with torch.no_grad():
        out, h_n = rnn(x, torch.from_numpy(h_prev)[None])
    logits = out @ torch.from_numpy(params["W_hy"]).T + torch.from_numpy(params["b_y"])
    expected = torch.nn.functional.cross_entropy(logits, torch.from_numpy(targets), reduction="sum")
    assert loss == pytest.approx(float(expected), rel=1e-12)
    np.testing.assert_allclose(h_T, h_n[0].detach().numpy(), rtol=1e-12)


def test_state_carried_over_chunks_equals_one_long_chunk():
    params, rng = random_model(3)
    inputs, targets = rng.integers(0, 5, 10), rng.integers(0, 5, 10)
    h0 = np.zeros(4)
    whole, _, h_whole = loss_and_grads(params, inputs, targets, h0)
    first, _, h_mid = loss_and_grads(params, inputs[:4], targets[:4], h0)
    second, _, h_end = loss_and_grads(params, inputs[4:], targets[4:], h_mid)
    assert first + second == pytest.approx(whole, rel=1e-12)
    np.testing.assert_allclose(h_end, h_whole, rtol=1e-12)


def test_adagrad_memories_are_separate_zero_arrays():
    params, _ = random_model(0)
    memories = adagrad_memories(params)
    arrays = list(memories.values()) + list(params.values())
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
    assert all(np.all(m == 0) and m.shape == params[k].shape for k, m in memories.items())


def test_adagrad_update_follows_the_rule_and_descends():
    params, rng = random_model(1)
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    memories = {k: rng.random(v.shape) for k, v in params.items()}
    expected_m = {k: memories[k] + grads[k] ** 2 for k in params}
    expected_p = {k: params[k] - 0.1 * grads[k] / np.sqrt(expected_m[k] + 1e-8) for k in params}
    adagrad_update(params, grads, memories, lr=0.1)
    for k in params:
        np.testing.assert_allclose(memories[k], expected_m[k])
        np.testing.assert_allclose(params[k], expected_p[k])


def test_sample_feeds_back_its_own_output():
    # a "successor" model: h is the input's one-hot (scaled), the output the next index
    V = 4
    params = {"W_xh": 10.0 * np.eye(V), "W_hh": np.zeros((V, V)),
              "W_hy": 40.0 * np.roll(np.eye(V), 1, axis=0), "b_h": np.zeros(V), "b_y": np.zeros(V)}
    rng = np.random.default_rng(0)
    for seed_ix in range(V):
        ixes = sample(params, np.zeros(V), seed_ix, 9, rng)
        assert ixes == [(seed_ix + k) % V for k in range(1, 10)]


def test_vocabulary_is_sorted_and_round_trips():
    vocab = Vocabulary("hello world")
    assert vocab.chars == sorted(set("hello world"))
    assert vocab.decode(vocab.encode("low doe")) == "low doe"


def test_training_lowers_the_loss_on_a_small_corpus():
    text = python_docs(4000)
    _, vocab, log = train(text, TrainConfig(hidden_size=32, steps=250, seed=0))
    uniform = np.log(len(vocab)) * 25
    assert log.loss[0] == pytest.approx(uniform, rel=0.01)
    assert np.mean(log.loss[-25:]) < 0.8 * uniform
    assert log.smooth_loss[-1] < log.smooth_loss[0]


@pytest.mark.parametrize("seed,N,T", [(0, 1, 5), (1, 3, 6), (2, 4, 2)])
def test_batched_gradients_match_finite_differences(seed, N, T):
    params, rng = random_model(seed)
    inputs, targets = rng.integers(0, 5, (N, T)), rng.integers(0, 5, (N, T))
    h_prev = rng.standard_normal((N, 4)) * 0.5
    _, grads, _ = loss_and_grads_batched(params, inputs, targets, h_prev)
    report = check_gradients(
        lambda: loss_and_grads_batched(params, inputs, targets, h_prev)[0], params, grads)
    assert report.max_rel_error < 1e-7, str(report)


def test_batched_equals_mean_of_single_sequences():
    params, rng = random_model(4)
    inputs, targets = rng.integers(0, 5, (3, 8)), rng.integers(0, 5, (3, 8))
    h_prev = rng.standard_normal((3, 4))
    loss, grads, h_T = loss_and_grads_batched(params, inputs, targets, h_prev)
    singles = [loss_and_grads(params, inputs[i], targets[i], h_prev[i]) for i in range(3)]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-12)
    for k in params:
        np.testing.assert_allclose(grads[k], np.mean([s[1][k] for s in singles], axis=0), atol=1e-12)
    np.testing.assert_allclose(h_T, np.stack([s[2] for s in singles]), rtol=1e-12)


def test_batched_rejects_misshaped_state():
    params, _ = random_model(0)
    with pytest.raises(ValueError, match=r"expected h_prev of shape \(N, H\)"):
        loss_and_grads_batched(params, np.zeros((2, 3), int), np.zeros((2, 3), int), np.zeros(4))


def test_batched_training_lowers_the_loss():
    text = python_docs(8000)
    _, vocab, log = train_batched(text, TrainConfig(hidden_size=32, steps=100), batch_size=8)
    assert log.chars == 100 * 8 * 25
    assert np.mean(log.loss[-20:]) < 0.8 * np.log(len(vocab)) * 25
