"""The min-char-rnn model of ``rnncourse.minchar``, batched and vectorised in numpy.

Same parameters, same equations, same Adagrad; two changes make it fast:

- N tracks of the text are read side by side, so every step multiplies (N, H)
  matrices instead of (H,) vectors;
- everything that does not depend on the previous step is done for all T steps at
  once: the input lookup ``W_xh[:, x_t]``, the output layer and softmax, and the
  weight gradients, which become sums over N * T rows (one matrix product each).

Only the recurrence ``h_t = tanh(a_t + h_{t-1} W_hh^T)`` and its backward pass stay
a Python loop over t. The loss is summed over time and averaged over the batch, so
with N = 1 it equals ``minchar.loss_and_grads``. Shapes: N batch, T time, H hidden,
V vocabulary.
"""

import numpy as np

from rnncourse.minchar import TrainConfig, softmax, train

__all__ = ["loss_and_grads_batched", "train_batched"]


def loss_and_grads_batched(params: dict, inputs, targets, h_prev: np.ndarray):
    """Forward and backward over a batch of chunks.

    inputs, targets: ints (N, T); h_prev: (N, H).
    Returns (loss summed over T and averaged over N, grads, h_T (N, H)).
    """
    W_xh, W_hh, W_hy, b_h, b_y = (params[k] for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y"))
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.ndim != 2 or inputs.shape != targets.shape:
        raise ValueError(f"expected inputs and targets of shape (N, T), got {inputs.shape} "
                         f"and {targets.shape}")
    N, T = inputs.shape
    if h_prev.shape != (N, W_hh.shape[0]):
        raise ValueError(f"expected h_prev of shape (N, H) = {(N, W_hh.shape[0])}, got {h_prev.shape}")
    a_in = W_xh.T[inputs] + b_h  # (N, T, H): the input's column of W_xh, for every step
    hs = np.empty((N, T + 1, W_hh.shape[0]))  # hs[:, t + 1] = h_t
    hs[:, 0] = h_prev
    for t in range(T):
        hs[:, t + 1] = np.tanh(a_in[:, t] + hs[:, t] @ W_hh.T)
    ps = softmax(hs[:, 1:] @ W_hy.T + b_y)  # (N, T, V)
    n_ix, t_ix = np.arange(N)[:, None], np.arange(T)[None, :]
    loss = -np.log(ps[n_ix, t_ix, targets]).sum() / N

    dy = ps.copy()
    dy[n_ix, t_ix, targets] -= 1.0
    dy /= N  # (N, T, V)
    dh_out = dy @ W_hy  # (N, T, H): dL/dh_t through y_t
    da = np.empty_like(dh_out)  # dL/da_t, a_t the input of tanh
    dh_next = np.zeros_like(h_prev)
    for t in reversed(range(T)):
        da[:, t] = (1.0 - hs[:, t + 1] ** 2) * (dh_out[:, t] + dh_next)
        dh_next = da[:, t] @ W_hh
    H, V = W_hh.shape[0], W_hy.shape[0]
    rows_da = da.reshape(-1, H)  # (N*T, H)
    dW_xh_T = np.zeros((V, H))
    np.add.at(dW_xh_T, inputs.reshape(-1), rows_da)
    grads = {"W_xh": dW_xh_T.T,
             "W_hh": rows_da.T @ hs[:, :-1].reshape(-1, H),
             "W_hy": dy.reshape(-1, V).T @ hs[:, 1:].reshape(-1, H),
             "b_h": rows_da.sum(axis=0),
             "b_y": dy.reshape(-1, V).sum(axis=0)}
    return float(loss), grads, hs[:, T].copy()


def train_batched(text: str, config: TrainConfig, batch_size: int = 32, params=None, on_sample=None):
    """``minchar.train`` with ``batch_size`` tracks read side by side."""
    if batch_size < 1:
        raise ValueError(f"expected batch_size >= 1, got {batch_size}")
    return train(text, config, params=params, on_sample=on_sample, batch_size=batch_size,
                 loss_fn=loss_and_grads_batched)
