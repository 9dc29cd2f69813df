"""The captioner diagram: deterministic, every label drawn, v enters where the convention says."""

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from diagram_png import png  # noqa: E402
from rnncourse.viz.diagrams._base import PALETTE, is_diagram  # noqa: E402
from rnncourse.viz.diagrams.captioning import EQUATIONS, captioning_diagram  # noqa: E402


def image_arrows(fig):
    """Arrows drawn in the highlight colour: the ones that carry v into the RNN."""
    return [p for p in fig.axes[0].patches
            if isinstance(p, FancyArrowPatch) and to_hex(p.get_edgecolor()) == PALETTE["highlight"]]


def test_same_arguments_draw_the_same_picture():
    assert png(captioning_diagram("first")) == png(captioning_diagram("first"))
    assert png(captioning_diagram("first")) != png(captioning_diagram("every"))


@pytest.mark.parametrize("convention", ["first", "every"])
def test_every_word_state_and_equation_is_labelled(convention):
    fig = captioning_diagram(convention, caption=("two", "blue", "squares"))
    texts = [t.get_text() for t in fig.axes[0].texts]
    for label in ["image", "CNN", "$v$", "<START>", "two", "blue", "squares", "<END>",
                  "$h_{0}$", "$h_{3}$", "$W_{ih}$", "$W_{xh}$", "$W_{hh}$", EQUATIONS[convention]]:
        assert label in texts, label
    assert is_diagram(fig)
    plt.close(fig)


def test_v_enters_the_first_step_or_every_step():
    first, every = captioning_diagram("first"), captioning_diagram("every", caption=("a", "b", "c", "d"))
    assert len(image_arrows(first)) == 1
    assert len(image_arrows(every)) == 5  # <START> a b c d: five steps
    plt.close(first)
    plt.close(every)


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(ValueError, match="convention must be one of"):
        captioning_diagram("init")
    with pytest.raises(ValueError, match="at least one word"):
        captioning_diagram("first", caption=())
