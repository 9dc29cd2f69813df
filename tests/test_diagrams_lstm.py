"""The LSTM and GRU diagrams: deterministic, every lecture symbol present, variants as edits."""

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from diagram_png import png  # noqa: E402
from rnncourse.viz.diagrams._base import PALETTE, is_diagram  # noqa: E402
from rnncourse.viz.diagrams.lstm import (GRU_PARTS, LSTM_PARTS, LSTM_VARIANTS,  # noqa: E402
                                         gru_cell, lstm_cell)


def texts(fig) -> str:
    return " | ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def colours(fig) -> set:
    return {matplotlib.colors.to_hex(p.get_edgecolor()) for ax in fig.axes for p in ax.patches}


@pytest.mark.parametrize("kwargs", [{}, {"highlight": "f"}, {"variant": "CIFG"}])
def test_lstm_diagram_is_deterministic(kwargs):
    assert png(lstm_cell(**kwargs), dpi=50) == png(lstm_cell(**kwargs), dpi=50)


def test_gru_diagram_is_deterministic():
    assert png(gru_cell(highlight="r"), dpi=50) == png(gru_cell(highlight="r"), dpi=50)


def test_lstm_diagram_carries_every_lecture_symbol_and_is_a_diagram():
    fig = lstm_cell()
    assert is_diagram(fig)
    labels = texts(fig)
    for symbol in ["$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "$f_t$", "$i_t$",
                   "$g_t$", "$o_t$", "σ", "tanh", "×", "+"]:
        assert symbol in labels, f"{symbol} missing from the LSTM diagram"
    plt.close(fig)


@pytest.mark.parametrize("part", LSTM_PARTS)
def test_each_highlight_colours_its_part_and_writes_its_equation(part):
    fig = lstm_cell(highlight=part)
    labels = texts(fig)
    assert f"${part}_t" in labels  # the equation of the part in focus
    assert PALETTE["dim"] in colours(fig)  # the rest is dimmed
    focus = PALETTE["state"] if part == "c" else PALETTE["highlight"]
    drawn = {matplotlib.colors.to_hex(line.get_color()) for ax in fig.axes for line in ax.lines}
    assert focus in drawn | colours(fig)
    plt.close(fig)


def test_the_highlights_differ_from_each_other():
    pictures = {png(lstm_cell(highlight=part), dpi=50) for part in LSTM_PARTS}
    assert len(pictures) == len(LSTM_PARTS)


@pytest.mark.parametrize("variant", LSTM_VARIANTS)
def test_each_odyssey_variant_is_drawn_with_its_note(variant):
    fig = lstm_cell(variant=variant)
    assert variant in texts(fig)
    plt.close(fig)


def test_variants_edit_the_right_part():
    assert "$f_t = 1$" in texts(lstm_cell(variant="NFG"))
    assert "$i_t = 1$" in texts(lstm_cell(variant="NIG"))
    assert "$o_t = 1$" in texts(lstm_cell(variant="NOG"))
    assert "id" in texts(lstm_cell(variant="NIAF")).split(" | ")
    assert "no tanh" in texts(lstm_cell(variant="NOAF"))
    assert "1−" in texts(lstm_cell(variant="CIFG"))
    assert "$p_o$" in texts(lstm_cell(variant="V")) and "$p_o$" not in texts(lstm_cell(variant="NP"))
    assert "$[i, f, o]_{t-1}$" in texts(lstm_cell(variant="FGR"))
    plt.close("all")


def test_gru_diagram_carries_its_symbols():
    fig = gru_cell()
    labels = texts(fig)
    for symbol in ["$h_{t-1}$", "$h_t$", "$x_t$", "$z_t$", "$r_t$", "$n_t$", "1−", "tanh"]:
        assert symbol in labels, f"{symbol} missing from the GRU diagram"
    assert "$c_t$" not in labels.split(" | ")
    plt.close(fig)
    for part in GRU_PARTS:
        assert f"${part}_t" in texts(gru_cell(highlight=part))
    plt.close("all")


def test_bad_arguments_get_one_clear_error():
    with pytest.raises(ValueError, match="highlight must be one of"):
        lstm_cell(highlight="x")
    with pytest.raises(ValueError, match="variant must be one of"):
        lstm_cell(variant="MUT1")
    with pytest.raises(ValueError, match="highlight must be one of"):
        gru_cell(highlight="c")
