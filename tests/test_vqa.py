import numpy as np
import pytest
import torch

from rnncourse.data import scenes as sc
from rnncourse.vqa import (VQAModel, accuracy_by_type, answer, every_question, predict,
                           train_vqa)

SCENES = sc.make_scenes(12, seed=5)


@pytest.fixture(scope="module")
def batch():
    words, _, _ = sc.question_tokens(SCENES, np.random.default_rng(0))
    return torch.from_numpy(sc.render_batch(SCENES)), torch.from_numpy(words)


def model(use_image=True):
    torch.manual_seed(0)
    return VQAModel(use_image=use_image).eval()


@pytest.mark.parametrize("use_image", [True, False])
def test_logits_have_one_score_per_answer(batch, use_image):
    images, words = batch
    assert model(use_image)(images, words).shape == (12, len(sc.ANSWERS))


def test_question_only_baseline_ignores_the_image(batch):
    images, words = batch
    m = model(use_image=False)
    torch.testing.assert_close(m(images, words), m(torch.rand_like(images), words))


def test_image_model_depends_on_the_image(batch):
    images, words = batch
    m = model()
    assert not torch.allclose(m(images, words), m(images.flip(0), words))


def test_padding_a_question_does_not_change_its_answer(batch):
    images, words = batch
    m = model()
    padded = torch.cat([words, torch.zeros(12, 3, dtype=words.dtype)], dim=1)  # <PAD> is id 0
    torch.testing.assert_close(m(images, words), m(images, padded))


def test_rejects_questions_without_a_batch_dimension(batch):
    images, words = batch
    with pytest.raises(ValueError, match=r"expected questions of shape \(N, T\)"):
        model()(images, words[0])


def test_every_question_asks_every_question_of_every_scene():
    images, words, answers, types = every_question(SCENES)
    expected = [q for s in SCENES for q in sc.questions(s)]
    assert len(words) == len(answers) == len(types) == len(images) == len(expected)
    assert [sc.decode(w) for w in words] == [q for q, _, _ in expected]
    assert [sc.ANSWERS[a] for a in answers] == [a for _, a, _ in expected]


def test_accuracy_by_type_reports_each_type_and_all():
    acc = accuracy_by_type(model(), sc.make_scenes(60, seed=5))  # a few nearest questions
    assert set(acc) == {"colour", "count", "spatial", "nearest", "all"}
    assert all(0 <= v <= 1 for v in acc.values())


def test_predict_can_ask_only_the_questions_of_some_types():
    scenes = sc.make_scenes(60, seed=5)
    found = predict(model(), scenes, types=("nearest",))
    expected = [(i, q) for i, s in enumerate(scenes)
                for q, _, t in sc.questions(s) if t == "nearest"]
    assert found["questions"] == [q for _, q in expected] and set(found["types"]) == {"nearest"}
    assert list(found["scene_of"]) == [i for i, _ in expected]
    every = predict(model(), scenes)
    keep = every["types"] == "nearest"
    np.testing.assert_array_equal(found["predicted"], every["predicted"][keep])


def test_answer_returns_a_known_answer_and_its_probability():
    word, p = answer(model(), sc.render_batch(SCENES[:1])[0], "how many circles are there ?")
    assert word in sc.ANSWERS and 0 < p <= 1


def test_question_only_baseline_learns_the_answer_prior_quickly():
    """After a short training the baseline answers colour questions with a colour,
    counts with a number, spatial questions with yes/no and nearest with a shape."""
    torch.manual_seed(0)
    m = VQAModel(embed_dim=16, hidden_size=32, use_image=False)
    losses = train_vqa(m, steps=60, batch_size=32, lr=1e-2, seed=0, pool=200)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5])
    images, words, answers, types = every_question(SCENES)
    predicted = m(torch.from_numpy(images), torch.from_numpy(words)).argmax(1).numpy()
    groups = {"colour": set(sc.COLOURS), "count": set(sc.NUMBERS), "spatial": {"yes", "no"},
              "nearest": set(sc.SHAPES)}
    for p, t in zip(predicted, types):
        assert sc.ANSWERS[p] in groups[t]


