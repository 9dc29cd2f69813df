"""The checks of notebook 14: correct alternatives pass, plausible slips fail with a hint."""

import math

import pytest
import torch

from check_harness import assert_question_key, run_check
from rnncourse.synthesis import window_step

NB = "14_beyond"


# ---- 14.1 mixture_nll --------------------------------------------------------------

def nll_via_log_softmax_weights(x, pi, mu, sigma, rho, e):
    """Correct, written differently: expanded quadratic form, log of each factor apart."""
    dx = x[:, None, :2] - mu                                       # (N, M, 2)
    s1, s2 = sigma[..., 0], sigma[..., 1]
    one_minus = 1 - rho ** 2
    quad = (dx[..., 0] ** 2 / s1 ** 2 + dx[..., 1] ** 2 / s2 ** 2
            - 2 * rho * dx[..., 0] * dx[..., 1] / (s1 * s2)) / one_minus
    log_n = -0.5 * quad - math.log(2 * math.pi) - torch.log(s1) - torch.log(s2) - 0.5 * torch.log(one_minus)
    log_mix = torch.logsumexp(log_n + torch.log(pi), dim=-1)
    log_pen = x[:, 2] * torch.log(e) + (1 - x[:, 2]) * torch.log(1 - e)
    return -(log_mix + log_pen)


def nll_manual_logsumexp(x, pi, mu, sigma, rho, e):
    """Correct: log-sum-exp by hand (subtract the max)."""
    d1 = (x[:, None, 0] - mu[..., 0]) / sigma[..., 0]
    d2 = (x[:, None, 1] - mu[..., 1]) / sigma[..., 1]
    z = d1 ** 2 + d2 ** 2 - 2 * rho * d1 * d2
    terms = torch.log(pi) - z / (2 * (1 - rho ** 2)) - torch.log(
        2 * math.pi * sigma[..., 0] * sigma[..., 1] * torch.sqrt(1 - rho ** 2))
    m = terms.max(dim=1, keepdim=True).values
    log_mix = m[:, 0] + torch.log(torch.exp(terms - m).sum(dim=1))
    return -(log_mix + torch.where(x[:, 2] > 0.5, torch.log(e), torch.log(1 - e)))


def slip(kind):
    def nll(x, pi, mu, sigma, rho, e):
        d1 = (x[:, None, 0] - mu[..., 0]) / sigma[..., 0]
        d2 = (x[:, None, 1] - mu[..., 1]) / sigma[..., 1]
        cross = 2 * rho * d1 * d2
        z = d1 ** 2 + d2 ** 2 + (cross if kind == "sign" else 0 * cross if kind == "no-rho" else -cross)
        norm = 2 * math.pi * sigma[..., 0] * sigma[..., 1] * torch.sqrt(1 - rho ** 2)
        if kind == "no-sqrt":
            norm = 2 * math.pi * sigma[..., 0] * sigma[..., 1] * (1 - rho ** 2)
        log_n = -z / (2 * (1 - rho ** 2)) - torch.log(norm)
        if kind == "literal":
            log_mix = torch.log((pi * torch.exp(log_n)).sum(1))
        else:
            log_mix = torch.logsumexp(torch.log(pi) + log_n, dim=1)
        pen = torch.where(x[:, 2] > 0.5, torch.log(1 - e) if kind == "pen" else torch.log(e),
                          torch.log(e) if kind == "pen" else torch.log(1 - e))
        return -(log_mix + pen)
    return nll


@pytest.mark.parametrize("answer", [nll_via_log_softmax_weights, nll_manual_logsumexp])
def test_mixture_nll_accepts_correct_alternatives(answer):
    run_check(NB, "14.mixture-nll", mixture_nll=answer)


@pytest.mark.parametrize("kind, message", [("literal", "logsumexp"), ("sign", "mixture_nll"),
                                           ("no-rho", "mixture_nll"), ("no-sqrt", "mixture_nll"),
                                           ("pen", "mixture_nll")])
def test_mixture_nll_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "14.mixture-nll", mixture_nll=slip(kind))


# ---- 14.2 biased_mixture -------------------------------------------------------------

def biased_by_hand(pi_hat, sigma_hat, b):
    logits = pi_hat * (1 + b)
    w = torch.exp(logits - logits.max(dim=-1, keepdim=True).values)
    return w / w.sum(dim=-1, keepdim=True), torch.exp(sigma_hat) * math.exp(-b)


def test_biased_mixture_accepts_a_hand_written_softmax():
    run_check(NB, "14.sampling-bias", biased_mixture=biased_by_hand)


@pytest.mark.parametrize("wrong", [
    lambda p, s, b: (torch.softmax(p, -1) * (1 + b), torch.exp(s - b)),        # bias after the softmax
    lambda p, s, b: (torch.softmax(p / (1 + b), -1), torch.exp(s - b)),        # flattens instead
    lambda p, s, b: (torch.softmax(p * (1 + b), -1), torch.exp(s) - b),        # subtracts outside exp
    lambda p, s, b: (torch.softmax(p * (1 + b), -1), torch.exp(s + b)),        # sign
    lambda p, s, b: (torch.softmax(p * (1 + b), 0), torch.exp(s - b)),         # wrong axis
])
def test_biased_mixture_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        run_check(NB, "14.sampling-bias", biased_mixture=wrong)


