"""The checks of notebook 12: correct alternatives pass, plausible slips fail with a hint.

Each answer below is bound in place of the student's function and the notebook's check
cell (hidden tests included) is run through ``check_harness.run_check``.
"""

import functools
import itertools
import math

import numpy as np
import pytest
import torch

from check_harness import run_check

NB = "12_speech_ctc"


# ---- 12.1 greedy decoding -------------------------------------------------------------

def greedy_groupby(log_probs, blank=0):
    """Correct: itertools.groupby merges runs, then the blanks go."""
    best = log_probs.argmax(-1).tolist()
    return [k for k, _ in itertools.groupby(best) if k != blank]


def greedy_unique_consecutive(log_probs, blank=0):
    """Correct, returns a tensor: torch.unique_consecutive, then a mask."""
    runs = torch.unique_consecutive(log_probs.argmax(dim=1))
    return runs[runs != blank]


def greedy_numpy(log_probs, blank=0):
    """Correct: numpy, comparing each frame with the one before."""
    best = np.argmax(log_probs.numpy(), axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(k) for k in best[keep & (best != blank)]]


def greedy_slip(kind):
    def decode(log_probs, blank=0):
        best = log_probs.argmax(-1).tolist()
        if kind == "drop blanks first":
            best = [k for k in best if k != blank]
            return [k for k, _ in itertools.groupby(best)]
        if kind == "no merge":
            return [k for k in best if k != blank]
        if kind == "keep blanks":
            return [k for k, _ in itertools.groupby(best)]
        if kind == "merge against the last output":
            out = []
            for k in best:
                if k != blank and (not out or out[-1] != k):
                    out.append(k)
            return out
        if kind == "argmax over time":
            return [k for k, _ in itertools.groupby(log_probs.argmax(0).tolist()) if k != blank]
        raise ValueError(kind)
    return decode


@pytest.mark.parametrize("answer", [greedy_groupby, greedy_unique_consecutive, greedy_numpy])
def test_greedy_accepts_correct_alternatives(answer):
    run_check(NB, "12.greedy-decode", my_greedy_decode=answer)


@pytest.mark.parametrize("kind, message", [
    ("drop blanks first", r"merge repeats \*before\* dropping blanks"),
    ("merge against the last output", r"merge repeats \*before\* dropping blanks"),
    ("no merge", "merge the repeated 3 3 into one 3"),
    ("keep blanks", "label 0 is the blank"),
    ("argmax over time", "should decode to"),
])
def test_greedy_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "12.greedy-decode", my_greedy_decode=greedy_slip(kind))


def test_greedy_rejects_the_reference():
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "12.greedy-decode", setup="my_greedy_decode = lambda lp, blank=0: greedy_decode(lp)")


# ---- 12.2 the CTC forward recursion --------------------------------------------------------

def extended(target, blank=0):
    return [blank] + [x for label in target for x in (label, blank)]


LOG_ADD = '''
NEG_INF = torch.tensor(-math.inf, dtype=torch.float64)

def log_add(*terms):
    live = [a for a in terms if float(a.detach()) != -math.inf]
    return torch.logsumexp(torch.stack(live), dim=0) if live else NEG_INF
'''
exec(LOG_ADD)  # the notebook's log_add and NEG_INF (cell 13), for the answers written in this file


