"""Smoothed attention maps and the many-scene attention explorer of notebook 11."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnncourse.captioning import AttentionCaptioner, greedy  # noqa: E402
from rnncourse.data import scenes as sc  # noqa: E402
from rnncourse.viz.scene_attention import (SceneAttentionExplorer, plot_attention_overlays,  # noqa: E402
                                           smooth_attention)

SCENES = sc.make_scenes(4, seed=3)


def small_model():
    torch.manual_seed(0)
    return AttentionCaptioner(embed_dim=8, attention=8, hidden_size=16, channels=4).eval()


def test_smoothing_keeps_a_uniform_map_uniform():
    np.testing.assert_allclose(smooth_attention(np.full(64, 1 / 64), 32), 1 / 64, rtol=1e-6)


def test_smoothing_peaks_on_the_attended_cell_and_stays_in_range():
    alpha = np.zeros(64)
    alpha[8 * 2 + 5] = 1.0  # row 2, column 5
    up = smooth_attention(alpha, 32)
    assert up.shape == (32, 32)
    row, col = np.unravel_index(up.argmax(), up.shape)
    assert row // 4 == 2 and col // 4 == 5
    assert up.min() >= 0 and up.max() <= 1


def test_smoothing_refuses_a_map_that_is_not_square():
    with pytest.raises(ValueError, match="expected alpha of shape"):
        smooth_attention(np.ones(10), 32)


def test_explorer_captions_the_scene_it_shows():
    model = small_model()
    explorer = SceneAttentionExplorer(model, SCENES, image_size=32)
    for i in (2, 0):
        text = explorer.show(i)
        assert text == greedy(model, sc.render_batch(SCENES[i:i + 1]))[0].text
        assert explorer.explorer.alphas.shape == (len(explorer.words), 64)
        assert explorer.correct == (text in sc.captions(SCENES[i]))
    with pytest.raises(IndexError):
        explorer.show(4)


def test_explorer_draws_new_scenes_by_seed_reproducibly():
    explorer = SceneAttentionExplorer(small_model(), SCENES, image_size=32)
    first = explorer.new_scene(7)
    scene = explorer.scene
    assert explorer.new_scene(7) == first and explorer.scene == scene
    assert scene == sc.make_scenes(1, 7)[0]


def test_explorer_widget_follows_the_scene():
    explorer = SceneAttentionExplorer(small_model(), SCENES, image_size=32)
    panel = explorer.widget()
    explorer.show(3)
    assert panel.children[1].children[0].max == len(explorer.words) - 1  # the word slider
    plt.close("all")


def test_overlays_have_one_panel_per_word_and_a_colour_bar():
    model = small_model()
    cap = greedy(model, sc.render_batch(SCENES[:1]), max_len=5)[0]
    words = [sc.WORDS[i] for i in cap.ids]
    fig = plot_attention_overlays(sc.render_batch(SCENES[:1])[0], words, cap.attention, columns=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == len(words)
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    plt.close(fig)