def test_every_word_has_a_glimpse_over_the_grid(batch):
    images, words = batch
    g = model().glimpses(images, words)
    N, T = words.shape
    assert g["alpha"].shape == (N, T, 64) and (g["alpha"] >= 0).all()
    torch.testing.assert_close(g["alpha"].sum(dim=2), torch.ones(N, T))
    assert g["p"].shape == (N, T, 2) and (g["p"].abs() <= 1).all()
    assert (g["g"].abs() <= 1).all() and (g["g"][:, :, :][words[:, None].expand_as(g["g"]) == 0] == 0).all()


def test_positions_are_the_glimpses_weighted_cell_centres(batch):
    images, words = batch
    g = model().glimpses(images, words)
    centres = torch.linspace(-1, 1, 8)
    x = (g["alpha"].unflatten(2, (8, 8)).sum(dim=2) * centres).sum(dim=2)  # sum over rows first
    y = (g["alpha"].unflatten(2, (8, 8)).sum(dim=3) * centres).sum(dim=2)
    torch.testing.assert_close(g["p"][..., 0], x)
    torch.testing.assert_close(g["p"][..., 1], y)


def test_the_comparison_is_bilinear_in_directions_and_positions(batch):
    """r_m = d_m(q) . sum_t g_mt p_t, and the classifier reads [q, v, z, r, m, near]."""
    images, words = batch
    m = model()
    g = m.glimpses(images, words)
    Delta = torch.einsum("nmt,ntc->nmc", g["g"], g["p"])
    torch.testing.assert_close(g["r"], (g["D"] * Delta).sum(dim=2))
    n = g["nearest"]
    logits = m.classifier(torch.cat([g["q"], g["v"], g["z"], g["r"], n["m"], n["near"]], dim=1))
    torch.testing.assert_close(m(images, words), logits)


def test_a_word_finds_the_cells_its_query_matches():
    """With the sharpness high, a word's glimpse lands on the cell that scores highest."""
    torch.manual_seed(0)
    m = VQAModel().eval()
    with torch.no_grad():
        m.log_sharpness.fill_(14.0)
        images = torch.from_numpy(sc.render_batch(SCENES[:2]))
        words = torch.tensor([sc.encode("what colour is the circle ?")] * 2)
        g = m.glimpses(images, words)
        keys = m.cell_keys(m.cnn(images))
        best = (m.W_q(m.embed(words)) @ keys.transpose(1, 2)).argmax(dim=2)  # (2, T)
        torch.testing.assert_close(g["p"], m.cells[best], atol=1e-3, rtol=0)


def test_questions_can_share_an_image(batch):
    """``scene_of``: one CNN pass per image, many questions about it."""
    images, words = batch
    m = model()
    scene_of = torch.tensor([0, 0, 1, 1, 1, 2, 0, 2, 1, 0, 2, 2])
    torch.testing.assert_close(m(images[:3], words, scene_of), m(images[scene_of], words))


def test_training_from_a_captioners_cnn_keeps_it_frozen():
    from rnncourse.pretrained import load

    torch.manual_seed(0)
    m = VQAModel()
    train_vqa(m, steps=3, batch_size=4, seed=0, pool=20, cnn_from="captioner_plain")
    for (name, mine), theirs in zip(m.cnn.state_dict().items(),
                                    load("captioner_plain").cnn.state_dict().values()):
        torch.testing.assert_close(mine, theirs, msg=name)


def test_cnn_from_needs_the_image_model():
    with pytest.raises(ValueError, match="cnn_from needs a model that uses the image"):
        train_vqa(VQAModel(use_image=False), steps=1, pool=5, cnn_from="captioner_plain")


NEAREST = torch.tensor([sc.encode("what is nearest to the square ?")] * 12)


def test_each_kind_has_a_glimpse_and_a_distance_to_the_anchor(batch):
    images, _ = batch
    n = model().glimpses(images, NEAREST)["nearest"]
    assert n["alpha_k"].shape == (12, 3, 64) and (n["alpha_k"] >= 0).all()
    torch.testing.assert_close(n["alpha_k"].sum(dim=2), torch.ones(12, 3))
    assert n["p_k"].shape == (12, 3, 2) and (n["p_k"].abs() <= 1).all()
    for name in ("m", "gamma", "d", "near"):
        assert n[name].shape == (12, 3), name
    assert n["P"].shape == (12, 2) and (n["d"] >= 0).all()
    torch.testing.assert_close(n["near"].sum(dim=1), torch.ones(12))


