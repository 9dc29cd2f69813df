"""Greedy and beam search decoding for any model that scores one step at a time.

Slides [000]: instead of taking the most likely symbol at every step (greedy), keep
the ``beam_size`` best partial sequences, extend each by every symbol, and keep the
best ``beam_size`` again; a hypothesis that emits </s> is finished. The score of a
sequence y_1..y_T is its log-probability sum_t log p(y_t | y_<t, x), optionally
divided by T^length_penalty so that long outputs are not punished for their length.

The model is a function ``step(tokens, state) -> (log_probs, state, attention)``:
``tokens`` (B,) the previous symbol of each of B hypotheses, ``state`` a tensor whose
first dimension is B, ``log_probs`` (B, V), ``attention`` (B, S) or None.
"""

from dataclasses import dataclass, field

import torch

__all__ = ["Hypothesis", "greedy_search", "beam_search"]


@dataclass
class Hypothesis:
    """A decoded sequence: its tokens (ending with </s> if it finished), its total
    log-probability, and one attention row per step (empty without attention)."""

    tokens: list[int]
    log_prob: float
    attention: list[torch.Tensor] = field(default_factory=list)

    def score(self, length_penalty: float = 0.0) -> float:
        return self.log_prob / max(len(self.tokens), 1) ** length_penalty


def greedy_search(step, state: torch.Tensor, bos: int, eos: int, max_len: int) -> Hypothesis:
    """The sequence that takes the most likely symbol at every step."""
    token, hyp = torch.tensor([bos], device=state.device), Hypothesis([], 0.0)
    for _ in range(max_len):
        log_probs, state, attention = step(token, state)
        token = log_probs[0].argmax()[None]
        hyp.tokens.append(int(token))
        hyp.log_prob += float(log_probs[0, token])
        if attention is not None:
            hyp.attention.append(attention[0])
        if int(token) == eos:
            break
    return hyp


def beam_search(step, state: torch.Tensor, bos: int, eos: int, beam_size: int,
                max_len: int, length_penalty: float = 0.0) -> Hypothesis:
    """The best hypothesis found with a beam of ``beam_size`` (``state`` has batch 1).

    Each step keeps the ``beam_size`` best extensions of the live hypotheses; those
    that end in </s> leave the beam as finished. The search stops when the beam is
    empty, ``beam_size`` hypotheses have finished, or after ``max_len`` steps.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    live = [Hypothesis([], 0.0)]
    tokens = torch.tensor([bos], device=state.device)
    finished: list[Hypothesis] = []
    for _ in range(max_len):
        log_probs, state, attention = step(tokens, state)  # (B, V), (B, ...), (B, S)
        V = log_probs.shape[1]
        scores = torch.tensor([h.log_prob for h in live], dtype=log_probs.dtype)[:, None]
        total = (scores + log_probs.cpu()).flatten()  # (B * V,)
        k = min(beam_size - len(finished), int(torch.isfinite(total).sum()))
        best = total.topk(k).indices  # impossible (-inf) extensions never enter the beam
        keep, next_live = [], []
        for flat in best.tolist():
            b, v = divmod(flat, V)
            parent = live[b]
            att = parent.attention + ([attention[b]] if attention is not None else [])
            hyp = Hypothesis(parent.tokens + [v], float(total[flat]), att)
            if v == eos:
                finished.append(hyp)
            else:
                next_live.append(hyp)
                keep.append(b)
        if not next_live or len(finished) >= beam_size:
            break
        live = next_live
        index = torch.tensor(keep, device=log_probs.device)
        state = state.index_select(0, index)
        tokens = torch.tensor([h.tokens[-1] for h in live], device=log_probs.device)
    else:
        finished.extend(live)  # out of steps: unfinished hypotheses compete too
    return max(finished, key=lambda h: h.score(length_penalty))
