"""Greedy and beam search for any model that scores one step at a time: the course's
one decoder, used by seq2seq (notebook 10) and captioning (notebook 11).

Slides [000]: instead of taking the most likely symbol at every step (greedy), keep
the ``beam_size`` best partial sequences, extend each by every symbol, and keep the
best ``beam_size`` again; a hypothesis that emits </s> is finished. The score of a
sequence y_1..y_T is its log-probability sum_t log p(y_t | y_<t, x), optionally
divided by T^length_penalty so that long outputs are not punished for their length.

The protocol: a model is a function ``step(tokens, state) -> (log_probs, state,
attention)``: ``tokens`` (B,) the previous symbol of each of B hypotheses, ``state`` a
tensor or a tuple of tensors whose first dimension is B, ``log_probs`` (B, V),
``attention`` (B, S) or None. (Whatever does not change with the step, such as the
encoder's output, the model's ``step`` closes over.)
"""

from dataclasses import dataclass, field

import torch

__all__ = ["Hypothesis", "select", "greedy_search", "beam_search"]


@dataclass
class Hypothesis:
    """A decoded sequence: its tokens (ending with </s> if it finished), its total
    log-probability, and one attention row per step (empty without attention)."""

    tokens: list[int]
    log_prob: float
    attention: list[torch.Tensor] = field(default_factory=list)

    def score(self, length_penalty: float = 0.0) -> float:
        return self.log_prob / max(len(self.tokens), 1) ** length_penalty


def select(state, index: torch.Tensor):
    """Rows ``index`` of a state: a tensor, or a (nested) tuple of tensors."""
    if isinstance(state, (tuple, list)):
        return type(state)(select(s, index) for s in state)
    return state.index_select(0, index.to(state.device))


def _rows(state) -> torch.Tensor:
    return _rows(state[0]) if isinstance(state, (tuple, list)) else state


@torch.no_grad()
def greedy_search(step, state, bos: int, eos: int, max_len: int) -> list[Hypothesis]:
    """The most likely symbol at every step, for each of the B rows of ``state``.

    Decodes until every row has emitted </s> or after ``max_len`` steps; each
    hypothesis keeps its tokens up to and including its first </s>.
    """
    first = _rows(state)
    B, device = first.shape[0], first.device
    tokens = torch.full((B,), bos, dtype=torch.long, device=device)
    hyps = [Hypothesis([], 0.0) for _ in range(B)]
    done = [False] * B
    for _ in range(max_len):
        log_probs, state, attention = step(tokens, state)
        tokens = log_probs.argmax(dim=-1)
        picked = log_probs.gather(1, tokens[:, None])[:, 0].tolist()
        for b, (token, lp) in enumerate(zip(tokens.tolist(), picked)):
            if done[b]:
                continue
            hyps[b].tokens.append(token)
            hyps[b].log_prob += lp
            if attention is not None:
                hyps[b].attention.append(attention[b])
            done[b] = token == eos
        if all(done):
            break
    return hyps


@torch.no_grad()
def beam_search(step, state, bos: int, eos: int, beam_size: int, max_len: int,
                length_penalty: float = 0.0) -> Hypothesis:
    """The best hypothesis found with a beam of ``beam_size`` (``state`` has batch 1).

    Each step keeps the ``beam_size`` best extensions of the live hypotheses; those
    that end in </s> leave the beam as finished. The search stops when the beam is
    empty, ``beam_size`` hypotheses have finished, no live hypothesis can still beat
    the best finished one (log-probabilities only fall as symbols are added; without a
    length penalty), or after ``max_len`` steps. With ``beam_size=1`` it is greedy.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    live = [Hypothesis([], 0.0)]
    device = _rows(state).device
    tokens = torch.tensor([bos], device=device)
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
        best_done = max((h.log_prob for h in finished), default=-float("inf"))
        hopeless = length_penalty == 0 and all(h.log_prob <= best_done for h in next_live)
        if not next_live or len(finished) >= beam_size or hopeless:
            break
        live = next_live
        state = select(state, torch.tensor(keep))
        tokens = torch.tensor([h.tokens[-1] for h in live], device=device)
    else:
        finished.extend(live)  # out of steps: unfinished hypotheses compete too
    return max(finished, key=lambda h: h.score(length_penalty))
