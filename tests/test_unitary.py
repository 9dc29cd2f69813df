"""Orthogonal recurrent cells and gradient norms through time."""

import pytest
import torch
from torch import nn

from rnncourse.unitary import OrthogonalRNNCell, gradient_norms_through_time, run_cell


@pytest.mark.parametrize("seed,H", [(0, 4), (1, 16), (2, 33)])
def test_recurrent_matrix_is_orthogonal_with_eigenvalues_on_the_unit_circle(seed, H):
    torch.manual_seed(seed)
    W = OrthogonalRNNCell(3, H).W_hh.detach().double()
    torch.testing.assert_close(W.T @ W, torch.eye(H, dtype=torch.float64), atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.eigvals(W).abs(), torch.ones(H, dtype=torch.float64),
                               atol=1e-5, rtol=0)


def test_stays_orthogonal_after_training_steps():
    torch.manual_seed(3)
    cell = OrthogonalRNNCell(2, 8)
    optimiser = torch.optim.SGD(cell.parameters(), lr=0.5)
    for _ in range(5):
        loss = run_cell(cell, torch.randn(6, 4, 2)).pow(2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    W = cell.W_hh.detach()
    torch.testing.assert_close(W.T @ W, torch.eye(8), atol=1e-5, rtol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_orthogonal_cell_preserves_the_hidden_norm(seed):
    torch.manual_seed(seed)
    cell = OrthogonalRNNCell(3, 12, nonlinearity="identity")
    nn.init.zeros_(cell.xh.bias)
    h0 = torch.randn(5, 12)
    states = run_cell(cell, torch.zeros(40, 5, 3), h0)  # x = 0, b_h = 0: h_t = W_hh^t h_0
    torch.testing.assert_close(states.norm(dim=-1), h0.norm(dim=-1).expand(40, 5),
                               atol=1e-4, rtol=1e-5)


def test_cell_equals_its_equation():
    torch.manual_seed(4)
    cell = OrthogonalRNNCell(3, 5, nonlinearity="tanh")
    x_t, h_prev = torch.randn(2, 3), torch.randn(2, 5)
    expected = torch.tanh(h_prev @ cell.W_hh.T + x_t @ cell.xh.weight.T + cell.xh.bias)
    torch.testing.assert_close(cell(x_t, h_prev), expected)


def test_gradient_norm_is_constant_through_a_linear_orthogonal_cell():
    torch.manual_seed(5)
    cell = OrthogonalRNNCell(3, 10, nonlinearity="identity")
    norms = gradient_norms_through_time(cell, torch.randn(30, 2, 3), torch.randn(2, 10))
    torch.testing.assert_close(norms, torch.ones(30), atol=1e-4, rtol=0)


def test_gradient_norms_equal_autograd_jacobians_of_a_vanilla_rnn():
    torch.manual_seed(6)
    cell = nn.RNNCell(2, 4).double()
    x, h0 = torch.randn(5, 1, 2, dtype=torch.float64), torch.randn(1, 4, dtype=torch.float64)
    norms = gradient_norms_through_time(cell, x, h0)
    u = torch.ones(4, dtype=torch.float64) / 2.0
    for k in range(5):  # h_T as a function of h_{T-k}
        def tail(h):
            for x_t in x[5 - k:]:
                h = cell(x_t, h)
            return (h * u).sum()
        start = run_cell(cell, x[:5 - k], h0)[-1] if k < 5 else h0
        grad = torch.autograd.functional.jacobian(tail, start)
        torch.testing.assert_close(norms[k], grad.norm())


def test_vanilla_gradient_vanishes_where_the_orthogonal_one_does_not():
    torch.manual_seed(7)
    x, h0 = 0.1 * torch.randn(60, 3, 4), 0.1 * torch.randn(3, 32)
    vanilla = gradient_norms_through_time(nn.RNNCell(4, 32), x, h0)
    orthogonal = gradient_norms_through_time(OrthogonalRNNCell(4, 32), x, h0)
    assert vanilla[-1] < 1e-6 < 1e-2 < orthogonal[-1]


def test_unknown_nonlinearity_is_reported():
    with pytest.raises(ValueError, match="expected nonlinearity in"):
        OrthogonalRNNCell(2, 3, nonlinearity="sigmoid")
