"""A mixture density output for pen offsets: M bivariate Gaussians and a Bernoulli pen lift.

Graves, "Generating Sequences with Recurrent Neural Networks" (2013), eqs. 15-26 and the
biased sampling of section 5.4 [seeds 000 "Recurrent Mixture Density Networks",
"Network details"; 001 "Handwriting generation", "biased sampling"].

The network's raw output at step t is ``y_hat = (e_hat, pi_hat^j, mu_hat^j, sigma_hat^j,
rho_hat^j)`` for j = 1..M, laid out in that order along the last axis (size 1 + 6M:
e_hat, then M pi_hat, M mu_hat_1, M mu_hat_2, M sigma_hat_1, M sigma_hat_2, M rho_hat).
It becomes a distribution over the next step ``x = (x1, x2, x3)``:

    e     = 1 / (1 + exp(e_hat))                 end-of-stroke probability (Graves' sign)
    pi^j  = softmax_j(pi_hat (1 + b))            mixture weights
    mu^j  = mu_hat^j                             means
    sigma = exp(sigma_hat - b)                   standard deviations
    rho   = tanh(rho_hat)                        correlations

    Pr(x) = sum_j pi^j N(x1, x2 | mu^j, sigma^j, rho^j) * (e if x3 = 1 else 1 - e)

with the sampling bias b = 0 for training. Shapes: ``...`` is any batch shape (N, T).
"""

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["MixtureParams", "n_outputs", "split_outputs", "bivariate_normal_log_prob",
           "mixture_log_prob", "pen_log_prob", "mdn_nll", "sample"]


class MixtureParams(NamedTuple):
    """The mixture at every position; log-space where that keeps the loss stable."""

    log_pi: torch.Tensor   # (..., M) log mixture weights, logsumexp over M is 0
    mu: torch.Tensor       # (..., M, 2) means (mu_1, mu_2)
    sigma: torch.Tensor    # (..., M, 2) standard deviations, > 0
    rho: torch.Tensor      # (..., M) correlations, in (-1, 1)
    e_hat: torch.Tensor    # (...,) raw pen output; e = sigmoid(-e_hat)

    @property
    def pi(self) -> torch.Tensor:
        return self.log_pi.exp()

    @property
    def e(self) -> torch.Tensor:
        return torch.sigmoid(-self.e_hat)


def n_outputs(M: int) -> int:
    """Size of ``y_hat`` for ``M`` components: 1 + 6M."""
    return 1 + 6 * M


def split_outputs(y_hat: torch.Tensor, bias: float = 0.0) -> MixtureParams:
    """Raw outputs (..., 1 + 6M) -> ``MixtureParams`` (eqs. 18-22; bias of eqs. 61-62).

    ``bias`` b >= 0 sharpens the mixture for sampling: weights from ``pi_hat (1 + b)``,
    deviations ``exp(sigma_hat - b)``. Train with b = 0.
    """
    size = y_hat.shape[-1]
    if (size - 1) % 6 or size < 7:
        raise ValueError(f"expected y_hat with last dimension 1 + 6M, got {tuple(y_hat.shape)}")
    if bias < 0:
        raise ValueError(f"expected a bias b >= 0, got {bias}")
    M = (size - 1) // 6
    e_hat = y_hat[..., 0]
    pi_hat, mu_1, mu_2, sigma_hat_1, sigma_hat_2, rho_hat = y_hat[..., 1:].split(M, dim=-1)
    mu = torch.stack([mu_1, mu_2], dim=-1)  # (..., M, 2)
    sigma_hat = torch.stack([sigma_hat_1, sigma_hat_2], dim=-1)  # (..., M, 2)
    return MixtureParams(log_pi=F.log_softmax(pi_hat * (1.0 + bias), dim=-1), mu=mu,
                         sigma=torch.exp(sigma_hat - bias), rho=torch.tanh(rho_hat), e_hat=e_hat)


def bivariate_normal_log_prob(x: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor,
                              rho: torch.Tensor) -> torch.Tensor:
    """log N(x | mu, sigma, rho) of eqs. 24-25, for every component.

    x (..., 2) is broadcast against mu, sigma (..., M, 2) and rho (..., M); returns (..., M).
    """
    d = (x.unsqueeze(-2) - mu) / sigma  # (..., M, 2) standardised distances
    Z = d[..., 0] ** 2 + d[..., 1] ** 2 - 2 * rho * d[..., 0] * d[..., 1]
    one_minus_rho2 = 1 - rho ** 2
    return (-Z / (2 * one_minus_rho2)
            - math.log(2 * math.pi) - sigma.log().sum(-1) - 0.5 * one_minus_rho2.log())


def mixture_log_prob(params: MixtureParams, offset: torch.Tensor) -> torch.Tensor:
    """log sum_j pi^j N(offset | mu^j, sigma^j, rho^j): offset (..., 2) -> (...,).

    Summed in log space (log-sum-exp): far from every mean each N underflows to 0.
    """
    log_N = bivariate_normal_log_prob(offset, params.mu, params.sigma, params.rho)
    return torch.logsumexp(params.log_pi + log_N, dim=-1)


def pen_log_prob(params: MixtureParams, pen_lift: torch.Tensor) -> torch.Tensor:
    """log e if pen_lift = 1, log(1 - e) if 0 (..., ); with e = sigmoid(-e_hat)."""
    return pen_lift * F.logsigmoid(-params.e_hat) + (1 - pen_lift) * F.logsigmoid(params.e_hat)


def mdn_nll(params: MixtureParams, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Negative log-likelihood (eq. 26) of steps x (..., 3), averaged over (unmasked) steps.

    ``mask`` (...,) is 1 on real steps and 0 on padding.
    """
    if x.shape[-1] != 3 or x.shape[:-1] != params.e_hat.shape:
        raise ValueError(f"expected x of shape {tuple(params.e_hat.shape) + (3,)}, "
                         f"got {tuple(x.shape)}")
    nll = -(mixture_log_prob(params, x[..., :2]) + pen_log_prob(params, x[..., 2]))  # (...,)
    if mask is None:
        return nll.mean()
    return (nll * mask).sum() / mask.sum().clamp_min(1)


def sample(params: MixtureParams, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one step x = (x1, x2, x3) (..., 3) from the mixture at every position.

    Pick a component j ~ pi, then a correlated Gaussian pair, then the pen lift ~ e.
    """
    shape = params.e_hat.shape
    log_pi = params.log_pi.reshape(-1, params.log_pi.shape[-1])  # (B, M)
    j = torch.multinomial(log_pi.exp(), 1, generator=generator).reshape(shape)  # (...,)
    take = j.unsqueeze(-1)
    mu = params.mu.gather(-2, take.unsqueeze(-1).expand(*shape, 1, 2)).squeeze(-2)  # (..., 2)
    sigma = params.sigma.gather(-2, take.unsqueeze(-1).expand(*shape, 1, 2)).squeeze(-2)
    rho = params.rho.gather(-1, take).squeeze(-1)  # (...,)
    z = torch.randn(*shape, 2, generator=generator, device=mu.device, dtype=mu.dtype)
    x1 = mu[..., 0] + sigma[..., 0] * z[..., 0]
    x2 = mu[..., 1] + sigma[..., 1] * (rho * z[..., 0] + torch.sqrt(1 - rho ** 2) * z[..., 1])
    u = torch.rand(shape, generator=generator, device=mu.device, dtype=mu.dtype)
    x3 = (u < params.e).to(mu.dtype)
    return torch.stack([x1, x2, x3], dim=-1)
