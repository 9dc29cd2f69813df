"""Cell explorer: what it shows follows the chosen cell, the text, and the controls."""

import re

import numpy as np
import pytest
import torch

from rnncourse.char_model import CharLSTM, top_k_next
from rnncourse.interpret import lstm_internals
from rnncourse.viz.cell_explorer import CellExplorer, activation_colour

TEXT = 'if x < 3:\n    s = "a{b}"\n'


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CharLSTM("".join(sorted(set(TEXT + "qz"))), embed_dim=4, hidden_size=6,
                    num_layers=2).eval()


def _backgrounds(html):
    return re.findall(r'class="ch" style="background:(rgb\([0-9,]+\))"', html)


def test_activation_is_tanh_of_the_chosen_cell_state(model):
    explorer = CellExplorer(model, TEXT, layer=1, cell=4)
    c = lstm_internals(model, TEXT)[1]["c"][:, 4]
    assert np.allclose(explorer.activation(), np.tanh(c))
    explorer.select(quantity="h")
    assert np.allclose(explorer.activation(), lstm_internals(model, TEXT)[1]["h"][:, 4])


def test_positions_carry_the_models_top5_guesses(model):
    explorer = CellExplorer(model, TEXT)
    guesses, probs = top_k_next(model, TEXT, 5)
    positions = explorer.positions()
    assert [p.char for p in positions] == list(TEXT)
    assert positions[7].guesses == guesses[7]
    assert positions[7].probs == pytest.approx(probs[7].tolist())


def test_html_colours_every_character_by_its_activation(model):
    explorer = CellExplorer(model, TEXT, layer=0, cell=2)
    html = explorer.html()
    expected = [activation_colour(v) for v in explorer.activation()]
    assert _backgrounds(html) == expected
    assert "&lt;" in html and "<\n" not in html  # the '<' of the code is escaped
    assert html.count('class="g"') == 5 * len(TEXT)
    assert explorer.html(guesses=False).count('class="g"') == 0


def test_choosing_another_cell_changes_the_colours(model):
    explorer = CellExplorer(model, TEXT, layer=0, cell=0)
    first = _backgrounds(explorer.html())
    explorer.select(cell=3)
    assert _backgrounds(explorer.html()) != first


def test_activation_colour_runs_blue_white_green():
    assert activation_colour(-1.0) == "rgb(33,102,172)"
    assert activation_colour(0.0) == "rgb(255,255,255)"
    assert activation_colour(1.0) == "rgb(26,152,80)"
    assert activation_colour(5.0) == activation_colour(1.0)


def test_select_rejects_units_that_do_not_exist(model):
    explorer = CellExplorer(model, TEXT)
    with pytest.raises(ValueError, match=r"layer must be in 0\.\.1"):
        explorer.select(layer=2)
    with pytest.raises(ValueError, match=r"cell must be in 0\.\.5"):
        explorer.select(cell=6)
    with pytest.raises(ValueError, match="quantity"):
        explorer.select(quantity="x")


def test_text_is_cut_to_max_chars(model):
    explorer = CellExplorer(model, TEXT * 10, max_chars=30)
    assert explorer.text == (TEXT * 10)[:30] and explorer.activation().shape == (30,)


def test_widget_controls_drive_the_display(model):
    explorer = CellExplorer(model, TEXT, layer=0, cell=0)
    view = explorer.widget()
    before = view.display.value
    view.layer.value = 1
    view.cell.value = 5
    assert (explorer.layer, explorer.cell) == (1, 5)
    assert "layer 1, cell 5" in view.display.value and view.display.value != before
    view.quantity.value = "h"
    assert "hidden state h_t" in view.display.value


def test_typing_text_reruns_the_model(model):
    explorer = CellExplorer(model, TEXT)
    view = explorer.widget()
    view.text.value = "zq zq"
    assert explorer.text == "zq zq"
    assert len(_backgrounds(view.display.value)) == 5
    assert np.allclose(explorer.activation(),
                       np.tanh(lstm_internals(model, "zq zq")[0]["c"][:, 0]))


@pytest.mark.parametrize("gate", ["i", "f", "g", "o"])
def test_any_gate_can_colour_the_text(model, gate):
    explorer = CellExplorer(model, TEXT, layer=1, cell=2, quantity=gate)
    values = lstm_internals(model, TEXT)[1][gate][:, 2]
    assert np.allclose(explorer.activation(), values)
    shade = 2 * values - 1 if gate != "g" else values  # sigmoid gates: 0 blue, 1 green
    assert _backgrounds(explorer.html()) == [activation_colour(v) for v in shade]
    assert ("green open (1), blue closed (0)" in explorer.html()) == (gate != "g")


def test_top_cells_ranks_the_current_quantity_by_correlation(model):
    from rnncourse.interpret import FEATURES, correlations

    explorer = CellExplorer(model, TEXT, quantity="f")
    found = explorer.top_cells(top=2)
    assert set(found) == set(FEATURES)
    best = found["position in line"][0]
    r = correlations(lstm_internals(model, TEXT)[best.layer]["f"], FEATURES["position in line"](TEXT))
    assert best.r == pytest.approx(r[best.cell])
    assert abs(best.r) >= np.abs(r).max() - 1e-12


def test_the_top_cells_dropdown_selects_a_cell(model):
    explorer = CellExplorer(model, TEXT, layer=0, cell=0)
    view = explorer.widget()
    pairs = [v for _, v in view.suggested.options if v is not None]
    labels = [label for label, v in view.suggested.options if v is not None]
    assert any(label.startswith("inside quotes: ") for label in labels)
    assert any(label.startswith("position in line: ") for label in labels)
    layer, cell = next(p for p in pairs if p != (0, 0))
    view.suggested.value = (layer, cell)
    assert (explorer.layer, explorer.cell) == (layer, cell)
    assert (view.layer.value, view.cell.value) == (layer, cell)
    assert f"layer {layer}, cell {cell}" in view.display.value


def test_switching_to_a_gate_in_the_view_recomputes_the_suggestions(model):
    explorer = CellExplorer(model, TEXT)
    view = explorer.widget()
    before = view.suggested.options
    view.quantity.value = "o"
    assert "output gate o_t" in view.display.value
    assert view.suggested.value is None and view.suggested.options != before


def test_the_menu_leaves_out_features_that_are_constant_on_the_text(model):
    view = CellExplorer(model, "x = 1\ny = 2\n").widget()  # no quotes, brackets or comments
    labels = [label for label, value in view.suggested.options if value is not None]
    assert labels and not any(label.startswith(("inside quotes", "inside brackets", "inside a comment"))
                              for label in labels)