# ---- 14.3 self_attention --------------------------------------------------------------

def attention_by_hand(X, W_q, W_k, W_v):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    s = (Q @ K.T) / K.shape[1] ** 0.5
    w = torch.exp(s - s.max(dim=1, keepdim=True).values)
    A = w / w.sum(dim=1, keepdim=True)
    return A @ V, A


def attention_with_einsum(X, W_q, W_k, W_v):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    A = torch.nn.functional.softmax(torch.einsum("td,sd->ts", Q, K) / math.sqrt(Q.shape[-1]), dim=-1)
    return torch.einsum("ts,sv->tv", A, V), A


@pytest.mark.parametrize("answer", [attention_by_hand, attention_with_einsum])
def test_self_attention_accepts_correct_alternatives(answer):
    run_check(NB, "14.self-attention", self_attention=answer)


def _attention(scale, dim=1, transpose=False):
    def f(X, W_q, W_k, W_v):
        Q, K, V = X @ W_q, X @ W_k, X @ W_v
        s = (K @ Q.T if transpose else Q @ K.T) / scale(K.shape[1])
        A = torch.softmax(s, dim=dim)
        return A @ V, A
    return f


@pytest.mark.parametrize("wrong, message", [
    (_attention(lambda d: 1.0), "sqrt"),
    (_attention(lambda d: d), "sqrt"),
    (_attention(lambda d: d ** 0.5, dim=0), "row"),
    (_attention(lambda d: d ** 0.5, transpose=True), "wrong|row"),
])
def test_self_attention_rejects_slips_with_a_hint(wrong, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "14.self-attention", self_attention=wrong)


def test_self_attention_rejects_torch_own_function():
    def wrapped(X, W_q, W_k, W_v):
        Q, K, V = X @ W_q, X @ W_k, X @ W_v
        A = torch.softmax(Q @ K.T / math.sqrt(K.shape[1]), dim=1)
        return torch.nn.functional.scaled_dot_product_attention(Q[None], K[None], V[None])[0], A
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "14.self-attention", self_attention=wrapped)


# ---- questions ----------------------------------------------------------------------

@pytest.mark.parametrize("check_id, name, key", [("14.q-squared-error-mean", "answer_14_1", "b"),
                                                  ("14.q-bias-limit", "answer_14_2", "c"),
                                                  ("14.q-attention-cost", "answer_14_3", "a")])
def test_questions_accept_the_key_in_any_case_and_reject_the_rest(check_id, name, key):
    assert_question_key(NB, check_id, name, key)


# ---- 14.soft-window: the window update of handwriting synthesis ---------------------------

def _window(kind="right"):
    def soft_window(window_hat, kappa_prev, c):
        K = kappa_prev.shape[1]
        a, b, k = window_hat[:, :K], window_hat[:, K:2 * K], window_hat[:, 2 * K:]
        alpha = a if kind == "alpha without exp" else torch.exp(a)
        beta = torch.exp(b)
        kappa = {"not cumulative": torch.exp(k), "kappa without exp": kappa_prev + k}.get(
            kind, kappa_prev + torch.exp(k))
        first = 0 if kind == "u from 0" else 1
        u = torch.arange(first, c.shape[1] + first, dtype=c.dtype)
        g = alpha.unsqueeze(2) * torch.exp(-beta.unsqueeze(2) * (kappa.unsqueeze(2) - u) ** 2)  # (N, K, U)
        phi = g.sum(2) if kind == "phi over the wrong axis" else g.sum(1)
        if kind == "softmax phi":
            phi = torch.softmax(phi, dim=1)
        if kind == "phi over the wrong axis":  # phi (N, K): w cannot be formed; the shape check names it
            return torch.zeros(c.shape[0], c.shape[2], dtype=c.dtype), kappa, phi
        w = torch.einsum("nu,nuv->nv", phi, c)
        if kind == "w normalised":
            w = w / phi.sum(1, keepdim=True)
        return w, kappa, phi
    return soft_window


def test_soft_window_check_accepts_a_correct_alternative():
    run_check("14_beyond", "14.soft-window", soft_window=_window())


@pytest.mark.parametrize("kind, message", [
    ("not cumulative", "kappa"), ("kappa without exp", "kappa"), ("alpha without exp", "phi"),
    ("u from 0", "phi"), ("phi over the wrong axis", "phi"), ("softmax phi", "phi"),
    ("w normalised", "w ")])
def test_soft_window_check_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check("14_beyond", "14.soft-window", soft_window=_window(kind))


def test_soft_window_check_rejects_the_package_reference():
    with pytest.raises(AssertionError, match="write your own"):
        run_check("14_beyond", "14.soft-window",
                  soft_window=lambda h, k, c: window_step(h, k, c))
