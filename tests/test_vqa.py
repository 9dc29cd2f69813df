import numpy as np
import pytest
import torch

from rnncourse.data import scenes as sc
from rnncourse.vqa import VQAModel, accuracy_by_type, answer, every_question, train_vqa

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
    acc = accuracy_by_type(model(), SCENES)
    assert set(acc) == {"colour", "count", "spatial", "all"}
    assert all(0 <= v <= 1 for v in acc.values())


def test_answer_returns_a_known_answer_and_its_probability():
    word, p = answer(model(), sc.render_batch(SCENES[:1])[0], "how many circles are there ?")
    assert word in sc.ANSWERS and 0 < p <= 1


def test_question_only_baseline_learns_the_answer_prior_quickly():
    """After a short training the baseline answers colour questions with a colour,
    counts with a number and spatial questions with yes/no."""
    torch.manual_seed(0)
    m = VQAModel(embed=16, hidden=32, use_image=False)
    losses = train_vqa(m, steps=60, batch_size=32, lr=1e-2, seed=0, pool=200)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5])
    images, words, answers, types = every_question(SCENES)
    predicted = m(torch.from_numpy(images), torch.from_numpy(words)).argmax(1).numpy()
    groups = {"colour": set(sc.COLOURS), "count": set(sc.NUMBERS), "spatial": {"yes", "no"}}
    for p, t in zip(predicted, types):
        assert sc.ANSWERS[p] in groups[t]


def test_glimpse_weights_are_two_distributions_over_the_grid(batch):
    images, words = batch
    m = model()
    grid = m.cnn(images).flatten(2).transpose(1, 2)  # (N, L, C)
    q = torch.randn(12, m.config["hidden"])
    alpha = m.glimpses(grid, q)
    assert alpha.shape == (12, 2, 64) and (alpha >= 0).all()
    torch.testing.assert_close(alpha.sum(dim=2), torch.ones(12, 2))