def ctc_vectorised_big_negative(log_probs, target, blank=0):
    """Correct: one tensor per frame, log 0 written as -1e30 (finite, so no NaN gradient)."""
    ext = torch.tensor(extended(target, blank))
    S = len(ext)
    big = torch.tensor(-1e30, dtype=log_probs.dtype)
    skip_ok = torch.zeros(S, dtype=torch.bool)
    if S > 2:
        skip_ok[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = torch.cat([log_probs[0, ext[:2]], big.expand(S - 2)]) if S > 1 else log_probs[0, ext[:1]]
    for t in range(1, log_probs.shape[0]):
        stay = alpha
        move = torch.cat([big.reshape(1), alpha[:-1]])
        skip = torch.where(skip_ok, torch.cat([big.expand(2), alpha[:-2]]), big)
        alpha = torch.logsumexp(torch.stack([stay, move, skip]), dim=0) + log_probs[t, ext]
    return torch.logsumexp(alpha[-2:], dim=0)


def ctc_probability_space_rescaled(log_probs, target, blank=0):
    """Correct: Graves's scaled alpha in probability space, log p = sum of the log scales."""
    ext = extended(target, blank)
    S, T = len(ext), log_probs.shape[0]
    p = log_probs.exp()
    alpha = [p[0, blank]] + ([p[0, ext[1]]] if S > 1 else []) + [p.new_zeros(())] * (S - 2)
    scale = sum(alpha)
    alpha = [a / scale for a in alpha]
    log_p = torch.log(scale)
    for t in range(1, T):
        new = []
        for s in range(S):
            total = alpha[s] + (alpha[s - 1] if s >= 1 else 0)
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                total = total + alpha[s - 2]
            new.append(total * p[t, ext[s]])
        scale = sum(new)
        if float(scale.detach()) == 0.0:
            return torch.log(scale) + log_p        # unreachable: log 0
        alpha = [a / scale for a in new]
        log_p = log_p + torch.log(scale)
    return log_p + torch.log(alpha[-1] + alpha[-2] if S > 1 else alpha[-1])


def ctc_memoised_recursion(log_probs, target, blank=0):
    """Correct: alpha_t(s) as a memoised recursive function, log_add from the notebook."""
    ext = extended(target, blank)

    @functools.lru_cache(maxsize=None)
    def alpha(t, s):
        if t == 0:
            return log_probs[0, ext[s]] if s <= 1 else NEG_INF  # noqa: F821 (exec(LOG_ADD))
        terms = [alpha(t - 1, s)] + ([alpha(t - 1, s - 1)] if s >= 1 else [])
        if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
            terms.append(alpha(t - 1, s - 2))
        return log_add(*terms) + log_probs[t, ext[s]]  # noqa: F821

    T, S = log_probs.shape[0], len(ext)
    return log_add(*[alpha(T - 1, s) for s in range(max(0, S - 2), S)])  # noqa: F821


def ctc_slip(kind):
    """The notebook's loop with one slip."""
    def ctc(log_probs, target, blank=0):
        ext = extended(target, blank)
        S, T = len(ext), log_probs.shape[0]
        dtype = torch.float32 if kind == "float32" else torch.float64
        a = [[NEG_INF.to(dtype)] * S for _ in range(T)]
        a[0][0] = log_probs[0, blank].to(dtype)
        if S > 1 and kind != "start only in the blank":
            a[0][1] = log_probs[0, ext[1]].to(dtype)
        for t in range(1, T):
            for s in range(S):
                terms = [a[t - 1][s]] + ([a[t - 1][s - 1]] if s >= 1 else [])
                if s >= 2:
                    if kind == "no skip":
                        allowed = False
                    elif kind == "skip between repeats":
                        allowed = ext[s] != blank
                    else:
                        allowed = ext[s] != blank and ext[s] != ext[s - 2]
                    if allowed:
                        terms.append(a[t - 1][s - 2])
                if kind == "logsumexp with -inf":
                    a[t][s] = torch.logsumexp(torch.stack(terms), 0) + log_probs[t, ext[s]]
                else:
                    a[t][s] = log_add(*terms) + log_probs[t, ext[s]].to(dtype)
        if kind == "only the final blank":
            return a[T - 1][S - 1]
        if kind == "only the last label":
            return a[T - 1][S - 2]
        if kind == "logsumexp with -inf":
            return torch.logsumexp(torch.stack(a[T - 1][S - 2:]), 0)
        return log_add(*a[T - 1][S - 2:])
    return ctc


@pytest.mark.parametrize("answer", [ctc_vectorised_big_negative, ctc_probability_space_rescaled,
                                    ctc_memoised_recursion, ctc_slip("none")])
def test_ctc_accepts_correct_alternatives(answer):
    run_check(NB, "12.ctc-forward", setup=LOG_ADD, my_ctc_log_likelihood=answer)


@pytest.mark.parametrize("kind, message", [
    ("no skip", "skips the blank between the different labels 1 and 2"),
    ("skip between repeats", "between equal labels the blank cannot be skipped"),
    ("only the final blank", "add the last two states"),
    ("only the last label", "add the last two states"),
    ("start only in the blank", "start in the first label as well as the blank"),
    ("float32", "compute in float64"),
    ("logsumexp with -inf", "NaN gradient; skip the -inf terms"),
])
def test_ctc_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "12.ctc-forward", setup=LOG_ADD, my_ctc_log_likelihood=ctc_slip(kind))


def test_ctc_rejects_the_reference():
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "12.ctc-forward",
                  setup=LOG_ADD + "my_ctc_log_likelihood = lambda lp, y, blank=0: ctc_log_likelihood(lp, y)\n")


