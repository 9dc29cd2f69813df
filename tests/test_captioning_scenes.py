"""Crowded scenes (three to five shapes, notebook 11's captioning comparison) and the
doubly stochastic attention regulariser."""

import itertools
from collections import Counter

import numpy as np
import pytest
import torch

from rnncourse import pretrained
from rnncourse.captioning import AttentionCaptioner, attention_coverage_penalty, train_captioner
from rnncourse.data import scenes as sc

CROWDED = sc.make_scenes(40, seed=1, image_size=48, max_shapes=5, min_shapes=3)


def test_the_default_scenes_did_not_change():
    """The shipped models were trained and tested on these: their sha256 is in the records."""
    data = pretrained.record("captioner_plain")["training"]["data"]["sha256"]
    assert sc.scenes_sha256(sc.make_scenes(6000, 0)) == data["train"]
    assert sc.scenes_sha256(sc.make_scenes(500, 10_000)) == data["test"]


def test_crowded_scenes_hold_three_to_five_shapes_apart():
    """Centres at least the two radii apart (a triangle's corner may touch a neighbour)."""
    assert {len(s.shapes) for s in CROWDED} == {3, 4, 5}
    for scene in CROWDED:
        for a, b in itertools.combinations(scene.shapes, 2):
            assert np.hypot(a.x - b.x, a.y - b.y) >= (a.radius_fraction + b.radius_fraction) * 48
        masks = [sc.shape_mask(s, 48) for s in scene.shapes]
        assert (sum(m.astype(int) for m in masks) > 1).sum() <= 3  # a corner at most


def test_crowded_scenes_never_hold_more_than_three_of_a_kind():
    """So every caption's and answer's count has a word ("three" is the last)."""
    for scene in CROWDED:
        assert max(Counter(s.shape for s in scene.shapes).values()) <= 3
        assert max(Counter(s.colour for s in scene.shapes).values()) <= 3
        assert all(set(c.split()) <= set(sc.WORDS) for c in sc.captions(scene))
        assert all(a in sc.ANSWERS for _, a, _ in sc.questions(scene))


def test_a_crowded_caption_lists_every_shape():
    for scene in CROWDED[:10]:
        caption = sc.captions(scene)[0]
        counted = sum(1 if w == "a" else sc.NUMBERS.index(w)
                      for w in caption.split() if w in ("a", "two", "three"))
        assert counted == len(scene.shapes)


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_shapes=4), "image_size >= 16 \\(>= 48"),
    (dict(image_size=48, max_shapes=6), "max_shapes <= 5"),
    (dict(image_size=48, max_shapes=3, min_shapes=4), "min_shapes <= max_shapes"),
])
def test_bad_scene_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sc.make_scenes(1, seed=0, **kwargs)


def test_coverage_penalty_is_the_formula_over_real_steps():
    torch.manual_seed(0)
    alphas = torch.softmax(torch.randn(2, 4, 9), dim=2)
    words = torch.tensor([[1, 5, 6, 7, 2], [1, 5, 2, 0, 0]])  # targets words[:, 1:]; 0 is <PAD>
    want = []
    for n in range(2):
        real = [t for t in range(4) if words[n, t + 1] != 0]
        want.append(sum((1 - sum(alphas[n, t, l] for t in real)) ** 2 for l in range(9)))
    torch.testing.assert_close(attention_coverage_penalty(alphas, words), torch.stack(want).mean())


def test_coverage_penalty_is_zero_when_every_cell_is_seen_once():
    alphas = torch.eye(4)[None]  # word t looks only at cell t
    words = torch.tensor([[1, 5, 6, 7, 2]])
    assert float(attention_coverage_penalty(alphas, words)) == 0.0


def test_training_with_the_penalty_spreads_attention_over_the_caption():
    """A large lambda pulls each cell's total weight over the caption towards one."""
    scenes = sc.make_scenes(16, seed=2)
    images = torch.from_numpy(sc.render_batch(scenes))
    words = torch.from_numpy(sc.caption_tokens(scenes, np.random.default_rng(0)))
    penalties = {}
    for lam in (0.0, 1.0):
        torch.manual_seed(0)
        m = AttentionCaptioner(embed_dim=8, attention=8, hidden_size=16, channels=4)
        train_captioner(m, steps=40, batch_size=16, lr=1e-2, scenes=scenes, attention_penalty=lam)
        with torch.no_grad():
            _, alphas = m(images, words[:, :-1])
            penalties[lam] = float(attention_coverage_penalty(alphas, words))
    assert penalties[1.0] < penalties[0.0]
