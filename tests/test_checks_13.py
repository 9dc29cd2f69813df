"""The checks of notebook 13: correct alternatives pass, plausible slips fail with a hint.

Each answer is bound in place of the student's and the notebook's check cell (hidden
tests included) runs through ``check_harness.run_check``. The compose check reads one
test chorale as a prime; a random 0/1 roll stands in for the data set (no file loading).
"""

import numpy as np
import pytest
import torch

from check_harness import run_check

NB = "13_polyphonic_music"
N_KEYS = 88

# ---- 13.1 bernoulli_nll ---------------------------------------------------------------------


def nll_logaddexp(logits, x):
    """Correct: -log p = log(1 + e^a) - x a, with np.logaddexp(0, a)."""
    logits, x = np.asarray(logits, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return (np.logaddexp(0.0, logits) - x * logits).sum(-1)


def nll_two_log_sigmoids(logits, x):
    """Correct: -(x log sigma(a) + (1 - x) log sigma(-a)), each log sigma stable by np.where."""
    a, x = np.asarray(logits, dtype=np.float64), np.asarray(x, dtype=np.float64)

    def log_sigmoid(z):
        return np.where(z >= 0, -np.log1p(np.exp(-np.abs(z))), z - np.log1p(np.exp(-np.abs(z))))
    return -(x * log_sigmoid(a) + (1 - x) * log_sigmoid(-a)).sum(axis=-1)


def nll_log_not_log1p(logits, x):
    """Correct to the stated tolerance: np.log(1 + e^-|a|) instead of np.log1p."""
    a, x = np.asarray(logits, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return np.sum(np.maximum(a, 0) - x * a + np.log(1 + np.exp(-np.abs(a))), axis=-1)


def nll_slip(kind):
    def nll(logits, x):
        a, x = np.asarray(logits, dtype=np.float64), np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            if kind == "naive log sigmoid":
                p = 1 / (1 + np.exp(-a))
                per_key = -(x * np.log(p) + (1 - x) * np.log(1 - p))
            elif kind == "log sigmoid of a and of -a":
                per_key = -(x * np.log(1 / (1 + np.exp(-a))) + (1 - x) * np.log(1 / (1 + np.exp(a))))
            elif kind == "log1p(exp(a))":
                per_key = np.log1p(np.exp(a)) - x * a
            else:
                per_key = np.maximum(a, 0) - x * a + np.log1p(np.exp(-np.abs(a)))
        if kind == "mean over keys":
            return per_key.mean(-1)
        if kind == "sum over everything":
            return per_key.sum()
        if kind == "log-likelihood":
            return -per_key.sum(-1)
        if kind == "x flipped":
            return (np.maximum(a, 0) - (1 - x) * a + np.log1p(np.exp(-np.abs(a)))).sum(-1)
        return per_key.sum(-1)
    return nll


@pytest.mark.parametrize("answer", [nll_logaddexp, nll_two_log_sigmoids, nll_log_not_log1p, nll_slip("none")])
def test_bernoulli_nll_accepts_correct_alternatives(answer):
    run_check(NB, "13.bernoulli-nll", bernoulli_nll=answer)


@pytest.mark.parametrize("kind, message", [
    ("naive log sigmoid", r"expected 270\.664021\d+, got 270\.663934\d+ .*right to a few digits only"),
    ("log sigmoid of a and of -a", "gave \\[(nan|inf).* for logits of size 10000: exp\\(a\\) overflows"),
    ("log1p(exp(a))", "exp\\(a\\) overflows"),
    ("mean over keys", "log 2 would be a mean over the keys.*expected 60.997, got 0.693147"),
    ("sum over everything", "sum over the keys, the last axis only"),
    ("log-likelihood", "a negative value a log-likelihood"),
    ("x flipped", "a key that is down \\(x = 1\\) costs log\\(1 \\+ e\\^-a\\)"),
])
def test_bernoulli_nll_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "13.bernoulli-nll", bernoulli_nll=nll_slip(kind))


def test_bernoulli_nll_rejects_torch():
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "13.bernoulli-nll", setup=(
            "def bernoulli_nll(a, x):\n"
            "    a, x = torch.as_tensor(np.asarray(a, float)), torch.as_tensor(np.asarray(x, float))\n"
            "    return nn.functional.binary_cross_entropy_with_logits(a, x, reduction='none').sum(-1).numpy()\n"))


# ---- 13.2 compose ---------------------------------------------------------------------------

DATA = ("data = {'test': [None, (np.random.default_rng(13).random((6, 88)) < 0.05).astype(np.float32)]}\n")


def _as_frame(frame):
    return torch.as_tensor(np.asarray(frame), dtype=torch.float32).reshape(1, 1, N_KEYS)


@torch.no_grad()
def compose_rerun_from_scratch(model, T, generator, prime=None):
    """Correct, slow: rerun the whole history (shift=True) at every step, no state kept."""
    model.eval()
    frames = []
    for t in range(T):
        if prime is not None and t < len(prime):
            frames.append(_as_frame(prime[t])[0, 0])
            continue
        history = torch.stack(frames + [torch.zeros(N_KEYS)])[None]   # the last frame is not read
        logits, _ = model(history)
        p = torch.sigmoid(logits[0, -1])
        frames.append((torch.rand(N_KEYS, generator=generator) < p).float())
    return torch.stack(frames)


