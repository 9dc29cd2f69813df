import pytest
import torch
from torch.nn import functional as F

from rnncourse.data.seq_batching import (BOS, EOS, PAD, CharVocab, lengths_to_mask,
                                         make_pair_batch, masked_mean, pad)


def test_vocab_round_trip_and_specials():
    vocab = CharVocab.from_texts(["hello", "world"])
    ids = vocab.encode("hold", bos=True, eos=True)
    assert ids[0] == BOS and ids[-1] == EOS
    assert vocab.decode(ids) == "hold"
    assert vocab.decode(vocab.encode("low") + [EOS] + vocab.encode("he")) == "low"


def test_vocab_rejects_unknown_characters():
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharVocab("abc").encode("abz")


def test_pad_and_mask_mark_real_positions():
    batch, lengths = pad([[5, 6, 7], [8], [9, 10]])
    assert batch.tolist() == [[5, 6, 7], [8, PAD, PAD], [9, 10, PAD]]
    assert lengths_to_mask(lengths).tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
    assert lengths_to_mask(lengths, T=4).shape == (3, 4)


@pytest.mark.parametrize("seed", range(3))
def test_masked_mean_equals_per_sequence_loop(seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, 9, (5,), generator=g)
    values = torch.randn(5, int(lengths.max()), generator=g, dtype=torch.float64)
    values[~lengths_to_mask(lengths)] = 1e6  # padding must not leak in
    per_token = [values[n, t] for n in range(5) for t in range(int(lengths[n]))]
    assert masked_mean(values, lengths_to_mask(lengths)).item() == pytest.approx(
        torch.stack(per_token).mean().item())


def test_masked_cross_entropy_equals_per_sequence_loop():
    vocab = CharVocab("0123456789-")
    batch = make_pair_batch([("a", "12"), ("b", "3-45-6"), ("c", "7")], CharVocab("abc"), vocab)
    logits = torch.randn(*batch.tgt_out.shape, len(vocab), dtype=torch.float64)
    masked = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=PAD)
    losses = [F.cross_entropy(logits[n, :L], batch.tgt_out[n, :L], reduction="sum")
              for n, L in enumerate((batch.tgt_out != PAD).sum(1).tolist())]
    assert masked.item() == pytest.approx((sum(losses) / (batch.tgt_out != PAD).sum()).item())


def test_pair_batch_shifts_targets_by_one():
    src, tgt = CharVocab("xy"), CharVocab("ab")
    batch = make_pair_batch([("xy", "ab"), ("x", "b")], src, tgt)
    assert batch.src_len.tolist() == [2, 1]
    assert batch.tgt_in[0].tolist() == [BOS] + tgt.encode("ab")
    assert batch.tgt_out[0].tolist() == tgt.encode("ab") + [EOS]
    assert batch.tgt_out[1].tolist() == tgt.encode("b") + [EOS, PAD]
