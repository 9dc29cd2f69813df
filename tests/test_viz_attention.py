import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from rnncourse.seq2seq import Seq2Seq
from rnncourse.viz.attention import AttentionExample, AttentionExplorer, plot_attention


def examples():
    rng = np.random.default_rng(0)
    out = []
    for src, tgt, pred in [("abc", "12", "12"), ("ab", "3", "4"), ("cab", "21", "2")]:
        alpha = rng.random((len(pred) + 1, len(src)))
        out.append(AttentionExample(src, tgt, pred, alpha / alpha.sum(1, keepdims=True)))
    return out


def test_heatmap_labels_rows_with_output_and_columns_with_source():
    ex = examples()[0]
    ax = plot_attention(ex.alpha, ex.source, ex.output)
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abc")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "</s>"]


def test_heatmap_rejects_a_transposed_alpha():
    ex = examples()[2]
    with pytest.raises(ValueError, match="expected alpha of shape"):
        plot_attention(ex.alpha.T, ex.source, ex.output)


def test_explorer_is_driven_from_code_and_its_view():
    explorer = AttentionExplorer(examples())
    assert explorer.select(1).source == "ab" and not explorer.current.correct
    fig = explorer.figure()
    assert "'ab'" in fig.axes[0].get_title()
    box = explorer.view()
    box.children[0].value = 2  # the dropdown
    assert explorer.current.source == "cab"
    with pytest.raises(IndexError):
        explorer.select(3)


def test_explorer_from_model_keeps_one_heatmap_per_example():
    torch.manual_seed(0)
    model = Seq2Seq("abc", "0123", embed_dim=4, hidden_size=6, max_len=5).eval()
    explorer = AttentionExplorer.from_model(model, [("abc", "01"), ("cb", "2")])
    for ex in explorer.examples:
        assert ex.alpha.shape[1] == len(ex.source)
        np.testing.assert_allclose(ex.alpha.sum(1), 1, rtol=1e-5)


def test_heatmap_has_a_colour_bar_for_alpha():
    ex = examples()[0]
    ax = plot_attention(ex.alpha, ex.source, ex.output)
    assert ax.images[0].colorbar is not None
    assert plot_attention(ex.alpha, ex.source, ex.output, colorbar=False).images[0].colorbar is None


def test_explorer_decodes_a_typed_source_and_rejects_unknown_characters():
    torch.manual_seed(0)
    model = Seq2Seq("abc", "0123", embed_dim=4, hidden_size=6, max_len=5).eval()
    explorer = AttentionExplorer.from_model(model, [("abc", "01")])
    box = explorer.view()
    typed = box.children[1]
    typed.value = "cab"  # what pressing Enter in the text box does
    assert explorer.current.source == "cab" and explorer.index == 1
    assert explorer.current.alpha.shape[1] == 3
    assert box.children[0].value == 1 and len(box.children[0].options) == 2
    assert explorer.label(1).startswith("·")  # no target: neither right nor wrong
    with pytest.raises(ValueError, match="cannot read"):
        explorer.add("abz")
    with pytest.raises(ValueError, match="no model"):
        AttentionExplorer(examples()).add("abc")
