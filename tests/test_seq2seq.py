import pytest
import torch

from rnncourse.data.seq_batching import PAD, CharVocab, make_pair_batch
from rnncourse.seq2seq import Seq2Seq, reverse_padded

SRC, TGT = "abcdefgh ", "0123456789-"
PAIRS = [("abc", "12"), ("h", "3-45"), ("gf edcba", "7"), ("de", "890-1")]


def model(**kw):
    torch.manual_seed(0)
    return Seq2Seq(SRC, TGT, embed_dim=8, hidden_size=12, **kw).double().eval()


def batch():
    return make_pair_batch(PAIRS, CharVocab(SRC), CharVocab(TGT))


def test_reverse_padded_reverses_each_row_within_its_length():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0], [6, 7, 8, 9]])
    assert reverse_padded(x, torch.tensor([3, 2, 4])).tolist() == [
        [3, 2, 1, 0], [5, 4, 0, 0], [9, 8, 7, 6]]


@pytest.mark.parametrize("variant", [dict(), dict(attention=False, bidirectional=False),
                                     dict(attention=False, reverse_source=True)])
def test_padded_batch_equals_one_sequence_at_a_time(variant):
    m, b = model(**variant), batch()
    with torch.no_grad():
        together = m(b.src, b.src_len, b.tgt_in)  # (N, T, V)
        for n, (s, t) in enumerate(PAIRS):
            one = make_pair_batch([(s, t)], m.src_vocab, m.tgt_vocab)
            alone = m(one.src, one.src_len, one.tgt_in)[0]
            torch.testing.assert_close(together[n, :len(t) + 1], alone)


def test_attention_weights_sum_to_one_and_ignore_padding():
    m, b = model(), batch()
    enc = m.encode(b.src, b.src_len)
    s = enc["s_0"]
    for _ in range(3):
        c, alpha = m.attend(s, enc["memory"])
        torch.testing.assert_close(alpha.sum(-1), torch.ones(len(PAIRS), dtype=alpha.dtype))
        assert torch.all(alpha[b.src == PAD] == 0)
        assert torch.all(alpha[b.src != PAD] > 0)
        s = s + torch.randn_like(s)


def test_context_is_the_attention_weighted_sum_of_annotations():
    m, b = model(), batch()
    enc = m.encode(b.src, b.src_len)
    c, alpha = m.attend(enc["s_0"], enc["memory"])
    h = enc["memory"]["h"]
    expected = torch.stack([sum(alpha[n, j] * h[n, j] for j in range(h.shape[1]))
                            for n in range(len(PAIRS))])
    torch.testing.assert_close(c, expected)


def test_beam_of_one_equals_greedy_decoding():
    m = model()
    outputs, alphas = m.greedy([s for s, _ in PAIRS], max_len=8)
    for (s, _), out, alpha in zip(PAIRS, outputs, alphas):
        text, log_prob, beam_alpha = m.beam(s, beam_size=1, max_len=8)
        assert text == out
        torch.testing.assert_close(beam_alpha, alpha)


def test_greedy_returns_one_attention_row_per_output_symbol():
    m = model()
    outputs, alphas = m.greedy(["abc", "defgh"], max_len=6)
    for text, out, alpha in zip(["abc", "defgh"], outputs, alphas):
        assert alpha.shape[1] == len(text)
        assert alpha.shape[0] in (len(out), len(out) + 1)


def test_model_without_attention_returns_no_weights():
    outputs, alphas = model(attention=False).greedy(["abc"], max_len=4)
    assert alphas == [None]


def test_teacher_forcing_zero_feeds_back_its_own_guesses():
    m, b = model(), batch()
    with torch.no_grad():
        forced = m(b.src, b.src_len, b.tgt_in, teacher_forcing=1.0)
        free = m(b.src, b.src_len, b.tgt_in, teacher_forcing=0.0)
    torch.testing.assert_close(forced[:, 0], free[:, 0])  # the first step reads <s> in both
    assert not torch.allclose(forced[:, 1:], free[:, 1:])


def test_encode_rejects_bad_shapes():
    m = model()
    with pytest.raises(ValueError, match="expected src"):
        m.encode(torch.zeros(3, dtype=torch.long), torch.tensor([3]))
