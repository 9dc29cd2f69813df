"""Batches of variable-length sequence pairs: a character vocabulary, padding, masks.

Slides [001] "Tips and tricks": sequences of different lengths go into one batch
padded to the longest, with a mask that says which positions are real, so padding
never reaches the loss. PyTorch can also skip the padding inside the RNN with
packed sequences (``torch.nn.utils.rnn.pack_padded_sequence``); ``masked_mean``
and ``pad`` here are the two halves of the mask approach.

Shapes: N batch, T time (padded length), V vocabulary.
"""

from dataclasses import dataclass

import torch

from rnncourse.data.vocab import Vocab

__all__ = ["PAD", "BOS", "EOS", "CharVocab", "pad", "lengths_to_mask", "masked_mean",
           "PairBatch", "make_pair_batch"]

PAD, BOS, EOS = 0, 1, 2
_SPECIALS = ("<pad>", "<s>", "</s>")


class CharVocab(Vocab):
    """``rnncourse.data.vocab.Vocab`` with ids 0, 1, 2 for padding, start and end of
    sequence, and no unknown characters (text outside the vocabulary is an error)."""

    def __init__(self, chars):
        super().__init__(chars, specials=_SPECIALS, unknown=None, bos="<s>", eos="</s>")

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of ``text``'s characters, optionally framed by <s> and </s>."""
        return self.ids(text, bos, eos)


def pad(seqs, value: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack lists of ids of different lengths into (N, T) padded with ``value``.

    Returns the batch and the lengths (N,).
    """
    if len(seqs) == 0:
        raise ValueError("pad needs at least one sequence")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    batch = torch.full((len(seqs), int(lengths.max())), value, dtype=torch.long)
    for n, s in enumerate(seqs):
        batch[n, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return batch, lengths


def lengths_to_mask(lengths: torch.Tensor, T: int | None = None) -> torch.Tensor:
    """Boolean mask (N, T): True where position t < length of sequence n."""
    T = int(lengths.max()) if T is None else T
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]  # (N, T)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` (N, T) over the positions where ``mask`` (N, T) is True.

    Every real token weighs the same, whatever the length of its sequence.
    """
    if values.shape != mask.shape:
        raise ValueError(f"expected values and mask of the same shape, got "
                         f"{tuple(values.shape)} and {tuple(mask.shape)}")
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1)


@dataclass
class PairBatch:
    """A batch of (source, target) pairs, padded.

    ``src`` (N, S) and ``src_len`` (N,); ``tgt_in`` (N, T) starts with <s> and
    ``tgt_out`` (N, T) ends with </s> (the same ids shifted by one, for teacher forcing).
    """

    src: torch.Tensor
    src_len: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor

    def to(self, device) -> "PairBatch":
        return PairBatch(*(getattr(self, f).to(device) for f in
                           ("src", "src_len", "tgt_in", "tgt_out")))


def make_pair_batch(pairs, src_vocab: CharVocab, tgt_vocab: CharVocab) -> PairBatch:
    """Encode and pad a list of (source text, target text) pairs."""
    src, src_len = pad([src_vocab.encode(s) for s, _ in pairs])
    tgt = [tgt_vocab.encode(t, bos=True, eos=True) for _, t in pairs]
    tgt_in, _ = pad([t[:-1] for t in tgt])
    tgt_out, _ = pad([t[1:] for t in tgt])
    return PairBatch(src, src_len, tgt_in, tgt_out)
