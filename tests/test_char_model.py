"""Character LSTM: shapes, sampling with temperature, top-k guesses, evaluation loss."""

import math

import pytest
import torch

from rnncourse.char_model import CharLSTM, evaluate_loss, sample, top_k_next

TEXT = "def add(a, b):\n    return a + b\n"


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return CharLSTM("".join(sorted(set(TEXT))), **{"embed_dim": 8, "hidden_size": 16,
                                                    "num_layers": 2, **kw}).eval()


def test_forward_shapes():
    model = _model()
    V = len(model.vocab)
    for N, T in [(1, 1), (3, 7)]:
        logits, (h, c) = model(torch.zeros(N, T, dtype=torch.long))
        assert logits.shape == (N, T, V)
        assert h.shape == c.shape == (2, N, 16)


def test_forward_rejects_flat_ids():
    with pytest.raises(ValueError, match=r"shape \(N, T\)"):
        _model()(torch.zeros(5, dtype=torch.long))


def test_config_rebuilds_the_model():
    model = _model(dropout=0.1)
    clone = CharLSTM(**model.config)
    clone.load_state_dict(model.state_dict())
    x = model.encode(TEXT)
    assert torch.equal(model(x)[0], clone.eval()(x)[0])


def test_sample_is_reproducible_with_a_generator():
    model = _model()
    a = sample(model, "def", 40, generator=torch.Generator().manual_seed(3))
    b = sample(model, "def", 40, generator=torch.Generator().manual_seed(3))
    assert a == b and len(a) == 40 and set(a) <= set(model.vocab.chars)


def test_low_temperature_sampling_is_greedy():
    model = _model(seed=1)
    ids = model.encode("d")
    expected, state = [], None
    with torch.no_grad():  # greedy decoding written out independently
        for _ in range(20):
            logits, state = model(ids, state)
            ids = logits[:, -1].argmax(-1, keepdim=True)
            expected.append(model.vocab.chars[ids.item()])
    assert sample(model, "d", 20, temperature=1e-4) == "".join(expected)


def test_sample_rejects_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        sample(_model(), "d", 5, temperature=0)
    with pytest.raises(ValueError, match="prime"):
        sample(_model(), "", 5)


def test_top_k_next_matches_softmax_of_the_logits():
    model = _model()
    guesses, probs = top_k_next(model, TEXT, k=5)
    with torch.no_grad():
        p = torch.softmax(model(model.encode(TEXT))[0][0], dim=-1)  # (T, V)
    assert len(guesses) == len(TEXT) and probs.shape == (len(TEXT), 5)
    for t in (0, 7, len(TEXT) - 1):
        ranked = p[t].argsort(descending=True)[:5]
        assert guesses[t] == [model.vocab.chars[i] for i in ranked]
        assert torch.allclose(probs[t], p[t][ranked])


def test_evaluate_loss_equals_one_pass_cross_entropy():
    model = _model()
    text = TEXT * 20
    x = model.encode(text)
    with torch.no_grad():
        logits, _ = model(x[:, :-1])
        ref = torch.nn.functional.cross_entropy(logits[0], x[0, 1:]).item()
    # one row read in short windows with the state carried = one pass over the text
    assert evaluate_loss(model, text, rows=1, seq_len=13) == pytest.approx(ref, rel=1e-5)


def test_untrained_model_loss_is_near_log_vocab():
    model = _model()
    loss = evaluate_loss(model, TEXT * 10, rows=4)
    assert abs(loss - math.log(len(model.vocab))) < 0.2
