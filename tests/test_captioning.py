import numpy as np
import pytest
import torch

from rnncourse.captioning import (AttentionCaptioner, Caption, Captioner, SceneCNN,
                                  attention_coverage_penalty, attention_grounding,
                                  beam_search, caption_log_prob, crowded_report,
                                  evaluate_captions, greedy, train_captioner)
from rnncourse.data import scenes as sc
from rnncourse.data.seq_batching import pad

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
    losses = train_captioner(m, steps=300, batch_size=6, lr=1e-2, seed=0, scenes=scenes)
    assert losses[-1] < 0.2 * losses[0]
    assert evaluate_captions(m, scenes)["exact_match_fraction"] == 1.0


@pytest.mark.parametrize("T, L", [(3, 9), (5, 36), (19, 144)])
def test_coverage_penalty_prefers_uniform_maps_when_words_are_fewer_than_cells(T, L):
    """With T < L words, total attention T cannot give every cell one unit; the penalty
    sum_l (1 - c_l)^2 at fixed sum_l c_l = T is smallest when every c_l = T / L: it never
    asks for crisp maps (each word on its own cell scores worse than uniform maps)."""
    words = torch.tensor([[1] + [5] * (T - 1) + [2]])  # T real targets
    uniform = torch.full((1, T, L), 1 / L)
    crisp = torch.eye(L)[:T][None]  # word t looks only at cell t: every cell at most once
    assert float(attention_coverage_penalty(uniform, words)) == pytest.approx(L * (1 - T / L) ** 2)
    assert float(attention_coverage_penalty(uniform, words)) < float(
        attention_coverage_penalty(crisp, words))


def _scene_caption(text, alpha):
    return Caption(text, [], 0.0, np.asarray(alpha, dtype=np.float64))


def test_grounding_measures_the_weight_on_the_named_group():
    """One 16x16 scene, a 4x4 grid of 4-pixel cells: a red square at the top left."""
    square = sc.Shape("square", "red", "small", 6.0, 6.0)
    circle = sc.Shape("circle", "blue", "small", 12.0, 12.0)
    scene = sc.Scene((square, circle), 16)
    cells = sc.shape_mask(square, 16).reshape(4, 4, 4, 4).any(axis=(1, 3)).flatten()
    on = np.where(cells, 1.0 / cells.sum(), 0.0)  # all the weight on the square's cells
    off = np.where(cells, 0.0, 1.0 / (~cells).sum())  # none of it
    uniform = np.full(16, 1 / 16)
    # "a red square" : "red" is written looking at the square, "square" looking elsewhere
    found = [_scene_caption("a red square", [uniform, on, off, uniform])]
    g = attention_grounding([scene], found)
    assert g["colour_word"] == pytest.approx(1.0)
    assert g["shape_word"] == pytest.approx(0.0)
    assert g["uniform"] == pytest.approx(cells.mean())
    assert g["largest_weight"] == pytest.approx(np.mean([1 / 16, on.max(), off.max(), 1 / 16]))
    assert g["entropy_nats"] == pytest.approx(np.mean([np.log(16), np.log(cells.sum()),
                                                       np.log((~cells).sum()), np.log(16)]))


def test_grounding_skips_groups_that_are_not_in_the_scene():
    scene = sc.Scene((sc.Shape("square", "red", "small", 6.0, 6.0),), 16)
    uniform = np.full(16, 1 / 16)
    named = attention_grounding([scene], [_scene_caption("a red square", [uniform] * 4)])
    wrong = attention_grounding([scene] * 2, [_scene_caption("a red square", [uniform] * 4),
                                              _scene_caption("a green circle", [uniform] * 4)])
    cells = sc.shape_mask(scene.shapes[0], 16).reshape(4, 4, 4, 4).any(axis=(1, 3))
    assert named["colour_word"] == wrong["colour_word"] == pytest.approx(cells.mean())
    assert named["largest_weight"] == wrong["largest_weight"] == pytest.approx(1 / 16)


@pytest.mark.parametrize("seed, size, most, least", [(0, 32, 3, 1), (1, 48, 5, 3), (2, 48, 5, 4)])
def test_reading_order_caption_is_valid_and_names_groups_left_to_right(seed, size, most, least):
    for scene in sc.make_scenes(40, seed, size, most, least):
        caption = sc.reading_order_caption(scene)
        assert caption in sc.captions(scene)
        assert sc.sample_caption(scene, np.random.default_rng(0), "left-to-right") == caption
        named = []  # each group's leftmost x, in the order the caption names them
        for part in caption.replace(" and ", " , ").split(" , "):
            words = part.split()[:3]  # "a red circle ..." or "two blue squares"
            named.append(min(s.x for s in scene.shapes
                             if s.colour == words[1] and words[2] in (s.shape, s.shape + "s")))
        assert named == sorted(named)


def test_reading_order_of_two_different_shapes_starts_with_the_left_one():
    left = sc.Shape("circle", "red", "small", 5.0, 20.0)
    right = sc.Shape("square", "blue", "small", 25.0, 8.0)
    for shapes in [(left, right), (right, left)]:
        caption = sc.reading_order_caption(sc.Scene(shapes, 32))
        assert caption == "a red circle left of a blue square"


def test_an_unknown_caption_order_is_refused():
    with pytest.raises(ValueError, match="expected a caption order in"):
        sc.caption_tokens(SCENES, np.random.default_rng(0), "right-to-left")


def test_crowded_report_costs_the_reading_order_caption():
    scenes = sc.make_scenes(6, seed=4, image_size=48, max_shapes=5, min_shapes=3)
    m = model(AttentionCaptioner, image_size=48, embed_dim=8, attention=8, hidden_size=16,
              channels=4)
    report = crowded_report(m, scenes)
    assert repr(crowded_report(m, scenes, greedy(m, sc.render_batch(scenes)))) == repr(report)
    words, _ = pad([sc.encode(sc.reading_order_caption(s), True, True) for s in scenes],
                   sc.VOCAB.stoi[sc.PAD])
    with torch.no_grad():
        logits, _ = m(torch.from_numpy(sc.render_batch(scenes)), words[:, :-1])
    want = torch.nn.functional.cross_entropy(logits.flatten(0, 1), words[:, 1:].flatten(),
                                             ignore_index=0)
    assert report["reading_order_nats_per_word"] == pytest.approx(float(want), rel=1e-5)
    assert set(report["by_shapes"]) <= {3, 4, 5} and "grounding" in report
    assert "grounding" not in crowded_report(model(Captioner, image_size=48, features=8,
                                                   hidden_size=16, channels=4), scenes)
