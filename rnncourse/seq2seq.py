"""An encoder-decoder (sequence to sequence) model with Bahdanau attention.

Slides [004]: an encoder reads the source, a decoder writes the target, and it
may pay to reverse the source so that the first target symbols sit close to the
source symbols they come from. Slides [001] (Bahdanau et al. 2015), with encoder
annotations h_j and decoder states s_i:

    e_ij     = a(s_{i-1}, h_j) = v_a^T tanh(W_a s_{i-1} + U_a h_j)
    alpha_ij = exp(e_ij) / sum_k exp(e_ik)           (only over real source positions)
    c_i      = sum_j alpha_ij h_j
    s_i      = f(s_{i-1}, y_{i-1}, c_i)              (f: a GRU cell)
    p(y_i | y_<i, x) = softmax(W_o [s_i; c_i; E y_{i-1}])

Without attention every step gets the same context c (the encoder's summary of the
whole source, as in Cho et al. 2014). Decoding is greedy or by beam search [000]
(``rnncourse.decoding``); both return the attention weights.

Shapes: N batch, S source length, T target length, E embedding, H hidden, V vocabulary.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.decoding import beam_search, greedy_search
from rnncourse.data.seq_batching import BOS, EOS, PAD, CharVocab, pad

__all__ = ["Seq2Seq", "reverse_padded"]


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row of ``x`` (N, S) within its own length; padding stays at the end."""
    N, S = x.shape
    t = torch.arange(S, device=x.device)[None, :]  # (1, S)
    idx = (lengths[:, None] - 1 - t).clamp(min=0)
    idx = torch.where(t < lengths[:, None], idx, t)  # (N, S)
    return x.gather(1, idx)


