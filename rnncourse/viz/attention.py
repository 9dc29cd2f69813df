"""Attention heatmaps and an explorer widget to pick an example and see its heatmap.

Row i of a heatmap is output symbol y_i, column j source symbol x_j, and the colour
is alpha_ij (slides [001], Bahdanau et al. 2015): where the decoder looked while
writing y_i. The explorer is a plain object (``select``, ``current``, ``figure``)
with an ipywidgets view on top (``view()``), so code and tests can drive it.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_attention", "AttentionExample", "AttentionExplorer"]


def plot_attention(alpha, source: str, output: str, ax=None, title: str | None = None):
    """Heatmap of ``alpha`` (T, S): T output symbols (``output`` then </s>) by S source symbols.

    Returns the matplotlib axes.
    """
    alpha = np.asarray(alpha, dtype=float)
    rows = list(output) + ["</s>"]
    if alpha.ndim != 2 or alpha.shape[1] != len(source) or alpha.shape[0] not in (
            len(output), len(rows)):
        raise ValueError(f"expected alpha of shape ({len(rows)}, {len(source)}) for "
                         f"{len(output)} output and {len(source)} source symbols, "
                         f"got {alpha.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.25 * len(source) + 1.5, 0.25 * len(rows) + 1.2))
    ax.imshow(alpha, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(source)), [c if c != " " else "␣" for c in source], fontsize=8)
    ax.set_yticks(range(alpha.shape[0]), rows[:alpha.shape[0]], fontsize=8)
    ax.set_xlabel("source x_j")
    ax.set_ylabel("output y_i")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


@dataclass
class AttentionExample:
    """One decoded example: source, reference target, model output, alpha (T, S)."""

    source: str
    target: str
    output: str
    alpha: np.ndarray

    @property
    def correct(self) -> bool:
        return self.output == self.target


class AttentionExplorer:
    """Pick an example, see its attention heatmap.

    ``examples``: a list of ``AttentionExample``. ``from_model`` decodes sources with a
    model that has ``greedy(texts) -> (outputs, alphas)`` (``rnncourse.seq2seq.Seq2Seq``).
    """

    def __init__(self, examples):
        if not examples:
            raise ValueError("AttentionExplorer needs at least one example")
        self.examples = list(examples)
        self.index = 0
        self._out = None

    @classmethod
    def from_model(cls, model, pairs) -> "AttentionExplorer":
        """Decode the sources of ``pairs`` (source, target) greedily with ``model``."""
        outputs, alphas = model.greedy([s for s, _ in pairs])
        if alphas[0] is None:
            raise ValueError("this model has no attention to show")
        return cls([AttentionExample(s, t, o, a.numpy())
                    for (s, t), o, a in zip(pairs, outputs, alphas)])

    def select(self, index: int) -> AttentionExample:
        """Show example ``index``; returns it."""
        if not 0 <= index < len(self.examples):
            raise IndexError(f"index must be in [0, {len(self.examples)}), got {index}")
        self.index = index
        if self._out is not None:
            self._redraw()
        return self.current

    @property
    def current(self) -> AttentionExample:
        return self.examples[self.index]

    def label(self, index: int) -> str:
        ex = self.examples[index]
        return f"{'✓' if ex.correct else '✗'} {ex.source} -> {ex.output}"

    def figure(self):
        """A new figure with the heatmap of the selected example."""
        ex = self.current
        ax = plot_attention(ex.alpha, ex.source, ex.output,
                            title=f"{ex.source!r} -> {ex.output!r} (target {ex.target!r})")
        ax.figure.tight_layout()
        return ax.figure

    def _redraw(self):
        from IPython.display import display

        self._out.clear_output(wait=True)
        fig = self.figure()
        with self._out:
            display(fig)
        plt.close(fig)  # shown once, in the Output widget

    def _on_pick(self, change):
        with self._out:  # an error in a callback would otherwise vanish in JupyterLab
            self.select(change["new"])

    def view(self):
        """The ipywidgets view: a dropdown of examples above the heatmap."""
        import ipywidgets as widgets

        pick = widgets.Dropdown(options=[(self.label(i), i) for i in range(len(self.examples))],
                                value=self.index, description="example",
                                layout=widgets.Layout(width="95%"))
        self._out = widgets.Output()
        pick.observe(self._on_pick, names="value")
        self._redraw()
        return widgets.VBox([pick, self._out])
