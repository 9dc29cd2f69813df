"""The mixture density output: loss against torch.distributions, sampling, bias."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, Categorical, MixtureSameFamily, MultivariateNormal

from rnncourse.mdn import (bivariate_normal_log_prob, mdn_nll, n_outputs, sample,
                           split_outputs)


def random_outputs(seed, M=3, shape=(4, 6), scale=1.0):
    g = torch.Generator().manual_seed(seed)
    y_hat = scale * torch.randn(*shape, n_outputs(M), generator=g, dtype=torch.float64)
    x = torch.randn(*shape, 3, generator=g, dtype=torch.float64)
    x[..., 2] = (torch.rand(shape, generator=g) < 0.3).double()
    return y_hat, x


def brute_force_nll(params, x):
    """Per-step NLL from torch.distributions, covariance written out entry by entry."""
    s1, s2, rho = params.sigma[..., 0], params.sigma[..., 1], params.rho
    cov = torch.stack([torch.stack([s1 * s1, rho * s1 * s2], -1),
                       torch.stack([rho * s1 * s2, s2 * s2], -1)], -2)  # (..., M, 2, 2)
    mixture = MixtureSameFamily(Categorical(logits=params.log_pi),
                                MultivariateNormal(params.mu, covariance_matrix=cov))
    pen = Bernoulli(probs=1 / (1 + torch.exp(params.e_hat)))  # Graves' e_t
    return -(mixture.log_prob(x[..., :2]) + pen.log_prob(x[..., 2]))


@pytest.mark.parametrize("seed,M", [(0, 1), (1, 3), (2, 5), (3, 20)])
def test_nll_equals_torch_distributions(seed, M):
    y_hat, x = random_outputs(seed, M, scale=1.5)
    params = split_outputs(y_hat)
    torch.testing.assert_close(mdn_nll(params, x), brute_force_nll(params, x).mean())


def test_nll_mask_averages_only_real_steps():
    y_hat, x = random_outputs(5)
    params = split_outputs(y_hat)
    mask = torch.zeros(4, 6, dtype=torch.float64)
    mask[:, :2] = 1
    torch.testing.assert_close(mdn_nll(params, x, mask), brute_force_nll(params, x)[:, :2].mean())


def test_nll_stays_finite_far_from_every_mean():
    y_hat, x = random_outputs(6, M=4)
    y_hat[..., 1 + 3 * 4:1 + 5 * 4] = -3.0  # sigma = e^-3: narrow components
    x[..., :2] = 40.0
    params = split_outputs(y_hat)
    got = mdn_nll(params, x)
    assert torch.isfinite(got) and got > 1e4
    torch.testing.assert_close(got, brute_force_nll(params, x).mean())


def test_bivariate_density_integrates_to_one():
    grid = torch.linspace(-8, 8, 401, dtype=torch.float64)
    X = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    mu = torch.tensor([[0.5, -0.3]], dtype=torch.float64)
    sigma = torch.tensor([[1.2, 0.7]], dtype=torch.float64)
    rho = torch.tensor([-0.8], dtype=torch.float64)
    density = bivariate_normal_log_prob(X, mu, sigma, rho).exp().sum() * (grid[1] - grid[0]) ** 2
    assert abs(density.item() - 1) < 1e-6


def test_nll_gradient_matches_finite_differences():
    y_hat, x = random_outputs(7, M=2, shape=(2, 2))
    y_hat.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda y: mdn_nll(split_outputs(y), x), (y_hat,))


def test_split_outputs_obeys_the_constraints():
    params = split_outputs(random_outputs(8, M=4, scale=5.0)[0])
    torch.testing.assert_close(params.pi.sum(-1), torch.ones(4, 6, dtype=torch.float64))
    assert (params.sigma > 0).all() and (params.rho.abs() < 1).all()
    assert ((params.e > 0) & (params.e < 1)).all()
    assert params.mu.shape == params.sigma.shape == (4, 6, 4, 2)


def test_bias_sharpens_weights_and_shrinks_deviations():
    y_hat, _ = random_outputs(9, M=5)
    plain, biased = split_outputs(y_hat), split_outputs(y_hat, bias=2.0)
    torch.testing.assert_close(biased.sigma, plain.sigma * math.exp(-2.0))
    entropy = lambda p: -(p.pi * p.log_pi).sum(-1)
    assert (entropy(biased) < entropy(plain)).all()
    torch.testing.assert_close(biased.log_pi, torch.log_softmax(3.0 * y_hat[..., 1:6], -1))


def test_sample_shape_and_determinism_under_a_seed():
    params = split_outputs(random_outputs(10, M=3)[0].float())
    a = sample(params, generator=torch.Generator().manual_seed(1))
    b = sample(params, generator=torch.Generator().manual_seed(1))
    c = sample(params, generator=torch.Generator().manual_seed(2))
    assert a.shape == (4, 6, 3)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    assert set(a[..., 2].unique().tolist()) <= {0.0, 1.0}


def test_samples_follow_the_mixture_moments():
    M = 2
    y_hat = torch.zeros(20000, n_outputs(M), dtype=torch.float64)
    y_hat[:, 1:3] = torch.tensor([0.0, math.log(3.0)])  # pi = (1/4, 3/4)
    y_hat[:, 3:5] = torch.tensor([-6.0, 6.0])            # mu_1 per component
    y_hat[:, 11:13] = math.atanh(0.6)                    # rho = 0.6, sigma = 1
    x = sample(split_outputs(y_hat), generator=torch.Generator().manual_seed(0))
    assert abs(x[:, 0].mean().item() - 3.0) < 0.1        # 1/4 (-6) + 3/4 (6)
    assert abs(x[:, 2].mean().item() - 0.5) < 0.02       # e_hat = 0 -> e = 1/2
    assert abs(torch.corrcoef(x[x[:, 0] > 0][:, :2].T)[0, 1].item() - 0.6) < 0.03


def test_large_bias_lowers_sample_variance():
    y_hat = random_outputs(11, M=6, shape=(1,))[0].expand(5000, -1)  # one mixture, many draws
    spread = {b: sample(split_outputs(y_hat, bias=b), generator=torch.Generator().manual_seed(3))
              [:, :2].var(0).sum().item() for b in (0.0, 1.0, 3.0)}
    assert spread[0.0] > spread[1.0] > spread[3.0]
    assert spread[3.0] < 0.5 * spread[0.0]


def test_bad_output_sizes_are_reported():
    with pytest.raises(ValueError, match=r"last dimension 1 \+ 6M"):
        split_outputs(torch.zeros(2, 10))
    with pytest.raises(ValueError, match=r"expected x of shape \(2, 3\)"):
        mdn_nll(split_outputs(torch.zeros(2, 7)), torch.zeros(2, 2))
