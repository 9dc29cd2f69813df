"""The unrolled-RNN diagram: deterministic, labelled with the lecture's symbols, highlights right."""

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import FancyArrowPatch

from diagram_png import png  # noqa: E402
from rnncourse.viz.diagrams._base import PALETTE, is_diagram
from rnncourse.viz.diagrams.unrolled import unrolled_rnn

matplotlib.use("Agg")


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


def arrows(fig, colour: str) -> list[FancyArrowPatch]:
    rgba = matplotlib.colors.to_rgba(colour)
    return [p for p in fig.axes[0].patches
            if isinstance(p, FancyArrowPatch) and p.get_edgecolor() == rgba]


def test_same_arguments_draw_identical_pictures():
    for kwargs in [{}, {"highlight": "gradient"}, {"steps": 3, "focus": 0, "backward": False}]:
        assert png(unrolled_rnn(**kwargs), dpi=40) == png(unrolled_rnn(**kwargs), dpi=40)


def test_it_is_marked_as_a_diagram():
    fig = unrolled_rnn()
    assert is_diagram(fig)
    plt.close(fig)


def test_every_lecture_symbol_is_drawn_for_every_step():
    fig = unrolled_rnn(steps=4, focus=1)
    labels = texts(fig)
    for t in ["t-1", "t", "t+1", "t+2"]:
        for name in "xhyL":
            assert f"${name}_{{{t}}}$" in labels, f"missing ${name}_{{{t}}}$"
    for name in "UV":
        assert labels.count(f"${name}$") == 4
    assert labels.count("$W$") == 3  # between 4 states
    assert labels.count("+$b$") == 4 and labels.count("+$c$") == 4
    assert labels.count("$V$$^\\top$") == 4 and labels.count("$W$$^\\top$") == 3
    plt.close(fig)


def test_notebook_naming_replaces_the_symbols():
    fig = unrolled_rnn(symbols={"W": "W_hh", "U": "W_xh", "V": "W_hy"})
    labels = texts(fig)
    assert "$W_{hh}$" in labels and "$W_{xh}$" in labels and "$W_{hy}$" in labels
    assert "$W$" not in labels
    plt.close(fig)


def test_without_backward_no_gradient_arrow_is_drawn():
    fig = unrolled_rnn(steps=3, focus=0, backward=False)
    assert not arrows(fig, PALETTE["backward"])
    assert "$V$$^\\top$" not in texts(fig)
    plt.close(fig)


@pytest.mark.parametrize("highlight,count", [("gradient", 3), ("output", 2), ("recurrent", 1)])
def test_highlight_colours_exactly_the_paths_into_h_t(highlight, count):
    # "output": L_t -> y_t and y_t -> h_t; "recurrent": h_{t+1} -> h_t; "gradient": both
    fig = unrolled_rnn(steps=4, focus=1, highlight=highlight)
    marked = arrows(fig, PALETTE["highlight"])
    assert len(marked) == count
    assert not arrows(fig, PALETTE["backward"]), "the other gradient arrows are dimmed"
    if highlight in ("gradient", "recurrent"):
        # the recurrent path runs leftwards from h_{t+1} (centre x = 4.8) to h_t (centre x = 2.4)
        (start, end), = [p._posA_posB for p in marked if p._posA_posB[0][1] == p._posA_posB[1][1]]
        assert 3.6 < start[0] < 4.8 and 2.4 < end[0] < 3.6
    plt.close(fig)


@pytest.mark.parametrize("kwargs,message", [
    ({"steps": 1}, "steps must be"), ({"focus": 3}, "focus must be"),
    ({"highlight": "gates"}, "highlight must be"), ({"highlight": "gradient", "backward": False}, "needs backward"),
    ({"symbols": {"Q": "Q"}}, "unknown symbols"), ({"symbols": {"W": "W hh"}}, "must look like"),
])
def test_bad_arguments_get_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        unrolled_rnn(**kwargs)
