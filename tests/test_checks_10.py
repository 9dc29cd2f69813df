"""The checks of notebook 10: correct alternatives pass, plausible slips fail with a hint."""

import heapq
import math

import numpy as np
import pytest
import torch

from check_harness import assert_question_key, run_check

NB = "10_seq2seq_attention"
NEG = -float("inf")


# ---- 10.1 beam search ----------------------------------------------------------------

def beam_vectorised(next_log_probs, eos, beam_size, max_len, length_penalty=0.0):
    """Correct, written differently: torch.topk over the flattened (B, V) scores, products kept in log space."""
    live_tokens, live_scores, finished = [[]], torch.zeros(1, dtype=torch.float64), []
    for _ in range(max_len):
        table = torch.stack([torch.as_tensor(next_log_probs(tuple(t)), dtype=torch.float64)
                             for t in live_tokens])
        total = (live_scores[:, None] + table).flatten()
        k = min(beam_size, int(torch.isfinite(total).sum()))
        scores, flat = total.topk(k)
        V = table.shape[1]
        new_tokens, new_scores = [], []
        for s, f in zip(scores.tolist(), flat.tolist()):
            b, y = divmod(f, V)
            seq = live_tokens[b] + [y]
            if y == eos:
                finished.append((seq, s))
            else:
                new_tokens.append(seq)
                new_scores.append(s)
        live_tokens, live_scores = new_tokens, torch.tensor(new_scores, dtype=torch.float64)
        if not live_tokens:
            break
    pool = finished + list(zip(live_tokens, live_scores.tolist()))  # live ones: out of steps
    tokens, lp = max(pool, key=lambda c: c[1] / len(c[0]) ** length_penalty)
    return tokens, lp


def beam_heap_probabilities(next_log_probs, eos, beam_size, max_len, length_penalty=0.0):
    """Correct: heapq.nlargest, ranking by products of probabilities (same order as log sums)."""
    live, finished = [((), 1.0, 0.0)], []
    for _ in range(max_len):
        cands = []
        for prefix, prob, lp in live:
            log_p = next_log_probs(prefix)
            for y, l in enumerate(log_p.tolist()):
                if l > NEG:
                    cands.append((prefix + (y,), prob * math.exp(l), lp + l))
        kept = heapq.nlargest(beam_size, cands, key=lambda c: c[1])
        live = [c for c in kept if c[0][-1] != eos]
        finished += [c for c in kept if c[0][-1] == eos]
        if not live:
            break
    best = max(finished + live, key=lambda c: c[2] / len(c[0]) ** length_penalty)
    return list(best[0]), best[2]


@pytest.mark.parametrize("answer", [beam_vectorised, beam_heap_probabilities])
def test_beam_search_accepts_correct_alternatives(answer):
    run_check(NB, "10.beam-search", my_beam_search=answer)


def slip(kind):
    def search(next_log_probs, eos, beam_size, max_len, length_penalty=0.0):
        live, finished = [((), 0.0)], []
        for step in range(max_len):
            cands = []
            for prefix, score in live:
                log_p = next_log_probs(prefix)
                children = [(prefix + (y,), score + float(log_p[y])) for y in range(len(log_p))
                            if log_p[y] > NEG]
                if kind == "per-parent":  # the B best children of each parent: B*B kept
                    children = sorted(children, key=lambda c: c[1], reverse=True)[:beam_size]
                cands += children
            if kind == "keep-every-finished":
                finished += [c for c in cands if c[0][-1] == eos]
                cands = [c for c in cands if c[0][-1] != eos]
            if kind == "per-parent":
                kept = cands
            else:
                kept = sorted(cands, key=lambda c: c[1], reverse=True)[:beam_size]
            live = [c for c in kept if c[0][-1] != eos or kind == "extend-finished"]
            finished += [c for c in kept if c[0][-1] == eos and kind != "keep-every-finished"]
            if kind == "stop-at-first" and finished:
                break
            if not live:
                break
        pool = finished + live
        if kind == "no-penalty":
            best = max(pool, key=lambda c: c[1])
        elif kind == "penalty-without-eos":
            best = max(pool, key=lambda c: c[1] / max(len(c[0]) - (c[0][-1] == eos), 1) ** length_penalty)
        else:
            best = max(pool, key=lambda c: c[1] / len(c[0]) ** length_penalty)
        if kind == "returns-normalised":
            return list(best[0]), best[1] / len(best[0]) ** length_penalty
        return list(best[0]), best[1]
    return search


