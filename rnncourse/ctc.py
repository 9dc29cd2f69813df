"""Connectionist temporal classification (CTC): the loss by hand, decoding, error rates.

Graves et al., "Connectionist Temporal Classification" (ICML 2006); slides [000, 001, 002].
A network emits, at each of T frames, a distribution over V labels, label 0 being the
*blank*. An alignment is one label per frame; collapsing it (merge repeats, then drop
blanks) gives a transcript, and p(y | x) sums the probabilities of every alignment that
collapses to y. The sum is a dynamic programme over the *extended* label sequence
l' = (blank, y_1, blank, y_2, ..., y_U, blank) of length S = 2U + 1:

    alpha_1(1) = p_1(blank),  alpha_1(2) = p_1(y_1)
    alpha_t(s) = p_t(l'_s) * (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)])

where the bracketed term is allowed only when l'_s is not blank and l'_s != l'_{s-2}
(two equal labels need a blank between them). p(y | x) = alpha_T(S) + alpha_T(S-1).
Everything here works in log space (log-sum-exp instead of sums) so that long inputs do
not underflow.

Decoding (these are not the left-to-right search of ``rnncourse.decoding``: CTC
hypotheses are prefixes that many alignments share, so the search merges them):
``greedy_decode`` takes the best label per frame and collapses; ``prefix_beam_search``
keeps the ``beam_size`` most probable prefixes, each with its probability of ending in a
blank and in a non-blank (Hannun et al. 2014, "First-Pass LVCSR with CTC").

Shapes: T frames, V labels (blank = 0), U target length, S = 2U + 1.
"""

import math
from collections import defaultdict

import numpy as np
import torch

__all__ = ["BLANK", "collapse", "ctc_log_likelihood", "ctc_alpha", "greedy_decode",
           "prefix_beam_search", "best_alignment", "edit_distance", "edit_counts", "error_rate"]

BLANK = 0


def collapse(path) -> list[int]:
    """An alignment (one label per frame) -> its transcript: merge repeats, drop blanks."""
    out, prev = [], None
    for label in (int(p) for p in path):
        if label != prev and label != BLANK:
            out.append(label)
        prev = label
    return out


def _extended(target) -> list[int]:
    ext = [BLANK]
    for label in target:
        ext += [int(label), BLANK]
    return ext


def ctc_alpha(log_probs: torch.Tensor, target) -> torch.Tensor:
    """The forward variables log alpha_t(s), (T, S), for one utterance.

    log_probs (T, V): log p_t(k), e.g. from ``log_softmax``; target: U labels in 1..V-1.
    Differentiable with respect to ``log_probs``. Unreachable cells hold -inf.
    """
    ext = _extended(target)
    T, S = log_probs.shape[0], len(ext)
    lp = log_probs[:, ext]                                           # (T, S): log p_t(l'_s)
    neg_inf = torch.full((1,), -math.inf, dtype=log_probs.dtype, device=log_probs.device)
    # may we jump from s-2 to s? only onto a label that differs from the one two back
    skip = torch.tensor([s >= 2 and ext[s] != BLANK and ext[s] != ext[s - 2] for s in range(S)],
                        device=log_probs.device)
    alpha = [torch.cat([lp[0, :min(2, S)], neg_inf.expand(max(S - 2, 0))])]
    for t in range(1, T):
        prev = alpha[-1]
        one_back = torch.cat([neg_inf, prev[:-1]])
        two_back = torch.where(skip, torch.cat([neg_inf, neg_inf, prev[:-2]])[:S], neg_inf)
        alpha.append(_logsumexp_rows(torch.stack([prev, one_back, two_back])) + lp[t])
    return torch.stack(alpha)


def _logsumexp_rows(x: torch.Tensor) -> torch.Tensor:
    """logsumexp over dim 0 that gives -inf, and a zero gradient instead of NaN, where
    every entry is -inf (unreachable cells of the lattice)."""
    dead = torch.isinf(x.max(dim=0).values)
    safe = torch.logsumexp(torch.where(dead, torch.zeros_like(x), x), dim=0)
    return torch.where(dead, torch.full_like(safe, -math.inf), safe)


def ctc_log_likelihood(log_probs: torch.Tensor, target) -> torch.Tensor:
    """log p(target | x) = logsumexp(alpha_T(S), alpha_T(S-1)); log_probs (T, V)."""
    alpha = ctc_alpha(log_probs, target)
    return _logsumexp_rows(alpha[-1, -2:]) if len(target) else alpha[-1, -1]