# ---- 12.3 edit distance and digit error rate ---------------------------------------------

def edit_memo(ref, hyp):
    """Correct: the recursion, memoised."""
    ref, hyp = tuple(ref), tuple(hyp)

    @functools.lru_cache(maxsize=None)
    def d(i, j):
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (ref[i - 1] != hyp[j - 1]))
    return d(len(ref), len(hyp))


def edit_numpy_two_rows(ref, hyp):
    """Correct: two numpy rows, returns a numpy integer."""
    prev = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        cur = np.empty_like(prev)
        cur[0] = i
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def der_total(refs, hyps):
    return sum(my_edit(r, h) for r, h in zip(refs, hyps)) / sum(map(len, refs))


def my_edit(ref, hyp):
    return edit_memo(ref, hyp)


def der_numpy(refs, hyps):
    """Correct: numpy arrays of edits and lengths, returns np.float64."""
    edits = np.array([edit_numpy_two_rows(r, h) for r, h in zip(refs, hyps)])
    return edits.sum() / np.array([len(r) for r in refs]).sum()


def edit_slip(kind):
    def edit(ref, hyp):
        n, m = len(ref), len(hyp)
        D = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n + 1):
            D[i][0] = i if kind != "first column zero" else 0
        for j in range(m + 1):
            D[0][j] = j if kind != "first row zero" else 0
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                cost = 1 if kind == "match costs one" else int(ref[i - 1] != hyp[j - 1])
                D[i][j] = min(D[i - 1][j] + 1, D[i][j - 1] + 1, D[i - 1][j - 1] + cost)
        if kind == "hamming":
            return sum(a != b for a, b in zip(ref, hyp)) + abs(n - m)
        if kind == "off by one":
            return D[n][m] + 1
        return D[n][m]
    return edit


@pytest.mark.parametrize("edit, der", [(edit_memo, der_total), (edit_numpy_two_rows, der_numpy)])
def test_edit_distance_accepts_correct_alternatives(edit, der):
    run_check(NB, "12.digit-error-rate", my_edit_distance=edit, my_digit_error_rate=der)


@pytest.mark.parametrize("kind, message", [
    ("first row zero", r"the first row is D\[0\]\[j\] = j"),
    ("first column zero", r"the first column is D\[i\]\[0\] = i"),
    ("match costs one", "a match costs nothing"),
    ("hamming", "comparing position by position would count 4"),
    ("off by one", r"should be 2, got 3: two insertions"),
])
def test_edit_distance_rejects_slips(kind, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "12.digit-error-rate", my_edit_distance=edit_slip(kind), my_digit_error_rate=der_total)


@pytest.mark.parametrize("der, message", [
    (lambda refs, hyps: float(np.mean([my_edit(r, h) / len(r) for r, h in zip(refs, hyps)])),
     "not the mean of the per-utterance rates"),
    (lambda refs, hyps: sum(my_edit(r, h) for r, h in zip(refs, hyps)) / sum(map(len, hyps)),
     "nor over the 6 hypothesis digits"),
    (lambda refs, hyps: 100 * der_total(refs, hyps), "expected 0.6, got 60"),
])
def test_digit_error_rate_rejects_slips(der, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "12.digit-error-rate", my_edit_distance=edit_memo, my_digit_error_rate=der)


# ---- questions ------------------------------------------------------------------------

QUESTIONS = [("12.q-min-frames", "answer_12_1", "b", "separated by a blank"),
             ("12.q-blank", "answer_12_2", "b", "5 5 would merge"),
             ("12.q-ctc-vs-attention", "answer_12_3", "a", "conditional independence")]


@pytest.mark.parametrize("check_id, name, key, why", QUESTIONS)
def test_questions_accept_the_key_in_any_case(check_id, name, key, why):
    for answer in (key, key.upper(), f" {key} "):
        run_check(NB, check_id, **{name: answer})


@pytest.mark.parametrize("check_id, name, key, why", QUESTIONS)
def test_questions_reject_wrong_answers_with_the_reason(check_id, name, key, why):
    for wrong in "abcd".replace(key, ""):
        with pytest.raises(AssertionError, match=why):
            run_check(NB, check_id, **{name: wrong})
    for invalid, message in ((None, "is not set"), ("e", "must be one of"), (2, "must be one of")):
        with pytest.raises(AssertionError, match=message):
            run_check(NB, check_id, **{name: invalid})
