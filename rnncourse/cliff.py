"""The exploding-gradient cliff of a one-unit RNN (Pascanu, Mikolov and Bengio 2013).

    h_t = w * sigmoid(h_{t-1}) + b,   h_0 = 0.5,   L(w, b) = (h_T - target)^2

Across a thin band of (w, b) the map from h_0 to h_T changes from one fixed point to
another, so L rises like a wall and its gradient there is huge: a plain gradient step
taken on the wall throws the parameters far away, a clipped one stays near (slide deck
003's "scale gradient if its norm is too big", deck 001's clipping variants).
All functions broadcast over arrays of w and b, so a whole grid is one call.
"""

import numpy as np

__all__ = ["cliff_loss", "cliff_loss_and_grad", "loss_grid"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cliff_loss(w, b, T: int = 50, h0: float = 0.5, target: float = 0.7):
    """L(w, b) = (h_T - target)^2, elementwise over broadcast w and b."""
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    h = np.full(w.shape, h0)
    for _ in range(T):
        h = w * _sigmoid(h) + b
    return (h - target) ** 2


def cliff_loss_and_grad(w, b, T: int = 50, h0: float = 0.5, target: float = 0.7):
    """(L, dL/dw, dL/db), carrying dh_t/dw and dh_t/db forward through the T steps."""
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    h = np.full(w.shape, h0)
    dh_dw, dh_db = np.zeros(w.shape), np.zeros(w.shape)
    for _ in range(T):
        s = _sigmoid(h)
        ds = s * (1.0 - s)  # sigmoid'(h_{t-1})
        dh_dw = s + w * ds * dh_dw
        dh_db = 1.0 + w * ds * dh_db
        h = w * s + b
    r = h - target
    return r ** 2, 2.0 * r * dh_dw, 2.0 * r * dh_db


def loss_grid(ws: np.ndarray, bs: np.ndarray, T: int = 50, h0: float = 0.5, target: float = 0.7):
    """L on the grid: array (len(bs), len(ws)), rows over b (ready for ``contourf``)."""
    return cliff_loss(ws[None, :], bs[:, None], T, h0, target)