class Seq2Seq(nn.Module):
    """Character encoder-decoder with GRUs and optional Bahdanau attention.

    ``src_chars`` / ``tgt_chars``: the characters of each side (the vocabularies are
    built from them, so a saved config rebuilds the same ids). ``attention=False``
    gives the fixed-context model; ``reverse_source`` feeds the source backwards;
    ``bidirectional`` makes the annotations h_j = [forward h_j; backward h_j].
    """

    def __init__(self, src_chars: str, tgt_chars: str, embed_dim: int = 32, hidden_size: int = 128,
                 attention: bool = True, bidirectional: bool = True,
                 reverse_source: bool = False, max_len: int = 64):
        super().__init__()
        self.src_vocab, self.tgt_vocab = CharVocab(src_chars), CharVocab(tgt_chars)
        self.attention, self.reverse_source, self.max_len = attention, reverse_source, max_len
        H, A = hidden_size, hidden_size * (2 if bidirectional else 1)  # A: size of an annotation h_j
        self.src_embed = nn.Embedding(len(self.src_vocab), embed_dim, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(len(self.tgt_vocab), embed_dim, padding_idx=PAD)
        self.encoder = nn.GRU(embed_dim, H, batch_first=True, bidirectional=bidirectional)
        self.W_s = nn.Linear(A, H)  # s_0 = tanh(W_s summary)
        if attention:
            self.W_a = nn.Linear(H, H, bias=False)
            self.U_a = nn.Linear(A, H)
            self.v_a = nn.Linear(H, 1, bias=False)
        self.decoder = nn.GRUCell(embed_dim + A, H)
        self.W_o = nn.Linear(H + A + embed_dim, len(self.tgt_vocab))

    # ---- encoder -------------------------------------------------------------
    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> dict:
        """Read a padded source batch (N, S); return the decoder's memory and s_0.

        The memory holds the annotations h (N, S, A), U_a h (precomputed once), the
        source mask (N, S) and the fixed context c (N, A) used without attention.
        """
        if src.dim() != 2 or src_len.shape != src.shape[:1]:
            raise ValueError(f"expected src (N, S) and src_len (N,), got "
                             f"{tuple(src.shape)} and {tuple(src_len.shape)}")
        if self.reverse_source:
            src = reverse_padded(src, src_len)
        packed = pack_padded_sequence(self.src_embed(src), src_len.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, h_last = self.encoder(packed)
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])  # (N, S, A)
        summary = torch.cat(list(h_last), dim=-1)  # (N, A): last forward (and first backward) state
        memory = {"h": h, "mask": src != PAD, "c": summary}
        if self.attention:
            memory["U_a_h"] = self.U_a(h)  # (N, S, H)
        return {"memory": memory, "s_0": torch.tanh(self.W_s(summary))}

    # ---- one decoder step ------------------------------------------------------
    def attend(self, s_prev: torch.Tensor, memory: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Context c_i (N, A) and weights alpha_i (N, S) for decoder state s_{i-1} (N, H)."""
        e = self.v_a(torch.tanh(self.W_a(s_prev)[:, None, :] + memory["U_a_h"])).squeeze(-1)
        e = e.masked_fill(~memory["mask"], float("-inf"))  # (N, S): padding gets weight 0
        alpha = torch.softmax(e, dim=-1)
        c = torch.bmm(alpha[:, None, :], memory["h"]).squeeze(1)  # (N, A)
        return c, alpha

    def step(self, y_prev: torch.Tensor, s_prev: torch.Tensor, memory: dict):
        """One decoder step: logits (N, V), s_i (N, H), alpha_i (N, S) or None."""
        if self.attention:
            c, alpha = self.attend(s_prev, memory)
        else:
            c, alpha = memory["c"], None
        Ey = self.tgt_embed(y_prev)  # (N, E)
        s = self.decoder(torch.cat([Ey, c], dim=-1), s_prev)
        return self.W_o(torch.cat([s, c, Ey], dim=-1)), s, alpha

    # ---- training ----------------------------------------------------------------
    def forward(self, src, src_len, tgt_in, teacher_forcing: float = 1.0):
        """Logits (N, T, V) for the targets, feeding ``tgt_in`` (N, T) (starts with <s>).

        With probability ``teacher_forcing`` each step reads the true previous symbol,
        otherwise the model's own previous guess.
        """
        enc = self.encode(src, src_len)
        s, y_prev, logits = enc["s_0"], tgt_in[:, 0], []
        for i in range(tgt_in.shape[1]):
            out, s, _ = self.step(y_prev, s, enc["memory"])
            logits.append(out)
            if i + 1 < tgt_in.shape[1]:
                use_truth = torch.rand(()) < teacher_forcing if teacher_forcing < 1 else True
                y_prev = tgt_in[:, i + 1] if use_truth else out.argmax(-1)
        return torch.stack(logits, dim=1)  # (N, T, V)

    # ---- decoding ----------------------------------------------------------------
    @staticmethod
    def _log_probs(logits: torch.Tensor) -> torch.Tensor:
        """log p(y_i | ...) (N, V) for decoding: <pad> and <s> are never written."""
        return torch.log_softmax(logits.index_fill(-1, torch.tensor([PAD, BOS],
                                                   device=logits.device), float("-inf")), -1)

    def _batch(self, texts):
        src, src_len = pad([self.src_vocab.encode(t) for t in texts])
        device = self.W_o.weight.device
        return src.to(device), src_len.to(device)

    def _decoder(self, memory: dict):
        """The ``rnncourse.decoding`` protocol for this source: ``step(tokens, s_prev)``.
        A memory of one source is shared by every hypothesis of a beam."""
        def step(tokens, s_prev):
            B = tokens.shape[0]
            mem = memory if memory["h"].shape[0] == B else {
                k: v.expand(B, *v.shape[1:]) for k, v in memory.items()}
            logits, s, alpha = self.step(tokens, s_prev, mem)
            return self._log_probs(logits), s, alpha
        return step

    @torch.no_grad()
    def greedy(self, texts: list[str], max_len: int | None = None):
        """Greedy decoding of a batch: (translations, alphas), alphas[n] (T_n, S_n) or None."""
        enc = self.encode(*self._batch(texts))
        hyps = greedy_search(self._decoder(enc["memory"]), enc["s_0"], BOS, EOS,
                             max_len or self.max_len)
        alphas = [torch.stack([a[:len(text)] for a in hyp.attention]).cpu()
                  if self.attention else None for hyp, text in zip(hyps, texts)]
        return [self.tgt_vocab.decode(hyp.tokens) for hyp in hyps], alphas

    @torch.no_grad()
    def beam(self, text: str, beam_size: int = 5, max_len: int | None = None,
             length_penalty: float = 0.0):
        """Beam search for one source: (translation, log-probability, alpha (T, S) or None)."""
        enc = self.encode(*self._batch([text]))
        hyp = beam_search(self._decoder(enc["memory"]), enc["s_0"], BOS, EOS, beam_size,
                          max_len or self.max_len, length_penalty)
        alpha = torch.stack(hyp.attention).cpu() if self.attention else None
        return self.tgt_vocab.decode(hyp.tokens), hyp.log_prob, alpha
