"""The NumPy vanilla RNN against torch (same weights) and finite differences, in float64."""

import numpy as np
import pytest
import torch

from rnncourse.gradcheck import check_gradients, relative_error
from rnncourse.numpy_rnn import (PARAM_NAMES, StepCache, backward, cross_entropy, forward,
                                 init_params, loss_and_grads, one_hot, param_sizes, sample,
                                 softmax, step_backward, step_forward, truncated_bptt)

SIZES = [(1, 1, 2, 1), (3, 5, 4, 6), (5, 3, 7, 9), (4, 8, 4, 12)]  # (D, H, K, T)


def make_problem(D, H, K, T, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    params = init_params(D, H, K, seed=rng, scale=scale)
    params["b"] = rng.normal(0, scale, H)
    params["c"] = rng.normal(0, scale, K)
    xs = rng.normal(size=(T, D))
    h0 = rng.normal(0, 0.5, H)
    targets = rng.integers(0, K, size=T)
    return params, xs, h0, targets


def torch_loss(params, xs, h0, targets, detach_every=None):
    """The same model written directly in torch; returns (loss, leaves incl. h0, h_T)."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = p["h0"] = torch.tensor(h0, requires_grad=True)
    loss = torch.zeros((), dtype=torch.float64)
    for t, x in enumerate(torch.tensor(xs)):
        if detach_every and t and t % detach_every == 0:
            h = h.detach()
        h = torch.tanh(p["W"] @ h + p["U"] @ x + p["b"])
        logits = p["V"] @ h + p["c"]
        loss = loss - torch.log_softmax(logits, 0)[int(targets[t])]
    return loss, p, h


@pytest.mark.parametrize("D, H, K, T", SIZES)
def test_step_forward_equals_torch_rnn_cell(D, H, K, T):
    params, xs, h0, _ = make_problem(D, H, K, T)
    cell = torch.nn.RNNCell(D, H, nonlinearity="tanh").double()
    with torch.no_grad():
        cell.weight_hh.copy_(torch.tensor(params["W"]))
        cell.weight_ih.copy_(torch.tensor(params["U"]))
        cell.bias_ih.copy_(torch.tensor(params["b"]))
        cell.bias_hh.zero_()
        expected = cell(torch.tensor(xs[:1]), torch.tensor(h0[None]))[0].numpy()
    h_t, cache = step_forward(xs[0], h0, params)
    np.testing.assert_allclose(h_t, expected, rtol=1e-12, atol=1e-12)
    assert isinstance(cache, StepCache) and cache.h_prev is not None


@pytest.mark.parametrize("D, H, K, T", SIZES)
def test_forward_equals_torch_rnn_and_linear(D, H, K, T):
    params, xs, h0, _ = make_problem(D, H, K, T, seed=1)
    rnn = torch.nn.RNN(D, H).double()
    head = torch.nn.Linear(H, K).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.tensor(params["W"]))
        rnn.weight_ih_l0.copy_(torch.tensor(params["U"]))
        rnn.bias_ih_l0.copy_(torch.tensor(params["b"]))
        rnn.bias_hh_l0.zero_()
        head.weight.copy_(torch.tensor(params["V"]))
        head.bias.copy_(torch.tensor(params["c"]))
        hs, _ = rnn(torch.tensor(xs), torch.tensor(h0[None]))
        probs = torch.softmax(head(hs), dim=-1).numpy()
    y, cache = forward(xs, h0, params)
    np.testing.assert_allclose(y, probs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cache.hs[1:], hs.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(cache.hs[0], h0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0)


def test_cross_entropy_equals_torch_and_stays_finite():
    rng = np.random.default_rng(2)
    for T, K, scale in [(1, 2, 1.0), (6, 5, 3.0), (4, 3, 800.0)]:
        logits, targets = rng.normal(0, scale, (T, K)), rng.integers(0, K, T)
        expected = torch.nn.functional.cross_entropy(
            torch.tensor(logits), torch.tensor(targets), reduction="sum").item()
        assert np.isfinite(cross_entropy(logits, targets))
        assert abs(cross_entropy(logits, targets) - expected) <= 1e-9 * max(1, abs(expected))


def test_softmax_is_shift_invariant_and_never_overflows():
    z = np.array([[1000.0, 1001.0, 999.0], [-3.0, 0.0, 2.0]])
    np.testing.assert_allclose(softmax(z)[0], softmax(z[0] - 1000.0))
    assert np.all(np.isfinite(softmax(z)))


@pytest.mark.parametrize("D, H, K, T", SIZES)
def test_step_backward_equals_autograd(D, H, K, T):
    params, xs, h0, _ = make_problem(D, H, K, T, seed=3)
    dh = np.random.default_rng(3).normal(size=H)
    _, cache = step_forward(xs[0], h0, params)
    dh_prev, grads = step_backward(dh, cache, params)
    W, U, b = (torch.tensor(params[k], requires_grad=True) for k in "WUb")
    h_prev = torch.tensor(h0, requires_grad=True)
    h_t = torch.tanh(W @ h_prev + U @ torch.tensor(xs[0]) + b)
    h_t.backward(torch.tensor(dh))
    for name, leaf in [("W", W), ("U", U), ("b", b)]:
        assert relative_error(grads[name], leaf.grad.numpy()) < 1e-12, name
    assert relative_error(dh_prev, h_prev.grad.numpy()) < 1e-12


@pytest.mark.parametrize("D, H, K, T", SIZES)
def test_backward_equals_finite_differences(D, H, K, T):
    params, xs, h0, targets = make_problem(D, H, K, T, seed=4)
    _, grads, _ = loss_and_grads(xs, targets, h0, params)
    report = check_gradients(lambda: cross_entropy(forward(xs, h0, params)[1].logits, targets),
                             params, grads)
    assert report.max_rel_error < 1e-7, str(report)


@pytest.mark.parametrize("D, H, K, T", SIZES)
def test_backward_equals_autograd_including_dh0_and_dh_last(D, H, K, T):
    params, xs, h0, targets = make_problem(D, H, K, T, seed=5)
    dh_last = np.random.default_rng(5).normal(size=H)
    _, cache = forward(xs, h0, params)
    grads, dh0 = backward(targets, cache, params, dh_last=dh_last)
    loss, leaves, h_T = torch_loss(params, xs, h0, targets)
    (loss + torch.tensor(dh_last) @ h_T).backward()
    for name in PARAM_NAMES:
        assert relative_error(grads[name], leaves[name].grad.numpy()) < 1e-10, name
    assert relative_error(dh0, leaves["h0"].grad.numpy()) < 1e-10
    assert abs(cross_entropy(cache.logits, targets) - loss.item()) < 1e-10



@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncated_bptt_equals_autograd_with_state_detached_every_k(k):
    params, xs, h0, targets = make_problem(3, 4, 5, 11, seed=6)
    loss, grads, h_last = truncated_bptt(xs, targets, h0, params, k)
    expected, leaves, h_T = torch_loss(params, xs, h0, targets, detach_every=k)
    expected.backward()
    assert abs(loss - expected.item()) < 1e-10
    for name in PARAM_NAMES:
        assert relative_error(grads[name], leaves[name].grad.numpy()) < 1e-10, name
    np.testing.assert_allclose(h_last, h_T.detach().numpy(), rtol=1e-12)


def test_truncated_bptt_with_k_at_least_T_is_full_bptt():
    params, xs, h0, targets = make_problem(2, 3, 4, 7, seed=7)
    full_loss, full, h_full = loss_and_grads(xs, targets, h0, params)
    for k in (7, 50):
        loss, grads, h = truncated_bptt(xs, targets, h0, params, k)
        assert loss == pytest.approx(full_loss)
        for name in PARAM_NAMES:
            np.testing.assert_allclose(grads[name], full[name])
        np.testing.assert_allclose(h, h_full)


def test_truncation_changes_the_recurrent_gradient():
    params, xs, h0, targets = make_problem(2, 3, 4, 8, seed=8)
    _, full, _ = loss_and_grads(xs, targets, h0, params)
    _, cut, _ = truncated_bptt(xs, targets, h0, params, 2)
    assert relative_error(full["W"], cut["W"]) > 1e-3
    np.testing.assert_allclose(full["V"], cut["V"])  # V sees no recurrence


def test_sample_follows_the_argmax_path_of_a_peaked_model():
    rng = np.random.default_rng(9)
    K, H = 5, 6
    params = init_params(K, H, K, seed=rng, scale=1.0)
    params["V"] *= 200.0  # outputs almost one-hot: sampling is argmax
    h, symbol, expected = torch.zeros(H, dtype=torch.float64), 2, []
    p = {k: torch.tensor(v) for k, v in params.items()}
    for _ in range(12):
        h = torch.tanh(p["W"] @ h + p["U"][:, symbol] + p["b"])
        symbol = int(torch.argmax(p["V"] @ h + p["c"]))
        expected.append(symbol)
    np.testing.assert_array_equal(sample(params, np.zeros(H), 2, 12, rng=0), expected)


def test_sample_is_seeded_and_matches_the_distribution():
    params = init_params(3, 2, 3, seed=0, scale=0.0)  # y_t uniform over 3 symbols
    a = sample(params, np.zeros(2), 0, 3000, rng=1)
    np.testing.assert_array_equal(a, sample(params, np.zeros(2), 0, 3000, rng=1))
    assert not np.array_equal(a, sample(params, np.zeros(2), 0, 3000, rng=2))
    np.testing.assert_allclose(np.bincount(a, minlength=3) / 3000, 1 / 3, atol=0.03)


def test_init_params_shapes_and_determinism():
    a, b = init_params(5, 3, 10, seed=4), init_params(5, 3, 10, seed=4)
    assert param_sizes(a) == (5, 3, 10)
    assert {k: v.shape for k, v in a.items()} == {
        "W": (3, 3), "U": (3, 5), "b": (3,), "V": (10, 3), "c": (10,)}
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(a[name], b[name])


def test_one_hot_times_a_matrix_picks_a_column():
    U = np.arange(15.0).reshape(3, 5)
    x = one_hot([3, 0], 5)
    np.testing.assert_array_equal(x @ U.T, U[:, [3, 0]].T)


@pytest.mark.parametrize("call, message", [
    (lambda p: forward(np.zeros((4, 2)), np.zeros(3), p), r"xs of shape \(T, D\) = \(T, 5\)"),
    (lambda p: forward(np.zeros(5), np.zeros(3), p), r"xs of shape \(T, D\)"),
    (lambda p: forward(np.zeros((4, 5)), np.zeros((3, 1)), p), r"h0 of shape \(H,\)"),
    (lambda p: step_forward(np.zeros((5, 1)), np.zeros(3), p), r"x_t of shape \(D,\)"),
    (lambda p: backward(np.array([0, 10]), forward(np.zeros((2, 5)), np.zeros(3), p)[1], p),
     r"targets must lie in \[0, K\)"),
    (lambda p: backward(np.array([0.0, 1.0]), forward(np.zeros((2, 5)), np.zeros(3), p)[1], p),
     "int class indices"),
    (lambda p: forward(np.zeros((4, 5)), np.zeros(3), {**p, "W": np.zeros((3, 4))}),
     r"expected W of shape \(3, 3\)"),
    (lambda p: sample(p, np.zeros(3), 0, 4), "needs D == K"),
    (lambda p: truncated_bptt(np.zeros((4, 5)), np.zeros(4, int), np.zeros(3), p, 0),
     "k must be a positive int"),
])
def test_bad_shapes_raise_clear_errors(call, message):
    params = init_params(5, 3, 10)
    with pytest.raises(ValueError, match=message):
        call(params)


def test_missing_parameter_is_named():
    params = init_params(2, 3, 4)
    del params["c"]
    with pytest.raises(KeyError, match="missing"):
        forward(np.zeros((2, 2)), np.zeros(3), params)
