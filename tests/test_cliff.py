"""rnncourse.cliff: the one-unit RNN whose loss has a cliff."""

import numpy as np
import pytest
import torch

from rnncourse.cliff import cliff_loss, cliff_loss_and_grad, loss_grid


def torch_loss(w, b, T=50, h0=0.5, target=0.7):
    w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    h = torch.tensor(h0, dtype=torch.float64)
    for _ in range(T):
        h = w * torch.sigmoid(h) + b
    loss = (h - target) ** 2
    loss.backward()
    return float(loss.detach()), float(w.grad), float(b.grad)


@pytest.mark.parametrize("w,b,T", [(1.0, -0.5, 5), (5.0, -2.5, 50), (8.0, -4.1, 30), (-3.0, 1.0, 12)])
def test_loss_and_gradient_match_torch_autograd(w, b, T):
    loss, dw, db = cliff_loss_and_grad(w, b, T)
    expected = torch_loss(w, b, T)
    np.testing.assert_allclose([loss, dw, db], expected, rtol=1e-9, atol=1e-12)


def test_loss_and_grad_agrees_with_cliff_loss_and_broadcasts():
    ws, bs = np.array([[1.0], [4.0]]), np.array([-1.0, -2.0, -3.0])
    loss, dw, db = cliff_loss_and_grad(ws, bs)
    assert loss.shape == dw.shape == db.shape == (2, 3)
    np.testing.assert_allclose(loss, cliff_loss(ws, bs))


def test_grid_has_rows_over_b_and_a_cliff():
    ws, bs = np.linspace(0, 8, 17), np.linspace(-5, 0, 11)
    grid = loss_grid(ws, bs)
    assert grid.shape == (11, 17)
    np.testing.assert_allclose(grid[3, 5], cliff_loss(ws[5], bs[3]))
    # along w at b = -4 the loss drops by more than 5 between neighbouring grid points
    assert np.max(-np.diff(loss_grid(np.linspace(6, 9, 301), np.array([-4.0]))[0])) > 5