def greedy_decode(log_probs: torch.Tensor, length: int | None = None) -> list[int]:
    """Best label per frame, collapsed; log_probs (T, V), only the first ``length`` frames."""
    length = log_probs.shape[0] if length is None else int(length)
    return collapse(log_probs[:length].argmax(dim=-1).tolist())


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def prefix_beam_search(log_probs: torch.Tensor, beam_size: int = 8,
                       length: int | None = None) -> tuple[list[int], float]:
    """The most probable transcript found by CTC prefix beam search, and its log-probability.

    Each prefix keeps (log p_blank, log p_label): the probability of all alignments of the
    frames so far that collapse to it and end in a blank / in its last label. Extending by
    the same label as the last one continues that label unless a blank came in between.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    lp = log_probs[: log_probs.shape[0] if length is None else int(length)]
    lp = lp.detach().double().cpu().numpy()
    neg_inf = -math.inf
    beam = {(): (0.0, neg_inf)}
    for t in range(lp.shape[0]):
        nxt = defaultdict(lambda: [neg_inf, neg_inf])
        for prefix, (p_b, p_nb) in beam.items():
            total = _logsumexp(p_b, p_nb)
            entry = nxt[prefix]                                   # blank: same prefix
            entry[0] = _logsumexp(entry[0], total + lp[t, BLANK])
            if prefix:                                            # repeat of the last label
                entry[1] = _logsumexp(entry[1], p_nb + lp[t, prefix[-1]])
            for k in range(1, lp.shape[1]):
                new = nxt[prefix + (k,)]
                # after a non-blank ending in k, a new k needs a blank in between
                source = p_b if prefix and prefix[-1] == k else total
                new[1] = _logsumexp(new[1], source + lp[t, k])
        ranked = sorted(nxt.items(), key=lambda kv: -_logsumexp(*kv[1]))[:beam_size]
        beam = {prefix: tuple(p) for prefix, p in ranked}
    best, (p_b, p_nb) = max(beam.items(), key=lambda kv: _logsumexp(*kv[1]))
    return list(best), _logsumexp(p_b, p_nb)


def best_alignment(log_probs: torch.Tensor, target) -> tuple[list[int], float]:
    """The most probable alignment of ``target`` (Viterbi: max instead of sum in the alpha
    recursion), as the index s into the extended sequence at each frame, and its log-prob."""
    ext = _extended(target)
    lp = log_probs.detach().double().cpu().numpy()[:, ext]        # (T, S)
    T, S = lp.shape
    score = np.full((T, S), -np.inf)
    back = np.zeros((T, S), dtype=np.int64)
    score[0, :min(2, S)] = lp[0, :min(2, S)]
    for t in range(1, T):
        for s in range(S):
            options = [s] + ([s - 1] if s >= 1 else [])
            if s >= 2 and ext[s] != BLANK and ext[s] != ext[s - 2]:
                options.append(s - 2)
            j = max(options, key=lambda o: score[t - 1, o])
            score[t, s], back[t, s] = score[t - 1, j] + lp[t, s], j
    end = S - 1 if S == 1 or score[-1, S - 1] >= score[-1, S - 2] else S - 2
    path = [end]
    for t in range(T - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1], float(score[-1, end])


def edit_distance(ref, hyp) -> int:
    """Levenshtein distance: the fewest substitutions, insertions and deletions turning
    ``ref`` into ``hyp`` (one row of the dynamic programme at a time)."""
    ref, hyp = list(ref), list(hyp)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        prev_diag, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            prev_diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev_diag + (r != h))
    return row[-1]


def error_rate(refs, hyps) -> float:
    """Total edit distance over total reference length (the digit/word error rate, 0..)."""
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"expected as many hypotheses as references, got {len(hyps)} and {len(refs)}")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("error_rate needs at least one reference symbol")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / total


def edit_counts(ref, hyp) -> tuple[int, int, int]:
    """(substitutions, deletions, insertions) of one cheapest way to turn ``ref`` into
    ``hyp``: the full table of ``edit_distance``, then a walk back from its corner."""
    ref, hyp = list(ref), list(hyp)
    D = np.zeros((len(ref) + 1, len(hyp) + 1), dtype=np.int64)
    D[:, 0], D[0, :] = np.arange(len(ref) + 1), np.arange(len(hyp) + 1)
    for i in range(1, len(ref) + 1):
        for j in range(1, len(hyp) + 1):
            D[i, j] = min(D[i - 1, j] + 1, D[i, j - 1] + 1, D[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    i, j, subs, dels, ins = len(ref), len(hyp), 0, 0, 0
    while i or j:
        if i and j and D[i, j] == D[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            subs += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i and D[i, j] == D[i - 1, j] + 1:
            dels, i = dels + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return int(subs), int(dels), int(ins)
