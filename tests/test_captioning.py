import numpy as np
import pytest
import torch

from rnncourse.captioning import (AttentionCaptioner, Captioner, SceneCNN, beam_search,
                                  caption_log_prob, evaluate_captions, greedy, train_captioner)
from rnncourse.data import scenes as sc

SCENES = sc.make_scenes(8, seed=3)
V = len(sc.WORDS)


@pytest.fixture(autouse=True)
def one_thread():
    """Models this small train fastest on one thread, and leave the other core free."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def model(cls, seed=0, **kw):
    torch.manual_seed(seed)
    return cls(**kw).eval()


@pytest.fixture(scope="module")
def batch():
    images, words = sc.render_batch(SCENES), sc.caption_tokens(SCENES, np.random.default_rng(0))
    return torch.from_numpy(images), torch.from_numpy(words)


@pytest.mark.parametrize("size", [32, 48])
def test_cnn_gives_a_grid_a_quarter_of_the_image_side(size):
    out = SceneCNN(channels=8)(torch.rand(2, 3, size, size))
    assert out.shape == (2, 8, size // 4, size // 4)


def test_cnn_rejects_images_without_three_channels():
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 3, S, S\)"):
        SceneCNN()(torch.rand(2, 32, 32, 3))


def test_captioner_logits_have_shape_N_T_V(batch):
    images, words = batch
    logits, alphas = model(Captioner)(images, words)
    assert logits.shape == (8, words.shape[1], V) and alphas is None


def test_attention_weights_have_shape_N_T_L_and_sum_to_one(batch):
    images, words = batch
    logits, alphas = model(AttentionCaptioner)(images, words)
    assert logits.shape == (8, words.shape[1], V)
    assert alphas.shape == (8, words.shape[1], 64)
    assert (alphas >= 0).all()
    torch.testing.assert_close(alphas.sum(dim=2), torch.ones(8, words.shape[1]))


@pytest.mark.parametrize("cls", [Captioner, AttentionCaptioner])
def test_step_by_step_decoding_equals_teacher_forcing(cls, batch):
    images, words = batch
    m = model(cls)
    full, _ = m(images, words)
    memory = m.encode(images)
    state = m.init_state(memory)
    for t in range(words.shape[1]):
        logits, state, _ = m.step(words[:, t], state, memory)
        torch.testing.assert_close(logits, full[:, t], rtol=1e-5, atol=1e-5)


def test_captioner_step_is_the_conditioned_lstm_equation(batch):
    """gates = W_xh x + W_ih v + W_hh h + b, with [W_xh | W_ih] the LSTM's input weights."""
    images, words = batch
    m = model(Captioner).double()
    v = m.encode(images.double())
    h, c = m.init_state(v)
    x = m.embed(words[:, 0])
    E = x.shape[1]
    W_xh, W_ih = m.lstm.weight_ih_l0[:, :E], m.lstm.weight_ih_l0[:, E:]
    b = m.lstm.bias_ih_l0 + m.lstm.bias_hh_l0
    gates = x @ W_xh.T + v @ W_ih.T + h @ m.lstm.weight_hh_l0.T + b
    i, f, g, o = gates.chunk(4, dim=1)  # PyTorch's gate order
    c_t = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_t = torch.sigmoid(o) * torch.tanh(c_t)
    logits, (h_new, c_new), _ = m.step(words[:, 0], (h, c), v)
    torch.testing.assert_close(h_new, h_t)
    torch.testing.assert_close(c_new, c_t)
    torch.testing.assert_close(logits, m.out(h_t))


def test_the_image_changes_the_captions_probabilities(batch):
    images, words = batch
    m = model(Captioner)
    a = caption_log_prob(m, images, words)
    b = caption_log_prob(m, images.flip(0), words)
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("cls", [Captioner, AttentionCaptioner])
def test_beam_of_one_equals_greedy(cls):
    m = model(cls, seed=1)
    images = sc.render_batch(SCENES)
    for image, g in zip(images, greedy(m, images, max_len=10)):
        b = beam_search(m, image, beam_size=1, max_len=10)
        assert b.ids == g.ids
        assert b.log_prob == pytest.approx(g.log_prob, abs=1e-4)


@pytest.mark.parametrize("cls", [Captioner, AttentionCaptioner])
def test_reported_logprob_is_the_captions_logprob(cls):
    """What greedy and beam search report equals caption_log_prob of their words."""
    m = model(cls, seed=2)
    images = sc.render_batch(SCENES[:4])
    found = greedy(m, images, max_len=8) + [beam_search(m, im, beam_size=3, max_len=8) for im in images]
    for caption, image in zip(found, np.concatenate([images, images])):
        if caption.ids[-1] != sc.WORDS.index(sc.END):
            continue  # cut at max_len: no <END> to score
        words = torch.tensor([[sc.WORDS.index(sc.START)] + caption.ids])
        expected = caption_log_prob(m, image, words)
        assert caption.log_prob == pytest.approx(float(expected), abs=1e-4)


def test_wider_beam_finds_a_caption_at_least_as_likely_on_average():
    m = model(AttentionCaptioner, seed=4)
    images = sc.render_batch(SCENES[:5])
    narrow = [beam_search(m, im, beam_size=1, max_len=6).log_prob for im in images]
    wide = [beam_search(m, im, beam_size=4, max_len=6).log_prob for im in images]
    assert np.mean(wide) >= np.mean(narrow)


def test_greedy_attention_has_one_row_per_generated_word():
    m = model(AttentionCaptioner)
    for caption in greedy(m, sc.render_batch(SCENES[:3]), max_len=6):
        assert caption.attention.shape == (len(caption.ids), 64)
        np.testing.assert_allclose(caption.attention.sum(axis=1), 1, rtol=1e-5)


def test_tiny_captioner_overfits_a_handful_of_scenes():
    """Scenes of one or two shapes: with three, greedy decoding of a tiny model can mix
    two of the six valid orders ("a red circle , a blue square and a red circle")."""
    torch.manual_seed(0)
    scenes = sc.make_scenes(6, seed=11, max_shapes=2)
    m = Captioner(embed_dim=16, features=32, hidden_size=64, channels=16)
    losses = train_captioner(m, steps=150, batch_size=6, lr=1e-2, seed=0, scenes=scenes)
    assert losses[-1] < 0.2 * losses[0]
    assert evaluate_captions(m, scenes)["exact_match_fraction"] == 1.0