def greedy_only(next_log_probs, eos, beam_size, max_len, length_penalty=0.0):
    seq, lp = [], 0.0
    while len(seq) < max_len and (not seq or seq[-1] != eos):
        log_p = next_log_probs(tuple(seq))
        y = int(torch.argmax(log_p))
        seq.append(y)
        lp += float(log_p[y])
    return seq, lp


@pytest.mark.parametrize("wrong, message", [
    (slip("per-parent"), "2 x 2 kept"),
    (slip("keep-every-finished"), "every finished one"),
    (slip("no-penalty"), "length_penalty"),
    (slip("penalty-without-eos"), "length_penalty"),
    (slip("returns-normalised"), "unnormalised"),
    (slip("extend-finished"), "stops at </s>"),
    (slip("stop-at-first"), "exhaustive|wide|beam|expected"),
    (greedy_only, "total log-probability"),
])
def test_beam_search_rejects_slips_with_a_hint(wrong, message):
    with pytest.raises(AssertionError, match=message):
        run_check(NB, "10.beam-search", my_beam_search=wrong)


def test_beam_search_rejects_the_package_decoder():
    from rnncourse import decoding

    def wrapped(next_log_probs, eos, beam_size, max_len, length_penalty=0.0):
        def step(tokens, prefixes):
            prefixes = torch.cat([prefixes, tokens[:, None]], dim=1)
            return torch.stack([next_log_probs(tuple(p[1:].tolist())) for p in prefixes]), prefixes, None
        V = len(next_log_probs(()))
        hyp = decoding.beam_search(step, torch.zeros(1, 0, dtype=torch.long), V, eos, beam_size,
                                   max_len, length_penalty)
        return hyp.tokens, hyp.log_prob
    with pytest.raises(AssertionError, match="write your own"):
        run_check(NB, "10.beam-search", my_beam_search=wrapped)


# ---- 10.2 combined curriculum ----------------------------------------------------------

def combined_other_order(current, target, rng):
    """Correct: the same draws in a different code shape (nesting drawn after digits)."""
    if not rng.random() >= 0.5:
        return current[0], current[1]
    digits = rng.integers(1, target[0] + 1)
    return int(digits), int(rng.integers(1, target[1] + 1))


def test_curriculum_accepts_a_correct_alternative():
    run_check(NB, "10.combined-curriculum", combined_level=combined_other_order)


@pytest.mark.parametrize("wrong", [
    lambda current, target, rng: tuple(current),                                      # naive only
    lambda current, target, rng: (int(rng.integers(1, target[0] + 1)), int(rng.integers(1, target[1] + 1))),  # mix only
    lambda current, target, rng: tuple(current) if rng.random() < 0.5 else (int(rng.integers(1, target[0])), int(rng.integers(1, target[1]))),  # off by one
    lambda current, target, rng: tuple(current) if np.random.random() < 0.5 else tuple(target),  # global rng
])
def test_curriculum_rejects_slips(wrong):
    with pytest.raises(AssertionError):
        run_check(NB, "10.combined-curriculum", combined_level=wrong)


# ---- questions --------------------------------------------------------------------------

@pytest.mark.parametrize("check_id, name, key", [("10.q-attention-helps", "answer_10_1", "b"),
                                                  ("10.q-beam-monotone", "answer_10_2", "b"),
                                                  ("10.q-length-penalty", "answer_10_3", "a")])
def test_questions_accept_the_key_in_any_case_and_reject_the_rest(check_id, name, key):
    assert_question_key(NB, check_id, name, key)
