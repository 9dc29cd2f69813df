"""Text features, correlation-based cell search, gate saturation, recorded internals."""

import numpy as np
import pytest
import torch

from rnncourse.char_model import CharLSTM
from rnncourse.interpret import (bracket_depth, correlations, gate_saturation, indent_depth,
                                 inside_brackets, inside_quotes, lstm_internals,
                                 position_in_line, rank_cells, search_cells)


def _bits(a):
    return "".join(str(int(v)) for v in a)


def test_inside_quotes_marks_the_state_after_each_character():
    assert _bits(inside_quotes('a"bc"d')) == "011100"
    assert _bits(inside_quotes("x='it\"s'")) == "00111110"  # the other quote does not close
    assert _bits(inside_quotes(r'"a\"b"c')) == "1111100"    # an escaped quote does not close


def test_inside_quotes_for_prose_ignores_apostrophes():
    assert _bits(inside_quotes("don't \"go\"", quotes='"')) == "0000001110"


def test_position_in_line_restarts_at_newlines():
    assert position_in_line("ab\ncd\n\ne").tolist() == [1, 2, 0, 1, 2, 0, 0, 1]


def test_indent_depth_is_the_lines_level():
    text = "if x:\n    y = 1\n        z\nw"
    depth = indent_depth(text)
    lines = text.split("\n")
    starts = np.cumsum([0] + [len(l) + 1 for l in lines[:-1]])
    assert [depth[s] for s in starts] == [0, 1, 2, 0]
    assert depth[starts[1] + 5] == 1


def test_bracket_depth_and_inside_brackets():
    assert bracket_depth("f(a[1], {b})").tolist() == [0, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 0]
    assert _bits(inside_brackets("a(b)c)")) == "011000"


def test_correlations_match_numpy_corrcoef():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 6))
    f = rng.normal(size=50)
    ref = [np.corrcoef(A[:, h], f)[0, 1] for h in range(6)]
    assert np.allclose(correlations(A, f), ref)


def test_constant_cells_score_zero_and_shapes_are_checked():
    A = np.c_[np.ones(10), np.arange(10.0)]
    assert correlations(A, np.arange(10.0)).tolist() == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        correlations(np.ones(10), np.ones(10))


def test_rank_cells_finds_a_planted_cell_and_its_sign():
    rng = np.random.default_rng(1)
    f = inside_quotes('x = "abc" + "de" + f(1)' * 4)
    A = rng.normal(size=(len(f), 20))
    A[:, 13] = -f + 0.1 * rng.normal(size=len(f))
    best = rank_cells(A, f, top=3, layer=1)[0]
    assert (best.layer, best.cell) == (1, 13) and best.r < -0.9


def test_search_cells_looks_across_layers():
    text = "a = (1, 2)\nb = [3]\n" * 5
    rng = np.random.default_rng(2)
    layers = [rng.normal(size=(len(text), 8)) for _ in range(2)]
    layers[1][:, 5] = position_in_line(text)
    found = search_cells(layers, text, top=2)
    assert set(found) == {"inside quotes", "position in line", "indentation depth",
                          "inside brackets", "inside a comment"}
    assert found["position in line"][0][:2] == (1, 5)


def test_gate_saturation_counts_fractions_per_unit():
    gate = np.array([[0.05, 0.5], [0.95, 0.5], [0.02, 0.99], [0.5, 0.97]])
    left, right = gate_saturation(gate)
    assert left.tolist() == [0.5, 0.0] and right.tolist() == [0.25, 0.5]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gate_saturation(np.array([[1.5]]))


def test_lstm_internals_agree_with_torch_lstm():
    torch.manual_seed(0)
    model = CharLSTM("abc ()\n", embed_dim=5, hidden_size=7, num_layers=2).eval()
    text = "ab (c)\nca b"
    internals = lstm_internals(model, text)
    with torch.no_grad():
        out, (h_n, c_n) = model.lstm(model.embed(model.encode(text)))
    assert len(internals) == 2
    assert np.allclose(internals[1]["h"], out[0].numpy(), atol=1e-6)
    assert np.allclose(internals[0]["c"][-1], c_n[0, 0].numpy(), atol=1e-6)
    for gate in "ifo":
        assert internals[0][gate].shape == (len(text), 7)
        assert internals[0][gate].min() >= 0 and internals[0][gate].max() <= 1


def test_python_strings_follow_the_tokenizer_on_triple_quotes_prefixes_and_escapes():
    from rnncourse.interpret import inside_strings, python_lexical_masks, tokenizer_masks

    code = ('x = r"a\\"b"  # c\n'
            'y = """one\n"two" # not a comment\n"""\n'
            "z = b'#' + f'{x}' + ''\n"
            "w = '''it's'''  # it's\n")
    strings, comments = python_lexical_masks(code)
    want_strings, want_comments = tokenizer_masks(code)
    assert np.array_equal(strings, want_strings) and np.array_equal(comments, want_comments)
    assert strings[code.index('"""')] == 1 and strings[code.index("# not")] == 1
    assert comments[code.index("# not")] == 0 and comments[code.index("# c")] == 1
    assert strings[code.index('r"') ] == 0  # the prefix is outside
    assert np.array_equal(inside_strings(code), strings)


def test_python_strings_agree_with_the_tokenizer_on_every_validation_module():
    from rnncourse.data.corpora import python_source
    from rnncourse.interpret import python_lexical_masks, tokenizer_masks

    code = python_source("val")
    strings, comments = python_lexical_masks(code)
    want_strings, want_comments = tokenizer_masks(code)
    assert int((strings != want_strings).sum()) == 0
    assert int((comments != want_comments).sum()) == 0
    assert want_strings.sum() > 10_000 and want_comments.sum() > 1_000


def test_python_lexer_survives_snippets_the_tokenizer_rejects():
    from rnncourse.interpret import python_lexical_masks

    strings, comments = python_lexical_masks('print("unterminated\nx = 1  # ok')
    assert _bits(strings[:20]) == "0" * 6 + "1" * 13 + "0"
    assert comments[-4:].tolist() == [1, 1, 1, 1]
    strings, _ = python_lexical_masks('"""never closed\nstill inside')
    assert strings.all()


def test_features_include_the_tokenizer_strings_and_comments():
    from rnncourse.interpret import FEATURES, inside_comment, inside_strings

    assert FEATURES["inside quotes"] is inside_strings
    assert FEATURES["inside a comment"] is inside_comment