def test_a_kind_looks_where_its_word_looks(batch):
    """The glimpse of kind "square" is the glimpse of the word "square" in the question."""
    images, _ = batch
    g = model().glimpses(images, NEAREST)
    t = sc.encode("what is nearest to the square ?").index(sc.WORDS.index("square"))
    torch.testing.assert_close(g["nearest"]["alpha_k"][:, 1], g["alpha"][:, t])


def test_the_named_kind_is_the_one_whose_word_the_question_holds():
    m = model()
    for kind in sc.SHAPES:
        words = torch.tensor([sc.encode(f"what is nearest to the {kind} ?")])
        image = torch.from_numpy(sc.render_batch(SCENES[:1]))
        gamma = m.glimpses(image, words)["nearest"]["gamma"]
        assert int(gamma.argmax()) == sc.SHAPES.index(kind) and gamma.max() > 0.9


def test_anchor_distances_and_the_soft_choice_follow_the_formula(batch):
    """P = sum_k gamma_k p_k, d_k = |p_k - P|^2,
    near = softmax_k(log(1 - gamma_k) - lambda d_k)."""
    images, _ = batch
    m = model()
    n = m.glimpses(images, NEAREST)["nearest"]
    torch.testing.assert_close(n["P"], torch.einsum("nk,nkc->nc", n["gamma"], n["p_k"]))
    torch.testing.assert_close(n["d"], ((n["p_k"] - n["P"][:, None]) ** 2).sum(dim=2))
    lam = float(m.log_reach.detach().exp())
    expected = torch.softmax(torch.log(1 - n["gamma"]) - lam * n["d"], dim=1)
    torch.testing.assert_close(n["near"], expected)


def hand_built_keys(m, where):
    """Keys on an 8x8 grid that each kind's query matches only at its cell ``where[kind]``."""
    keys = torch.zeros(1, 64, m.W_q.out_features)
    with torch.no_grad():
        queries = m.W_q(m.embed(m.kinds))  # (K, A)
        for k, (row, col) in enumerate(where[kind] for kind in sc.SHAPES):
            keys[0, 8 * row + col] = 10 * queries[k] / queries[k].norm() ** 2
    return keys


def test_on_a_hand_built_grid_the_nearest_other_kind_wins():
    """A circle at cell (3, 3), a square two cells below it, a triangle three cells left:
    the kinds' positions are their cells' centres, the distances those of the cells, and
    near picks the square for the circle and the circle for the triangle."""
    m = model()
    with torch.no_grad():
        m.log_sharpness.fill_(5.0)
    where = {"circle": (3, 3), "square": (5, 3), "triangle": (3, 0)}
    keys = hand_built_keys(m, where)
    centre = {kind: m.cells[8 * row + col] for kind, (row, col) in where.items()}
    for named, truth in (("circle", "square"), ("triangle", "circle"), ("square", "circle")):
        words = torch.tensor([sc.encode(f"what is nearest to the {named} ?")])
        with torch.no_grad():
            n = m.nearest(m.embed(words), words != 0, keys)
        torch.testing.assert_close(n["p_k"][0], torch.stack([centre[k] for k in sc.SHAPES]),
                                   atol=1e-3, rtol=0)
        expected = torch.stack([((centre[k] - centre[named]) ** 2).sum() for k in sc.SHAPES])
        torch.testing.assert_close(n["d"][0], expected, atol=0.05, rtol=0)
        assert sc.SHAPES[int(n["near"].argmax())] == truth, named


def test_the_nearest_step_gradient_matches_finite_differences():
    """In float64 the question's embeddings and the cells' keys get the gradient central
    differences give (through the glimpses, the match, the anchor and the soft choice)."""
    m = model().double()
    e = torch.randn(2, 7, 32, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(2, 64, 32, dtype=torch.float64, requires_grad=True)
    real = torch.tensor([[True] * 7, [True] * 5 + [False] * 2])

    def near(e, keys):
        return m.nearest(e, real, keys)["near"]

    assert torch.autograd.gradcheck(near, (e, keys))
