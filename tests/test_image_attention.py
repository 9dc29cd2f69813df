import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnncourse.viz.image_attention import (AttentionExplorer, attention_map,  # noqa: E402
                                           plot_attention_words)

IMAGE = np.full((32, 32, 3), 200, dtype=np.uint8)
WORDS = ["a", "red", "circle", "<END>"]


def one_hot_alphas(cells=(0, 5, 63, 9)):
    alphas = np.full((len(cells), 64), 1e-3)
    for t, cell in enumerate(cells):
        alphas[t, cell] = 1
    return alphas / alphas.sum(axis=1, keepdims=True)


def test_attention_map_blows_each_cell_up_to_a_block():
    alpha = np.arange(16, dtype=float)
    heat = attention_map(alpha, 32)
    assert heat.shape == (32, 32)
    assert heat[0:8, 8:16].min() == heat[0:8, 8:16].max() == 1  # cell (row 0, column 1)
    assert heat.sum() == pytest.approx(alpha.sum() * 64)


def test_attention_map_rejects_a_grid_that_does_not_fit():
    with pytest.raises(ValueError, match="expected alpha of shape"):
        attention_map(np.ones(15), 32)


def test_explorer_follows_set_word_and_lights_the_attended_cell():
    explorer = AttentionExplorer(IMAGE, WORDS, one_hot_alphas())
    explorer.set_word(2)
    assert explorer.word == "circle"
    overlay = explorer.overlay()
    assert overlay.shape == (32, 32, 3)
    row, col = divmod(63, 8)  # the attended cell of word 2 is the bottom-right one
    brightest = np.unravel_index(overlay[:, :, 0].argmax(), (32, 32))
    assert brightest[0] // 4 == row and brightest[1] // 4 == col
    assert overlay[0, 0, 0] < overlay[31, 31, 0]


def test_explorer_accepts_channels_first_images():
    explorer = AttentionExplorer(IMAGE.transpose(2, 0, 1), WORDS, one_hot_alphas())
    assert explorer.image.shape == (32, 32, 3) and explorer.image.max() <= 1


def test_explorer_rejects_one_row_too_few():
    with pytest.raises(ValueError, match="expected alphas of shape"):
        AttentionExplorer(IMAGE, WORDS, one_hot_alphas()[:3])


def test_widget_slider_and_code_drive_the_same_state():
    explorer = AttentionExplorer(IMAGE, WORDS, one_hot_alphas())
    view = explorer.widget()
    slider, label, output = view.children
    explorer.set_word(3)
    assert slider.value == 3 and "<b>[<END>]</b>" in label.value
    slider.value = 1
    assert explorer.word == "red" and "<b>[red]</b>" in label.value
    assert explorer.figure.axes[0].get_title().startswith("1: 'red'")
    with pytest.raises(IndexError):
        explorer.set_word(4)


def test_plot_attention_words_draws_one_panel_per_word_plus_the_image():
    fig = plot_attention_words(IMAGE, WORDS, one_hot_alphas(), columns=3)
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled.count("image") == 2 and set(WORDS) <= set(titled)
