"""The encoder-decoder diagram: deterministic, every symbol drawn, line widths = alpha."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from diagram_png import png  # noqa: E402
from rnncourse.viz.diagrams._base import PALETTE, is_diagram  # noqa: E402
from rnncourse.viz.diagrams.seq2seq import seq2seq_diagram, symbol_label  # noqa: E402


def weights(T, S, seed=0):
    a = np.random.default_rng(seed).random((T, S)) ** 3
    return a / a.sum(1, keepdims=True)


def attention_lines(fig):
    return [line for line in fig.axes[0].lines if to_hex(line.get_color()) == PALETTE["highlight"]]


def test_same_arguments_draw_the_same_picture():
    a = weights(4, 3)
    assert png(seq2seq_diagram("abc", "wxyz", a)) == png(seq2seq_diagram("abc", "wxyz", a))
    assert png(seq2seq_diagram("abc", "wxyz", a)) != png(seq2seq_diagram("abc", "wxyz", weights(4, 3, 1)))
    assert png(seq2seq_diagram("abc", "wxyz")) == png(seq2seq_diagram("abc", "wxyz"))


def test_every_symbol_is_labelled_and_spaces_are_visible():
    fig = seq2seq_diagram("a b", "xy", weights(3, 3))
    texts = [t.get_text() for t in fig.axes[0].texts]
    for symbol in ["a", "␣", "b", "x", "y", "</s>"]:
        assert symbol in texts
    for label in ["$x_{1}$", "$x_{3}$", "$y_{1}$", "$y_{3}$"]:
        assert label in texts
    assert is_diagram(fig)
    assert symbol_label("$") == r"\$"
    plt.close(fig)


def test_line_widths_are_proportional_to_the_weights():
    a = weights(5, 4, seed=3)
    fig = seq2seq_diagram("abcd", "vwxyz", a, max_width=6.0, min_alpha=0.05)
    widths = sorted(line.get_linewidth() for line in attention_lines(fig))
    expected = sorted(6.0 * a[a >= 0.05])
    np.testing.assert_allclose(widths, expected)
    plt.close(fig)


def test_without_attention_one_context_box_feeds_every_step():
    fig = seq2seq_diagram("abc", "wxyz")
    assert "$c$" in [t.get_text() for t in fig.axes[0].texts]
    assert not attention_lines(fig)
    highlighted = [p for p in fig.axes[0].patches
                   if hasattr(p, "get_arrowstyle") and to_hex(p.get_edgecolor()) == PALETTE["highlight"]]
    assert len(highlighted) == 1 + 4  # from the encoder's last state, then to each output
    plt.close(fig)


def test_wrong_shapes_are_one_clear_error():
    with pytest.raises(ValueError, match="expected alpha of shape"):
        seq2seq_diagram("abc", "xy", weights(3, 2))
    with pytest.raises(ValueError, match="non-empty"):
        seq2seq_diagram("", "xy")
