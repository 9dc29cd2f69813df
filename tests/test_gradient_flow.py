"""rnncourse.viz.gradient_flow: gradient norms against distance, and the slider widget."""

import numpy as np
import pytest
import torch

from rnncourse.viz.gradient_flow import GradientFlow, GradientFlowExplorer, matrix_with_spectral_radius


@pytest.mark.parametrize("radius", [0.3, 1.0, 2.5])
def test_matrix_gets_the_requested_spectral_radius(radius):
    W = np.random.default_rng(0).standard_normal((6, 6))
    assert np.max(np.abs(np.linalg.eigvals(matrix_with_spectral_radius(W, radius)))) == pytest.approx(radius)


def test_matrix_with_spectral_radius_rejects_non_square():
    with pytest.raises(ValueError, match=r"expected a square matrix W of shape \(H, H\)"):
        matrix_with_spectral_radius(np.zeros((3, 4)), 1.0)


@pytest.mark.parametrize("radius", [0.7, 1.3])
def test_tanh_norms_match_torch_autograd(radius):
    flow = GradientFlow(hidden_size=5, T=8, seed=1, n_directions=1)
    W = torch.tensor(matrix_with_spectral_radius(flow.W0, radius), requires_grad=False)
    hs = [torch.zeros(5, dtype=torch.float64, requires_grad=True)]
    for t in range(flow.T):
        hs[-1].retain_grad()
        hs.append(torch.tanh(W @ hs[-1] + torch.from_numpy(flow.u[t])))
    hs[-1].retain_grad()
    (hs[-1] @ torch.from_numpy(flow.g_T[0])).backward()
    expected = [float(hs[flow.T - k].grad.norm()) for k in range(flow.T + 1)]
    np.testing.assert_allclose(flow.norms(radius)["tanh"], expected, rtol=1e-10)


@pytest.mark.parametrize("radius", [0.6, 1.0, 1.4])
def test_linear_norms_grow_like_the_radius_to_the_k(radius):
    flow = GradientFlow(hidden_size=16, T=80, seed=0)
    norms = flow.norms(radius)["linear"]
    assert norms[-1] ** (1 / 80) == pytest.approx(radius, rel=0.08)


def test_tanh_never_makes_the_gradient_larger_than_the_linear_bound():
    flow = GradientFlow(hidden_size=16, T=40, seed=0)
    W = matrix_with_spectral_radius(flow.W0, 1.3)
    bound = np.linalg.norm(W, 2) ** np.arange(41)  # ||W^T diag(..)|| <= ||W||
    assert np.all(flow.norms(1.3)["tanh"] <= bound * (1 + 1e-9))


def test_slider_change_redraws_the_plot():
    explorer = GradientFlowExplorer(GradientFlow(hidden_size=8, T=20), radius=1.0)
    before = {k: line.get_ydata().copy() for k, line in explorer.lines.items()}
    explorer.slider.value = 1.4
    for name in ("linear", "tanh", "rho^k"):
        assert not np.allclose(explorer.lines[name].get_ydata(), before[name]), name
    np.testing.assert_allclose(explorer.lines["linear"].get_ydata(), explorer.flow.norms(1.4)["linear"])
    assert "1.40" in explorer.ax.get_title()


def test_radius_property_drives_the_slider():
    explorer = GradientFlowExplorer(GradientFlow(hidden_size=8, T=20), radius=0.8)
    explorer.radius = 1.2
    assert explorer.slider.value == pytest.approx(1.2)
    np.testing.assert_allclose(explorer.lines["rho^k"].get_ydata(), 1.2 ** np.arange(21))
