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


def plot_attention(alpha, source: str, output: str, ax=None, title: str | None = None,
                   colorbar: bool = True):
    """Heatmap of ``alpha`` (T, S): T output symbols (``output`` then </s>) by S source symbols,
    with a colour bar for alpha_ij (in [0, 1]) unless ``colorbar=False``.

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
    image = ax.imshow(alpha, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=r"$\alpha_{ij}$", fraction=0.046, pad=0.02)
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
        self.model = None  # set by from_model: then any typed source can be decoded
        self._out = None
        self._pick = None

    @classmethod
    def from_model(cls, model, pairs) -> "AttentionExplorer":
        """Decode the sources of ``pairs`` (source, target) greedily with ``model``."""
        outputs, alphas = model.greedy([s for s, _ in pairs])
        if alphas[0] is None:
            raise ValueError("this model has no attention to show")
        explorer = cls([AttentionExample(s, t, o, a.numpy())
                        for (s, t), o, a in zip(pairs, outputs, alphas)])
        explorer.model = model
        return explorer

    def add(self, source: str, target: str = "") -> AttentionExample:
        """Decode a new ``source`` (any text) with the model, add it and show it.

        ``target`` is the expected output if known ("" when not: it is then not marked
        right or wrong). Characters the model never saw are one clear error.
        """
        if self.model is None:
            raise ValueError("this explorer has no model: build it with from_model to add sources")
        if not source:
            raise ValueError("type a source to translate")
        known = set(self.model.src_vocab.stoi) - set(self.model.src_vocab.specials)
        unknown = sorted(set(source) - known)
        if unknown:
            raise ValueError(f"the model cannot read {unknown}: it knows only "
                             f"{''.join(sorted(known))!r}")
        outputs, alphas = self.model.greedy([source])
        self.examples.append(AttentionExample(source, target, outputs[0], alphas[0].numpy()))
        if self._pick is not None:
            self._pick.options = [(self.label(i), i) for i in range(len(self.examples))]
        return self.select(len(self.examples) - 1)

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
        mark = "·" if not ex.target else "✓" if ex.correct else "✗"
        return f"{mark} {ex.source} -> {ex.output}"

    def figure(self):
        """A new figure with the heatmap of the selected example."""
        ex = self.current
        wanted = f" (target {ex.target!r})" if ex.target else ""
        ax = plot_attention(ex.alpha, ex.source, ex.output,
                            title=f"{ex.source!r} -> {ex.output!r}{wanted}")
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

    def _on_type(self, text):
        with self._out:
            try:
                self.add(text.value.strip())
                self._pick.value = self.index
            except ValueError as err:
                print(err)

    def view(self):
        """The ipywidgets view: a dropdown of examples above the heatmap, and (with a
        model) a text box: type any source and press Enter to see its heatmap."""
        import ipywidgets as widgets

        pick = widgets.Dropdown(options=[(self.label(i), i) for i in range(len(self.examples))],
                                value=self.index, description="example",
                                layout=widgets.Layout(width="95%"))
        self._out, self._pick = widgets.Output(), pick
        pick.observe(self._on_pick, names="value")
        self._redraw()
        if self.model is None:
            return widgets.VBox([pick, self._out])
        typed = widgets.Text(placeholder="type a source, press Enter", description="your input",
                             continuous_update=False, layout=widgets.Layout(width="95%"))
        typed.observe(lambda change: self._on_type(change["owner"]), names="value")
        return widgets.VBox([pick, typed, self._out])
