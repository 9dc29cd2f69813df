"""The MDN head diagram: deterministic, every symbol drawn, highlight validated."""

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from diagram_png import png  # noqa: E402
from rnncourse.viz.diagrams._base import is_diagram  # noqa: E402
from rnncourse.viz.diagrams.mdn import MDN_PARTS, mdn_head_diagram  # noqa: E402


def test_same_arguments_draw_the_same_picture():
    assert png(mdn_head_diagram(M=5)) == png(mdn_head_diagram(M=5))
    assert png(mdn_head_diagram(M=5)) != png(mdn_head_diagram(M=5, highlight="rho"))


def test_every_raw_output_squashing_and_range_is_labelled():
    fig = mdn_head_diagram(M=3)
    texts = {t.get_text() for t in fig.axes[0].texts}
    for raw, squash, result in MDN_PARTS:
        assert {raw, squash, result} <= texts
    assert any("1 + 6M = 19" in t.get_text() for t in [fig.axes[0].title])
    assert is_diagram(fig)
    plt.close(fig)


def test_unknown_highlight_is_one_clear_error():
    with pytest.raises(ValueError, match="highlight must be one of"):
        mdn_head_diagram(highlight="gate")