@torch.no_grad()
def compose_prime_in_one_pass(model, T, generator, prime=None):
    """Correct: the whole prime in one call, then one frame at a time with torch.bernoulli."""
    model.eval()
    out, state = [], None
    x = torch.zeros(1, 1, N_KEYS)
    if prime is not None and len(prime):
        prime = torch.as_tensor(np.asarray(prime), dtype=torch.float32)[:T]
        inputs = torch.cat([x, prime[None, :-1]], dim=1) if len(prime) > 1 else x
        logits, state = model(inputs, state=state, shift=False)
        logits = logits[:, -1:]
        out = list(prime)
        x = prime[-1].reshape(1, 1, N_KEYS)
        logits, state = model(x, state=state, shift=False)
    else:
        logits, state = model(x, state=None, shift=False)
    while len(out) < T:
        frame = torch.bernoulli(torch.sigmoid(logits), generator=generator)
        out.append(frame[0, 0])
        logits, state = model(frame, state=state, shift=False)
    return torch.stack(out)


def compose_slip(kind):
    @torch.no_grad()
    def compose(model, T, generator, prime=None):
        model.eval()
        x_prev, state, frames = torch.zeros(1, 1, N_KEYS), None, []
        if kind == "random start":
            x_prev = torch.bernoulli(torch.full((1, 1, N_KEYS), 0.5), generator=generator)
        for t in range(T):
            logits, new_state = model(x_prev, state=None if kind == "no state" else state, shift=False)
            state = new_state
            if prime is not None and t < len(prime) and kind != "ignore prime":
                x_t = _as_frame(prime[t])
            elif kind == "threshold":
                x_t = (logits > 0).float()
            elif kind == "probabilities":
                x_t = torch.sigmoid(logits)
            else:
                x_t = torch.bernoulli(torch.sigmoid(logits), generator=generator)
            if kind == "prime copied, not fed" and prime is not None and t < len(prime):
                frames.append(x_t[0, 0])
                x_prev = torch.bernoulli(torch.sigmoid(logits), generator=generator)
                continue
            frames.append((x_prev if kind == "returns the inputs" else x_t)[0, 0])
            x_prev = x_t
        return torch.stack(frames)
    return compose


@pytest.mark.parametrize("answer", [compose_rerun_from_scratch, compose_prime_in_one_pass, compose_slip("none")])
def test_compose_accepts_correct_alternatives(answer):
    run_check(NB, "13.compose", setup=DATA, compose=answer)


@pytest.mark.parametrize("kind, message", [
    ("no state", "frames \\[[1-9].*carry the state the model returns"),
    ("returns the inputs", "frames \\[0, .*return the frames you drew, not the inputs"),
    ("random start", "frames \\[0, .*for the input x_0 = 0 \\(zeros\\)"),
    ("threshold", "draw each key with torch.bernoulli"),
    ("probabilities", "0/1 draws, not probabilities"),
    ("ignore prime", "must be the prime itself"),
    ("prime copied, not fed", "feed each prime frame to the model"),
])
def test_compose_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "13.compose", setup=DATA, compose=compose_slip(kind))


def test_compose_rejects_the_reference():
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "13.compose", setup=DATA + "compose = lambda m, T, g, prime=None: sample(m, T, 1, g, prime)[0]\n")


# ---- questions ----------------------------------------------------------------------------

CHOICES = [("13.q-independent-keys", "answer_13_1", "b", "product of marginals"),
           ("13.q-units-per-budget", "answer_13_3", "c", "A GRU stacks r, z and the candidate")]


@pytest.mark.parametrize("check_id, name, key, why", CHOICES)
def test_choice_questions_accept_the_key_in_any_case(check_id, name, key, why):
    for answer in (key, key.upper(), f"{key} "):
        run_check(NB, check_id, **{name: answer})


@pytest.mark.parametrize("check_id, name, key, why", CHOICES)
def test_choice_questions_reject_wrong_answers_with_the_reason(check_id, name, key, why):
    for wrong in "abcd".replace(key, ""):
        with pytest.raises(AssertionError, match=why):
            run_check(NB, check_id, **{name: wrong})
    for invalid, message in ((None, "is not set"), ("e", "must be one of")):
        with pytest.raises(AssertionError, match=message):
            run_check(NB, check_id, **{name: invalid})


@pytest.mark.parametrize("answer", [np.log(100), -np.log(0.01), 4.605, 4.61, np.float32(4.6052), 2 * np.log(10)])
def test_one_miss_accepts_the_value_in_any_form(answer):
    run_check(NB, "13.q-one-miss", answer_13_2=answer)


@pytest.mark.parametrize("answer, message", [
    (np.log2(100), "natural log: not bits"),            # bits
    (2.0, "natural log: not bits, not log10"),          # log10
    (87 * 0 + 0.01, "the missed key costs"),            # the probability itself
    (88 * np.log(100), "the missed key costs"),         # every key charged
    ("4.6", "must be a number"),
    (float("nan"), "must be a number"),
])
def test_one_miss_rejects_wrong_values(answer, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "13.q-one-miss", answer_13_2=answer)
